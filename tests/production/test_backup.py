"""`flask backup` makes a consistent copy while the site keeps writing; restoring it gives back
exactly the rows that were committed when the copy was taken (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import threading

import pytest
from sqlalchemy import text

from forms_backend import audit, backup, create_app, db
from tests.scratch_databases import opened, postgres_database


def _write_until(engine, stop: threading.Event, written: list[int], now) -> None:
    """One committed audit row per transaction, as many requests would write them."""
    while not stop.is_set():
        with db.transaction(engine) as session:
            entry = audit.record(session, actor="systeem", action="backup.proef", now=now,
                                 detail=f"rij {len(written)} " + "x" * 200)
            session.flush()
            row_id = entry.id
        written.append(row_id)


def _ids(url: str) -> list[int]:
    with opened(url) as engine, engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT id FROM audit_entry ORDER BY id"))]


def _tables(url: str) -> dict[str, list[tuple]]:
    names = ["audit_entry", "alembic_version", "user_account", "outbox_message", "token"]
    with opened(url) as engine, engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]
            for name in names
        }


def test_backup_during_writes_restores_a_consistent_snapshot(
    app, runner, tmp_path, clock, postgres_admin_url
):
    url = app.config["DATABASE_URL"]
    if url.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    engine = db.get_engine(app)
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_until, args=(engine, stop, written, clock()))
    writer.start()
    try:
        while len(written) < 50:  # the site is busy before the backup starts
            threading.Event().wait(0.01)
        committed_before = len(written)
        target = tmp_path / "backups" / "brug.backup"
        result = runner.invoke(args=["backup", str(target)])
        committed_after = len(written)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "Backup gemaakt" in result.output
    assert not list(target.parent.glob("*.partial"))

    with contextlib.ExitStack() as cleanup:
        if url.startswith("sqlite"):
            restored_path = tmp_path / "restored.sqlite3"
            # restore = put the file in place, with the service stopped
            shutil.copyfile(target, restored_path)
            restored = f"sqlite:///{restored_path}"
            with sqlite3.connect(restored_path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        else:
            restored = cleanup.enter_context(postgres_database(postgres_admin_url, "brug_restore"))
            restore = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}"]
            subprocess.run([*restore, str(target)], check=True, capture_output=True)
        ids = _ids(restored)
        # a snapshot: every row committed before the backup, nothing half-written, no gaps
        assert committed_before <= len(ids) <= committed_after
        assert ids == written[: len(ids)]
        original = _tables(url)
        copy = _tables(restored)
        assert copy["audit_entry"] == original["audit_entry"][: len(ids)]
        assert {k: v for k, v in copy.items() if k != "audit_entry"} == {
            k: v for k, v in original.items() if k != "audit_entry"
        }
        # the restored database serves the app
        restored_app = create_app({**app.config, "DATABASE_URL": restored})
        assert restored_app.test_client().get("/health").status_code == 200
        db.get_engine(restored_app).dispose()


def test_backup_refuses_a_missing_sqlite_database(tmp_path):
    with pytest.raises(backup.BackupError):
        backup.backup_sqlite(tmp_path / "none.sqlite3", tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_pg_dump_gets_the_password_from_the_environment(tmp_path):
    argv, env = backup.pg_dump_invocation(
        "postgresql://brug:geheim@db.internal:5433/brug", tmp_path / "x.dump"
    )
    assert "geheim" not in " ".join(argv)
    assert env == {
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "PGUSER": "brug",
        "PGPASSWORD": "geheim",
        "PGDATABASE": "brug",
    }
    _, socket_env = backup.pg_dump_invocation(
        "postgresql://brug@/brug?host=/run/postgresql", tmp_path / "x.dump"
    )
    assert socket_env["PGHOST"] == "/run/postgresql"
