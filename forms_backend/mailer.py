"""Mail transports, chosen by configuration (``MAIL_TRANSPORT``): smtp, console or recording.

The outbox stores messages; a transport only turns one into bytes on the wire. The recording
transport keeps messages in memory for tests; the console transport prints them for local use.
"""

from __future__ import annotations

import smtplib
import sys
import threading
from email.message import EmailMessage
from typing import Any

from flask import Flask

from forms_backend.outbox import Outgoing, Transport


def build_email(message: Outgoing, *, sender: str, domain: str) -> EmailMessage:
    """The MIME message: plain text, plus a text/calendar part for invitations."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # A stable Message-ID per outbox row lets receivers drop a duplicate after a retry.
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
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
        cfg = self.config
        email = build_email(message, sender=cfg["MAIL_FROM"], domain=cfg["MAIL_DOMAIN"])
        with smtplib.SMTP(
            cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=cfg["SMTP_TIMEOUT"]
        ) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(email)


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
    choice = app.config["MAIL_TRANSPORT"]
    if isinstance(choice, Transport):
        app.extensions["brug.mail"] = choice
        return
    if choice not in TRANSPORTS:
        raise RuntimeError(
            f"BRUG_MAIL_TRANSPORT moet smtp, console of recording zijn, niet {choice!r}"
        )
    app.extensions["brug.mail"] = TRANSPORTS[choice](app.config)


def transport(app: Flask) -> Transport:
    return app.extensions["brug.mail"]


__all__ = ["ConsoleTransport", "RecordingTransport", "SmtpTransport", "build_email", "transport"]
