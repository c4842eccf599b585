"""Every back-office table stacks on a phone instead of scrolling sideways.

The CSS (``site/assets/brug.css``) turns a table inside ``div.brug-stapel`` into "label: value"
lines below 40em, with each cell's label taken from its ``data-label``. A table outside such a
div, or a cell without its column's label, is a table a coordinator has to scroll sideways on a
phone. The browser test of the volunteer pipeline measures one of these tables in Chromium;
this test holds every template to the same markup.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "forms_backend" / "templates" / "beheer"
TABLE = re.compile(r"<table>(.*?)</table>", re.S)


def _tables() -> list[pytest.param]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name, text = path.relative_to(TEMPLATES).as_posix(), path.read_text(encoding="utf-8")
        for number, match in enumerate(TABLE.finditer(text), start=1):
            found.append(pytest.param(name, match.start(), text, id=f"{name}#{number}"))
    return found


def test_there_are_back_office_tables_to_check():
    assert len(_tables()) >= 6  # the lists of volunteers, submissions, meetings, registrations ...


@pytest.mark.parametrize(("template", "start", "text"), _tables())
def test_a_back_office_table_stacks_on_a_phone(template, start, text):
    before = text[:start].rstrip()
    assert before.endswith('<div class="brug-stapel">'), f"{template}: table outside brug-stapel"
    table = TABLE.match(text, start).group(1)  # type: ignore[union-attr]
    head, _, body = table.partition("<tbody>")
    labels = re.findall(r'<th scope="col">([^<]*)</th>', head)
    rows = body.split("<tr>")[1:]  # the row templates (a table may have more than one loop)
    assert rows, f"{template}: no rows"
    for row in rows:
        cells = re.findall(r'<td(?: data-label="([^"]*)")?[^>]*>', row)
        assert cells == labels, f"{template}: cells and column labels differ"
