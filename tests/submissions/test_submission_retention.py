"""Retention of the submitter's contact details, and the demo data."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from forms_backend import audit, retention, submissions, tokens


def test_contact_and_messages_are_erased_after_the_term(session, clock):
    data = submissions.SubmissionData(kind="praktijk", title="T", summary="S", body="B",
                                      leefgebieden=["wonen"], regio="utrecht", organisatie="Org")
    contact = submissions.Contact(name="Anna de Vries", email="anna@example.nl")
    sub, raw = submissions.submit(
        session, data, contact, now=clock(), public_url="http://x", form_stamp="stamp"
    )
    session.flush()
    assert sub.form_key == submissions.form_key("stamp", data, contact)
    user = type("U", (), {"actor": "user:1", "id": 1})()
    submissions.ask(session, sub, user, "Vraag?", now=clock(), public_url="http://x")
    submissions.reject(session, sub, user, "Past niet.", now=clock(), public_url="http://x")
    session.commit()
    rule = next(iter(submissions.RETENTION_RULES))
    assert retention.purge(session, now=clock() + dt.timedelta(days=10))[rule] == 0
    report = retention.purge(
        session, now=clock() + submissions.CONTACT_RETENTION + dt.timedelta(days=1)
    )
    session.commit()
    assert report[next(iter(submissions.RETENTION_RULES))] == 1
    session.refresh(sub)
    assert sub.contact_name is None and sub.contact_email is None
    assert sub.form_key is None  # a digest of the contact details too
    assert submissions.messages(session, sub) == []
    try:
        submissions.by_token(
            session, raw, now=clock() + submissions.CONTACT_RETENTION + dt.timedelta(days=2)
        )
        raise AssertionError("the status link should no longer work")
    except tokens.TokenError:
        pass


def test_demo_submissions_are_marked(session, clock):
    lines = submissions.seed_demo(session, clock())
    session.commit()
    rows = session.exec(select(submissions.Submission)).all()
    assert lines and len(rows) == 3
    assert all(
        r.is_demo and r.title.startswith("[demo]") and r.contact_email.endswith("example.nl")
        for r in rows
    )
    assert {r.state for r in rows} == {"ingediend", "vraag_gesteld", "in_behandeling"}
    # like a real submission: its log starts with the submitting, dated when it came in
    for r in rows:
        entries = audit.for_subject(session, r.subject)
        assert [e.action for e in entries][:1] == ["inzending.ingediend"], r.title
        assert entries[0].at == r.created_at
    # the summary keeps the capitals of names in the title
    assert any(r.summary.endswith("in Zwolle-Zuid.") for r in rows)
