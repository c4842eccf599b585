"""The one owner of the database: engine, sessions, SQLite settings, migrations.

The engine lives on ``app.extensions``; a request's session lives on ``g`` and is closed on
teardown. SQLite is the embedded default: WAL, a busy timeout, ``synchronous=FULL`` and
``BEGIN IMMEDIATE`` for write transactions, so writers queue instead of failing half-way with
"database is locked". Before ``BEGIN IMMEDIATE`` a writer takes its turn in a write queue
(``_WriteQueue``) that wakes the next writer as soon as the previous one commits. Requests
that change data (POST and friends) get a write session.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Select, Table, bindparam, event, exc, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
_WRITE = "brug_write"
_WRITES_ON_GET = "brug_writes"
# Tests set BRUG_STRICT_READS=1: a write inside a read transaction then fails loudly on SQLite
# (see _deny_writes), so a view that writes on GET without ``@db.writes`` cannot pass a test.
STRICT_READS_ENV = "BRUG_STRICT_READS"
# sqlite3 authorizer action codes for row changes
_ROW_CHANGES = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
View = TypeVar("View", bound=Callable[..., Any])

log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class _WriteQueue:
    """Writers to one SQLite file take turns here, just before ``BEGIN IMMEDIATE``.

    SQLite's own busy handler polls: a writer that finds the lock taken sleeps 1, 2, 5, 10, 15 …
    ms before it looks again, so with two gunicorn workers the lock sat idle between writers and
    two workers signed up fewer volunteers per second than one (bench/results/signup.md). Here a
    thread lock orders the writers of one process, and an ``flock`` on ``<database>-writelock``
    orders the processes: the kernel drops it when a process dies, so a killed worker never
    leaves it taken. The wait for another process polls every 0.1 ms at most, and ends with
    "database is locked" after the busy timeout, as SQLite's own wait did.
    """

    _queues: ClassVar[dict[str, _WriteQueue]] = {}
    _queues_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self.lock_path = path + "-writelock"
        self.threads = threading.Lock()

    @classmethod
    def _after_fork(cls) -> None:
        """A forked child starts with free locks (one held by a parent's thread stays held)."""
        cls._queues_lock = threading.Lock()
        for queue in cls._queues.values():
            queue.threads = threading.Lock()

    @classmethod
    def for_path(cls, path: str) -> _WriteQueue:
        key = os.path.abspath(path)
        with cls._queues_lock:
            return cls._queues.setdefault(key, cls(key))

    def enter(self, connection: _QueuedConnection) -> None:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        if not self.threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked")
        try:
            fd = connection.queue_fd(self.lock_path)
            if fd is not None:
                _flock(fd, deadline)
        except BaseException:
            self.threads.release()
            raise
        connection.queue_held = self

    def leave(self, connection: _QueuedConnection) -> None:
        connection.queue_held = None
        try:
            if connection.lock_fd is not None:
                fcntl.flock(connection.lock_fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


os.register_at_fork(after_in_child=_WriteQueue._after_fork)


def _deny_writes(action: int, table: str | None, *_: Any) -> int:
    """Authorizer for read transactions under BRUG_STRICT_READS: row changes are refused.

    In WAL mode a read transaction that later writes fails at once ("database is locked",
    without waiting) when another connection committed since it began; a write transaction
    (BEGIN IMMEDIATE, the write queue) never does. GET views that write say so: ``@writes``."""
    if action in _ROW_CHANGES and table and not table.startswith("sqlite_"):
        log.error("a write to %s in a read transaction: mark the view with @db.writes", table)
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _flock(fd: int, deadline: float) -> None:
    """Take the exclusive flock on ``fd``, polling briefly until ``deadline``."""
    pause = 0.00002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.0001)


class _QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that leaves the write queue when its transaction ends."""

    queue_held: _WriteQueue | None = None
    lock_fd: int | None = None
    reads_only = False  # BRUG_STRICT_READS: this transaction may not change rows
    _lock_pid = 0
    _lock_unavailable = False

    def queue_fd(self, lock_path: str) -> int | None:
        """This connection's own descriptor of the lock file (flock is per open file).

        A descriptor inherited through fork() shares its lock with the parent: open a new one."""
        if self.lock_fd is not None and self._lock_pid != os.getpid():
            self.lock_fd = None
        if self.lock_fd is None and not self._lock_unavailable:
            self._lock_pid = os.getpid()
            try:
                self.lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:  # a read-only folder: SQLite's busy handler still orders writers
                self._lock_unavailable = True
                log.warning("no write queue for %s: %s", lock_path, exc)
        return self.lock_fd

    def _leave_queue(self) -> None:
        if self.queue_held is not None:
            self.queue_held.leave(self)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_queue()
            if self.lock_fd is not None:
                os.close(self.lock_fd)
                self.lock_fd = None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with Brug's settings for the URL's dialect."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "factory": _QueuedConnection,
            },
            # Pooled, not NullPool: closing the last connection to a WAL database checkpoints it
            # (extra fsyncs per request); pooling halved the time of a sign-up (bench_signup.py).
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    database = engine.url.database
    queue = _WriteQueue.for_path(database) if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can say BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    strict = os.environ.get(STRICT_READS_ENV) == "1"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver's cursor: SQLAlchemy's execution would cost more than the BEGIN itself,
        # once per request that writes. SQLite's trace callback still sees it.
        raw = connection.connection.dbapi_connection
        write = bool(connection.get_execution_options().get(_WRITE))
        statement = "BEGIN IMMEDIATE" if write else "BEGIN"
        if strict and raw.reads_only != (not write):
            # Setting an authorizer expires the connection's prepared statements, so a cached
            # INSERT is checked again when it is reused in a read transaction.
            raw.set_authorizer(None if write else _deny_writes)
            raw.reads_only = not write
        try:
            if write and queue is not None and raw.queue_held is None:
                queue.enter(raw)
            try:
                raw.execute(statement)
            except BaseException:
                raw._leave_queue()
                raise
        except sqlite3.Error as error:  # "database is locked" after the wait: the Dutch 503
            raise _wrapped(statement, None, error, engine.dialect) from error


def init_app(app: Flask) -> None:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from forms_backend.config import ConfigError

    try:
        app.extensions["brug.db"] = make_engine(str(app.config["DATABASE_URL"]))
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:  # a typo, a missing driver
        raise ConfigError(
            "BRUG_DATABASE_URL is geen database-URL die Brug kan gebruiken"
            f" (sqlite:///… of postgresql://…): {str(exc).splitlines()[0]}"
        ) from None
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["brug.db"]


def new_session(engine: Engine, *, write: bool) -> Session:
    """A session whose transactions are write transactions (BEGIN IMMEDIATE) when asked."""
    return Session(bind=write_engine(engine) if write else engine, expire_on_commit=False)


def write_engine(engine: Engine) -> Engine:
    """The engine's write variant, made once and kept on the engine (one per request cost)."""
    writer: Engine | None = getattr(engine, "_brug_writer", None)
    if writer is None:
        writer = engine.execution_options(**{_WRITE: True})
        engine._brug_writer = writer  # type: ignore[attr-defined]
    return writer


def session() -> Session:
    """The request's session; a write session for requests that change data."""
    if "db_session" not in g:
        write = not has_request_context() or request.method not in ("GET", "HEAD", "OPTIONS")
        if not write:
            view = current_app.view_functions.get(request.endpoint or "")
            write = bool(getattr(view, _WRITES_ON_GET, False))
        g.db_session = new_session(get_engine(), write=write)
    return g.db_session


def writes(view: View) -> View:
    """Mark a view that writes on GET (an audit entry for a page view, an export).

    Its request gets a write session from the start. A read session that writes later fails
    on SQLite when another writer committed in between (see ``_deny_writes``). Put it below
    ``login_required``: ``functools.wraps`` carries the mark to the registered view."""
    setattr(view, _WRITES_ON_GET, True)
    return view


@contextmanager
def transaction(engine: Engine | None = None, *, write: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (CLI, worker, threads)."""
    with new_session(engine or get_engine(), write=write) as db_session:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@dataclass(frozen=True)
class _Compiled:
    """A statement (INSERT or SELECT) as the driver takes it, the values' processors in the
    driver's order."""

    sql: str
    keys: tuple[str, ...]  # in the order the driver wants them (positional) or any (named)
    processors: tuple[Any, ...]  # each column's bind processor, or None
    positional: bool
    returning: bool

    def params(self, row: Mapping[str, Any]) -> Any:
        values = [
            row[key] if proc is None else proc(row[key])
            for key, proc in zip(self.keys, self.processors, strict=True)
        ]
        return values if self.positional else dict(zip(self.keys, values, strict=True))


class FastInsert:
    """An INSERT for a hot path: compiled once per dialect, run on the driver's own cursor.

    SQLAlchemy's execution (context, events, result set-up) costs ~85 µs per statement here,
    ten times what SQLite needs for the insert itself, and a sign-up runs four inserts while it
    holds the write lock. Values still pass through each column's own bind processor (UTC
    datetimes, JSON, dates), so a row is stored exactly as a Core insert stores it, and driver
    errors are raised as SQLAlchemy's (``OperationalError`` → the Dutch 503 page).
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _for(self, dialect: Dialect, row: Mapping[str, Any]) -> _Compiled:
        """The statement for the columns ``row`` names (one per dialect and set of columns)."""
        cache_key = (dialect.name, frozenset(row))
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            names = sorted(row)
            statement = self.table.insert().values({k: bindparam(k) for k in names})
            returning = bool(dialect.insert_returning) and dialect.name != "sqlite"
            if returning:
                statement = statement.returning(self.table.c.id)
            sql = statement.compile(dialect=dialect)
            keys = tuple(sql.positiontup or ()) if dialect.positional else tuple(names)
            if sorted(keys) != names:
                raise ValueError(f"unexpected parameters {keys} for {names}")
            processors = tuple(
                self.table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
                for key in keys
            )
            compiled = _Compiled(sql.string, keys, processors, dialect.positional, returning)
            self._compiled[cache_key] = compiled
        return compiled

    def one(self, connection: Connection, row: Mapping[str, Any]) -> int:
        """Insert one row in ``connection``'s transaction; returns its id."""
        compiled = self._for(connection.dialect, row)
        params = compiled.params(row)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, params)
            if compiled.returning:
                returned = cursor.fetchone()
                assert returned is not None, "INSERT … RETURNING gave no row"
                return int(returned[0])
            return int(cursor.lastrowid)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled.sql, params, error, connection.dialect) from error
        finally:
            cursor.close()

    def many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert several rows (all naming the same columns) in ``connection``'s transaction."""
        compiled = self._for(connection.dialect, rows[0])
        if compiled.returning:  # RETURNING does not go with executemany everywhere
            for row in rows:
                self.one(connection, row)
            return
        params = [compiled.params(row) for row in rows]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.sql, params)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled.sql, params, error, connection.dialect) from error
        finally:
            cursor.close()


class FastScalar:
    """A one-value SELECT for a hot path, like ``FastInsert``: compiled once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[_Compiled, dict[str, Any]]] = {}

    def __call__(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (or None), with ``params`` for the bind names."""
        dialect = connection.dialect
        entry = self._compiled.get(dialect.name)
        if entry is None:
            sql = self.statement.compile(dialect=dialect)
            keys = tuple(sql.positiontup or ()) if dialect.positional else tuple(sql.params)
            processors = tuple(
                sql.binds[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys
            )
            compiled = _Compiled(sql.string, keys, processors, dialect.positional, False)
            entry = self._compiled[dialect.name] = (compiled, dict(sql.params))  # LIMIT's value
        compiled, defaults = entry
        bound = compiled.params({**defaults, **params})
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, bound)
            row = cursor.fetchone()
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled.sql, bound, error, dialect) from error
        finally:
            cursor.close()
        return None if row is None else row[0]


def _wrapped(sql: str, params: Any, error: Exception, dialect: Dialect) -> exc.DBAPIError:
    return exc.DBAPIError.instance(
        sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
    )  # type: ignore[return-value]


def ping(engine: Engine | None = None) -> bool:
    """True when the database answers a trivial query."""
    try:
        with (engine or get_engine()).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` with Alembic."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
