"""Consistent database backups: ``flask --app forms_backend backup <target>``.

SQLite: the online backup API copies the database in one read transaction, so the copy is a
consistent snapshot even while gunicorn workers keep writing (WAL readers do not block writers).
The copy is written next to the target, checked with ``PRAGMA integrity_check``, switched to a
single-file journal mode and only then renamed into place: a target that exists is complete.

PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``). The connection settings
go to pg_dump through PG* environment variables, so no password shows up in a process list.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from forms_backend.command_errors import CommandError
from forms_backend.db import SQLITE_BUSY_TIMEOUT_MS


class BackupError(Exception):
    """The backup could not be made (Dutch message); nothing was left at the target."""


@dataclass(frozen=True)
class BackupReport:
    target: Path
    size: int
    tables: dict[str, int]


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise BackupError("dit is geen SQLite-bestand")
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> BackupReport:
    """Copy ``source`` to ``target`` with SQLite's online backup API (one consistent snapshot)."""
    if not source.is_file():
        raise BackupError(f"database niet gevonden: {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    dest = sqlite3.connect(partial)
    try:
        src.backup(dest, pages=-1)  # all pages in one step: a snapshot, never restarted by writers
        dest.execute("PRAGMA journal_mode=DELETE")  # the backup is one self-contained file
        check = dest.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"de kopie is niet in orde: {check[:3]}")
        names = [n for (n,) in dest.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        # table names come from the copied schema itself, not from input
        count = 'SELECT count(*) FROM "{}"'
        tables = {n: dest.execute(count.format(n)).fetchone()[0] for n in sorted(names)}
        dest.commit()
    except BaseException:
        dest.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dest.close()
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return BackupReport(target=target, size=target.stat().st_size, tables=tables)


def pg_dump_invocation(url: str, target: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump command line and the PG* environment for a SQLAlchemy/libpq URL."""
    parsed = make_url(url)
    env = {
        "PGHOST": str(parsed.query.get("host") or parsed.host or ""),
        "PGPORT": str(parsed.port or ""),
        "PGUSER": parsed.username or "",
        "PGPASSWORD": parsed.password or "",
        "PGDATABASE": parsed.database or "",
    }
    argv = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    return argv, {key: value for key, value in env.items() if value}


def backup_postgresql(url: str, target: Path) -> Path:
    argv, env = pg_dump_invocation(url, target)
    if shutil.which(argv[0]) is None:
        raise BackupError(
            "pg_dump ontbreekt op deze machine. Installeer postgresql-client of maak de backup op "
            f"de databaseserver: pg_dump --format=custom --file={target} <database>"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    argv[-1] = f"--file={partial}"
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell; only the target path varies
        argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump mislukte: {result.stderr.strip()[:500]}")
    os.replace(partial, target)
    return target


@click.command("backup")
@with_appcontext
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def command(target: Path) -> None:
    """Make a consistent backup of the database to TARGET (a file)."""
    url = str(current_app.config["DATABASE_URL"])
    try:
        if url.startswith("sqlite"):
            report = backup_sqlite(sqlite_path(url), target)
            rows = sum(report.tables.values())
            click.echo(f"Backup gemaakt: {report.target} ({report.size} bytes, {rows} rijen, "
                       "integriteit ok).")
        elif url.startswith("postgresql"):
            backup_postgresql(url, target)
            click.echo(f"Backup gemaakt met pg_dump: {target} "
                       "(terugzetten: pg_restore --no-owner --dbname=...).")
        else:
            raise BackupError(f"geen backup voor dit soort database: {url.split(':', 1)[0]}")
    except BackupError as exc:
        raise CommandError(str(exc)) from None
