"""Alembic on both databases: from empty to head, down to nothing and up again, and from the
previous release's schema with its data to head (schemas/previous-release.json)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select, text

from forms_backend import db, models
from tests.scratch_databases import opened, postgres_database

RELEASE = json.loads(
    (Path(__file__).parent / "schemas" / "previous-release.json").read_text(encoding="utf-8")
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    with postgres_database(admin_url, "brug_mig") as url:
        yield url


def schema_diff(url: str) -> list:
    with opened(url) as engine, engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), models.metadata)


def table_names(url: str) -> set[str]:
    with opened(url) as engine:
        return set(inspect(engine).get_table_names())


def upgrade_to_head(url: str) -> None:
    """Run the remaining migrations and check that the schema equals the models."""
    db.upgrade(url)
    assert schema_diff(url) == []


def test_empty_to_head_down_to_base_and_up_again(empty_database_url):
    url = empty_database_url
    config = db.alembic_config(url)
    upgrade_to_head(url)
    assert set(models.metadata.tables) <= table_names(url)
    command.downgrade(config, "base")
    assert table_names(url) <= {"alembic_version"}
    upgrade_to_head(url)


def test_every_revision_steps_down_and_up(empty_database_url):
    """Each migration's downgrade undoes exactly its upgrade (one step at a time)."""
    url = empty_database_url
    config = db.alembic_config(url)
    revisions = [
        s.revision for s in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]
    for revision in revisions:
        db.upgrade(url, revision)
        before = table_names(url)
        command.downgrade(config, "-1")
        command.upgrade(config, "+1")
        assert table_names(url) == before, revision
    assert schema_diff(url) == []


def _value(column, raw):
    if isinstance(raw, str) and isinstance(column.type, db.UTCDateTime):
        return dt.datetime.fromisoformat(raw)
    return raw


def test_previous_release_schema_with_data_upgrades_to_head(empty_database_url):
    url = empty_database_url
    config = db.alembic_config(url)
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    chain = [s.revision for s in script.walk_revisions(base="base", head=head)]
    assert set(RELEASE["revisions"]) <= set(chain), "the release's revisions must stay in the chain"

    db.upgrade(url, RELEASE["revisions"][-1])
    head_tables = models.metadata.tables
    with opened(url) as engine, db.write_engine(engine).begin() as conn:
        for table_name, rows in RELEASE["rows"].items():
            table = head_tables[table_name]  # typed columns (UTC datetimes, JSON) of that name
            release_columns = {c["name"] for c in inspect(conn).get_columns(table_name)}
            for row in rows:
                assert set(row) <= release_columns, (table_name, set(row) - release_columns)
                conn.execute(
                    table.insert().values({k: _value(table.c[k], v) for k, v in row.items()})
                )
        if engine.dialect.name == "postgresql":  # rows were inserted with explicit ids
            for table_name in RELEASE["rows"]:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                        f"(SELECT max(id) FROM {table_name}))"
                    )
                )

    upgrade_to_head(url)
    with opened(url) as engine:
        with engine.connect() as conn:
            for table_name, rows in RELEASE["rows"].items():
                table = head_tables[table_name]
                stored = {r.id: r._mapping for r in conn.execute(select(table))}
                assert len(stored) == len(rows), table_name
                for row in rows:
                    for key, raw in row.items():
                        expected = _value(table.c[key], raw)
                        assert stored[row["id"]][key] == expected, (table_name, key)
        # the upgraded database keeps working: a new row gets a fresh id
        with db.transaction(engine) as session:
            from forms_backend import audit

            entry = audit.record(
                session, actor="systeem", action="migratie.proef", now=dt.datetime.now(dt.UTC)
            )
            session.flush()
            assert entry.id == len(RELEASE["rows"]["audit_entry"]) + 1


def test_reflected_head_schema_has_no_extra_tables(empty_database_url):
    db.upgrade(empty_database_url)
    reflected = MetaData()
    with opened(empty_database_url) as engine:
        reflected.reflect(engine)
    assert set(reflected.tables) - {"alembic_version"} == set(models.metadata.tables)


def test_0006_gives_every_volunteer_the_date_of_its_current_step(empty_database_url):
    """status_on: the step date of the latest step to the current status; without one, the
    Amsterdam date of status_at (23.30 UTC on 14 June is 15 June there)."""
    url = empty_database_url
    db.upgrade(url, "0005")
    recorded = dt.datetime(2026, 6, 14, 23, 30, tzinfo=dt.UTC)
    common = dict(
        programme="cosa",
        region="utrecht",
        name="Proef",
        phone="",
        postcode="3511 AA",
        availability=[],
        heard_via="",
        consent_version="v",
        consent_at=recorded,
        created_at=recorded,
        status_at=recorded,
        updated_at=recorded,
    )
    volunteer = models.metadata.tables["volunteer"]
    event = models.metadata.tables["volunteer_event"]
    with opened(url) as engine, db.write_engine(engine).begin() as conn:
        conn.execute(
            volunteer.insert().values(
                [
                    {"id": 1, "status": "intake_gepland", "email": "a@example.nl", **common},
                    {"id": 2, "status": "aangemeld", "email": "b@example.nl", **common},
                ]
            )
        )
        step = dict(volunteer_id=1, at=recorded, actor="user:1", note="", mailed=False)
        conn.execute(
            event.insert().values(
                [
                    {"to_status": "intake_gepland", "step_date": dt.date(2026, 6, 2), **step},
                    {"to_status": None, "step_date": dt.date(2026, 6, 9), **step},
                    {"to_status": "intake_gepland", "step_date": dt.date(2026, 6, 10), **step},
                    {"to_status": "bevestigd", "step_date": dt.date(2026, 6, 1), **step},
                ]
            )
        )
    upgrade_to_head(url)
    with opened(url) as engine, engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, status_on FROM volunteer")).all())
    as_date = {k: dt.date.fromisoformat(v) if isinstance(v, str) else v for k, v in rows.items()}
    assert as_date == {1: dt.date(2026, 6, 10), 2: dt.date(2026, 6, 15)}


def test_0007_keeps_submissions_with_their_messages(empty_database_url):
    """form_key arrives without rebuilding the submission table: on SQLite a rebuild drops the
    table that submission_message points to, which fails once a submission has a message."""
    url = empty_database_url
    db.upgrade(url, "0006")
    at = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    submission = models.metadata.tables["submission"]
    message = models.metadata.tables["submission_message"]
    with opened(url) as engine, db.write_engine(engine).begin() as conn:
        conn.execute(
            submission.insert().values(
                id=1,
                kind="praktijk",
                state="vraag_gesteld",
                created_at=at,
                updated_at=at,
                title="T",
                summary="S",
                body="B",
                leefgebieden=["wonen"],
                regio="utrecht",
                fase=[],
                organisatietypes=[],
                bronnen=[],
                organisatie="Org",
                is_demo=False,
            )
        )
        conn.execute(
            message.insert().values(
                id=1, submission_id=1, author="moderator", body="Vraag?", created_at=at
            )
        )
    upgrade_to_head(url)
    with opened(url) as engine, engine.connect() as conn:
        assert conn.execute(select(submission.c.title, submission.c.form_key)).all() == [
            ("T", None)
        ]
        assert conn.execute(select(message.c.body)).scalars().all() == ["Vraag?"]
