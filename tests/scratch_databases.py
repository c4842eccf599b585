"""Engines and throw-away PostgreSQL databases for tests that work outside the ``app`` fixture
(migrations, backups, servers in subprocesses)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text

from forms_backend import db


@contextmanager
def opened(url: str, **kwargs: Any) -> Iterator[Engine]:
    """An engine on ``url`` for one block, disposed afterwards: no connection stays open to
    hold a SQLite file or keep a PostgreSQL database from being dropped."""
    engine = db.make_engine(url, **kwargs)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_database(admin_url: str, prefix: str, *, template: str | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database (or a copy of ``template``) on the server of
    ``admin_url``; yields its URL and drops it afterwards, also when a session is still open."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with opened(admin_url, isolation_level="AUTOCOMMIT") as admin:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
