"""Every content page and the who-is-who file fit the one schema (forms_backend.content)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_DOCS, ROOT
from mkdocs.utils.meta import get_data

from forms_backend.content import FrontMatterError, validate_front_matter, validate_wie_is_wie

CONTENT = ROOT / "content"


def _pages(docs: Path) -> list[Path]:
    return sorted(p for p in docs.rglob("*.md") if "_data" not in p.relative_to(docs).parts)


@pytest.mark.parametrize("path", _pages(CONTENT), ids=lambda p: p.relative_to(CONTENT).as_posix())
def test_content_page_front_matter_validates(path: Path) -> None:
    _, meta = get_data(path.read_text(encoding="utf-8"))
    validate_front_matter(meta, str(path.relative_to(ROOT)))


def test_wie_is_wie_validates() -> None:
    path = CONTENT / "_data" / "wie-is-wie.yml"
    assert path.is_file(), "content/_data/wie-is-wie.yml ontbreekt"
    regions = validate_wie_is_wie(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    assert regions


def test_wie_is_wie_has_no_placeholder_contacts() -> None:
    """QA found example addresses (nazorg.ede@example.nl) that look real but reach nobody. The
    sources name no mailbox, so the real directory lists none; the fixture site keeps its own."""
    path = CONTENT / "_data" / "wie-is-wie.yml"
    regions = validate_wie_is_wie(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    placeholders = [
        f"{org.naam}: {org.mailbox or org.website}"
        for region in regions
        for org in region.organisaties
        if "example." in f"{org.mailbox or ''} {org.website or ''}"
    ]
    assert placeholders == []


@pytest.mark.parametrize(
    "path", _pages(FIXTURE_DOCS), ids=lambda p: p.relative_to(FIXTURE_DOCS).as_posix()
)
def test_fixture_page_front_matter_validates(path: Path) -> None:
    _, meta = get_data(path.read_text(encoding="utf-8"))
    validate_front_matter(meta, str(path))


NESTED_TOO_SHALLOW = re.compile(r"^ {1,3}(?:[-*+]|\d+\.) ")


@pytest.mark.parametrize("path", _pages(CONTENT), ids=lambda p: p.relative_to(CONTENT).as_posix())
def test_a_list_in_a_list_is_indented_four_spaces(path: Path) -> None:
    """Python-Markdown nests a list only at four spaces: at three, the sub-items of step 3
    became steps 4, 5 and 6 (praktijken/heerde-samen-starten.md)."""
    body, _meta = get_data(path.read_text(encoding="utf-8"))
    shallow = [line for line in body.splitlines() if NESTED_TOO_SHALLOW.match(line)]
    assert shallow == [], f"{path.name}: spring een lijst in een lijst 4 spaties in: {shallow}"


def test_every_leefgebied_page_has_search_words() -> None:
    """People search with everyday words ("huisvesting", "paspoort") that a page's title and
    text may not use; a leefgebied page is where those searches should land."""
    without = []
    for path in sorted((CONTENT / "leefgebieden").glob("*.md")):
        _, meta = get_data(path.read_text(encoding="utf-8"))
        if not validate_front_matter(meta, str(path)).zoekwoorden:
            without.append(path.name)
    assert without == []


def _meta(**fields: object) -> dict[str, object]:
    return {"type": "thema", "title": "Wonen", "summary": "Een dak boven je hoofd.",
            "slug": "wonen"} | fields  # fmt: skip


def test_search_words_are_kept_trimmed_and_lower_case() -> None:
    meta = validate_front_matter(_meta(zoekwoorden=[" Huisvesting", "dak boven je hoofd"]), "w.md")
    assert meta.zoekwoorden == ["huisvesting", "dak boven je hoofd"]


@pytest.mark.parametrize(
    "words,message",
    [
        (["huisvesting", "Huisvesting"], "noemt 'huisvesting' twee keer"),
        ([""], "een zoekwoord is 2 tot 40 tekens"),
        (["h" * 41], "een zoekwoord is 2 tot 40 tekens"),
        (["<b>woning</b>"], "alleen letters, cijfers, spaties en streepjes"),
        ([f"woord{n}" for n in range(13)], "hoogstens 12 zoekwoorden"),
    ],
    ids=["duplicate", "empty", "too long", "markup", "too many"],
)
def test_bad_search_words_are_refused_with_a_dutch_message(words: list[str], message: str) -> None:
    with pytest.raises(FrontMatterError) as raised:
        validate_front_matter(_meta(zoekwoorden=words), "content/leefgebieden/wonen.md")
    assert raised.value.problems[0][0] == "zoekwoorden"
    assert message in raised.value.problems[0][1]
