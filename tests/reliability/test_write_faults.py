"""A sign-up while the database cannot take the write (disk full, read-only): the person gets an
error page, never the thank-you page, and nothing half-written stays behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from brug_load import signup_fields
from brug_stack import hidden_inputs
from sqlalchemy import event

from forms_backend import create_app, db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_app(app_config, tmp_path):
    path = tmp_path / "brug.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    app_config.update(DATABASE_URL=f"sqlite:///{path}", CONTENT_DIR=str(ROOT / "content"))
    app = create_app(app_config)
    yield app, path
    db.get_engine(app).dispose()


def full_disk(dbapi_connection, _record):
    """The file may not grow by a single page, and has no free page left inside either."""
    dbapi_connection.execute("VACUUM")  # a dropped index (migration 0005) leaves free pages
    pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
    dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")


def read_only(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA query_only = ON")


def counts(path: Path) -> tuple[int, int, str]:
    with sqlite3.connect(path) as raw:
        return (raw.execute("SELECT count(*) FROM volunteer").fetchone()[0],
                raw.execute("SELECT count(*) FROM outbox_message").fetchone()[0],
                raw.execute("PRAGMA integrity_check").fetchone()[0])


def sign_up(client, data):
    form = hidden_inputs(client.get("/aanmelden/cosa").get_data(as_text=True))
    return client.post("/aanmelden/cosa", data={**form, **data})


@pytest.mark.parametrize("fault", [full_disk, read_only])
def test_signup_that_cannot_be_written_is_not_thanked(sqlite_app, fault):
    app, path = sqlite_app
    client = app.test_client()
    # a sign-up before the fault works
    assert sign_up(client, signup_fields("eerst@example.nl", 1)).status_code == 303
    event.listen(db.get_engine(app), "connect", fault)
    db.get_engine(app).dispose()  # pooled connections: reconnect so the fault applies
    # a long motivation needs new pages: a full disk cannot hold it
    data = {**signup_fields("daarna@example.nl", 2), "motivation": "Ik wil helpen. " * 260}
    response = sign_up(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Er is niets opgeslagen" in html and "bedankt" not in response.headers.get(
        "Location", ""
    )
    assert "Traceback" not in html and "sqlite" not in html.lower()
    assert counts(path) == (1, 1, "ok")
    # when the fault is gone, the same sign-up goes through
    event.remove(db.get_engine(app), "connect", fault)
    db.get_engine(app).dispose()
    assert sign_up(client, data).status_code == 303
    assert counts(path) == (2, 2, "ok")
