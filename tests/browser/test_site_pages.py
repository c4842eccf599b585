"""The static site in Chromium: WCAG 2.1 AA (axe-core), privacy, language and valid HTML.

One page of every generated page type goes through axe (light and dark scheme); every page of
the build is loaded to check that it asks nothing of another host, sets no cookie and has
lang="nl", a title and a meta description; a sample of each type goes through the Nu HTML Checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Live, assert_accessible, vnu_errors

pytestmark = pytest.mark.browser

# One page per page type the build generates (content types, overviews, special pages).
PAGE_TYPES = {
    "home": "/",
    "praktijk": "/praktijken/heerde-samen-starten/",
    "werkbezoek": "/werkbezoeken/nazorg-west-veluwe-vallei/",
    "programma": "/programmas/cosa/",
    "nieuws": "/nieuws/wet-straffen-en-beschermen/",
    "verslag": "/nieuws/koers-en-kansen-bijeenkomst/",
    "rapport": "/kennisbank/samen-werken-aan-een-nieuwe-start/",
    "advies": "/kennisbank/rsj-advies-de-buitenwereld-naar-binnen/",
    "thema": "/leefgebieden/wonen/",
    "regio met wie-is-wie": "/regios/gelderland/",
    "regio zonder eigen tekst": "/regios/zeeland/",
    "organisatie": "/organisaties/reclassering-3ro/",
    "overzicht praktijken": "/praktijken/",
    "overzicht werkbezoeken": "/werkbezoeken/",
    "overzicht kennisbank": "/kennisbank/",
    "overzicht nieuws": "/nieuws/",
    "overzicht programma's": "/programmas/",
    "overzicht leefgebieden": "/leefgebieden/",
    "overzicht regio's": "/regios/",
    "overzicht organisaties": "/organisaties/",
    "overzicht organisatietypes": "/organisatietypes/",
    "organisatietype": "/organisatietypes/gemeente/",
    "overzicht fasen": "/fase/",
    "fase": "/fase/na/",
    "woordenlijst": "/woordenlijst/",
    "privacy": "/over/privacy/",
    "over": "/over/",
}


def all_pages(site: Path) -> list[str]:
    """Every HTML page of the build as a URL path (the backend's shell excluded)."""
    paths = []
    for file in sorted(site.rglob("index.html")):
        rel = file.parent.relative_to(site).as_posix()
        if rel.startswith("_shell"):
            continue
        paths.append("/" if rel == "." else f"/{rel}/")
    return paths


# The dark scheme shares the markup; its colours are checked on the pages with the most kinds of
# element (cards, chips, tables, admonitions, the who-is-who list).
DARK = [
    "home",
    "praktijk",
    "programma",
    "regio met wie-is-wie",
    "overzicht praktijken",
    "woordenlijst",
]


@pytest.mark.parametrize("path", list(PAGE_TYPES.values()), ids=list(PAGE_TYPES))
def test_page_type_has_no_axe_violations(page: Any, live: Live, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert_accessible(page)


@pytest.mark.parametrize("kind", DARK)
def test_dark_scheme_has_no_axe_violations(page: Any, live: Live, kind: str) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(PAGE_TYPES[kind])
    assert page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    assert_accessible(page)


def test_not_found_page_is_accessible_and_says_so(page: Any, live: Live) -> None:
    response = page.goto("/bestaat-niet/")
    assert response is not None and response.status == 404
    assert "bestaat niet" in page.locator("h1").inner_text()
    assert_accessible(page)


def test_open_search_results_are_accessible(page: Any, live: Live) -> None:
    page.goto("/")
    page.wait_for_load_state("networkidle")  # the search worker has loaded its index
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("vrijwilliger")
    results = page.locator(".md-search-result__item")
    results.first.wait_for()
    assert results.count() > 0
    assert_accessible(page)


def test_every_page_is_private_dutch_and_described(
    browser: Any, live: Live, built_site: Path
) -> None:
    """Load every page: only the site's own host is asked, no cookie, lang/title/description."""
    context = browser.new_context(base_url=live.url)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    problems = []
    pages = all_pages(built_site)
    assert len(pages) > 40
    for path in pages:
        page.goto(path)
        facts = page.evaluate(
            """() => ({
                lang: document.documentElement.lang,
                title: document.title.trim(),
                description:
                    document.querySelector('meta[name=description]')?.content?.trim() ?? '',
                cookie: document.cookie,
            })"""
        )
        if facts["lang"] != "nl":
            problems.append(f"{path}: lang={facts['lang']!r}")
        if not facts["title"]:
            problems.append(f"{path}: no <title>")
        if len(facts["description"]) < 20:
            problems.append(f"{path}: meta description {facts['description']!r}")
        if facts["cookie"]:
            problems.append(f"{path}: document.cookie {facts['cookie']!r}")
    cookies = context.cookies()
    context.close()
    assert not problems, "\n".join(problems)
    assert cookies == [], f"static pages set cookies: {cookies}"
    foreign = [url for url in requests if not url.startswith(live.url + "/")]
    assert not foreign, f"requests to other hosts: {foreign}"
    assert len(requests) >= len(pages)


def test_titles_are_unique(browser: Any, live: Live, built_site: Path) -> None:
    """Each page says what it is in its title: no two pages share one."""
    import re

    titles: dict[str, str] = {}
    for path in all_pages(built_site):
        html = (built_site / path.strip("/") / "index.html").read_text(encoding="utf-8")
        match = re.search(r"<title>(.*?)</title>", html, re.S)
        assert match, path
        title = match.group(1).strip()
        assert title not in titles, f"{path} and {titles.get(title)} share the title {title!r}"
        titles[title] = path


def test_sample_of_each_page_type_is_valid_html(built_site: Path) -> None:
    """Nu HTML Checker (vnu.jar --errors-only) on a page of every type, the 404 and the shell."""
    files = [built_site / path.strip("/") / "index.html" for path in PAGE_TYPES.values()]
    files += [built_site / "404.html", built_site / "_shell" / "index.html"]
    errors = vnu_errors(files)
    listed = "\n".join(
        f"{Path(e['url']).parent.name}:{e.get('lastLine')}: {e['message']} "
        f"[{e.get('extract', '')[:80]!r}]"
        for e in errors
    )
    assert not errors, listed
