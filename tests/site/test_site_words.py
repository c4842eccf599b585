"""B1: the words a reader may not know are explained (content/woordenlijst.md and the pages).

An abbreviation on a page is explained when it is a glossary term (the glossary hook then links
its first appearance, with the explanation as a tooltip), when the page writes it in brackets
after its full name ("Toezicht Sociaal Domein (TSD)"), or when the page explains it in its own
words (EXPLAINED_ON_PAGE). QA found VLOT and GGZ used with no explanation anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import brug_glossary as glossary
import pytest
from conftest import ROOT
from mkdocs.utils.meta import get_data

CONTENT = ROOT / "content"
GLOSSARY = CONTENT / glossary.GLOSSARY

# Two or more capitals (VLOT, GGZ, 3RO, JenV) or capitals around an ampersand (D&R, S&B).
ABBREVIATION = re.compile(r"(?<![\w&])(?:\d*[A-Z][A-Za-z]*[A-Z]|[A-Z]+&[A-Z]+)(?![\w&])")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
CODE = re.compile(r"`[^`]*`")

# Abbreviations a page explains in its own words rather than in brackets.
EXPLAINED_ON_PAGE = {
    ("nieuws/wet-straffen-en-beschermen.md", "S&B"): "'Je ziet ook de afkorting Wet S&B'",
    ("over/toegankelijkheid.md", "WCAG"): "'de internationale richtlijnen WCAG 2.1'",
    ("over/toegankelijkheid.md", "AA"): "'WCAG 2.1 op niveau AA'",
}
# Part of the name of a leefgebied (ID-bewijs), explained on its own page.
EVERYWHERE = frozenset({"ID"})

# Vaktaal QA found unexplained; wherever a page uses one, the glossary must explain it.
JARGON = (
    "statushouder", "casusregisseur", "Bureau Buitenland", "beschermd wonen", "forensische zorg",
    "maatschappelijke opvang", "licht verstandelijke beperking", "whitepaper", "zedendelict",
    "resocialisatie",
)  # fmt: skip


def glossary_terms() -> list[str]:
    return [term.name for term in glossary.read_terms(GLOSSARY.read_text(encoding="utf-8"))]


def pages() -> list[Path]:
    return sorted(
        p for p in CONTENT.rglob("*.md")
        if "_data" not in p.relative_to(CONTENT).parts and p != GLOSSARY
    )  # fmt: skip


def readable_text(path: Path) -> str:
    """What a reader sees of a page: title, summary and body, without link targets and code."""
    body, meta = get_data(path.read_text(encoding="utf-8"))
    text = "\n".join([str(meta.get("title", "")), str(meta.get("summary", "")), body])
    return CODE.sub("", LINK_TARGET.sub("]", text))


def _bracketed(abbreviation: str) -> str:
    """The abbreviation with its full name around it in brackets, or followed by one."""
    a = re.escape(abbreviation)
    return rf"\([^()]*(?<![\w&]){a}(?![\w&])[^()]*\)|(?<![\w&]){a} \("


def unexplained_abbreviations(page: str, text: str, terms: list[str]) -> set[str]:
    """The abbreviations in ``text`` that neither the glossary nor the page itself explains."""
    found = set(ABBREVIATION.findall(text))
    in_glossary = {a for a in found for term in terms if term == a or term.startswith(f"{a}-")}
    in_brackets = {a for a in found if re.search(_bracketed(a), text)}
    on_page = {a for a in found if (page, a) in EXPLAINED_ON_PAGE}
    return found - in_glossary - in_brackets - on_page - EVERYWHERE


def test_the_check_finds_an_unexplained_abbreviation() -> None:
    text = "DJI, reclassering en VLOT werken samen. Zorg: GGZ (geestelijke gezondheidszorg)."
    assert unexplained_abbreviations("x.md", text, ["DJI"]) == {"VLOT"}
    terms = ["D&R-plan", "PI"]
    assert unexplained_abbreviations("x.md", "Het D&R-plan en de PI's.", terms) == set()
    assert unexplained_abbreviations("x.md", "Inspectie Justitie (Inspectie JenV).", []) == set()


@pytest.mark.parametrize("path", pages(), ids=lambda p: p.relative_to(CONTENT).as_posix())
def test_every_abbreviation_is_explained(path: Path) -> None:
    page = path.relative_to(CONTENT).as_posix()
    missing = unexplained_abbreviations(page, readable_text(path), glossary_terms())
    assert missing == set(), (
        f"{page}: leg {', '.join(sorted(missing))} uit in content/woordenlijst.md of op de pagina "
        "(voluit, met de afkorting tussen haakjes)"
    )


def test_jargon_in_use_is_in_the_glossary() -> None:
    terms = {term.casefold() for term in glossary_terms()}
    used = {
        word for word in JARGON for path in pages()
        if word.casefold() in readable_text(path).casefold()
    }  # fmt: skip
    assert used, "JARGON no longer matches any page: update the list"
    assert sorted(word for word in used if word.casefold() not in terms) == []


def test_no_explanation_is_kept_for_an_abbreviation_that_is_gone() -> None:
    for page, abbreviation in EXPLAINED_ON_PAGE:
        found = ABBREVIATION.findall(readable_text(CONTENT / page))
        assert abbreviation in found, f"{page} no longer uses {abbreviation}: drop it here"
