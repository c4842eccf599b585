"""Search loads on demand (site/assets/javascripts/brug-lazy-search.js): opening a page asks for
no search index, search worker or lunr; using search loads them and finds pages, also for an
inflected Dutch word; the backend's pages (the shell) behave the same; gzip reaches the browser."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PHONE, Live

pytestmark = pytest.mark.browser

SEARCH_FILES = ("search_index.json", "/workers/search.", "/lunr/")
CONTENT_PAGE = "/praktijken/heerde-samen-starten/"


def search_requests(context: Any) -> list[str]:
    return [url for url in context.requests.urls if any(part in url for part in SEARCH_FILES)]


def open_quietly(page: Any, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")


def results(page: Any) -> list[str]:
    """Paths of the search results once they are shown."""
    page.locator(".md-search-result__item").first.wait_for()
    hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
    return [href.split("://", 1)[1].split("/", 1)[1].split("?")[0].split("#")[0] for href in hrefs]


@pytest.mark.parametrize("path", ["/", CONTENT_PAGE, "/agenda/", "/aanmelden/cosa"])
def test_opening_a_page_loads_no_search_files(
    page: Any, context: Any, live: Live, path: str
) -> None:
    open_quietly(page, path)
    assert page.locator("script[src$='brug-lazy-search.js']").count() == 1
    assert search_requests(context) == []


def test_typing_in_search_loads_the_index_and_finds_pages(
    page: Any, context: Any, live: Live
) -> None:
    open_quietly(page, CONTENT_PAGE)
    assert search_requests(context) == []
    page.locator("input.md-search__input").click()
    page.keyboard.type("vrijwilliger")
    found = results(page)
    assert "programmas/bezoekvrijwilliger/" in found
    loaded = search_requests(context)
    assert any("search_index.json" in url for url in loaded)
    assert any("/workers/search." in url for url in loaded)
    assert any("lunr.nl" in url for url in loaded)  # the Dutch stemmer


@pytest.mark.parametrize(
    ("word", "page_path"),
    [
        (
            "schulden",
            "leefgebieden/schulden/",
        ),  # indexed as "schuld": lunr skips stemming "schulden*"
        ("werkgevers", "leefgebieden/werk-en-dagbesteding/"),
    ],
)
def test_an_inflected_dutch_word_finds_its_page(
    page: Any, live: Live, word: str, page_path: str
) -> None:
    open_quietly(page, "/")
    page.locator("input.md-search__input").click()
    page.keyboard.type(word)
    assert page_path in results(page)
    # the word is not listed as missing ("Ontbreekt") under the page it found
    hit = page.locator(f".md-search-result__item > a[href*='{page_path}']").first
    assert hit.locator(".md-search-result__terms").count() == 0


def test_search_button_on_a_phone_and_backend_shell(page: Any, context: Any, live: Live) -> None:
    """On a phone the search opens from the header button; the shell of a backend page too."""
    page.set_viewport_size(PHONE)
    open_quietly(page, "/aanmelden/cosa")
    assert search_requests(context) == []
    page.locator("label.md-header__button[for=__search]").click()
    page.keyboard.type("cosa")
    assert "programmas/cosa/" in results(page)


def test_keyboard_shortcut_starts_search(page: Any, context: Any, live: Live) -> None:
    open_quietly(page, CONTENT_PAGE)
    page.keyboard.press("/")
    page.keyboard.type("wonen")
    assert "leefgebieden/wonen/" in results(page)
    assert search_requests(context)


def test_a_page_opened_from_a_search_result_highlights_at_once(
    page: Any, context: Any, live: Live
) -> None:
    """Result links carry ?h=: that page needs the index straight away to mark the words."""
    open_quietly(page, "/leefgebieden/wonen/?h=wonen")
    assert any("search_index.json" in url for url in search_requests(context))
    page.locator("mark[data-md-highlight]").first.wait_for()


def test_the_browser_receives_gzip(page: Any, live: Live) -> None:
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    open_quietly(page, CONTENT_PAGE)
    by_path = {r.url.removeprefix(live.url): r for r in responses}
    for path in (CONTENT_PAGE, "/assets/javascripts/bundle.", "/assets/stylesheets/main."):
        response = next(r for p, r in by_path.items() if p.startswith(path))
        assert response.headers.get("content-encoding") == "gzip", path
