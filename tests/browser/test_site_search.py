"""Site search in Chromium: a word typed in full finds the pages it is in.

Material adds a wildcard to every word people type ("Heerde" -> "heerde*"), and lunr does not
stem wildcard terms, while the index holds stems ("heerd", "kennismak", "schuld"). Without a
fix, a word finds its pages while half-typed and loses them at the last letter whenever the
Dutch stemmer shortens it: names ending in -e, verbs and plurals ending in -en. Body words such
as "vrijwilliger" (not shortened) always worked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import Live

pytestmark = pytest.mark.browser

# The result header's texts (site/overrides/partials/languages/custom.html).
INITIALIZING = "Zoeken wordt voorbereid"
READY = "Typ een woord om te zoeken"

SEARCHES = {
    "title word ending in -e": ("Heerde", "/praktijken/heerde-samen-starten/"),
    "title word ending in -en": (
        "Kennismaken", "/praktijken/kennismaken-met-justitie-in-je-werkgebied/"
    ),
    "inflected word": ("schulden", "/leefgebieden/schulden/"),
    # The page says "woning", never "woningen": only the stemmer connects them.
    "plural finds the singular": ("woningen", "/praktijken/vijf-tips-voor-netwerksamenwerking/"),
    "body word": ("vrijwilliger", "/organisatietypes/vrijwilligersorganisatie/"),
    # Not on the page at all: its front matter's zoekwoorden (Material's search tags).
    "search word": ("huisvesting", "/leefgebieden/wonen/"),
}


def search(page: Any, query: str) -> list[str]:
    """Type ``query`` in the search box on the home page; the paths of the first results."""
    page.goto("/")
    box = page.locator("input.md-search__input")
    box.click()
    meta = page.locator(".md-search-result__meta")
    page.wait_for_function(
        "ready => document.querySelector('.md-search-result__meta').textContent.trim() === ready",
        arg=READY,
    )
    # Material reads the query on keyup: fill all but the last letter silently, then type the
    # last one, so exactly one query (the whole word) reaches the search worker.
    box.fill(query[:-1])
    box.press(query[-1])
    page.wait_for_function(
        "waiting => !waiting.includes("
        "document.querySelector('.md-search-result__meta').textContent.trim())",
        arg=[INITIALIZING, READY],
    )
    if meta.inner_text().strip().startswith("Geen"):
        return []
    # The first results Material renders (ten; more only as the list scrolls).
    page.locator(".md-search-result__item").first.wait_for()
    hrefs = page.eval_on_selector_all(
        ".md-search-result__item > .md-search-result__link", "links => links.map(a => a.href)"
    )
    return [urlsplit(href).path for href in hrefs]


@pytest.mark.parametrize("query,expected", list(SEARCHES.values()), ids=list(SEARCHES))
def test_a_word_typed_in_full_finds_its_page_among_the_first_results(
    page: Any, live: Live, query: str, expected: str
) -> None:
    found = search(page, query)
    assert expected in found, f"{query!r}: {expected} not among {found}"


@pytest.mark.parametrize(
    "query,expected",
    [
        ("woning", "/leefgebieden/wonen/"),
        ("paspoort", "/leefgebieden/id-bewijs/"),
        ("uitkering", "/leefgebieden/werk-en-dagbesteding/"),
    ],
)
def test_an_everyday_word_puts_its_leefgebied_first(
    page: Any, live: Live, query: str, expected: str
) -> None:
    """QA: "woning" listed the organisation type Woningcorporatie and the ID-bewijs page above
    Wonen (the title "Woningcorporatie" matches the word typed so far)."""
    found = search(page, query)
    assert found[:1] == [expected], f"{query!r}: {found[:4]}"


def test_a_word_that_is_nowhere_finds_nothing(page: Any, live: Live) -> None:
    assert search(page, "xylofoonkwartet") == []


def test_a_dutch_stop_word_is_not_listed_as_missing(page: Any, live: Live) -> None:
    """QA: "Niet gevonden: en". lunr.nl keeps stop words out of the index, and Material judged
    them with lunr's English list (site/assets/javascripts/brug-lazy-search.js)."""
    found = search(page, "wonen en zorg")
    assert "/leefgebieden/wonen/" in found and "/leefgebieden/zorg/" in found, found
    missing = page.eval_on_selector_all(
        ".md-search-result__terms del", "els => els.map(e => e.textContent.trim())"
    )
    assert "en" not in missing


def test_a_stop_word_alone_finds_nothing(page: Any, live: Live) -> None:
    assert search(page, "en") == []
