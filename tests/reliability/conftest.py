"""Fixtures for the reliability suite: a migrated database (SQLite and PostgreSQL) and gunicorn
with 4 workers on it, as in production."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "production"))

from brug_stack import Gunicorn, backend_env

from forms_backend import db
from tests.scratch_databases import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def production_database(request, tmp_path) -> Iterator[str]:
    """A fresh database migrated to head, as `flask init-db` leaves it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'brug.sqlite3'}"
        db.upgrade(url)
        yield url
        return
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    with postgres_database(admin_url, "brug_rel") as url:
        db.upgrade(url)
        yield url


@pytest.fixture
def gunicorn_4(production_database, tmp_path, built_site) -> Iterator[Gunicorn]:
    env = backend_env(production_database, built_site, BRUG_FORM_MIN_FILL_SECONDS="0",
                      BRUG_PUBLIC_URL="https://brug.example.nl")
    backend = Gunicorn(env, tmp_path, workers=4).start()
    yield backend
    backend.stop()
