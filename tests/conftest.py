"""Fixtures that mirror the app: every test gets a fresh world.

``app`` runs on a fresh SQLite database (copied from a template that Alembic migrated once per
session) and, when ``TEST_DATABASE_URL`` is set, on a fresh PostgreSQL database too: tests that
take ``app`` run on both. Mail goes to a recording transport, time comes from a frozen clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlmodel import Session

from forms_backend import create_app, db
from forms_backend.clock import FrozenClock
from forms_backend.mailer import RecordingTransport
from tests.scratch_databases import postgres_database

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, before the spring DST change
_counter = itertools.count()
# A write in a read transaction fails loudly (forms_backend.db._deny_writes), here and in the
# servers that tests start as subprocesses: every GET view that writes must say so.
os.environ.setdefault(db.STRICT_READS_ENV, "1")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# ---------------------------------------------------------------------------------------------
# databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str | None) -> Iterator[str | None]:
    if not postgres_admin_url:
        yield None
        return
    with postgres_database(postgres_admin_url, f"brug_tpl_{_worker()}") as url:
        db.upgrade(url)
        yield url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_admin_url: str | None,
) -> Iterator[str]:
    """A fresh, migrated database: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        path = tmp_path / "brug.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if not postgres_admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    template = request.getfixturevalue("postgres_template")
    prefix = f"brug_t_{_worker()}_{next(_counter)}"
    with postgres_database(postgres_admin_url, prefix, template=template) as url:
        yield url


# ---------------------------------------------------------------------------------------------
# the app


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def mail() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """An empty site folder: backend pages use the plain fallback shell. Use ``built_site``
    for the real one."""
    path = tmp_path / "site"
    path.mkdir()
    return path


@pytest.fixture
def app_config(
    database_url: str, clock: FrozenClock, mail: RecordingTransport, site_dir: Path, tmp_path: Path
) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "MAIL_TRANSPORT": mail,
        "SITE_DIR": str(site_dir),
        "CONTENT_DIR": str(tmp_path / "content"),
        "WTF_CSRF_ENABLED": False,
        "FORM_MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "http://brug.test",
        # No background builds unless a test asks for them ("thread"): an approval would go on
        # writing (build rows, submission state) while the test compares the database before
        # and after its next request.
        "BUILD_WORKER": "off",
    }


def shut_down(app: Flask) -> None:
    """What every app a test makes needs at the end: its build worker stopped, its pool closed."""
    app.extensions["brug.build_worker"].stop()
    db.get_engine(app).dispose()


@contextlib.contextmanager
def running_app(config: dict[str, Any]) -> Iterator[Flask]:
    """An app for the length of a ``with`` block (the ``app`` fixture, or a second app with
    other settings inside one test)."""
    application = create_app(config)
    try:
        yield application
    finally:
        shut_down(application)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    with running_app(app_config) as application:
        yield application


@pytest.fixture(autouse=True)
def _no_build_worker_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """A build worker that outlives its test polls a deleted database every few seconds and logs
    the traceback; on Python 3.11 formatting a traceback in one thread while another creates an
    app (Werkzeug compiles its URL rules to AST) can raise "AST constructor recursion depth
    mismatch" in the other. Every test stops the workers its apps started; the browser tests'
    live server (one per session) stops its own when the session ends."""
    before = set(threading.enumerate())
    yield
    if "live" in request.fixturenames:
        return
    left = [t for t in threading.enumerate() if t not in before and t.name == "brug-build"]
    assert not left, "a build worker still runs after the test: stop it (BuildWorker.stop)"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A write session on the test database, outside any request."""
    with db.new_session(db.get_engine(app), write=True) as s:
        yield s


# ---------------------------------------------------------------------------------------------
# helpers that make tests read as stories


class Auth:
    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app, self.client = app, client

    def create(self, email: str = "coord@brug.example.nl", *, role: str = "coordinator",
               programmes: list[str] | None = None, regions: list[str] | None = None,
               password: str = "een-lang-wachtwoord") -> int:
        from forms_backend import accounts

        with self.app.app_context(), db.transaction() as s:
            user = accounts.create_user(
                s, email=email, name=email.split("@")[0], password=password, role=role,
                now=self.app.extensions["brug.clock"](), programmes=programmes, regions=regions,
            )
            s.flush()
            assert user.id is not None
            return user.id

    def login(
        self, email: str = "coord@brug.example.nl", password: str = "een-lang-wachtwoord"
    ) -> Any:
        return self.client.post("/beheer/inloggen", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self.client.post("/beheer/uitloggen")


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> Auth:
    return Auth(app, client)


# ---------------------------------------------------------------------------------------------
# the real site build, once per session


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real `mkdocs build --strict` of content/, once per test session."""
    out = tmp_path_factory.mktemp("built") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return out


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Debian's chromium is not installed")
    return path


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One Chromium per test process: Playwright's sync API allows one driver per thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
