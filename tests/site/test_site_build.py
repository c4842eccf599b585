"""The real `mkdocs build --strict`: it succeeds, fails loudly on bad front matter, and its
output links only to files in the build or to backend paths, loads nothing from other hosts and
carries a shell page the backend can fill at any depth."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from brug_links import backend_links, broken_links, refs, third_party_assets
from conftest import FIXTURE_DOCS, ROOT, brug_config, mkdocs_build, write_config

from bench import bench_build

pytestmark = pytest.mark.build

SITE_HOST = urlsplit(brug_config()["site_url"]).netloc


def test_real_build_succeeds(built_site: Path) -> None:
    for page in ("index.html", "404.html", "_shell/index.html", "praktijken/index.html",
                 "leefgebieden/wonen/index.html", "regios/utrecht/index.html",
                 "fase/na/index.html", "organisatietypes/gemeente/index.html",
                 "search/search_index.json", "sitemap.xml"):  # fmt: skip
        assert (built_site / page).is_file(), page


def test_bad_front_matter_fails_naming_file_key_and_choices(
    docs_copy: Path, tmp_path: Path
) -> None:
    page = docs_copy / "praktijken" / "schuldhulp-groningen.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("leefgebieden: [schulden]", "leefgebieden: [schuld]"))
    result = mkdocs_build(write_config(tmp_path, docs_copy, tmp_path / "site"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "praktijken/schuldhulp-groningen.md" in output
    assert "leefgebieden: 'schuld' niet toegestaan" in output
    assert "wonen, werk-en-dagbesteding, id-bewijs, schulden, zorg, sociaal-netwerk" in output
    assert not (tmp_path / "site" / "index.html").exists()


def test_missing_front_matter_fails(docs_copy: Path, tmp_path: Path) -> None:
    (docs_copy / "over" / "zonder.md").write_text("# Geen front matter\n", encoding="utf-8")
    result = mkdocs_build(write_config(tmp_path, docs_copy, tmp_path / "site"))
    assert result.returncode != 0
    assert "over/zonder.md" in result.stderr
    assert "type: verplicht veld ontbreekt" in result.stderr


def test_bad_wie_is_wie_fails(docs_copy: Path, tmp_path: Path) -> None:
    data = docs_copy / "_data" / "wie-is-wie.yml"
    data.write_text(data.read_text(encoding="utf-8").replace("regio: utrecht", "regio: randstad"))
    result = mkdocs_build(write_config(tmp_path, docs_copy, tmp_path / "site"))
    assert result.returncode != 0
    assert "wie-is-wie.yml" in result.stderr
    assert "'randstad' is geen bekende regio" in result.stderr


@pytest.mark.parametrize("site", ["built_site", "fixture_site"])
def test_every_internal_link_resolves(site: str, request: pytest.FixtureRequest) -> None:
    assert broken_links(request.getfixturevalue(site)) == []


def footer_links(html_file: Path) -> list[tuple[str, str]]:
    """(label, href) of the links in the footer's "Over deze site" navigation."""
    html = html_file.read_text(encoding="utf-8")
    nav = re.search(r'<nav class="brug-footer-links"[^>]*>(.*?)</nav>', html, re.S)
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav[1]) if nav else []


def test_footer_links_privacy_accessibility_and_colophon(built_site: Path) -> None:
    """On content pages, the 404 page (served at any depth) and the backend's shell."""
    expected = ["Privacyverklaring", "Toegankelijkheid", "Colofon"]
    for page, prefix in (("index.html", ""), ("praktijken/heerde-samen-starten/index.html",
                         "../../"), ("404.html", "/"), ("_shell/index.html", "/")):  # fmt: skip
        links = footer_links(built_site / page)
        assert [label for _, label in links] == expected, page
        assert links[0][0] == f"{prefix}over/privacy/", page


def test_footer_links_only_to_pages_the_build_has(fixture_site: Path) -> None:
    """The fixture pages have a colophon but no privacy statement: a footer with fixed links
    would break the link check there (test_every_internal_link_resolves)."""
    assert footer_links(fixture_site / "index.html") == [("over/colofon/", "Colofon")]


def test_backend_links_are_collected(fixture_site: Path) -> None:
    links = backend_links(fixture_site)
    assert {"/aanmelden/cosa", "/inzenden/praktijk"} <= links
    assert "/aanmelden/samen-starten" not in links  # no `aanmelden: true`


@pytest.mark.parametrize("site", ["built_site", "fixture_site"])
def test_no_asset_from_another_host(site: str, request: pytest.FixtureRequest) -> None:
    built = request.getfixturevalue(site)
    assert third_party_assets(built, own_hosts=frozenset({SITE_HOST})) == []
    for html in built.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for host in ("fonts.googleapis", "fonts.gstatic", "googletagmanager", "google-analytics",
                     "unpkg.com", "jsdelivr", "cdnjs", "twemoji"):  # fmt: skip
            assert host not in text, f"{html}: {host}"


def test_shell_has_markers_root_absolute_urls_and_no_content(built_site: Path) -> None:
    shell = (built_site / "_shell" / "index.html").read_text(encoding="utf-8")
    for marker in ("<!--BRUG:TITLE-->", "<!--BRUG:HEAD-->", "<!--BRUG:CONTENT-->"):
        assert shell.count(marker) == 1, marker
    assert re.search(r"<title>\s*<!--BRUG:TITLE-->[^<]*</title>", shell)
    assert re.search(r"<!--BRUG:HEAD-->\s*</head>", shell)
    assert re.search(
        r'<article class="md-content__inner md-typeset">\s*<!--BRUG:CONTENT-->\s*</article>', shell
    )
    assert '<html lang="nl"' in shell
    assert 'rel="canonical"' not in shell

    urls = [ref.url for ref in refs(built_site) if ref.page == "/_shell/"]
    assert urls, "the shell has no links at all?"
    relative = [u for u in urls if not u.startswith(("/", "#", "mailto:", "https:", "http:"))]
    assert relative == []
    assert not [u for u in urls if u.startswith("//")]

    config = json.loads(re.search(r'<script id="__config"[^>]*>(.*?)</script>', shell, re.S)[1])
    assert config["base"] == "/"
    assert config["search"].startswith("/assets/")
    assert '__md_scope=new URL("/",location)' in shell
    assert re.search(r'href="/assets/stylesheets/main\.[0-9a-f]+\.min\.css"', shell)
    assert re.search(r'src="/assets/javascripts/bundle\.[0-9a-f]+\.min\.js"', shell)


def test_backend_pages_get_the_skip_link_to_their_content(built_site: Path) -> None:
    """Keyboard users skip the header on backend pages too: the shell's "Ga naar inhoud" link
    points at the element the backend's layout wraps its content in."""
    shell = (built_site / "_shell" / "index.html").read_text(encoding="utf-8")
    link = re.search(r'<a href="#([\w-]+)" class="md-skip">\s*Ga naar inhoud\s*</a>', shell)
    assert link, "no skip link in the shell"
    layout = (ROOT / "forms_backend" / "templates" / "layout.html").read_text(encoding="utf-8")
    assert f'id="{link[1]}" tabindex="-1"' in layout
    assert re.search(r'md-sidebar--secondary"[^>]*hidden', shell)  # the toc itself stays hidden


def test_shell_is_not_in_search_or_sitemap(built_site: Path) -> None:
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [d for d in index["docs"] if d["location"].startswith("_shell")]
    assert "_shell" not in (built_site / "sitemap.xml").read_text(encoding="utf-8")


def test_search_is_dutch_with_stemmer(built_site: Path) -> None:
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["nl"]
    assert "stemmer" in index["config"]["pipeline"]


def test_lazy_search_knows_the_same_dutch_stop_words_as_lunr() -> None:
    """brug-lazy-search.js leaves Dutch stop words out of a query (Material lists them as missing,
    judging by lunr's English list). Pages do not load lunr, so the script has its own copy of
    lunr.nl's list; after a Material upgrade the two must still be the same."""
    import material

    lunr = Path(material.__file__).parent / "templates" / "assets" / "javascripts" / "lunr"
    lunr_nl = lunr / "min" / "lunr.nl.min.js"
    match = re.search(r'generateStopWordFilter\("([^"]*)"', lunr_nl.read_text(encoding="utf-8"))
    assert match, "lunr.nl.min.js has no stop word list where it used to"
    script = (ROOT / "site/assets/javascripts/brug-lazy-search.js").read_text(encoding="utf-8")
    block = re.search(r"STOP_WORDS = new Set\(\((.*?)\)\.split", script, re.S)
    assert block, "brug-lazy-search.js has no STOP_WORDS"
    ours = " ".join(re.findall(r'"([^"]*)"', block[1])).split()
    assert len(ours) == len(set(ours))
    assert sorted(ours) == sorted(match[1].split())


# Material's own Dutch has a few English labels and one grammar slip; custom.html puts them right
THEME_SLIPS = ("Header", "Footer", "Tabs", "overeenkomende document", "geüpdatet")


def test_theme_texts_are_dutch(built_site: Path) -> None:
    """Labels a screen reader reads out (aria-label, title) and the search texts in the page's
    config are Dutch on every page; the page says it is Dutch."""
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if "<html" not in html:  # a redirect stub
            continue
        assert re.search(r'<html lang="nl"', html), page
        labels = re.findall(r'(?:aria-label|title)="([^"]*)"', html)
        config = re.search(r'<script id="__config"[^>]*>(.*?)</script>', html, re.S)
        texts = labels + ([config.group(1)] if config else [])
        slips = [t for t in texts for slip in THEME_SLIPS if slip in t]
        assert slips == [], (page, slips)
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'aria-label="Kop van de pagina"' in home and "1 pagina gevonden" in home


def test_404_is_dutch_and_helpful(built_site: Path) -> None:
    page = (built_site / "404.html").read_text(encoding="utf-8")
    assert '<html lang="nl"' in page
    assert "Deze pagina bestaat niet" in page
    # 404.html is served at any depth, so its links are root-absolute.
    assert 'href="/praktijken/"' in page
    assert 'href="/assets/brug/brug.css"' in page


def test_canonical_links_and_sitemap_name_the_public_address(tmp_path: Path) -> None:
    """A production build (and every build after an approval) runs with BRUG_PUBLIC_URL: the
    canonical links and the sitemap must name that address, not the developer's port."""
    site = tmp_path / "site"
    result = mkdocs_build(
        write_config(tmp_path, FIXTURE_DOCS, site), env={"BRUG_PUBLIC_URL": "https://brug.example.nl"}
    )
    assert result.returncode == 0, result.stderr
    canonical = re.findall(r'rel="canonical" href="([^"]+)"', (site / "index.html").read_text())
    assert canonical == ["https://brug.example.nl/"]
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://brug.example.nl/" in sitemap and "127.0.0.1" not in sitemap


def test_the_build_benchmarks_configs_still_build(tmp_path: Path) -> None:
    """CI does not run `make bench`: the bare-Material reference config it writes from
    mkdocs.yml must still load (mkdocs' own tags) and build, as Dutch."""
    docs = ROOT / brug_config()["docs_dir"]
    _brug, _nogzip, bare = bench_build.write_configs(tmp_path, docs, docs)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(bare)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '<html lang="nl"' in (tmp_path / "site-bare" / "index.html").read_text(encoding="utf-8")


def test_search_words_reach_the_index_but_not_the_page(fixture_site: Path) -> None:
    """``zoekwoorden`` are Material's search tags (boosted far above title and text): a page
    is found first by the everyday words it never uses. No tags plugin runs, so they are not
    shown on the page."""
    index = json.loads((fixture_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    tags = {d["location"]: d.get("tags") for d in index["docs"]}
    assert tags["leefgebieden/wonen/"] == ["huisvesting", "onderdak"]
    assert tags["praktijken/schuldhulp-groningen/"] is None
    page = (fixture_site / "leefgebieden" / "wonen" / "index.html").read_text(encoding="utf-8")
    assert "md-tag" not in page
    assert "onderdak" not in page
