"""Benchmark Brug's site build against bare Material on synthetic content.

Generates 1k and 5k pages with realistic front matter (all page types, leefgebieden, regions,
fasen) and bodies of 300-600 words into bench/work/, then builds each set twice with the real CLI:

- Brug: the repository's mkdocs.yml (hooks: validation, overview pages, shell; theme overrides);
- bare: the same theme settings, plugins, markdown extensions and nav, without Brug's hooks and
  overrides. It gets a stub page at every path where Brug generates one, so both builds render
  the same number of pages.

Writes bench/results/build.md: wall times, ratio Brug/bare, 5k/1k scaling, peak memory per build
(ru_maxrss of the build process) and search index size. Run with `make bench` or
`.venv/bin/python bench/bench_build.py [--sizes 1000 5000] [--repeat 2]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import pstats
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from mkdocs.utils.yaml import yaml_load

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results" / "build.md"
HOOKS = ROOT / "site" / "hooks"
sys.path[:0] = [str(HOOKS), str(ROOT)]

import brug_overviews  # noqa: E402
import brug_shell  # noqa: E402

from bench.results_file import write_keeping_notes  # noqa: E402
from forms_backend.content import FASEN, LEEFGEBIEDEN, ORGANISATIETYPES, REGIOS  # noqa: E402

# Share of each page type in a synthetic site (thema and regio pages are added on top).
TYPE_MIX = {
    "praktijk": 0.38,
    "werkbezoek": 0.10,
    "nieuws": 0.16,
    "verslag": 0.06,
    "rapport": 0.08,
    "advies": 0.04,
    "organisatie": 0.10,
    "programma": 0.03,
    "pagina": 0.05,
}
FOLDER = {
    "praktijk": "praktijken",
    "werkbezoek": "werkbezoeken",
    "nieuws": "nieuws",
    "verslag": "nieuws",
    "rapport": "kennisbank",
    "advies": "kennisbank",
    "organisatie": "organisaties",
    "programma": "programmas",
    "pagina": "over",
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORDS = _words(
    "gemeente reclassering nazorg detentie terugkeer vrijwilliger casemanager woning schulden "
    "werk dagbesteding zorg netwerk samenwerking gedetineerde ontslag inrichting afspraken "
    "coördinator regio wijkteam toezicht begeleiding traject uitkering identiteitsbewijs "
    "huisvesting schuldhulp budgetbeheer familie mantelzorg veiligheid overleg signaal "
    "aanmelding dossier privacy ketenpartners re-integratie perspectief leefgebieden plan "
    "maatje cirkel vertrouwen contact gesprek bezoek praktijk ervaring resultaat onderzoek "
    "advies jongeren volwassenen kinderen ouders buurt werkgever opleiding stage diploma"
)
SMALL = _words("de het een en van in op met voor naar bij dat die is zijn wordt kan niet ook")


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(SMALL) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> tuple[str, int]:
    sentences = [sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(3, 5))]
    text = " ".join(sentences)
    return text, len(text.split())


def body(rng: random.Random, title: str, links: list[str]) -> str:
    """Markdown of 300-600 words with headings, a list, sometimes a table or admonition."""
    target = rng.randint(300, 600)
    parts, words = [f"# {title}"], 0
    while words < target:
        if rng.random() < 0.3:
            parts.append(f"## {sentence(rng, rng.randint(2, 5))[:-1]}")
        text, count = paragraph(rng)
        parts.append(text)
        words += count
        if rng.random() < 0.35:
            items = [f"- {sentence(rng, rng.randint(4, 9))}" for _ in range(rng.randint(3, 6))]
            parts.append("\n".join(items))
            words += sum(len(i.split()) for i in items)
    if rng.random() < 0.15:
        rows = [f"| {rng.choice(list(FASEN))} | {rng.choice(WORDS)} | {sentence(rng, 5)} |"
                for _ in range(3)]  # fmt: skip
        parts.append("| Fase | Wie | Wat |\n| --- | --- | --- |\n" + "\n".join(rows))
    if rng.random() < 0.15:
        parts.append(f'!!! tip "Tip"\n\n    {sentence(rng, 12)}')
    if links:
        parts.append(
            "Zie ook: " + ", ".join(f"[{Path(link).stem}](../{link})" for link in links) + "."
        )
    return "\n\n".join(parts) + "\n"


def front_matter(rng: random.Random, page_type: str, index: int) -> dict[str, object]:
    title = f"{sentence(rng, rng.randint(3, 7))[:-1]} {index}"
    meta: dict[str, object] = {
        "type": page_type,
        "title": title,
        "summary": sentence(rng, rng.randint(12, 28)),
    }
    if page_type not in ("pagina", "organisatie", "programma"):
        day = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 13))
        meta["datum"] = day
    if page_type in ("praktijk", "werkbezoek") or rng.random() < 0.5:
        meta["leefgebieden"] = rng.sample(list(LEEFGEBIEDEN), rng.randint(1, 3))
    if page_type in ("praktijk", "werkbezoek") or rng.random() < 0.4:
        meta["regio"] = rng.choice(list(REGIOS))
    if rng.random() < 0.6 and page_type != "pagina":
        meta["fase"] = rng.sample(list(FASEN), rng.randint(1, 2))
    if rng.random() < 0.6 and page_type != "pagina":
        meta["organisatietypes"] = rng.sample(list(ORGANISATIETYPES), rng.randint(1, 3))
    if rng.random() < 0.7:
        meta["bronnen"] = [
            {"title": sentence(rng, 6)[:-1], "publisher": rng.choice(WORDS).capitalize(),
             "date": meta.get("datum", dt.date(2020, 5, 1)),
             "url": f"https://www.example.nl/bron/{index}"}
        ]  # fmt: skip
    if page_type == "programma":
        meta["slug"] = f"programma-{index}"
        meta["aanmelden"] = rng.random() < 0.5
    if page_type == "werkbezoek":
        meta["werkbezoek"] = {
            "soort": rng.choice(["aanbod", "verslag"]),
            "plaats": rng.choice(WORDS).capitalize(),
            "organisatie": f"PI {rng.choice(WORDS).capitalize()}",
        }
    return meta


def write_page(path: Path, meta: Mapping[str, object], markdown: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{front}---\n\n{markdown}", encoding="utf-8")


def generate(docs: Path, size: int, seed: int = 42) -> int:
    """Write `size` content pages (plus home, glossary, thema and regio pages); return the count."""
    rng = random.Random(seed)
    if docs.exists():
        shutil.rmtree(docs)
    pages: list[str] = []
    fixed = 2 + len(LEEFGEBIEDEN) + len(REGIOS)
    types = list(TYPE_MIX)
    weights = list(TYPE_MIX.values())
    for i in range(size - fixed):
        page_type = rng.choices(types, weights)[0]
        rel = f"{FOLDER[page_type]}/pagina-{i}.md"
        links = rng.sample(pages, min(len(pages), rng.randint(0, 2))) if pages else []
        meta = front_matter(rng, page_type, i)
        write_page(docs / rel, meta, body(rng, str(meta["title"]), links))
        pages.append(rel)
    for slug, label in LEEFGEBIEDEN.items():
        meta = {"type": "thema", "title": label, "summary": sentence(rng, 15), "slug": slug}
        write_page(docs / "leefgebieden" / f"{slug}.md", meta, body(rng, label, []))
    for slug, label in REGIOS.items():
        meta = {"type": "regio", "title": label, "summary": sentence(rng, 15), "slug": slug}
        write_page(docs / "regios" / f"{slug}.md", meta, body(rng, label, []))
    home = {"type": "pagina", "title": "Welkom bij Brug", "summary": sentence(rng, 12)}
    write_page(docs / "index.md", home, body(rng, "Welkom bij Brug", []))
    glossary = {"type": "pagina", "title": "Woordenlijst", "summary": sentence(rng, 12)}
    write_page(docs / "woordenlijst.md", glossary, body(rng, "Woordenlijst", []))
    wie = [
        {"regio": slug, "organisaties": [
            {"naam": f"{rng.choice(WORDS).capitalize()} {label}",
             "type": rng.choice(list(ORGANISATIETYPES)), "rol": sentence(rng, 8),
             "plaats": label, "mailbox": f"info@{slug}.example.nl"}
            for _ in range(rng.randint(2, 6))]}
        for slug, label in REGIOS.items()
    ]  # fmt: skip
    (docs / "_data").mkdir(parents=True, exist_ok=True)
    (docs / "_data" / "wie-is-wie.yml").write_text(yaml.safe_dump(wie, allow_unicode=True))
    return sum(1 for _ in docs.rglob("*.md"))


def generated_uris(docs: Path) -> list[str]:
    """The pages Brug's hooks add for this docs folder (overviews it must generate, the shell)."""
    existing = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    plan = brug_overviews.Plan.make(brug_overviews.overview_definitions([]), existing)
    return [o.src_uri for o in plan.to_generate()] + [brug_shell.SRC_URI]


def bare_docs(docs: Path, bare: Path) -> None:
    """The same pages plus a stub wherever Brug generates a page, so page counts match."""
    if bare.exists():
        shutil.rmtree(bare)
    shutil.copytree(docs, bare)
    for uri in generated_uris(docs):
        title = Path(uri).stem.replace("-", " ").capitalize()
        write_page(bare / uri, {"title": title}, f"# {title}\n\nOverzicht.\n")


# A deployment step rather than page building: measured with and without it.
GZIP_HOOK = "brug_compress.py"


def write_configs(folder: Path, docs: Path, bare: Path) -> tuple[Path, Path, Path]:
    """Brug's config, Brug's config without the gzip hook, and bare Material."""
    # mkdocs' own loader: it resolves the tags mkdocs.yml uses (!ENV for site_url)
    config = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    configs = []
    for name, hooks in (
        ("brug", config["hooks"]),
        ("brug-nogzip", [h for h in config["hooks"] if not h.endswith(GZIP_HOOK)]),
    ):
        path = folder / f"{name}.yml"
        path.write_text(
            f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
            f"docs_dir: {docs}\nsite_dir: {folder / f'site-{name}'}\n"
            f"hooks: [{', '.join(str(ROOT / hook) for hook in hooks)}]\n"
            f"theme:\n  custom_dir: {ROOT / 'site' / 'overrides'}\n",
            encoding="utf-8",
        )
        configs.append(path)
    for key in ("hooks", "extra_css"):
        config.pop(key, None)
    for key in ("custom_dir", "logo", "favicon"):
        config["theme"].pop(key, None)
    if config["theme"].get("language") == "custom":  # Brug's texts live in the custom_dir
        config["theme"]["language"] = "nl"
    config.update(docs_dir=str(bare), site_dir=str(folder / "site-bare"))
    plain = folder / "bare.yml"
    plain.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return configs[0], configs[1], plain


@dataclass
class Run:
    wall: float
    cpu: float
    internal: float
    max_rss_mb: float
    search_index_mb: float


def build_measured(config: Path, site: Path) -> Run:
    """Like build(), with the peak RSS of exactly this child process (os.wait4)."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    log = config.with_suffix(".log")
    with log.open("wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {config}\n{text[-4000:]}")
    match = re.search(r"Documentation built in ([0-9.]+) seconds", text)
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        internal=float(match[1]) if match else float("nan"),
        max_rss_mb=usage.ru_maxrss / 1024,
        search_index_mb=(site / "search" / "search_index.json").stat().st_size / 1e6,
    )


# Entry points of Brug's own work in a build; their cumulative times do not overlap.
BRUG_ENTRY_POINTS = (
    ("brug_hooks.py", "<module>"),  # importing the hooks, the schema and forms_backend
    ("brug_hooks.py", "on_files"),
    ("brug_hooks.py", "on_page_markdown"),
    ("brug_hooks.py", "on_env"),
    ("brug_hooks.py", "on_page_context"),
    ("brug_hooks.py", "on_post_page"),
    ("brug-pagina.html", "root"),
    ("brug_glossary.py", "<module>"),
    ("brug_glossary.py", "on_config"),
    ("brug_glossary.py", "on_page_content"),
    ("brug_markup.py", "on_post_page"),
    ("brug_markup.py", "on_post_template"),
    ("brug_compress.py", "<module>"),
    ("brug_compress.py", "on_post_build"),  # .gz copies of the finished build
)


def profile_share(config: Path) -> tuple[float, float, dict[str, float]]:
    """Run one build under cProfile; return total time, Brug's share and its parts.

    The machine this runs on is shared, so wall and CPU times of whole builds are noisy; the
    profiler's attribution of time to functions inside one process is a steadier measure of
    what the hooks and templates themselves cost.
    """
    prof = config.with_suffix(".prof")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "mkdocs", "build", "-q",
           "-f", str(config)]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    stats = pstats.Stats(str(prof))
    parts: dict[str, float] = {}
    for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for file, function in BRUG_ENTRY_POINTS:
            if filename.endswith(file) and name == function:
                parts[f"{file}:{function}"] = parts.get(f"{file}:{function}", 0.0) + cumulative
    total = stats.total_tt  # type: ignore[attr-defined]
    return total, sum(parts.values()), parts


def _uptime() -> str:
    """The `uptime` line: the machine is shared, and load explains wall times."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def best(runs: list[Run]) -> Run:
    """The least disturbed run (fastest wall and CPU time), with the highest memory seen."""
    return Run(
        wall=min(r.wall for r in runs),
        cpu=min(r.cpu for r in runs),
        internal=min(r.internal for r in runs),
        max_rss_mb=max(r.max_rss_mb for r in runs),
        search_index_mb=runs[0].search_index_mb,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    parser.add_argument(
        "--no-profile", dest="profile", action="store_false",
        help="skip profiling the largest Brug build once",
    )  # fmt: skip
    args = parser.parse_args()

    load_before = _uptime()
    rows = []
    for size in args.sizes:
        folder = WORK / f"{size}"
        folder.mkdir(parents=True, exist_ok=True)
        docs, bare = folder / "docs", folder / "docs-bare"
        pages = generate(docs, size)
        bare_docs(docs, bare)
        extra = len(generated_uris(docs))
        brug_cfg, nogzip_cfg, bare_cfg = write_configs(folder, docs, bare)
        results: dict[str, list[Run]] = {"brug": [], "brug-nogzip": [], "bare": []}
        for _ in range(args.repeat):
            # Alternate so all see the same machine state (page cache, thermal).
            for name, cfg in (("bare", bare_cfg), ("brug", brug_cfg), ("brug-nogzip", nogzip_cfg)):
                run = build_measured(cfg, folder / f"site-{name}")
                results[name].append(run)
                print(f"{size:>5} {name}: {run.wall:6.1f} s wall, {run.cpu:6.1f} s CPU, "
                      f"{run.max_rss_mb:6.0f} MB", flush=True)  # fmt: skip
        rows.append(
            (size, pages, extra, best(results["brug"]), best(results["bare"]),
             best(results["brug-nogzip"]))
        )  # fmt: skip

    report = render(rows, args.repeat)
    report += f"\nMachine load (`uptime`): before the runs `{load_before}`; after `{_uptime()}`.\n"
    if args.profile:
        size = args.sizes[-1]
        total, share, parts = profile_share(WORK / f"{size}" / "brug.yml")
        report += (
            f"\nProfile of one Brug build of {size} pages (cProfile): {total:.1f} s in total, "
            f"{share:.1f} s ({share / total:.1%}) in Brug's hooks and templates:\n\n"
            + "".join(f"- `{name}`: {seconds:.2f} s\n" for name, seconds in parts.items())
        )
    print(report)
    if not args.no_write:
        write_keeping_notes(RESULTS, report)


def render(rows: list[tuple[int, int, int, Run, Run, Run]], repeat: int) -> str:
    lines = [
        "# Build benchmark: Brug vs bare Material",
        "",
        f"Generated by `bench/bench_build.py` on {dt.date.today().isoformat()}; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, best of {repeat} runs "
        "(wall time of the `mkdocs build --strict` process, including start-up).",
        "",
        "| pages in content | + generated by Brug | Brug wall / CPU (s) | bare wall / CPU (s) "
        "| Brug/bare wall | Brug/bare CPU | Brug peak RSS (MB) | bare peak RSS (MB) "
        "| search index Brug / bare (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for _, pages, extra, brug, bare, _nogzip in rows:
        lines.append(
            f"| {pages} | {extra} | {brug.wall:.1f} / {brug.cpu:.1f} | "
            f"{bare.wall:.1f} / {bare.cpu:.1f} | {brug.wall / bare.wall:.2f}× | "
            f"{brug.cpu / bare.cpu:.2f}× | {brug.max_rss_mb:.0f} | {bare.max_rss_mb:.0f} | "
            f"{brug.search_index_mb:.1f} / {bare.search_index_mb:.1f} |"
        )
    if len(rows) >= 2:
        (s1, *_, b1, r1, _), (s2, *_, b2, r2, _) = rows[0], rows[-1]
        lines += [
            "",
            f"Scaling {s2 // 1000}k/{s1 // 1000}k (wall): Brug {b2.wall / b1.wall:.2f}, "
            f"bare {r2.wall / r1.wall:.2f}; (CPU): Brug {b2.cpu / b1.cpu:.2f}, "
            f"bare {r2.cpu / r1.cpu:.2f} (linear would be {s2 / s1:.1f}).",
        ]
    lines += [
        "",
        "Without the gzip hook (`brug_compress.py`: a .gz copy of every text file, for nginx "
        "`gzip_static`; bare Material has no such step), same run:",
        "",
        "| pages in content | Brug without gzip wall / CPU (s) | Brug w/o gzip / bare wall "
        "| Brug w/o gzip / bare CPU | peak RSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for _, pages, _, _, bare, nogzip in rows:
        lines.append(
            f"| {pages} | {nogzip.wall:.1f} / {nogzip.cpu:.1f} | {nogzip.wall / bare.wall:.2f}× | "
            f"{nogzip.cpu / bare.cpu:.2f}× | {nogzip.max_rss_mb:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
