"""Benchmark volunteer sign-ups: POSTs per second against two reference endpoints.

On one stack per row (embedded `flask serve`, or gunicorn with 2 sync workers; SQLite or
PostgreSQL; one fresh database and one server process per row) wrk drives three endpoints,
interleaved so that a noisy shared machine hits both sides of the ratio alike: trivial, form,
then floor, sign-up, floor, sign-up, floor. Each sign-up run is compared with the mean of the two
floor runs around it; the table gives the range.

- trivial: a POST that does nothing (``/bench/trivial``);
- form: the real sign-up form built and validated (CSRF, fill time, every validator), then a 303,
  with no database and no mail (``/bench/form``): the form layer's share of a sign-up;
- floor: the durability floor, the same two inserts as a sign-up (volunteer + outbox) with the
  plain driver in one write transaction (SQLite ``BEGIN IMMEDIATE``, ``synchronous=FULL``);
- sign-up: the real ``POST /aanmelden/cosa`` with CSRF, honeypot and fill-time check, WTForms,
  the domain function (ORM, tokens, mail rendered into the outbox) and the 303 redirect. wrk
  rotates through sessions fetched beforehand (cookie + CSRF token + start stamp) and gives every
  request a new e-mail address.

Afterwards it counts rows and outbox entries: every acknowledged (303) sign-up must be there.
The reference routes live in bench/signup_app.py only. Writes bench/results/signup.md (text below
the NOTES marker line is kept). Run with `make bench` or
`.venv/bin/python bench/bench_signup.py [--seconds 12] [--no-postgres] [--app-root DIR]`;
``--app-root`` serves another checkout (e.g. `git archive` of an older commit) for a before/after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work" / "signup"
RESULTS = ROOT / "bench" / "results" / "signup.md"
BIN = ROOT / ".venv" / "bin"
PG_ADMIN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
sys.path.insert(0, str(ROOT))

from bench.results_file import write_keeping_notes  # noqa: E402
from forms_backend import db  # noqa: E402

ENDPOINTS = {
    "trivial": "/bench/trivial",
    "form": "/bench/form",
    "floor": "/bench/floor",
    "sign-up": "/aanmelden/cosa",
}
SEQUENCE = ("trivial", "form", "floor", "sign-up", "floor", "sign-up", "floor")
FIELDS = {
    "name": "Bench Vrijwilliger",
    "phone": "06 12345678",
    "postcode": "6811 AA",
    "motivation": "Ik wil graag helpen.",
    "availability": "weekend",
    "heard_via": "website",
    "consent": "y",
    "q_twee_jaar": "ja",
    "q_zedendelict": "ja",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MIGRATE = "import sys; from forms_backend import db; db.upgrade(sys.argv[1])"


def fresh_database(kind: str, name: str, app_root: Path = ROOT) -> str:
    """An empty database with the schema of ``app_root``'s own migrations (before/after runs
    must not give the older code this checkout's indexes)."""
    if kind == "sqlite":
        path = WORK / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = db.make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    subprocess.run(
        [sys.executable, "-c", MIGRATE, url],
        cwd=app_root,
        env={**os.environ, "PYTHONPATH": str(app_root)},
        check=True,
        capture_output=True,
    )
    return url


def start(server: str, url: str, port: int, site: Path, app_root: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(app_root),
        "BRUG_SECRET_KEY": "bench-secret",
        "BRUG_DATABASE_URL": url,
        "BRUG_SITE_DIR": str(site),
        "BRUG_RATELIMIT_ENABLED": "false",
        "BRUG_SESSION_COOKIE_SECURE": "false",
        "BRUG_MAIL_TRANSPORT": "recording",
        "BRUG_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    if server == "embedded":
        command = [str(BIN / "flask"), "--app", "bench.signup_app", "serve", "--port", str(port)]
    else:
        command = [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.signup_app:app",
        ]
    process = subprocess.Popen(
        command,
        cwd=app_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{server} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def found(pattern: str, text: str) -> re.Match[str]:
    """The first match of ``pattern`` in ``text``; a clear error if a page or wrk's output
    does not have it."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"not found: {pattern!r} in {text[:500]!r}")
    return match


def prefetch_sessions(base: str, count: int) -> Path:
    """GET the form ``count`` times with fresh sessions; one line per session for the Lua script."""
    lines = []
    for _ in range(count):
        with urllib.request.urlopen(base + "/aanmelden/cosa", timeout=10) as response:
            page = response.read().decode()
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        fields = {
            name: html.unescape(found(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))
            for name in ("csrf_token", "started")
        }
        lines.append(cookie + "\t" + urllib.parse.urlencode({**fields, **FIELDS}))
    path = WORK / "sessions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group ``pgid``:
    the server (gunicorn's arbiter and workers, or the embedded server with its threads)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    base: str, path: str, seconds: int, sessions: Path, prefix: str, server_pgid: int
) -> dict[str, float]:
    """One wrk run; with the CPU time the server and wrk itself used during it."""
    env = {**os.environ, "WRK_TOKENS": str(sessions), "WRK_PATH": path, "WRK_PREFIX": prefix}
    server_before, wrk_before = group_cpu(server_pgid), children_cpu()
    wall_before = time.monotonic()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "signup.lua"),
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    wall = time.monotonic() - wall_before
    server_cpu, wrk_cpu = group_cpu(server_pgid) - server_before, children_cpu() - wrk_before
    rps = float(found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    acked, other, errors = map(
        int, found(r"BRUG acked=(\d+) other=(\d+) errors=(\d+)", out).groups()
    )
    answered = max(1, acked + other)
    return {
        "rps": rps,
        "acked": acked,
        "other": other,
        "errors": errors,
        "server_ms": server_cpu / answered * 1000,  # server CPU per answered request
        "server_cores": server_cpu / wall,  # CPUs the server kept busy, on average
        "wrk_ms": wrk_cpu / answered * 1000,
    }


def count_signups(url: str) -> tuple[int, int]:
    """Sign-up rows and their outbox entries (sign-up addresses start with r<run>b)."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM volunteer WHERE email LIKE 'r%'"))
        mails = conn.execute(text("SELECT count(*) FROM outbox_message WHERE recipient LIKE 'r%'"))
        counts = int(rows.scalar_one()), int(mails.scalar_one())
    engine.dispose()
    return counts


def load() -> float:
    return os.getloadavg()[0]


def serves(base: str, path: str) -> bool:
    """Whether the served app has this route (an older checkout, ``--app-root``, may not)."""
    try:
        urllib.request.urlopen(urllib.request.Request(base + path, data=b"", method="POST"))
    except urllib.error.HTTPError as error:
        return error.code != 404
    return True


def run(server: str, kind: str, seconds: int, site: Path, app_root: Path) -> dict[str, object]:
    url = fresh_database(kind, f"bench_signup_{server}", app_root)
    port = free_port()
    process = start(server, url, port, site, app_root)
    base = f"http://127.0.0.1:{port}"
    runs: list[tuple[str, dict[str, float]]] = []
    loads = [load()]
    try:
        sessions = prefetch_sessions(base, 200)
        time.sleep(3.2)  # the form's minimum fill time (FORM_MIN_FILL_SECONDS = 3)
        sequence = [e for e in SEQUENCE if e != "form" or serves(base, ENDPOINTS[e])]
        for index, endpoint in enumerate(sequence):
            result = wrk(base, ENDPOINTS[endpoint], seconds, sessions, f"r{index}b", process.pid)
            loads.append(load())
            runs.append((endpoint, result))
            print(
                f"   {server:8} {kind:10} {endpoint:8} {result['rps']:8.0f}/s"
                f"  acked {result['acked']}  non-303 {result['other']}"
                f"  socket errors {result['errors']}  load {loads[-1]:.1f}",
                flush=True,
            )
    finally:
        stop(process)
    rows, mails = count_signups(url)
    acked = sum(r["acked"] for endpoint, r in runs if endpoint == "sign-up")
    rps = {name: [r["rps"] for endpoint, r in runs if endpoint == name] for name in ENDPOINTS}
    cpu = {
        measure: {name: [r[measure] for e, r in runs if e == name] for name in ENDPOINTS}
        for measure in ("server_ms", "server_cores", "wrk_ms")
    }
    # each sign-up run against the mean of the floor runs just before and after it
    ratios = []
    for index, (endpoint, result) in enumerate(runs):
        if endpoint == "sign-up":
            around = [runs[index - 1][1]["rps"], runs[index + 1][1]["rps"]]
            ratios.append(result["rps"] / (sum(around) / 2))
    return {
        "rps": rps,
        "cpu": cpu,
        "ratios": ratios,
        "acked": acked,
        "rows": rows,
        "mails": mails,
        "errors": int(sum(r["other"] + r["errors"] for _, r in runs)),
        "lost": max(0, acked - rows) + max(0, acked - mails),
        "load": (min(loads), max(loads)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    site = Path(tempfile.mkdtemp(dir=WORK))  # no built site: the plain fallback shell
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    table = []
    for kind in kinds:
        for server in ("embedded", "gunicorn"):
            table.append((server, kind, run(server, kind, args.seconds, site, args.app_root)))
    write(table, args, revision(args.app_root))
    print(f"Geschreven: {args.output}")


def revision(app_root: Path) -> str:
    if app_root.resolve() != ROOT:
        return f"the checkout in {app_root}"
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "forms_backend", "bench", ":!bench/results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"commit {out}" + (" + uncommitted changes" if dirty else "")


def _span(values: list[float], fmt: str = "{:.0f}") -> str:
    low, high = min(values), max(values)
    return (
        fmt.format(low)
        if fmt.format(low) == fmt.format(high)
        else f"{fmt.format(low)}–{fmt.format(high)}"
    )


def write(table: list[tuple[str, str, dict]], args: argparse.Namespace, rev: str) -> None:
    lines = [
        "# Sign-up benchmark",
        "",
        f"{dt.date.today().isoformat()}; {platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()} ({os.path.realpath(sys.executable)}); {rev};"
        f" `bench/bench_signup.py` (wrk -t2 -c16"
        f" --timeout 10s, {args.seconds} s per run; per row one fresh database and one server"
        f" process, runs in the order {', '.join(SEQUENCE)}).",
        "",
        "- **trivial**: a POST that does nothing (bench-only route);",
        "- **form**: the real sign-up form built and validated (CSRF, honeypot, fill time, every"
        " validator), then a 303: no database, no mail (bench-only route);",
        "- **floor**: the same two inserts as a sign-up (volunteer + outbox) with the plain driver"
        " in one write transaction: SQLite `BEGIN IMMEDIATE` + `synchronous=FULL` (one fsync per"
        " sign-up), PostgreSQL one transaction with `synchronous_commit=on` (bench-only route);",
        "- **sign-up**: the real `POST /aanmelden/cosa`: CSRF, honeypot and fill time, WTForms, the"
        " domain function (duplicate check, volunteer, step, two tokens, the mail rendered into the"
        " outbox), 303 redirect.",
        "",
        "Embedded = `flask serve` (werkzeug, threaded, with the mail worker thread delivering to"
        " the recording transport); gunicorn = 2 sync workers. *sign-up / floor* compares each"
        " sign-up run with the mean of the two floor runs around it (range over the two sign-up"
        " runs); *load* is the 1-minute load average during the row (min–max).",
        "",
        "| server | database | load | trivial /s | form /s | floor /s | sign-up /s"
        " | floor / trivial | form / floor | sign-up / floor | acked sign-ups | rows | outbox"
        " | errors | lost |",
        "| --- | --- |" + " ---: |" * 13,
    ]
    for server, kind, r in table:
        rps = r["rps"]
        floor_mean = sum(rps["floor"]) / len(rps["floor"])
        form = rps["form"][0] if rps["form"] else math.nan  # nan: the served app has no form route
        lines.append(
            f"| {server} | {kind} | {_span(list(r['load']), '{:.1f}')} | {rps['trivial'][0]:.0f}"
            f" | {form:.0f} | {_span(rps['floor'])} | {_span(rps['sign-up'])}"
            f" | {floor_mean / rps['trivial'][0]:.2f} | {form / floor_mean:.2f}"
            f" | **{_span(r['ratios'], '{:.2f}')}**"
            f" | {r['acked']} | {r['rows']} | {r['mails']} | {r['errors']} | {r['lost']} |"
        )
    lines += [
        "",
        "Goal: sign-up ≥ 0.6 × floor, 0 errors, 0 lost. *Lost* counts acknowledged (303) sign-ups"
        " without a row or without an outbox entry afterwards; *rows* can exceed *acked* by the"
        " requests still in flight when wrk stopped (stored, but wrk no longer read the answer).",
        "",
        "CPU time in the same runs, read from `/proc` for the server's processes (gunicorn's"
        " arbiter and workers, or the embedded server with its threads) and from `getrusage` for"
        " wrk: milliseconds of CPU per answered request, and how many of the machine's CPUs the"
        " server kept busy on average (*cores*). A server that keeps fewer cores busy than the"
        " machine has, beside wrk, waits for something else: the disk, or the write lock.",
        "",
        "| server | database | trivial ms | form ms | floor ms | sign-up ms | floor cores"
        " | sign-up cores | wrk ms (floor / sign-up) |",
        "| --- | --- |" + " ---: |" * 7,
    ]
    for server, kind, r in table:
        ms, cores, wrk_ms = r["cpu"]["server_ms"], r["cpu"]["server_cores"], r["cpu"]["wrk_ms"]
        form_ms = _span(ms["form"], "{:.2f}") if ms["form"] else "–"
        lines.append(
            f"| {server} | {kind} | {_span(ms['trivial'], '{:.2f}')} | {form_ms}"
            f" | {_span(ms['floor'], '{:.2f}')} | {_span(ms['sign-up'], '{:.2f}')}"
            f" | {_span(cores['floor'], '{:.2f}')} | {_span(cores['sign-up'], '{:.2f}')}"
            f" | {_span(wrk_ms['floor'], '{:.2f}')} / {_span(wrk_ms['sign-up'], '{:.2f}')} |"
        )
    write_keeping_notes(args.output, "\n".join(lines))


if __name__ == "__main__":
    main()
