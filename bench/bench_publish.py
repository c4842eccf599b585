"""Benchmark: approval -> page live, with 1,000 practice pages of content.

Sets up bench/work/publish (a copy of content/ plus 1,000 practice pages cloned from the real
ones, a migrated SQLite database, build/site -> build/releases/<stamp>), then runs a few rounds
of: submit -> approve (page written, build queued) -> build worker -> live pointer switched.
Writes bench/results/publish.md. Goal: <= 15 s from approval to live on the 2-core machine.

``--compare-with DIR`` (another checkout, e.g. ``git worktree add /tmp/before <commit>``) then
builds the same content as a release (the build step of every approval, ~100 % of its time)
alternately with this checkout and with DIR, ``--ab-rounds`` times each, and adds both to the
results: on a shared machine only a comparison within one run says what a change did.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_keeping_notes  # noqa: E402
from forms_backend import accounts, db, submissions  # noqa: E402
from forms_backend.publishing import FileSystemWriter, Publisher  # noqa: E402

WORK = ROOT / "bench" / "work" / "publish"
RESULT = ROOT / "bench" / "results" / "publish.md"
PAGES = int(os.environ.get("BENCH_PAGES", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def make_content() -> Path:
    content = WORK / "content"
    shutil.copytree(ROOT / "content", content)
    sources = sorted((ROOT / "content" / "praktijken").glob("*.md"))
    sources = [p for p in sources if p.name != "index.md"]
    for number in range(PAGES):
        text = sources[number % len(sources)].read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front)
        meta["title"] = f"{meta['title']} (benchkopie {number})"[:140]
        (content / "praktijken" / f"bench-{number:04d}.md").write_text(
            "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---" + body,
            encoding="utf-8",
        )
    return content


def uptime() -> str:
    """The `uptime` line: the machine is shared, and its load explains wall times."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def release_build(
    checkout: Path, content: Path, out: Path, live: Path | None
) -> tuple[float, float]:
    """One `publishing release` child process from ``checkout``: (wall s, CPU s).

    ``live`` is passed as Publisher passes the live release (older checkouts ignore it)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(checkout), "NO_MKDOCS_2_WARNING": "1"}
    if live is not None:
        env["BRUG_PREVIOUS_RELEASE"] = str(live)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "forms_backend.publishing",
            "release",
            "--config",
            str(checkout / "mkdocs.yml"),
            str(content),
            str(out),
        ],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def compare(other: Path, content: Path, rounds: int, live: Path | None) -> list[str]:
    """Alternate release builds of this checkout and ``other``; lines for the results file.

    Before each pair one new practice page is added, as an approval would."""
    runs: dict[str, list[tuple[float, float]]] = {"this": [], "other": []}
    template = (content / "praktijken" / "bench-0000.md").read_text(encoding="utf-8")
    for number in range(rounds):
        (content / "praktijken" / f"ab-{number}.md").write_text(
            template.replace("(benchkopie 0)", f"(A/B-ronde {number})"), encoding="utf-8"
        )
        for label, checkout in (("this", ROOT), ("other", other)):
            runs[label].append(release_build(checkout, content, WORK / f"ab-{label}", live))
            wall, cpu = runs[label][-1]
            print(f"A/B round {number} {label}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    rev = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], cwd=other, capture_output=True, text=True
    ).stdout.strip()[:80]

    def row(label: str, name: str) -> str:
        walls = [w for w, _ in runs[label]]
        cpus = [c for _, c in runs[label]]
        return (
            f"| {name} | {min(walls):.1f} s | {statistics.median(walls):.1f} s"
            f" | {min(cpus):.1f} s | {statistics.median(cpus):.1f} s |"
        )

    ratio = min(w for w, _ in runs["this"]) / min(w for w, _ in runs["other"])
    ratio_cpu = min(c for _, c in runs["this"]) / min(c for _, c in runs["other"])
    return [
        "",
        f"## Deze versie naast een andere ({rounds} builds elk, om en om, in één run)",
        "",
        f"Andere versie: `{rev}`. Zelfde inhoud, `python -m forms_backend.publishing release`;",
        "voor elk paar één nieuwe praktijkpagina erbij, en de live release als vorige versie.",
        "",
        "| versie | snelste wandklok | mediaan wandklok | minste CPU | mediaan CPU |",
        "| --- | ---: | ---: | ---: | ---: |",
        row("this", "deze"),
        row("other", "andere"),
        "",
        f"Verhouding deze/andere (snelste runs): wandklok {ratio:.2f}, CPU {ratio_cpu:.2f}.",
        "De snelste run is de beste schatting op een gedeelde machine: drukte maakt runs alleen",
        "langzamer.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-with", type=Path, help="another checkout to build alongside")
    parser.add_argument("--ab-rounds", type=int, default=5)
    args = parser.parse_args()
    load_before = uptime()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    content = make_content()
    publisher = Publisher(
        content_dir=content,
        site_dir=WORK / "build" / "site",
        releases_dir=WORK / "build" / "releases",
    )
    writer = FileSystemWriter(content)
    url = f"sqlite:///{WORK / 'brug.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    now = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    with db.new_session(engine, write=True) as session:
        moderator = accounts.create_user(
            session,
            email="bench@brug.example.nl",
            name="Bench",
            password="bench-wachtwoord-lang",
            role="admin",
            now=now(),
        )
        session.commit()

    first = publisher.build()
    assert first.ok, first.message
    pages = sum(1 for _ in (WORK / "build" / "site").rglob("index.html"))
    print(f"first full build: {first.seconds:.1f} s, {pages} HTML pages")

    rounds = []
    for number in range(ROUNDS):
        data = submissions.SubmissionData(
            kind="praktijk",
            title=f"Benchmarkpraktijk ronde {number}",
            summary="Een verzonnen praktijk voor de meting.",
            body=(
                "## Zo werkt het\n\n- Stap een.\n- Stap twee.\n\n"
                "Zie [alle praktijken](/praktijken/)."
            ),
            leefgebieden=["wonen"],
            regio="utrecht",
            organisatie="Benchgemeente",
            organisatietypes=["gemeente"],
        )
        with db.new_session(engine, write=True) as session:
            submission, _ = submissions.submit(
                session,
                data,
                submissions.Contact(name="Bench Inzender", email="bench@example.nl"),
                now=now(),
                public_url="http://127.0.0.1:8000",
            )
            session.commit()
            t0 = time.monotonic()
            submissions.approve(
                session,
                submission,
                moderator,
                now=now(),
                writer=writer,
                site_dir=publisher.site_dir,
            )
            session.commit()
            page_url = submission.page_url
        t1 = time.monotonic()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        ok = submissions.run_pending_builds(
            engine, publisher, clock=now, writer=writer, public_url="http://127.0.0.1:8000"
        )
        assert ok, "build failed"
        assert page_url is not None, "an approved submission has its page's address"
        live_file = publisher.site_dir / page_url.strip("/") / "index.html"
        assert live_file.is_file()
        t2 = time.monotonic()
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        with db.new_session(engine, write=False) as session:
            site_build = submissions.latest_build(session)
            assert site_build and site_build.started_at and site_build.finished_at
            build_seconds = (site_build.finished_at - site_build.started_at).total_seconds()
        rounds.append({"approve": t1 - t0, "total": t2 - t0, "build": build_seconds, "cpu": cpu})
        print(
            f"round {number}: approve {t1 - t0:.2f} s, approval -> live {t2 - t0:.1f} s "
            f"(build {build_seconds:.1f} s, CPU {cpu:.1f} s)"
        )

    total = statistics.median(r["total"] for r in rounds)
    build = statistics.median(r["build"] for r in rounds)
    approve = statistics.median(r["approve"] for r in rounds)
    worst = max(r["total"] for r in rounds)
    best = min(r["total"] for r in rounds)
    cpu = statistics.median(r["cpu"] for r in rounds)
    load = os.getloadavg()[0]
    verdict = "gehaald" if total <= 15 else "niet gehaald"
    lines = [
        "# Benchmark: goedkeuren -> pagina live",
        "",
        f"Gemeten op {dt.date.today().isoformat()} met `make bench` (`bench/bench_publish.py`), "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Inhoud: de echte `content/` plus {PAGES} praktijkpagina's (kopieën van de echte), "
        f"samen {pages} HTML-pagina's.",
        "",
        f"| meting ({len(rounds)} rondes) | mediaan | snelste | slechtste |",
        "| --- | --- | --- | --- |",
        f"| eerste volledige build (koud) | {first.seconds:.1f} s | | |",
        f"| goedkeuren (controle, pagina schrijven, build in de wachtrij) | {approve:.2f} s | "
        f"{min(r['approve'] for r in rounds):.2f} s | {max(r['approve'] for r in rounds):.2f} s |",
        f"| build (mkdocs build --strict in een nieuw proces) | {build:.1f} s | "
        f"{min(r['build'] for r in rounds):.1f} s | {max(r['build'] for r in rounds):.1f} s |",
        f"| **goedkeuren -> live** (symlink omgezet, pagina bereikbaar) | **{total:.1f} s** | "
        f"{best:.1f} s | {worst:.1f} s |",
        f"| CPU-tijd van het buildproces (user + sys) | {cpu:.1f} s | "
        f"{min(r['cpu'] for r in rounds):.1f} s | {max(r['cpu'] for r in rounds):.1f} s |",
        "",
        f"Belasting van de machine tijdens de meting (load average, 1 min): {load:.1f} op "
        f"{os.cpu_count()} cores.",
        f"`uptime` voor de meting: `{load_before}`; erna: `{uptime()}`.",
        "Bij een load boven het aantal cores deelt de build de CPU met andere processen; "
        "de CPU-tijd is dan de",
        "beste schatting van de tijd op een rustige machine (de build gebruikt één core).",
        "",
        f"Doel: <= 15 s. Resultaat (wandkloktijd): {verdict}; op een rustige machine ongeveer "
        f"{cpu + approve:.0f} s. Aandeel van de build: {100 * build / total:.0f}% van de tijd.",
        "Het omzetten van de live-site (nieuwe symlink + rename) en het opruimen van oude versies "
        "kosten minder dan 0,1 s.",
        "",
    ]
    if args.compare_with:
        lines += compare(args.compare_with.resolve(), content, args.ab_rounds, publisher.current())
    write_keeping_notes(RESULT, "\n".join(lines))
    print(
        f"approval -> live: median {total:.1f} s (build {build:.1f} s); "
        f"written to {RESULT.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
