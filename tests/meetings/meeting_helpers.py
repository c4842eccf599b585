"""Meetings test helpers: factories with defaults, the organiser's settings, ical.js, mail."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from forms_backend import db, feeds, mailer, meetings, outbox

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "js"
PARSER = Path(__file__).with_name("parse_ics.mjs")
SITE = feeds.FeedSite(
    base_url="http://brug.test", domain="brug.example.nl", organiser="agenda@brug.example.nl"
)
SETTINGS = meetings.Settings(base_url="http://brug.test", mail_domain="brug.example.nl")


def ical_js(data: bytes | str) -> dict[str, Any]:
    """Parse iCalendar text with ical.js under node, the way a client would."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.fail("ical.js is not installed: run `make js` (npm install in tests/js)")
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    result = subprocess.run(
        [node, str(PARSER)],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        env={"BRUG_JS_DIR": str(JS_DIR), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def z(value: dt.datetime) -> str:
    """ical.js's ISO form of an instant."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ams(*args: int) -> dt.datetime:
    """An Amsterdam wall-clock time as an aware datetime."""
    return dt.datetime(*args, tzinfo=feeds.ZONE)  # type: ignore[misc]


def feed_meeting(**overrides: Any) -> feeds.FeedMeeting:
    stamp = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
    values: dict[str, Any] = {
        "id": 1,
        "title": "Nazorgmiddag",
        "starts_at": ams(2026, 3, 12, 13, 30),
        "ends_at": ams(2026, 3, 12, 17, 0),
        "last_modified": stamp,
        "created_at": stamp,
        "location": "Stationsweg 1, Ede",
        "slug": "nazorgmiddag",
    }
    values.update(overrides)
    return feeds.FeedMeeting(**values)


def meeting_input(**overrides: Any) -> meetings.MeetingInput:
    values: dict[str, Any] = {
        "title": "Regionale nazorgmiddag",
        "start": dt.datetime(2026, 3, 12, 13, 30),
        "end": dt.datetime(2026, 3, 12, 17, 0),
        "region": "gelderland",
        "location": "Stationsweg 1, Ede",
        "theme": "wonen",
        "audience": "open",
    }
    values.update(overrides)
    return meetings.MeetingInput(**values)


class Agenda:
    """Story helpers over the real database: make meetings, register people, read mail."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine = db.get_engine(app)

    @property
    def now(self) -> dt.datetime:
        return self.app.extensions["brug.clock"]()

    def session(self) -> Any:
        return db.transaction(self.engine)

    def create(self, **overrides: Any) -> int:
        with self.session() as s:
            meeting = meetings.create_meeting(
                s, meeting_input(**overrides), actor="user:1", now=self.now, settings=SETTINGS
            )
            s.flush()
            assert meeting.id is not None
            return meeting.id

    def get(self, meeting_id: int) -> meetings.Meeting:
        with db.new_session(self.engine, write=False) as s:
            meeting = s.get(meetings.Meeting, meeting_id)
            assert meeting is not None
            return meeting

    def known(self, email: str) -> None:
        """Make an address 'seen before' (it confirmed a registration earlier)."""
        with self.session() as s:
            old = meetings.create_meeting(
                s, meeting_input(title="Eerder"), actor="user:1", now=self.now, settings=SETTINGS
            )
            s.flush()
            s.add(
                meetings.Registration(
                    meeting_id=old.id,
                    name="Eerder",
                    email=email,
                    email_key=email.lower(),
                    status="afgemeld",
                    created_at=self.now,
                    confirmed_at=self.now,
                )
            )

    def register(
        self, meeting_id: int, email: str, name: str = "Zoë de Vries"
    ) -> meetings.RegistrationResult:
        with self.session() as s:
            return meetings.register(
                s,
                meeting_id,
                name=name,
                email=email,
                organisation="Gemeente Ede",
                now=self.now,
                settings=SETTINGS,
            )

    def statuses(self, meeting_id: int) -> dict[str, int]:
        with db.new_session(self.engine, write=False) as s:
            return {
                status: meetings.count_status(s, meeting_id, status)
                for status in meetings.REGISTRATION_STATUSES
            }

    def deliver(self, mail: mailer.RecordingTransport) -> list[EmailMessage]:
        before = len(mail.sent)
        while outbox.deliver_due(
            self.engine, mail, lambda: self.now + dt.timedelta(hours=1), limit=500
        )[0]:
            pass
        return mail.sent[before:]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def ical_of(message: EmailMessage) -> tuple[str, str] | None:
    """(METHOD, text) of the text/calendar part, or None."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            content = part.get_content()
            text = content.decode("utf-8") if isinstance(content, bytes) else content
            return part.get_param("method"), text
    return None


def link_in(message: EmailMessage, path: str) -> str:
    found = re.search(r"https?://[^\s]+(" + re.escape(path) + r"[^\s]+)", body_of(message))
    assert found, body_of(message)
    return found.group(1)


def only(session: Session, model: Any) -> Any:
    from sqlmodel import select

    rows = session.exec(select(model)).all()
    assert len(rows) == 1
    return rows[0]


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
