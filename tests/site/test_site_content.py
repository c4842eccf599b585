"""Every content page and the who-is-who file fit the one schema (forms_backend.content)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_DOCS, ROOT
from mkdocs.utils.meta import get_data

from forms_backend.content import validate_front_matter, validate_wie_is_wie

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


@pytest.mark.parametrize(
    "path", _pages(FIXTURE_DOCS), ids=lambda p: p.relative_to(FIXTURE_DOCS).as_posix()
)
def test_fixture_page_front_matter_validates(path: Path) -> None:
    _, meta = get_data(path.read_text(encoding="utf-8"))
    validate_front_matter(meta, str(path))
