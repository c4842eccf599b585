"""SQLite writers take turns in db's write queue: threads, processes, crashes and time-outs."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from forms_backend import db


def _engine(tmp_path: Path):
    path = tmp_path / "q.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (who TEXT)"))
    return engine, path


def _lock_is_free(path: Path) -> bool:
    """True when nobody holds the write queue's flock (taken and released again here)."""
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _holder(path: Path, *, then: str) -> subprocess.Popen[str]:
    """Another process that opens a write session, says 'held' and waits for a line on stdin."""
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        from sqlalchemy import text
        from forms_backend import db
        engine = db.make_engine({f"sqlite:///{path}"!r})
        session = db.new_session(engine, write=True)
        session.execute(text("INSERT INTO t VALUES ('other process')"))
        print("held", flush=True)
        sys.stdin.readline()
        if {then!r} == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        session.commit()
        print("committed", flush=True)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_write_session_holds_the_queue_until_commit_and_a_read_session_never(tmp_path):
    engine, path = _engine(tmp_path)
    with db.new_session(engine, write=False) as read:
        read.execute(text("SELECT count(*) FROM t"))
        assert _lock_is_free(path)
    with db.new_session(engine, write=True) as write:
        write.execute(text("INSERT INTO t VALUES ('a')"))
        assert not _lock_is_free(path)
        write.commit()
        assert _lock_is_free(path)


def test_the_queue_is_left_on_rollback_on_error_and_on_invalidation(tmp_path):
    engine, path = _engine(tmp_path)
    with pytest.raises(exc.OperationalError), db.transaction(engine) as s:
        s.execute(text("INSERT INTO t VALUES ('x')"))
        s.execute(text("INSERT INTO no_such_table VALUES (1)"))
    assert _lock_is_free(path)
    with db.new_session(engine, write=True) as s:
        s.execute(text("INSERT INTO t VALUES ('y')"))
        s.connection().invalidate()  # a broken connection is closed, never returned to the pool
    assert _lock_is_free(path)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_a_second_thread_waits_for_the_first_writer_instead_of_failing(tmp_path):
    engine, _path = _engine(tmp_path)
    first_in = threading.Event()
    order: list[str] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            first_in.wait(5)
            with db.transaction(engine) as s:
                s.execute(text("INSERT INTO t VALUES ('second')"))
                order.append("second")
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    with db.transaction(engine) as s:
        s.execute(text("INSERT INTO t VALUES ('first')"))
        first_in.set()
        thread.join(0.3)  # the second writer is queued behind this transaction meanwhile
        assert thread.is_alive()
        order.append("first")
    thread.join(10)
    assert errors == []
    assert order == ["first", "second"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t ORDER BY rowid")).scalars().all() == [
            "first",
            "second",
        ]


def test_a_writer_in_another_process_is_waited_for(tmp_path):
    engine, path = _engine(tmp_path)
    other = _holder(path, then="commit")
    try:
        assert not _lock_is_free(path)
        done = threading.Event()

        def write() -> None:
            with db.transaction(engine) as s:
                s.execute(text("INSERT INTO t VALUES ('this process')"))
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        assert not done.wait(0.3)  # queued behind the other process
        assert other.stdin is not None and other.stdout is not None
        other.stdin.write("go\n")
        other.stdin.flush()
        assert other.stdout.readline().strip() == "committed"
        thread.join(10)
        assert done.is_set()
    finally:
        other.kill()
        other.wait()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t ORDER BY rowid")).scalars().all() == [
            "other process",
            "this process",
        ]


def test_a_killed_writer_leaves_neither_lock_nor_half_a_transaction(tmp_path):
    engine, path = _engine(tmp_path)
    other = _holder(path, then="die")
    assert other.stdin is not None
    other.stdin.write("die\n")
    other.stdin.flush()
    assert other.wait(10) == -signal.SIGKILL
    with db.transaction(engine) as s:
        s.execute(text("INSERT INTO t VALUES ('after the crash')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["after the crash"]


def test_a_writer_that_never_gets_its_turn_gets_database_is_locked(tmp_path, monkeypatch):
    """The same error SQLite's own busy timeout gives, so the views answer with a Dutch 503."""
    engine, path = _engine(tmp_path)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # someone else holds the queue and does not let go
    try:
        with pytest.raises(exc.OperationalError, match="locked"), db.transaction(engine) as s:
            s.execute(text("INSERT INTO t VALUES ('never')"))
    finally:
        os.close(fd)
    with db.transaction(engine) as s:  # nothing of the failed attempt is left holding the queue
        s.execute(text("INSERT INTO t VALUES ('later')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["later"]


def test_without_a_lock_file_writers_fall_back_to_sqlites_own_wait(tmp_path, caplog):
    """A lock file that cannot be opened (here a folder in its place) costs speed, not writes."""
    (tmp_path / "q.sqlite3-writelock").mkdir()
    engine, _path = _engine(tmp_path)
    with db.transaction(engine) as s:
        s.execute(text("INSERT INTO t VALUES ('still written')"))
    assert "no write queue" in caplog.text
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["still written"]


def test_a_forked_child_waits_for_the_parents_writer_and_then_writes(tmp_path):
    """After fork() the child has its own turn: a thread lock held in the parent at the fork
    (another thread writing) is not held in the child, only the parent's flock counts. No SQLite
    connection crosses the fork (SQLite forbids that; gunicorn's post_fork drops the pool)."""
    import select

    engine, path = _engine(tmp_path)
    engine.dispose()
    queue = db._WriteQueue.for_path(str(path))
    queue.threads.acquire()  # as if another thread of the parent were writing right now
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new engine, as gunicorn's post_fork gives it
        os.close(read_end)
        status = b"?"
        try:
            child_engine = db.make_engine(f"sqlite:///{path}")
            with db.transaction(child_engine) as s:
                s.execute(text("INSERT INTO t VALUES ('child')"))
            status = b"ok"
        except BaseException as error:  # reported to the parent, never raised in a fork
            status = repr(error).encode()[:200]
        finally:
            os.write(write_end, status)
            os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 0.5)
        assert not ready, "the child wrote while the parent still held the queue"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        queue.threads.release()
    ready, _, _ = select.select([read_end], [], [], 10)
    assert ready, "the child never got its turn"
    assert os.read(read_end, 200) == b"ok"
    os.waitpid(pid, 0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM t")).scalars().all() == ["child"]


def test_strict_reads_refuse_a_write_in_a_read_transaction_even_from_the_statement_cache(
    tmp_path,
):
    """Tests run with BRUG_STRICT_READS=1 (tests/conftest.py): a GET view that writes without
    ``@db.writes`` fails its tests instead of failing in production when a writer interleaves."""
    assert os.environ.get(db.STRICT_READS_ENV) == "1"
    engine, _ = _engine(tmp_path)
    insert = text("INSERT INTO t (who) VALUES ('x')")
    with db.write_engine(engine).begin() as conn:
        conn.execute(insert)  # prepared, and cached by the driver, in a write transaction
    with pytest.raises(exc.DatabaseError, match="not authorized"), engine.begin() as conn:
        conn.execute(insert)  # the same cached statement in a read transaction
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    with db.write_engine(engine).begin() as conn:
        conn.execute(insert)  # and a write transaction may again
    engine.dispose()


def test_a_view_marked_writes_gets_a_write_session_through_login_required(app):
    from forms_backend.views.beheer import login_required

    @login_required
    @db.writes
    def view():  # pragma: no cover - never called
        raise AssertionError

    assert getattr(view, "brug_writes", False)
    marked = [name for name, f in app.view_functions.items() if getattr(f, "brug_writes", False)]
    assert "beheer_volunteers.detail" in marked and "beheer_meetings.export" in marked
    with app.test_request_context("/beheer/vrijwilligers/1"):
        app.preprocess_request()
        request_session = db.session()
        assert request_session.get_bind().get_execution_options().get("brug_write")
    with app.test_request_context("/beheer/vrijwilligers/"):
        assert not db.session().get_bind().get_execution_options().get("brug_write")
