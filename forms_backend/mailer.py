"""Mail transports, chosen by configuration (``MAIL_TRANSPORT``): smtp, console or recording.

The outbox stores messages; a transport only turns one into bytes on the wire. The recording
transport keeps messages in memory for tests; the console transport prints them for local use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import sys
import threading
from collections.abc import Callable, Iterator
from email import utils as email_utils
from email.message import EmailMessage
from typing import Any

from flask import Flask

from forms_backend.config import ConfigError, number
from forms_backend.outbox import Outgoing, Transport


def build_email(message: Outgoing, *, sender: str, domain: str) -> EmailMessage:
    """The MIME message: plain text, plus a text/calendar part for invitations."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # A stable Message-ID per outbox row lets receivers drop a duplicate after a retry.
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    email["Date"] = email_utils.format_datetime(dt.datetime.now(dt.UTC))  # RFC 5322 asks one
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body, charset="utf-8")
    if message.ical:
        method = message.ical_method or "PUBLISH"
        email.add_alternative(
            message.ical.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "utf-8"},
        )
        email.add_attachment(
            message.ical.encode("utf-8"),
            maintype="application",
            subtype="ics",
            filename="uitnodiging.ics" if method != "CANCEL" else "annulering.ics",
        )
    return email


class SmtpTransport(Transport):
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, message: Outgoing) -> None:
        with self.connection() as send:
            send(message)

    @contextlib.contextmanager
    def connection(self) -> Iterator[Callable[[Outgoing], None]]:
        session = _SmtpSession(self.config)
        try:
            yield session.send
        finally:
            session.close()


# Replies after which the server has ended the connection (421: "closing transmission channel").
_CLOSING = 421


class _SmtpSession:
    """One SMTP connection for a round of messages, opened at the first message.

    A refused recipient or message fails only that message: the connection goes on. A
    connection the server ended (an idle timeout, a limit per connection: a disconnect or 421)
    is opened again once for the next message, in the same round. When the server cannot be
    reached, the rest of the round fails with the same error without trying again: a server
    that hangs costs one timeout per round, not one per message."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def _open(self) -> smtplib.SMTP:
        if self.unreachable is not None:
            raise self.unreachable
        cfg = self.config
        try:
            smtp = smtplib.SMTP(
                cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=cfg["SMTP_TIMEOUT"]
            )
            try:
                if cfg.get("SMTP_STARTTLS"):
                    smtp.starttls()
                if cfg.get("SMTP_USERNAME"):
                    smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            except BaseException:
                smtp.close()
                raise
        except Exception as exc:
            self.unreachable = exc
            raise
        return smtp

    def send(self, message: Outgoing) -> None:
        cfg = self.config
        email = build_email(message, sender=cfg["MAIL_FROM"], domain=cfg["MAIL_DOMAIN"])
        reused = self.smtp is not None
        try:
            self._send(email)
        except smtplib.SMTPException as exc:
            if not reused or not _ended(exc):
                raise
            self._send(email)  # the server ended the connection we kept: once on a new one

    def _send(self, email: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._open()
        try:
            self.smtp.send_message(email)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            if _ended(exc):
                self._drop()
            raise  # otherwise smtplib reset the transaction: the connection goes on
        except smtplib.SMTPNotSupportedError:
            raise  # refused before the first command: the connection goes on
        except BaseException:  # disconnected, timed out, reset: its state is unknown
            self._drop()
            raise

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass  # the messages are sent; a failing goodbye changes nothing
        finally:
            self._drop()


def _ended(exc: Exception) -> bool:
    """Whether a failure means the server ended the connection (not: refused this message)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == _CLOSING
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == _CLOSING for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPServerDisconnected)


class ConsoleTransport(Transport):
    """Prints mail to standard output: for `make serve` on a developer's machine only."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> None:
        email = build_email(
            message, sender=self.config["MAIL_FROM"], domain=self.config["MAIL_DOMAIN"]
        )
        with self._lock:
            print("=" * 30, "e-mail (console)", "=" * 30, file=sys.stdout)
            print(f"Aan: {email['To']}\nOnderwerp: {email['Subject']}\n", file=sys.stdout)
            print(message.body, file=sys.stdout, flush=True)


class RecordingTransport(Transport):
    """Keeps sent messages in memory (tests); can be told to fail to test retries."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config or {
            "MAIL_FROM": "Brug <noreply@brug.example.nl>",
            "MAIL_DOMAIN": "brug.example.nl",
        }
        self.sent: list[EmailMessage] = []
        self.fail_with: Exception | None = None
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        email = build_email(
            message, sender=self.config["MAIL_FROM"], domain=self.config["MAIL_DOMAIN"]
        )
        with self._lock:
            self.sent.append(email)


TRANSPORTS = {"smtp": SmtpTransport, "console": ConsoleTransport, "recording": RecordingTransport}


def init_app(app: Flask) -> None:
    number(app.config, "SMTP_PORT", whole=True, minimum=1, maximum=65535)
    number(app.config, "SMTP_TIMEOUT", above=True)
    choice = app.config["MAIL_TRANSPORT"]
    if isinstance(choice, Transport):
        app.extensions["brug.mail"] = choice
        return
    if choice not in TRANSPORTS:
        raise ConfigError(
            f"BRUG_MAIL_TRANSPORT moet smtp, console of recording zijn, niet {choice!r}"
        )
    app.extensions["brug.mail"] = TRANSPORTS[choice](app.config)


def transport(app: Flask) -> Transport:
    return app.extensions["brug.mail"]


__all__ = ["ConsoleTransport", "RecordingTransport", "SmtpTransport", "build_email", "transport"]
