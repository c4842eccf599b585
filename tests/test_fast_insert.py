"""db.FastInsert stores exactly what a Core insert stores, on both databases, and fails the same."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import exc, select

from forms_backend import db, tokens, volunteers

AT = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # not UTC


def _volunteer(email: str, answers: dict[str, str] | None) -> dict[str, object]:
    return {
        "programme": "cosa",
        "region": "gelderland",
        "status": "aangemeld",
        "name": "Zoë van 't Café",
        "email": email,
        "phone": "",
        "postcode": "6811 AA",
        "motivation": "Ik wil helpen 🙂",
        "availability": ["weekend", "avond"],
        "heard_via": "",
        "answers": answers,
        "consent_version": "abc",
        "consent_at": AT,
        "created_at": AT,
        "confirmed_at": None,
        "status_at": AT,
        "status_on": AT.date(),
        "updated_at": AT,
    }


def test_rows_are_the_same_as_a_core_insert_writes(database_url):
    engine = db.make_engine(database_url)
    table = volunteers.Volunteer.__table__  # type: ignore[attr-defined]
    fast = db.FastInsert(table)
    with db.write_engine(engine).begin() as conn:
        fast_ids = [
            fast.one(conn, _volunteer("snel@example.nl", {"vraag": "ja"})),
            fast.one(conn, _volunteer("snel-leeg@example.nl", None)),
        ]
        core_ids = [
            conn.execute(table.insert(), _volunteer("core@example.nl", {"vraag": "ja"}))
            .inserted_primary_key[0],
            conn.execute(table.insert(), _volunteer("core-leeg@example.nl", None))
            .inserted_primary_key[0],
        ]
    with engine.connect() as conn:
        rows = {r.id: r._asdict() for r in conn.execute(select(table))}
        raw_answers = dict(conn.exec_driver_sql("SELECT id, answers FROM volunteer").all())
    assert sorted(rows) == sorted(fast_ids + core_ids)
    for fast_id, core_id in zip(fast_ids, core_ids, strict=True):
        a, b = dict(rows[fast_id]), dict(rows[core_id])
        assert a.pop("id") != b.pop("id")
        assert a.pop("email") != b.pop("email")
        assert a == b
        assert raw_answers[fast_id] == raw_answers[core_id]  # None stays SQL NULL, not 'null'
    assert rows[fast_ids[0]]["created_at"] == AT.astimezone(dt.UTC)
    assert rows[fast_ids[1]]["answers"] is None
    engine.dispose()


def test_many_rows_and_their_booleans(database_url):
    engine = db.make_engine(database_url)
    table = tokens.Token.__table__  # type: ignore[attr-defined]
    rows = [
        {"digest": f"d{n}", "purpose": "p", "subject": "volunteer:1", "created_at": AT,
         "expires_at": AT + dt.timedelta(hours=1), "used_at": None, "single_use": n == 0}
        for n in range(2)
    ]
    with db.write_engine(engine).begin() as conn:
        db.FastInsert(table).many(conn, rows)
    with engine.connect() as conn:
        stored = conn.execute(select(table.c.digest, table.c.single_use).order_by("digest")).all()
    assert [tuple(r) for r in stored] == [("d0", True), ("d1", False)]
    engine.dispose()


def test_a_driver_error_is_sqlalchemys_and_leaves_nothing(database_url):
    engine = db.make_engine(database_url)
    table = volunteers.VolunteerEvent.__table__  # type: ignore[attr-defined]
    row = {"volunteer_id": 424242, "at": AT, "step_date": AT.date(), "actor": "x",
           "from_status": None, "to_status": "aangemeld", "note": "", "mailed": False}
    # no such volunteer (FK)
    with pytest.raises(exc.IntegrityError), db.write_engine(engine).begin() as conn:
        db.FastInsert(table).one(conn, row)
    with engine.connect() as conn:
        assert conn.execute(select(table)).all() == []
    engine.dispose()


def test_a_fast_scalar_answers_like_core(database_url):
    from sqlalchemy import bindparam

    engine = db.make_engine(database_url)
    table = volunteers.Volunteer.__table__  # type: ignore[attr-defined]
    query = (
        select(table.c.id)
        .where(table.c.email == bindparam("email"), table.c.programme == bindparam("programme"))
        .order_by(table.c.id.desc())
        .limit(1)
    )
    newest = db.FastScalar(query)
    with db.write_engine(engine).begin() as conn:
        ids = [db.FastInsert(table).one(conn, _volunteer("twee@example.nl", None)) for _ in "ab"]
        for params in (
            {"email": "twee@example.nl", "programme": "cosa"},
            {"email": "twee@example.nl", "programme": "maatje"},
            {"email": "niemand@example.nl", "programme": "cosa"},
        ):
            assert newest(conn, params) == conn.execute(query, params).scalar()
        assert newest(conn, {"email": "twee@example.nl", "programme": "cosa"}) == max(ids)
    engine.dispose()
