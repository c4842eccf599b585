"""Page budgets: Lighthouse (mobile) on four pages, bytes of a content page, search index size.

Builds the site into bench/work/lighthouse/, starts the real app on a free loopback port (SQLite
with the demo data), and measures:

- Lighthouse 13 (bench/js, from the npm registry) with Debian's Chromium, default mobile profile
  (simulated slow 4G, 4x CPU slowdown) on the home page, a practice page, the agenda and the
  COSA sign-up form. Budgets: performance >= 95, accessibility 100, best practices >= 95,
  SEO >= 95;
- bytes transferred for a content page in Chromium (Playwright, encoded sizes of every
  response, so what the server really sent: gzip where it compresses) before search is used:
  budget <= 100 KB; and what the first search then adds;
- the search index (search/search_index.json, raw and gzip) of the demo content and of 1k
  synthetic pages (bench_build.generate).

Lighthouse's simulated throttling multiplies the CPU time it observes, so a loaded machine lowers
the performance score: every page is measured RUNS times and the run with the median performance
score is reported; the load average (os.getloadavg) before and after is written down.

Writes bench/results/lighthouse.md. Run: `make bench` or
`.venv/bin/python bench/bench_lighthouse.py`
(`--runs N`, `--out FILE`, `--no-synthetic` for a quick look).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / "work" / "lighthouse"
RESULTS = BENCH / "results" / "lighthouse.md"
LIGHTHOUSE = BENCH / "js" / "node_modules" / "lighthouse" / "cli" / "index.js"
sys.path[:0] = [str(BENCH), str(ROOT)]

PAGES = {
    "home": "/",
    "praktijk": "/praktijken/heerde-samen-starten/",
    "agenda": "/agenda/",
    "aanmelden (COSA)": "/aanmelden/cosa",
}
BUDGET = {"performance": 95, "accessibility": 100, "best-practices": 95, "seo": 95}
CONTENT_PAGE = "/praktijken/heerde-samen-starten/"
BYTES_BUDGET = 100 * 1024
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu"
RUNS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(docs: Path, out: Path, config: Path | None = None) -> None:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)]
    if config is not None:
        cmd += ["-f", str(config)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)


@contextmanager
def live_app(site: Path) -> Iterator[str]:
    """The real app serving ``site`` and the backend, with demo data, on a free port."""
    import logging

    from werkzeug.serving import make_server

    from forms_backend import clock, create_app, db, demo

    database = WORK / "brug.sqlite3"
    database.unlink(missing_ok=True)
    db.upgrade(f"sqlite:///{database}")
    app = create_app(
        {
            "SECRET_KEY": "bench-only",
            "DATABASE_URL": f"sqlite:///{database}",
            "SITE_DIR": str(site),
            "CONTENT_DIR": str(WORK / "content"),
            "MAIL_TRANSPORT": "recording",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    with app.app_context(), db.transaction() as session:
        demo.seed(session, now=clock.now(), config=app.config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        db.get_engine(app).dispose()


def lighthouse(url: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"}
    cmd = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=performance,accessibility,best-practices,seo",
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    report = json.loads(out.read_text(encoding="utf-8"))
    scores = {key: round(100 * (cat["score"] or 0)) for key, cat in report["categories"].items()}
    failed = {
        key: [
            report["audits"][ref["id"]]["title"]
            for ref in cat["auditRefs"]
            if ref["weight"]
            and (report["audits"][ref["id"]].get("score") or 0) < 1
            and report["audits"][ref["id"]].get("scoreDisplayMode")
            not in ("notApplicable", "informative", "manual")
        ]
        for key, cat in report["categories"].items()
    }
    metrics = {
        name: report["audits"][audit]["displayValue"]
        for name, audit in (
            ("FCP", "first-contentful-paint"),
            ("LCP", "largest-contentful-paint"),
            ("TBT", "total-blocking-time"),
            ("CLS", "cumulative-layout-shift"),
        )
    }
    weight = report["audits"]["total-byte-weight"]["numericValue"]
    blocking = [
        (item["url"].split("/", 3)[-1], item.get("totalBytes", 0))
        for item in report["audits"]
        .get("render-blocking-insight", {})
        .get("details", {})
        .get("items", [])
        if isinstance(item, dict) and "url" in item
    ]
    return {
        "scores": scores,
        "failed": failed,
        "metrics": metrics,
        "weight": weight,
        "blocking": blocking,
    }


def median_run(url: str, out: Path, runs: int) -> dict[str, Any]:
    """Lighthouse ``runs`` times; the run with the median performance score, with all scores."""
    reports = []
    for run in range(runs):
        reports.append(lighthouse(url, out.with_name(f"{out.stem}-{run + 1}.json")))
    reports.sort(key=lambda r: r["scores"]["performance"])
    chosen = reports[len(reports) // 2]
    chosen["all_performance"] = [r["scores"]["performance"] for r in reports]
    return chosen


def page_bytes(url: str) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per response of one page load in Chromium (which asks for gzip): (bytes on the wire =
    encoded body + headers, identity body + headers), first with search untouched, then what
    focusing the search field and typing a word adds."""
    from playwright.sync_api import sync_playwright

    origin = "/".join(url.split("/", 3)[:3])
    responses: list[Any] = []

    def sizes(batch: list[Any]) -> dict[str, tuple[int, int]]:
        out = {}
        for response in batch:
            info = response.request.sizes()
            headers, body = info["responseHeadersSize"], response.body()
            wire = info["responseBodySize"]
            if not wire and body:  # Chromium reports 0 for a worker's script: recompute it
                packed = response.headers.get("content-encoding") == "gzip"
                wire = len(gzip.compress(body, 9, mtime=0)) if packed else len(body)
            out[response.url.removeprefix(origin)] = (wire + headers, len(body) + headers)
        return out

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.on("response", lambda response: responses.append(response))
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)
        before = sizes(responses)
        responses.clear()
        page.click("label[for=__search]")
        page.keyboard.type("werk")
        page.wait_for_selector(".md-search-result__item")
        page.wait_for_load_state("networkidle")
        after = sizes(responses)
        browser.close()
    return before, after


def index_size(site: Path) -> tuple[int, int]:
    data = (site / "search" / "search_index.json").read_bytes()
    return len(data), len(gzip.compress(data, 6))


def synthetic_index() -> tuple[int, int, int]:
    from bench import bench_build

    folder = WORK / "synthetic"
    docs = folder / "docs"
    count = bench_build.generate(docs, 1000)
    config = bench_build.write_configs(folder, docs, folder / "bare-unused")[0]
    out = folder / "site"
    build(docs, out, config)
    raw, packed = index_size(out)
    return count, raw, packed


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-synthetic", action="store_true")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        subprocess.run(
            ["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=BENCH / "js",
            check=True,
        )
    WORK.mkdir(parents=True, exist_ok=True)
    site = WORK / "site"
    build(ROOT / "content", site)
    results: dict[str, dict[str, Any]] = {}
    loads = [load()]
    with live_app(site) as base:
        for name, path in PAGES.items():
            print(f"lighthouse {path} x{args.runs}", flush=True)
            results[name] = median_run(base + path, WORK / f"{name.split()[0]}.json", args.runs)
        sizes = page_bytes(base + CONTENT_PAGE)
    loads.append(load())
    demo_raw, demo_gz = index_size(site)
    big = (0, 0, 0)
    if not args.no_synthetic:
        print("1k synthetic pages", flush=True)
        big = synthetic_index()
    text = render(results, sizes, (demo_raw, demo_gz), big, loads, args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


HISTORY = "<!-- history: kept by bench_lighthouse.py, written by hand -->"


def render(
    results: dict[str, dict[str, Any]],
    sizes: tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]],
    demo: tuple[int, int],
    big: tuple[int, int, int],
    loads: list[str],
    runs: int,
) -> str:
    lines = [
        "# Page budgets (Lighthouse, bytes, search index)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `bench/bench_lighthouse.py`: "
        "Lighthouse 13.5.0 with Debian",
        "Chromium, default mobile profile (simulated slow 4G, 4x CPU slowdown), the real app on",
        "loopback (embedded server, gzip) serving the fresh build and the backend. Each page was",
        f"measured {runs} times; the run with the median performance score is shown (all scores in",
        f"brackets). Load average (1/5/15 min) on {os.cpu_count()} CPUs: {loads[0]} before, "
        f"{loads[-1]} after;",
        "Lighthouse's simulated throttling multiplies the CPU time it sees, so a loaded machine",
        "lowers the performance score.",
        "",
        "| page | performance (≥95) | accessibility (100) | best practices (≥95) | SEO (≥95) "
        "| FCP | LCP | TBT | CLS | bytes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    misses = []
    for name, r in results.items():
        s, m = r["scores"], r["metrics"]
        cells = []
        for key, minimum in BUDGET.items():
            ok = s[key] >= minimum
            cell = f"{s[key]}" + ("" if ok else " ✗")
            if key == "performance" and len(r.get("all_performance", [])) > 1:
                cell += f" ({', '.join(map(str, r['all_performance']))})"
            cells.append(cell)
            if not ok:
                misses.append(
                    f"- {name} ({PAGES[name]}): {key} {s[key]} < {minimum}; audits below 1: "
                    + "; ".join(r["failed"][key])
                )
        lines.append(
            f"| {name} `{PAGES[name]}` | "
            + " | ".join(cells)
            + f" | {m['FCP']} | {m['LCP']} | {m['TBT']} | {m['CLS']} | {kb(r['weight'])} |"
        )
    lines += ["", "## Budgets missed", ""]
    lines += misses or ["None: every page meets every Lighthouse budget."]
    blocking = next(iter(results.values())).get("blocking") or []
    if blocking:
        lines += [
            "",
            "Render-blocking requests Lighthouse names (home page): "
            + ", ".join(f"`/{url}` ({kb(size)})" for url, size in blocking)
            + ".",
        ]
    before, after = sizes
    total = sum(wire for wire, _ in before.values())
    identity = sum(raw for _, raw in before.values())
    lines += [
        "",
        f"## Bytes for a content page ({CONTENT_PAGE}, before search is used)",
        "",
        "Chromium at 390×844, every response until the network is idle, encoded body + headers,",
        f"as the embedded server sends it to a browser that accepts gzip: **{kb(total)}** (budget",
        f"{kb(BYTES_BUDGET)}: {'met' if total <= BYTES_BUDGET else 'MISSED'}); "
        f"{kb(identity)} without compression.",
        "",
        "| response | on the wire | identity |",
        "| --- | --- | --- |",
        *[
            f"| `{path}` | {kb(wire)} | {kb(raw)} |"
            for path, (wire, raw) in sorted(before.items(), key=lambda kv: -kv[1][0])
        ],
        "",
        "Then focusing the search field and typing a word loads "
        f"(total {kb(sum(w for w, _ in after.values()))}"
        " on the wire):",
        "",
        "| response | on the wire | identity |",
        "| --- | --- | --- |",
        *[
            f"| `{path}` | {kb(wire)} | {kb(raw)} |"
            for path, (wire, raw) in sorted(after.items(), key=lambda kv: -kv[1][0])
        ],
        "",
        "## Search index size",
        "",
        "| content | pages | search_index.json | gzip -6 |",
        "| --- | --- | --- | --- |",
        f"| demo content (content/) | {sum(1 for _ in (ROOT / 'content').rglob('*.md'))} files "
        f"| {kb(demo[0])} | {kb(demo[1])} |",
    ]
    if big[0]:
        lines.append(
            f"| synthetic (bench_build.generate) | {big[0]} | {kb(big[1])} | {kb(big[2])} |"
        )
    lines.append("")
    if RESULTS.exists() and HISTORY in (old := RESULTS.read_text(encoding="utf-8")):
        lines += [HISTORY + old.split(HISTORY, 1)[1].rstrip("\n"), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
