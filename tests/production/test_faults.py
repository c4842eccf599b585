"""Faults the foundation must survive: database unreachable or read-only or full, Redis down,
SMTP down for a while. The user always gets an honest Dutch answer, never a 500, never a false
"gelukt"; mail is kept until it is sent, and sent once."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from brug_stack import closed_port
from sqlalchemy import event

from forms_backend import accounts, create_app, db, outbox
from forms_backend.mailer import SmtpTransport


@pytest.fixture
def config(tmp_path, clock, mail, site_dir):
    return {
        "TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock, "MAIL_TRANSPORT": mail,
        "SITE_DIR": str(site_dir), "CONTENT_DIR": str(tmp_path / "content"),
        "WTF_CSRF_ENABLED": False, "FORM_MIN_FILL_SECONDS": 0, "RATELIMIT_ENABLED": False,
    }


def assert_dutch_503(response):
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Tijdelijk niet beschikbaar" in html and "Er is niets opgeslagen" in html
    assert response.headers["Retry-After"] == "60"
    assert "Traceback" not in html and "sqlalchemy" not in html.lower() and "psycopg" not in html


def _unreachable_urls(tmp_path: Path) -> dict[str, str]:
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    a_dir = tmp_path / "a-directory.sqlite3"
    a_dir.mkdir()
    urls = {
        "postgresql-closed-port": f"postgresql://postgres@127.0.0.1:{closed_port()}/brug?connect_timeout=2",
        "sqlite-path-through-a-file": f"sqlite:///{not_a_dir}/brug.sqlite3",
        "sqlite-path-is-a-directory": f"sqlite:///{a_dir}",
    }
    if os.geteuid() != 0:  # root reads any file, so an unreadable file only works for others
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0)
        urls["sqlite-unreadable-folder"] = f"sqlite:///{locked}/brug.sqlite3"
    return urls


@pytest.mark.parametrize(
    "kind", ["postgresql-closed-port", "sqlite-path-through-a-file", "sqlite-path-is-a-directory"]
)
def test_database_unreachable_gives_dutch_503_and_health_says_so(config, tmp_path, kind):
    app = create_app({**config, "DATABASE_URL": _unreachable_urls(tmp_path)[kind]})
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json == {"status": "fout", "database": "onbereikbaar", "site": "niet gebouwd"}
    # a form post that needs the database
    assert_dutch_503(
        client.post(
            "/beheer/inloggen", data={"email": "a@example.nl", "password": "een-lang-wachtwoord"}
        )
    )
    # the public pages that do not need it still work
    assert client.get("/beheer/inloggen").status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        ["send-mail", "--once"],
        ["purge"],
        ["init-db"],
        ["demo-data", "--if-empty"],
        ["create-user", "--email", "c@example.nl", "--name", "C", "--password", "x" * 16],
    ],
    ids=lambda args: args[0],
)
@pytest.mark.parametrize("kind", ["postgresql-closed-port", "sqlite-path-through-a-file"])
def test_commands_say_in_dutch_that_the_database_is_unreachable(config, tmp_path, kind, args):
    app = create_app({**config, "DATABASE_URL": _unreachable_urls(tmp_path)[kind]})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert result.output.startswith("Fout: De database is niet bereikbaar: ")  # one Dutch line
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and "sqlalchemy" not in result.output.lower()
    app.extensions["brug.build_worker"].stop()


def test_the_mail_worker_keeps_polling_while_the_database_is_down(tmp_path):
    """`send-mail` (the systemd service) survives a database outage: the mail waits in it."""
    env = {
        **os.environ,
        "BRUG_SECRET_KEY": "test-secret",
        "BRUG_DATABASE_URL": _unreachable_urls(tmp_path)["sqlite-path-through-a-file"],
        "BRUG_SITE_DIR": str(tmp_path),
    }
    flask = Path(sys.executable).with_name("flask")
    worker = subprocess.Popen(
        [str(flask), "--app", "forms_backend", "send-mail", "--interval", "0.2"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while len(lines) < 3 and time.monotonic() < deadline:
            lines.append(worker.stderr.readline())  # type: ignore[union-attr]
        assert worker.poll() is None  # still running after three failed rounds
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    assert lines == ["De database is niet bereikbaar: unable to open database file;"
                     " nieuwe poging over 0.2 s.\n"] * 3


def _deny_writes(engine) -> None:
    """Every new connection refuses writes, like a database file on a read-only mount."""
    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA query_only = ON")

    engine.dispose()  # SQLite connections are pooled: reconnect so the fault applies


def test_read_only_database_during_a_write_is_an_error_not_a_success(config, tmp_path, clock):
    """Logging in writes (last login, audit). A refused write must not log anyone in."""
    path = tmp_path / "brug.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    app = create_app({**config, "DATABASE_URL": f"sqlite:///{path}"})
    engine = db.get_engine(app)
    with db.transaction(engine) as session:
        accounts.create_user(session, email="coord@example.nl", name="Coördinator",
                             password="een-lang-wachtwoord", role="coordinator", now=clock())
    _deny_writes(engine)
    client = app.test_client()
    response = client.post(
        "/beheer/inloggen", data={"email": "coord@example.nl", "password": "een-lang-wachtwoord"}
    )
    assert_dutch_503(response)
    assert client.get("/beheer/").status_code == 302  # not logged in: nothing was acknowledged
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("SELECT count(*) FROM audit_entry").fetchone()[0] == 0


# ---------------------------------------------------------------------------------------------
# Redis


def _login_attempts(app, email: str, count: int, *, addr: str) -> list[int]:
    client = app.test_client()
    return [
        client.post(
            "/beheer/inloggen",
            data={"email": email, "password": "verkeerd-wachtwoord"},
            environ_base={"REMOTE_ADDR": addr},
        ).status_code
        for _ in range(count)
    ]


def test_redis_down_rate_limits_fall_back_without_500(config, tmp_path):
    db.upgrade(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    app = create_app(
        {
            **config,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URL": f"redis://127.0.0.1:{closed_port()}/0",
        }
    )
    statuses = _login_attempts(app, "iemand@example.nl", 7, addr="192.0.2.10")
    assert 500 not in statuses
    # the per-account limit (5/minute) still holds, counted in this process's memory
    assert statuses[:5] == [422] * 5 and statuses[5:] == [429, 429]


@pytest.mark.redis
def test_real_redis_shares_the_counters_between_processes(config, tmp_path):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    db.upgrade(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    settings = {
        **config,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URL": url,
    }
    first, second = create_app(settings), create_app(settings)  # like two gunicorn workers
    email = f"gedeeld-{uuid.uuid4().hex[:10]}@example.nl"
    addr = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    assert _login_attempts(first, email, 3, addr=addr) == [422] * 3
    assert _login_attempts(second, email, 3, addr=addr) == [422, 422, 429]


# ---------------------------------------------------------------------------------------------
# SMTP


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed loopback port that a test starts and stops.

    It records which connection carried each message (``peers``), refuses the recipients in
    ``refuse``, and with ``per_connection=n`` ends every connection after its n-th message when
    the client starts the next one: silently (``close="silent"``, like an idle timeout) or with
    ``421`` to MAIL or RCPT (``close="421-mail"``, ``"421-rcpt"``: a limit per connection)."""

    def __init__(
        self, port: int, *, refuse: frozenset[str] = frozenset(), per_connection: int = 0,
        close: str = "silent",
    ) -> None:
        self.port = port
        self.messages: list[bytes] = []
        self.peers: list[tuple[str, int]] = []
        self.refuse = refuse
        self.per_connection = per_connection
        self.close = close
        self.controller = None
        self._lock = threading.Lock()

    def _ending(self, server, session, command: str) -> str | None:
        """The reply that ends a connection that carried its share, or None."""
        if not self.per_connection or getattr(session, "carried", 0) < self.per_connection:
            return None
        if self.close == f"421-{command}":  # the reply goes out, then the connection closes
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 Te veel berichten op deze verbinding"
        if self.close == "silent" and command == "mail":
            server.transport.close()  # no reply reaches the client: it reads end-of-file
            return "250 OK"
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        ending = self._ending(server, session, "mail")
        if ending:
            return ending
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        ending = self._ending(server, session, "rcpt")
        if ending:
            return ending
        if address in self.refuse:
            return "550 Geen postbus met dit adres"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        session.carried = getattr(session, "carried", 0) + 1
        with self._lock:
            self.messages.append(envelope.content)
            self.peers.append(session.peer)
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        import email

        return [email.message_from_bytes(m)["Message-ID"] for m in self.messages]

    def recipients(self) -> list[str]:
        import email

        return [email.message_from_bytes(m)["To"] for m in self.messages]


def smtp_transport(app, port: int, **overrides) -> SmtpTransport:
    return SmtpTransport(
        {
            **app.config,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "SMTP_TIMEOUT": 5,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": None,
            **overrides,
        }
    )


def pending(engine) -> int:
    with db.new_session(engine, write=False) as read:
        return outbox.pending_count(read)


def _enqueue(session, count: int, clock) -> None:
    for n in range(count):
        outbox.enqueue(
            session,
            to=f"vrijwilliger{n}@example.nl",
            subject=f"Bevestig je aanmelding {n}",
            body="Hallo,\nklik op de link.",
            now=clock(),
            kind="aanmelding.bevestigen",
        )
    session.commit()


def test_smtp_down_for_a_while_keeps_every_mail_and_sends_each_once(app, session, clock):
    port = closed_port()
    smtp = SmtpServer(port)
    transport = smtp_transport(app, port)
    engine = db.get_engine(app)
    _enqueue(session, 30, clock)  # more than one worker round (20 per round)

    # the server is down: every attempt fails, nothing is lost
    assert outbox.deliver_due(engine, transport, clock) == (0, 20)
    assert outbox.deliver_due(engine, transport, clock) == (0, 10)
    assert outbox.deliver_due(engine, transport, clock) == (0, 0)  # all are backing off
    clock.advance(seconds=31)
    assert outbox.deliver_due(engine, transport, clock) == (0, 20)
    assert pending(engine) == 30

    # it comes back: after the backoff, everything goes out, once
    smtp.start()
    try:
        clock.advance(minutes=2)
        rounds = [outbox.deliver_due(engine, transport, clock) for _ in range(3)]
        assert rounds == [(20, 0), (10, 0), (0, 0)]
        clock.advance(hours=7)
        assert outbox.deliver_due(engine, transport, clock) == (0, 0)
    finally:
        smtp.stop()
    ids = smtp.message_ids()
    assert len(ids) == 30 and len(set(ids)) == 30
    assert pending(engine) == 0
    assert {
        m.decode("utf-8", "replace").count("Bevestig je aanmelding") for m in smtp.messages
    } == {1}


def _delivered(engine, clock, transport, smtp):
    smtp.start()
    try:
        return list(outbox.drain(engine, transport, clock))
    finally:
        smtp.stop()


def test_one_smtp_connection_carries_a_whole_round(app, session, clock):
    """A meeting's invitations do not open (and STARTTLS and log in on) one connection each."""
    _enqueue(session, 45, clock)
    port = closed_port()
    smtp = SmtpServer(port)
    assert _delivered(db.get_engine(app), clock, smtp_transport(app, port), smtp) == [
        (20, 0), (20, 0), (5, 0)
    ]
    assert len(smtp.messages) == 45 and len(set(smtp.message_ids())) == 45
    assert len(set(smtp.peers)) == 3  # one connection per round of 20


def test_a_refused_recipient_fails_alone_and_the_round_goes_on(app, session, clock):
    _enqueue(session, 5, clock)
    port = closed_port()
    smtp = SmtpServer(port, refuse=frozenset({"vrijwilliger2@example.nl"}))
    engine = db.get_engine(app)
    assert _delivered(engine, clock, smtp_transport(app, port), smtp) == [(4, 1)]
    assert sorted(smtp.recipients()) == [f"vrijwilliger{n}@example.nl" for n in (0, 1, 3, 4)]
    assert len(set(smtp.peers)) == 1  # the refusal did not cost the connection
    with db.new_session(engine, write=False) as read:
        [left] = read.exec(
            outbox.select(outbox.OutboxMessage).where(outbox.col(outbox.OutboxMessage.sent_at).is_(None))
        ).all()
    assert left.recipient == "vrijwilliger2@example.nl"
    assert left.last_error.startswith("SMTPRecipientsRefused") and left.attempts == 1


@pytest.mark.parametrize("close", ["silent", "421-mail", "421-rcpt"])
def test_a_connection_the_server_ends_is_opened_again_and_no_mail_is_lost(
    app, session, clock, close
):
    """Servers end connections (idle timeout, a limit of messages per connection): the next
    message goes out on a fresh connection in the same round, not 30 s later."""
    _enqueue(session, 10, clock)
    port = closed_port()
    smtp = SmtpServer(port, per_connection=3, close=close)
    assert _delivered(db.get_engine(app), clock, smtp_transport(app, port), smtp) == [(10, 0)]
    assert len(smtp.messages) == 10 and len(set(smtp.message_ids())) == 10
    assert len(set(smtp.peers)) == 4  # 3 + 3 + 3 + 1
    assert pending(db.get_engine(app)) == 0


def test_a_server_that_cannot_be_reached_is_tried_once_per_round(app, session, clock):
    """Not once per message: with a server that hangs, 20 timeouts would stall the worker."""
    _enqueue(session, 20, clock)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def hang_up() -> None:  # accepts and closes at once: smtplib sees no greeting
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        transport = smtp_transport(app, listener.getsockname()[1], SMTP_TIMEOUT=2)
        assert outbox.deliver_due(db.get_engine(app), transport, clock) == (0, 20)
    finally:
        listener.close()
        thread.join(timeout=5)
    assert len(accepted) == 1
    assert pending(db.get_engine(app)) == 20


def test_send_mail_once_sends_a_whole_backlog_and_reports_each_round(app, session, clock, mail):
    """A meeting's invitations (more than one round of 20) go out in one `send-mail --once`."""
    _enqueue(session, 45, clock)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["send-mail", "--once"])
    assert result.exit_code == 0, result.output
    assert len(mail.sent) == 45
    assert result.output.splitlines() == [
        "20 verstuurd, 0 mislukt (volgende poging later).",
        "20 verstuurd, 0 mislukt (volgende poging later).",
        "5 verstuurd, 0 mislukt (volgende poging later).",
    ]
    assert pending(db.get_engine(app)) == 0


def test_drain_stops_when_the_transport_fails_instead_of_spinning(app, session, clock):
    _enqueue(session, 45, clock)
    engine = db.get_engine(app)
    transport = smtp_transport(app, closed_port(), SMTP_TIMEOUT=2)
    assert list(outbox.drain(engine, transport, clock)) == [(0, 20), (0, 20), (0, 5)]
    assert list(outbox.drain(engine, transport, clock)) == [(0, 0)]  # all are backing off
    assert pending(engine) == 45


def test_the_embedded_mail_worker_sends_a_backlog_without_waiting_a_round_per_batch(
    app, session, clock, mail
):
    from forms_backend.cli import start_background_workers

    _enqueue(session, 45, clock)
    stop = threading.Event()
    threads = start_background_workers(app, stop, mail_interval=60)  # one round, then a minute
    try:
        deadline = time.monotonic() + 30
        while len(mail.sent) < 45 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(mail.sent) == 45
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
