"""50 people register for a meeting with 10 seats at the same moment, through gunicorn
(4 workers), and then all click their confirmation link at the same moment: exactly 10 get a
seat, 40 land on the waiting list, 10 invitations go out. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pytest
from brug_stack import Browser, hidden_inputs
from sqlalchemy import text

from forms_backend import db, meetings

pytestmark = [pytest.mark.slow]

PEOPLE, SEATS = 50, 10


def create_meeting(url: str) -> int:
    engine = db.make_engine(url)
    start = (dt.datetime.now() + dt.timedelta(days=30)).replace(
        hour=13, minute=30, second=0, microsecond=0
    )
    try:
        with db.transaction(engine) as session:
            meeting = meetings.create_meeting(
                session,
                meetings.MeetingInput(title="Regionale nazorgmiddag (proef)", start=start,
                                      end=start + dt.timedelta(hours=3), region="gelderland",
                                      location="Stationsweg 1, Ede", theme="wonen",
                                      audience="open", capacity=SEATS),
                actor="user:1", now=dt.datetime.now(dt.UTC),
                settings=meetings.Settings(base_url="https://brug.example.nl"),
            )
            session.flush()
            return meeting.id
    finally:
        engine.dispose()


def all_at_once(count: int, action) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = action(n)
        except Exception as exc:  # reported by the assertions
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fifty_registrations_for_ten_seats_over_http(gunicorn_4, production_database):
    meeting_id = create_meeting(production_database)
    run = uuid.uuid4().hex[:6]
    browsers = [
        Browser(gunicorn_4.url, headers={"X-Forwarded-For": f"10.50.0.{n}"}) for n in range(PEOPLE)
    ]
    forms = [hidden_inputs(b.get(f"/agenda/{meeting_id}/aanmelden").text) for b in browsers]

    def register(n: int):
        reply = browsers[n].post(
            f"/agenda/{meeting_id}/aanmelden",
            data={
                **forms[n],
                "name": f"Deelnemer {n}",
                "email": f"reg-{run}-{n}@example.nl",
                "organisation": "Gemeente Ede",
            },
        )
        return reply.status, reply.location

    registered = all_at_once(PEOPLE, register)
    assert registered == [(302, f"/agenda/{meeting_id}/aangemeld")] * PEOPLE

    engine = db.make_engine(production_database)
    try:
        with engine.connect() as conn:
            bodies = [r[0] for r in conn.execute(text(
                "SELECT body FROM outbox_message WHERE recipient LIKE :p"), {"p": f"reg-{run}-%"})]
    finally:
        engine.dispose()
    links = sorted(
        {
            m.group(0)
            for body in bodies
            for m in re.finditer(r"/agenda/aanmelding/[A-Za-z0-9_-]+", body)
        }
    )
    assert len(links) == PEOPLE

    confirmers = [
        Browser(gunicorn_4.url, headers={"X-Forwarded-For": f"10.51.0.{n}"}) for n in range(PEOPLE)
    ]
    # as a person does: open the link, then press the button (the page's form, CSRF token)
    buttons = [hidden_inputs(b.get(links[n]).text) for n, b in enumerate(confirmers)]

    def confirm(n: int):
        return confirmers[n].post(links[n], data=buttons[n]).status

    assert all_at_once(PEOPLE, confirm) == [302] * PEOPLE

    engine = db.make_engine(production_database)
    try:
        with engine.connect() as conn:
            statuses = dict(conn.execute(text(
                "SELECT status, count(*) FROM meeting_registration "
                "WHERE meeting_id = :m GROUP BY status"
            ), {"m": meeting_id}).all())
            invites = conn.execute(text(
                "SELECT count(*) FROM outbox_message "
                "WHERE recipient LIKE :p AND ical_method = 'REQUEST'"
            ), {"p": f"reg-{run}-%"}).scalar()
    finally:
        engine.dispose()
    assert statuses == {"aangemeld": SEATS, "wachtlijst": PEOPLE - SEATS}
    assert invites == SEATS
    assert "locked" not in gunicorn_4.log_text() and "Traceback" not in gunicorn_4.log_text()
