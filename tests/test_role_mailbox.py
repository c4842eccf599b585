"""Role mailboxes: an organisation's general address may be published (site, feed, who-is-who);
a person's address may not. One check serves content, submissions and the agenda."""

from __future__ import annotations

import pytest

from forms_backend.content import FrontMatterError, role_mailbox_problem, validate_front_matter


@pytest.mark.parametrize(
    "address",
    [
        "werkbezoek@gemeente.test",
        "nazorg-gelderland@zvh.test",
        "info@pi.example.nl",
        "team.wonen@gemeente.test",  # a dot with a role word is a team, not a name
        "Agenda@Brug.Example.nl",
    ],
)
def test_general_mailboxes_of_organisations_are_accepted(address):
    assert role_mailbox_problem(address) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("jan.jansen@gemeente.test", "persoonlijk"),
        ("j.de_vries@gemeente.test", "persoonlijk"),
        ("nazorg@gmail.com", "gratis maildienst"),
        ("werkbezoek@hotmail.nl", "gratis maildienst"),
        ("geen-adres", "geen geldig e-mailadres"),
        ("a@b", "geen geldig e-mailadres"),
        ("info@gemeente.test\nBcc: x@y.test", "geen geldig e-mailadres"),
    ],
)
def test_personal_or_broken_addresses_are_refused_with_a_reason(address, reason):
    problem = role_mailbox_problem(address)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    ("contact", "ok"),
    [("werkbezoek@pi.example.nl", True), ("werkbezoek@pi.test", True), ("p.jansen@pi.test", False)],
)
def test_a_werkbezoek_page_publishes_only_a_general_mailbox(contact, ok):
    meta = {
        "type": "werkbezoek",
        "title": "Werkbezoek",
        "summary": "Kom kijken.",
        "datum": "2026-05-01",
        "leefgebieden": ["werk-en-dagbesteding"],
        "regio": "noord-brabant",
        "werkbezoek": {
            "soort": "aanbod",
            "plaats": "Vught",
            "organisatie": "PI",
            "contact": contact,
        },
    }
    if ok:
        assert validate_front_matter(meta, "werkbezoeken/x.md").werkbezoek.contact == contact
    else:
        with pytest.raises(FrontMatterError, match="persoonlijk"):
            validate_front_matter(meta, "werkbezoeken/x.md")
