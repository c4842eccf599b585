"""The sign-up benchmark's app: the real Brug app plus two reference routes, bench-only.

``/bench/trivial`` answers a POST with an empty 303 and nothing behind it; ``/bench/form`` builds
and validates the real sign-up form (CSRF, honeypot, fill time, every field's validators) and
answers 303, with no database and no mail: what the form layer alone costs; ``/bench/floor`` is the
durability floor: the same two inserts as a sign-up (volunteer + outbox row) with the plain
driver, in one write transaction (SQLite: ``BEGIN IMMEDIATE`` with ``synchronous=FULL``;
PostgreSQL: a plain transaction with the default ``synchronous_commit=on``). These routes exist
only here, never in the product's URL map. Configuration comes from BRUG_* environment variables
as usual.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from typing import Any

from flask import Flask, redirect
from flask.typing import ResponseReturnValue

from forms_backend import create_app, volunteers
from forms_backend.views.volunteer import signup_form_class

INSERT_VOLUNTEER = (
    "INSERT INTO volunteer (programme, region, status, name, email, phone, postcode, motivation,"
    " availability, heard_via, answers, consent_version, consent_at, created_at, status_at,"
    " status_on, updated_at)"
    " VALUES ('cosa', 'gelderland', 'aangemeld', 'Bench', ?, '', '6811 AA', 'Bench',"
    " '[\"weekend\"]', 'website', '{}', 'bench', ?, ?, ?, '2026-12-02', ?)"
)
INSERT_OUTBOX = (
    "INSERT INTO outbox_message (kind, recipient, subject, body, created_at, send_after, attempts)"
    " VALUES ('vrijwilliger.bevestigen', ?, 'Bevestig je aanmelding', 'body', ?, ?, 0)"
)


def create_bench_app() -> Flask:
    app = create_app()
    url = str(app.config["DATABASE_URL"])
    local = threading.local()
    counter = iter(range(10**12))
    lock = threading.Lock()

    def connection() -> Any:  # one connection per thread, like a pool
        if not hasattr(local, "conn"):
            conn: Any
            if url.startswith("sqlite:///"):
                conn = sqlite3.connect(
                    url.removeprefix("sqlite:///"), isolation_level=None, timeout=15
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            else:
                import psycopg

                conn = psycopg.connect(url)
            local.conn = conn
        return local.conn

    @app.post("/bench/trivial")
    def trivial() -> tuple[str, int]:
        return "", 303

    @app.post("/bench/form")
    def form_only() -> ResponseReturnValue:
        form = signup_form_class(volunteers.programme("cosa"))()
        if not form.validate_on_submit():
            return "", 422
        return redirect("/aanmelden/cosa/bedankt", code=303)

    @app.post("/bench/floor")
    def floor() -> tuple[str, int]:
        with lock:
            n = next(counter)
        address = f"floor-{threading.get_ident()}-{n}@example.nl"
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
        conn = connection()
        if isinstance(conn, sqlite3.Connection):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_VOLUNTEER, (address, now, now, now, now))
            conn.execute(INSERT_OUTBOX, (address, now, now))
            conn.execute("COMMIT")
        else:
            with conn.transaction():
                conn.execute(INSERT_VOLUNTEER.replace("?", "%s"), (address, now, now, now, now))
                conn.execute(INSERT_OUTBOX.replace("?", "%s"), (address, now, now))
        return "", 303

    return app


app = create_bench_app()
