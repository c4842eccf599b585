"""Where the time of one sign-up goes: before the write transaction, inside it, after commit.

Runs N sign-ups through the Flask test client (CSRF on, real fill-time check passed, a real
SQLite file with WAL + ``synchronous=FULL``) and times each request: before the write
transaction, waiting for the write lock (``BEGIN IMMEDIATE``), holding it until COMMIT, the
COMMIT (fsync), after commit. It counts the files opened while the sign-ups run;
``--processes 2`` signs up from two processes at once (like two gunicorn workers) and
``--cprofile`` prints the functions with the most cumulative time. Not part of ``make bench``
(no bench_ prefix): a diagnostic tool.

    .venv/bin/python bench/profile_signup.py [-n 300] [--processes 2] [--cprofile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_signup import FIELDS  # noqa: E402
from forms_backend import create_app, db  # noqa: E402


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, name
    return match.group(1).replace("&#34;", '"').replace("&amp;", "&")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument(
        "--processes", type=int, default=1, help="sign up from this many processes at once"
    )
    args = parser.parse_args()

    url = args.database
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/profile.sqlite3"
    db.upgrade(url)
    tag = 0
    for number in range(1, args.processes):  # like gunicorn workers: one app per process
        if os.fork() == 0:
            tag = number
            break
    app = create_app(
        {
            "SECRET_KEY": "profile-secret",
            "DATABASE_URL": url,
            "SITE_DIR": tempfile.mkdtemp(),
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "MAIL_TRANSPORT": "recording",
            "FORM_MIN_FILL_SECONDS": 0,
        }
    )
    marks: dict[str, float] = {}
    engine = db.get_engine(app)

    @event.listens_for(engine, "before_cursor_execute")
    def _begin(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            marks["begin"] = time.perf_counter()

    @event.listens_for(engine, "begin")
    def _locked(_conn: object) -> None:  # after db's own listener: BEGIN IMMEDIATE has returned
        marks.setdefault("locked", time.perf_counter())

    @event.listens_for(engine, "commit")
    def _commit(_conn: object) -> None:
        marks["commit"] = time.perf_counter()

    @event.listens_for(Session, "after_commit")
    def _committed(_session: object) -> None:
        marks["committed"] = time.perf_counter()

    client = app.test_client()
    forms = []
    for _ in range(args.n + 20):
        page = client.get("/aanmelden/cosa").get_data(as_text=True)
        forms.append({"csrf_token": hidden(page, "csrf_token"), "started": hidden(page, "started")})

    def post(i: int) -> tuple[float, float]:
        marks.clear()
        start = time.perf_counter()
        response = client.post(
            "/aanmelden/cosa", data={**forms[i], **FIELDS, "email": f"p{tag}-{i}@example.nl"}
        )
        end = time.perf_counter()
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return start, end

    for i in range(20):  # warm up: caches, pool, compiled templates
        post(args.n + i)
    opened: list[str] = []
    measuring = False

    def audit(name: str, event_args: tuple) -> None:  # files opened while sign-ups run
        if measuring and name == "open" and isinstance(event_args[0], str | Path):
            opened.append(str(event_args[0]))

    sys.addaudithook(audit)
    measuring = True
    rows = []
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    cpu_start = time.process_time()
    for i in range(args.n):
        start, end = post(i)
        begin = marks.get("begin", marks["locked"])
        rows.append(
            (
                begin - start,
                marks["locked"] - begin,
                marks["commit"] - marks["locked"],
                marks["committed"] - marks["commit"],
                end - marks["committed"],
                end - start,
            )
        )
    cpu = (time.process_time() - cpu_start) / args.n
    measuring = False
    if profiler:
        profiler.disable()
    labels = (
        "before the write transaction",
        "waiting for the write lock (BEGIN)",
        "write lock held, before COMMIT",
        "COMMIT (fsync)",
        "after commit (redirect, session cookie)",
        "total",
    )
    if tag:
        time.sleep(0.2 * tag)  # print after the parent, one table at a time
    print(
        f"{args.n} sign-ups, {engine.dialect.name}, process {tag + 1} of {args.processes};"
        " milliseconds per sign-up"
    )
    print(f"{'':42} {'median':>8} {'mean':>8} {'p90':>8}")
    for index, label in enumerate(labels):
        values = sorted(row[index] * 1000 for row in rows)
        print(
            f"{label:42} {statistics.median(values):8.2f} {statistics.fmean(values):8.2f}"
            f" {values[int(len(values) * 0.9)]:8.2f}"
        )
    print(f"{'CPU time of this process per sign-up':42} {cpu * 1000:8.2f}")
    print(f"files opened during the {args.n} sign-ups: {len(opened)} {sorted(set(opened))[:5]}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
        if os.environ.get("PROFILE_CALLEES"):
            stats.print_callees(os.environ["PROFILE_CALLEES"])
        print(out.getvalue())
    if tag:
        os._exit(0)
    for _ in range(1, args.processes):
        os.wait()


if __name__ == "__main__":
    main()
