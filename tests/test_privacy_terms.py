"""The privacy statement and the processing register name the retention terms the code keeps.

The terms live in code and configuration (volunteers' defaults, meetings.REGISTRATION_KEPT,
submissions.CONTACT_RETENTION); the two content pages say them in words. A term changed in one
place only would tell people something untrue about their data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from forms_backend import meetings, submissions
from forms_backend.views.volunteer import CONFIG_DEFAULTS

CONTENT = Path(__file__).resolve().parents[1] / "content" / "over"
PAGES = ("privacy.md", "verwerkingsregister.md")
FORMS = Path(__file__).resolve().parents[1] / "forms_backend" / "templates"

TERMS = [
    f"{CONFIG_DEFAULTS['VOLUNTEER_UNCONFIRMED_DAYS']} dagen",
    f"{CONFIG_DEFAULTS['VOLUNTEER_MOTIVATION_MONTHS']} maanden",
    f"{CONFIG_DEFAULTS['VOLUNTEER_RETENTION_MONTHS']} maanden",
    f"{meetings.REGISTRATION_KEPT.days} dagen na de (laatste) bijeenkomst",
    f"{submissions.CONTACT_RETENTION.days} dagen",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("term", TERMS)
def test_the_content_pages_name_each_retention_term(page: str, term: str) -> None:
    assert term in (CONTENT / page).read_text(encoding="utf-8"), (page, term)


def test_the_forms_name_the_same_terms() -> None:
    register = (FORMS / "agenda" / "register.html").read_text(encoding="utf-8")
    assert f"verwijderen ze {meetings.REGISTRATION_KEPT.days} dagen na afloop" in register
    assert submissions.CONTACT_RETENTION.days == 180  # the submit form says "een half jaar"
    assert "een half jaar na het besluit" in (FORMS / "submit" / "form.html").read_text("utf-8")
