"""The glossary hook (site/hooks/brug_glossary.py) and the markup hook (brug_markup.py).

Unit tests on small fragments, then the real build: on every page, the first appearance of every
glossary term in running text is a link to its entry.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "site" / "hooks"))

import brug_glossary as glossary  # noqa: E402
import brug_markup as markup  # noqa: E402

GLOSSARY_MD = """# Woordenlijst

## 3RO

De drie reclasseringsorganisaties samen. Zie ook [Reclassering](#reclassering).

## Casemanager

Een medewerker in de *PI*. Meer tekst.

## D&R-plan

Het detentie- en re-integratieplan.

## PI

Een penitentiaire inrichting: een gevangenis.
"""


@pytest.fixture
def linker() -> glossary.Linker:
    return glossary.Linker(glossary.read_terms(GLOSSARY_MD))


def test_terms_are_read_with_anchors_and_first_sentence() -> None:
    terms = {t.name: t for t in glossary.read_terms(GLOSSARY_MD)}
    assert list(terms) == ["3RO", "Casemanager", "D&R-plan", "PI"]
    assert terms["D&R-plan"].anchor == "dr-plan"
    assert terms["3RO"].explanation == "De drie reclasseringsorganisaties samen."
    assert terms["Casemanager"].explanation == "Een medewerker in de PI."
    assert terms["PI"].exact_case and terms["D&R-plan"].exact_case and terms["3RO"].exact_case
    assert not terms["Casemanager"].exact_case


def test_only_the_first_appearance_is_linked(linker: glossary.Linker) -> None:
    html = linker.link("<p>In de PI werkt een casemanager. De PI is groot.</p>", "../woordenlijst/")
    assert html.count('href="../woordenlijst/#pi"') == 1
    assert html.count('href="../woordenlijst/#casemanager"') == 1
    assert html.startswith(
        '<p>In de <a class="brug-term" href="../woordenlijst/#pi" '
        'title="Een penitentiaire inrichting: een gevangenis.">PI</a>'
    )


def test_abbreviations_keep_their_case_words_do_not(linker: glossary.Linker) -> None:
    html = linker.link("<p>Een pi of api is geen PI. Casemanagers en de CASEMANAGER.</p>", "/w/")
    assert ">pi<" not in html and ">PI</a>" in html
    assert ">Casemanagers</a>" in html


def test_escaped_ampersand_and_plural_possessive(linker: glossary.Linker) -> None:
    html = linker.link("<p>Het D&amp;R-plan van de PI's.</p>", "/w/")
    assert '#dr-plan" title="Het detentie- en re-integratieplan.">D&amp;R-plan</a>' in html
    assert ">PI's</a>" in html


def test_headings_code_and_links_are_left_alone(linker: glossary.Linker) -> None:
    html = linker.link(
        '<h1>De PI</h1><p><a href="/pi/">PI</a> <code>PI</code></p><p>Toch de PI.</p>', "/w/"
    )
    assert html.count("brug-term") == 1
    assert html.endswith(
        '<p>Toch de <a class="brug-term" href="/w/#pi" '
        'title="Een penitentiaire inrichting: een gevangenis.">PI</a>.</p>'
    )


def test_an_existing_link_to_the_entry_counts_as_first(linker: glossary.Linker) -> None:
    html = linker.link(
        '<p><a href="../woordenlijst/#pi">PI</a> en later PI.</p>', "../woordenlijst/"
    )
    assert "brug-term" not in html


def test_no_words_inside_other_words(linker: glossary.Linker) -> None:
    html = linker.link("<p>PIJ, API, 3ROC, PI-medewerker, re-PI.</p>", "/w/")
    assert "brug-term" not in html


def test_term_at_the_very_start_and_glued_to_a_word(linker: glossary.Linker) -> None:
    """The "no word before" test sits after a term's first letter: check both edges."""
    html = linker.link("casemanager", "/w/")
    assert html.startswith('<a class="brug-term" href="/w/#casemanager"')
    assert html.endswith(">casemanager</a>")
    glued = "<p>Xcasemanager, ex-casemanager, 3ROcasemanager.</p>"
    assert "brug-term" not in linker.link(glued, "/w/")


def test_without_a_glossary_nothing_changes() -> None:
    assert glossary.Linker([]).link("<p>PI</p>", "/w/") == "<p>PI</p>"


def test_markup_fixes_exactly_the_three_theme_errors() -> None:
    page = (
        '<input class="md-toggle" type="checkbox" id="__drawer" autocomplete="off">'
        '<input type="text" name="q" autocomplete="off">'
        '<label class="md-nav__link" for="__nav_3" tabindex="">x</label>'
        '<label class="md-nav__title" for="__toc">Inhoud</label>'
    )
    fixed = markup.valid_markup(page)
    assert '<input class="md-toggle" type="checkbox" id="__drawer">' in fixed
    assert '<input type="text" name="q" autocomplete="off">' in fixed
    assert 'tabindex=""' not in fixed and 'for="__nav_3"' in fixed
    assert '<label class="md-nav__title">Inhoud</label>' in fixed
    with_toc = page + '<input type="checkbox" id="__toc">'
    dialog = '<div class="md-search" data-md-component="search" role="dialog">'
    assert 'role="dialog" aria-label="Zoeken">' in markup.valid_markup(dialog)
    assert 'for="__toc"' in markup.valid_markup(with_toc)


class _Article(HTMLParser):
    """Text of the article outside headings/code, with the href of the link around each piece.

    The cards of overview pages are left out: they list other pages' summaries, added after the
    page's own text, and are not running text.
    """

    SKIP: ClassVar[set[str]] = {
        "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "script", "style"
    }

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # inside <article>
        self.skip = 0
        self.href: list[str | None] = []
        self.divs: list[bool] = []
        self.pieces: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.depth += 1
        elif self.depth and tag == "div":
            self.divs.append("brug-cards" in (dict(attrs).get("class") or ""))
        elif self.depth and tag in self.SKIP:
            self.skip += 1
        elif self.depth and tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.depth -= 1
        elif self.depth and tag == "div" and self.divs:
            self.divs.pop()
        elif self.depth and tag in self.SKIP:
            self.skip -= 1
        elif self.depth and tag == "a" and self.href:
            self.href.pop()

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip and not any(self.divs):
            self.pieces.append((data, self.href[-1] if self.href else None))


@pytest.mark.build
def test_every_term_is_linked_where_it_first_appears(built_site: Path) -> None:
    """On every built page: the first appearance of each term (outside other links) is a link
    to its glossary entry."""
    terms = glossary.read_terms((ROOT / "content" / "woordenlijst.md").read_text(encoding="utf-8"))
    assert {"PI", "DJI", "VOG", "CJIB", "3RO", "ZVH", "D&R-plan"} <= {t.name for t in terms}
    checked = 0
    problems = []
    for file in sorted(built_site.rglob("index.html")):
        rel = file.parent.relative_to(built_site).as_posix()
        if rel in ("woordenlijst", "_shell"):
            continue
        parser = _Article()
        parser.feed(file.read_text(encoding="utf-8"))
        for term in terms:
            flags = 0 if term.exact_case else re.I
            regex = re.compile(
                r"(?<![\w&-])"
                + r"\s+".join(map(re.escape, term.name.split()))
                + glossary.SUFFIX
                + r"(?![\w-])",
                flags,
            )
            for text, href in parser.pieces:
                if not regex.search(text):
                    continue
                if (
                    href is not None
                    and not href.endswith(f"woordenlijst/#{term.anchor}")
                    and "woordenlijst" not in href
                ):
                    continue  # inside a link to another page: not a place for a glossary link
                checked += 1
                if href is None or not href.endswith(f"woordenlijst/#{term.anchor}"):
                    problems.append(
                        f"/{rel}/: first {term.name!r} in {text.strip()[:60]!r} is not linked"
                    )
                break
    assert checked > 50
    assert not problems, "\n".join(problems)
