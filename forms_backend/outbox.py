"""The one mail outbox: every e-mail Brug sends is first a row here.

A domain function adds the message to its own transaction, so a sign-up and its confirmation
mail are stored together or not at all. The worker (``deliver_due``) claims due messages with a
lease, sends them and marks them sent; a failure schedules a retry with backoff. Nothing is ever
dropped: a message stays until it is sent (and is purged only after it was sent). ``drain``
repeats rounds until nothing more is due, so a backlog (a meeting's 200 invitations) goes out at
once instead of one round per polling interval.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend.db import UTCDateTime, new_session

log = logging.getLogger(__name__)

_mail_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "mail"),
    auto_reload=False,  # compiled once per process: no stat() of the templates per mail
    autoescape=False,  # plain-text mail  # noqa: S701
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_mail(template: str, **context: Any) -> tuple[str, str]:
    """(subject, body) from a mail template whose first line is the subject."""
    text = _mail_env.get_template(template).render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")

LEASE = dt.timedelta(minutes=5)
BATCH = 20  # messages claimed per round
MAX_BACKOFF = dt.timedelta(hours=6)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60)  # "aanmelding.bevestigen", "bijeenkomst.uitnodiging", ...
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str
    ical: str | None = None  # an iTIP attachment (METHOD:REQUEST / CANCEL)
    ical_method: str | None = Field(default=None, max_length=20)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    send_after: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


def enqueue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: dt.datetime,
    kind: str,
    ical: str | None = None,
    ical_method: str | None = None,
    delay: dt.timedelta = dt.timedelta(0),
) -> OutboxMessage:
    """Add a message to the caller's transaction. ``delay`` evens out timing (enumeration)."""
    message = OutboxMessage(
        **message_values(
            to=to, subject=subject, body=body, now=now, kind=kind, ical=ical,
            ical_method=ical_method, delay=delay,
        )
    )
    session.add(message)
    return message


def message_values(
    *,
    to: str,
    subject: str,
    body: str,
    now: dt.datetime,
    kind: str,
    ical: str | None = None,
    ical_method: str | None = None,
    delay: dt.timedelta = dt.timedelta(0),
) -> dict[str, Any]:
    """The column values of a new message: for ``enqueue`` or a Core insert in a hot path."""
    return {
        "kind": kind,
        "recipient": to,
        "subject": " ".join(subject.split())[:300],
        "body": body,
        "ical": ical,
        "ical_method": ical_method,
        "created_at": now,
        "send_after": now + delay,
        "locked_until": None,
        "attempts": 0,
        "last_error": None,
        "sent_at": None,
    }


@dataclass(frozen=True)
class Outgoing:
    """What a transport needs to send one message; detached from the database."""

    id: int
    recipient: str
    subject: str
    body: str
    ical: str | None
    ical_method: str | None
    attempts: int = 1  # this attempt's number (claim_due counts it): the backoff after a failure


class Transport:
    """Sends one message or raises; the outbox decides about retries."""

    def send(self, message: Outgoing) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @contextlib.contextmanager
    def connection(self) -> Iterator[Callable[[Outgoing], None]]:
        """A sender for one round of messages. A transport with a connection (SMTP) opens it
        once per round instead of once per message; the default sends each on its own."""
        yield self.send


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at six hours."""
    return min(dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_due(engine: Engine, now: dt.datetime, *, limit: int = BATCH) -> list[Outgoing]:
    """Lease up to ``limit`` due messages to this worker (one write transaction)."""
    with new_session(engine, write=True) as session:
        query = (
            select(OutboxMessage)
            .where(
                col(OutboxMessage.sent_at).is_(None),
                OutboxMessage.send_after <= now,
                or_(
                    col(OutboxMessage.locked_until).is_(None),
                    col(OutboxMessage.locked_until) < now,
                ),
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query))
        claimed = []
        for row in rows:
            row.locked_until = now + LEASE
            row.attempts += 1
            session.add(row)
            assert row.id is not None
            claimed.append(
                Outgoing(
                    row.id, row.recipient, row.subject, row.body, row.ical, row.ical_method,
                    row.attempts,
                )
            )
        session.commit()
        return claimed


def _finish(engine: Engine, message_id: int, **values: object) -> None:
    """Record one message's outcome: a Core UPDATE (no ORM objects to keep in step)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with new_session(engine, write=True) as session:
        session.connection().execute(
            update(table).where(table.c.id == message_id).values(**values)
        )
        session.commit()


def deliver_due(
    engine: Engine, transport: Transport, clock: Callable[[], dt.datetime], *, limit: int = BATCH
) -> tuple[int, int]:
    """Send what is due; returns (sent, failed). Safe to run in several processes at once."""
    sent = failed = 0
    claimed = claim_due(engine, clock(), limit=limit)
    if not claimed:
        return sent, failed
    with transport.connection() as send:
        for message in claimed:
            if _deliver(engine, send, message, clock):
                sent += 1
            else:
                failed += 1
    return sent, failed


def _deliver(
    engine: Engine, send: Callable[[Outgoing], None], message: Outgoing,
    clock: Callable[[], dt.datetime],
) -> bool:
    """Send one claimed message and record the outcome: sent, or a retry after a backoff."""
    try:
        send(message)
    except Exception as exc:  # any transport failure means: try again later
        attempts = message.attempts
        log.warning("mail %s not sent (attempt %s): %s", message.id, attempts, type(exc).__name__)
        _finish(
            engine,
            message.id,
            locked_until=None,
            send_after=clock() + backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:500],
        )
        return False
    _finish(engine, message.id, sent_at=clock(), locked_until=None, last_error=None)
    return True


def drain(
    engine: Engine,
    transport: Transport,
    clock: Callable[[], dt.datetime],
    *,
    limit: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[int, int]]:
    """Rounds of ``deliver_due`` until one comes back short: nothing more is due now.

    Yields each round's (sent, failed). It cannot spin on a broken transport: a failed message
    backs off and is not due again in the same drain."""
    while not stop():
        sent, failed = deliver_due(engine, transport, clock, limit=limit)
        yield sent, failed
        if sent + failed < limit:
            return


def pending_count(session: Session) -> int:
    query = select(OutboxMessage.id).where(col(OutboxMessage.sent_at).is_(None))
    return len(session.exec(query).all())


def purge_sent(session: Session, *, now: dt.datetime, older_than: dt.timedelta) -> int:
    """Delete sent messages (they hold personal data) once they are old enough."""
    old = session.exec(
        select(OutboxMessage).where(
            col(OutboxMessage.sent_at).is_not(None),
            col(OutboxMessage.sent_at) < now - older_than,
        )
    ).all()
    for message in old:
        session.delete(message)
    return len(old)
