"""The users' stories end to end in Chromium, with a screenshot of every step at phone and
desktop width (test-artifacts/browser/<story>/).

Everything is real: the site build, the app on a loopback port with CSRF on, mail over SMTP to
an aiosmtpd server (links are read from the delivered messages), the build worker that
publishes an approved practice. Each story uses its own addresses, so the order does not matter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from .conftest import ADMIN, COORDINATOR, DESKTOP, PASSWORD, PHONE, Live, link_in, login, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def new_page(browser: Any, live: Live, viewport: dict[str, int] = PHONE) -> Any:
    context = browser.new_context(viewport=viewport, locale="nl-NL", base_url=live.url)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.requests = requests
    return page


def assert_own_host_only(live: Live, *pages: Any) -> None:
    for page in pages:
        foreign = [u for u in page.requests if not u.startswith(live.url + "/")]
        assert not foreign, f"requests to other hosts: {foreign}"


def test_volunteer_finds_cosa_and_signs_up(browser: Any, live: Live) -> None:
    story, address = "1-vrijwilliger-meldt-zich-aan", "sanne.story@example.nl"
    page = new_page(browser, live)
    page.goto("/")
    shoot(page, story, "home")
    page.goto("/programmas/")
    page.locator("article a[href*='cosa']").first.click()
    page.wait_for_url("**/programmas/cosa/")
    assert "COSA" in page.locator("h1").inner_text()
    shoot(page, story, "programma-cosa")
    page.get_by_role("link", name=re.compile("Meld je aan")).first.click()
    page.wait_for_url("**/aanmelden/cosa")
    shoot(page, story, "formulier")
    page.get_by_role("button", name="Aanmelding versturen").click()
    assert page.locator("[role=alert]").is_visible()
    shoot(page, story, "formulier-met-fouten")
    page.fill("#name", "Sanne Story")
    page.fill("#email", address)
    page.fill("#phone", "06 12345678")
    page.fill("#postcode", "6811 AA")
    page.fill("#motivation", "Ik wil iemand helpen om na de gevangenis een nieuwe start te maken.")
    page.get_by_label("In het weekend").check()
    page.locator("input[name=q_twee_jaar][value=ja]").check()
    page.locator("input[name=q_zedendelict][value=ja]").check()
    page.locator("#consent").check()
    page.get_by_role("button", name="Aanmelding versturen").click()
    page.wait_for_url("**/aanmelden/cosa/bedankt")
    assert "mailbox" in page.locator("main").inner_text()
    shoot(page, story, "bedankt")

    mail = live.mailbox.wait_for(address, subject="Bevestig je aanmelding")
    page.goto(link_in(mail, "/aanmelden/bevestigen/"))
    shoot(page, story, "bevestigen")
    page.get_by_role("button", name=re.compile("Ja, ik bevestig")).click()
    page.wait_for_url("**/aanmelden/cosa/bevestigd")
    assert "bevestigd" in page.locator("main").inner_text()
    shoot(page, story, "bevestigd")
    assert_own_host_only(live, page)


def test_partner_subscribes_registers_cancels_and_the_waitlist_moves(
    browser: Any, live: Live
) -> None:
    story = "2-partner-agenda-en-wachtlijst"
    # An organiser puts a meeting with one seat in the agenda.
    organiser = new_page(browser, live, DESKTOP)
    login(organiser, ADMIN)
    organiser.goto("/beheer/bijeenkomsten/nieuw")
    start = (dt.datetime.now() + dt.timedelta(days=20)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    organiser.fill("#title", "Nazorgmiddag Gelderland (verhaal)")
    organiser.fill("#description", "Casemanagers en gemeenten bespreken samen de nazorg.")
    organiser.fill("#start", start.strftime("%Y-%m-%dT%H:%M"))
    organiser.fill("#end", (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    organiser.fill("#location", "Stadhuis Arnhem")
    organiser.select_option("#region", "gelderland")
    organiser.fill("#organiser_mailbox", "nazorg@gelderland.example.nl")
    organiser.fill("#organiser_name", "Netwerk Gelderland")
    organiser.fill("#capacity", "1")
    organiser.get_by_role("button", name="Opslaan").click()
    assert organiser.locator(".brug-flash, [role=status]").count() >= 1
    shoot(organiser, story, "organisator-maakt-bijeenkomst")

    # A partner filters the agenda on their region and subscribes to that feed.
    partner = new_page(browser, live)
    partner.goto("/agenda/")
    shoot(partner, story, "agenda")
    partner.locator("nav.brug-filters a", has_text="Gelderland").first.click()
    partner.wait_for_url(re.compile(r"regio=gelderland"))
    shoot(partner, story, "agenda-gelderland")
    feed = partner.locator(".brug-abonneren code").inner_text()
    assert "gelderland" in feed
    ics = partner.request.get(feed.replace(live.url, ""))
    assert ics.status == 200 and "Nazorgmiddag Gelderland (verhaal)" in ics.text()

    # The partner and a colleague register; the colleague lands on the waitlist.
    def register(page: Any, name: str, address: str, step: str) -> None:
        page.goto("/agenda/")
        page.get_by_role("link", name="Nazorgmiddag Gelderland (verhaal)").first.click()
        if step == "partner":
            shoot(page, story, "bijeenkomst")
        page.get_by_role("link", name="Aanmelden", exact=True).first.click()
        page.fill("#name", name)
        page.fill("#email", address)
        page.fill("#organisation", "Gemeente Voorbeeld")
        if step == "partner":
            shoot(page, story, "aanmeldformulier")
        page.get_by_role("button", name="Aanmelden").click()
        page.wait_for_url("**/aangemeld")
        mail = live.mailbox.wait_for(address, subject="Bevestig je aanmelding")
        page.goto(link_in(mail, "/agenda/aanmelding/"))
        page.get_by_role("button", name="Ja, ik meld me aan").click()
        shoot(page, story, f"{step}-bevestigd")

    register(partner, "Pim Partner", "pim.partner@example.nl", "partner")
    seat = live.mailbox.wait_for("pim.partner@example.nl", subject="Je bent aangemeld")
    assert (
        seat.get_body(preferencelist=("calendar",)) is not None
        or "text/calendar" in seat.as_string()
    )
    colleague = new_page(browser, live)
    register(colleague, "Cor Collega", "cor.collega@example.nl", "collega")
    live.mailbox.wait_for("cor.collega@example.nl", subject="wachtlijst")

    # The partner cannot come after all; the colleague gets the seat.
    partner.goto(link_in(seat, "/agenda/afmelden/"))
    shoot(partner, story, "afmelden")
    partner.get_by_role("button", name="Ja, meld me af").click()
    shoot(partner, story, "afgemeld")
    promoted = live.mailbox.wait_for("cor.collega@example.nl", subject="Er is een plek vrij")
    assert "Nazorgmiddag Gelderland (verhaal)" in str(promoted["Subject"])
    organiser.goto("/beheer/bijeenkomsten/")
    organiser.get_by_role("link", name="Nazorgmiddag Gelderland (verhaal)").first.click()
    shoot(organiser, story, "organisator-ziet-bijeenkomst")
    assert_own_host_only(live, partner, colleague)


def test_organisation_submits_a_practice_that_gets_published(browser: Any, live: Live) -> None:
    story = "3-praktijk-insturen-en-publiceren"
    title = "Buurtteam Verhaalstad regelt een kamer"
    org = new_page(browser, live)
    org.goto("/praktijken/heerde-samen-starten/")
    org.get_by_role("link", name="Stuur zelf een praktijk in").click()
    org.wait_for_url("**/inzenden/praktijk")
    shoot(org, story, "formulier")
    org.fill("#title", title)
    org.fill(
        "#summary",
        "Het buurtteam regelt samen met de woningcorporatie een kamer vóór de vrijlating.",
    )
    org.fill(
        "#body",
        "## Zo werkt het\n\nDe casemanager belt het buurtteam drie maanden voor de vrijlating.",
    )
    org.check("input[name=leefgebieden][value=wonen]")
    org.select_option("#regio", "gelderland")
    org.check("input[name=organisatietypes][value=gemeente]")
    org.fill("#organisatie", "Gemeente Verhaalstad")
    org.fill("#contact_name", "Ina Inzender")
    org.fill("#contact_email", "ina.inzender@example.nl")
    org.check("#consent")
    org.click("button[value=voorbeeld]")
    shoot(org, story, "voorbeeld")
    org.click("button[value=versturen]")
    org.wait_for_url("**/inzenden/status/**")
    shoot(org, story, "status-ingediend")

    moderator = new_page(browser, live, DESKTOP)
    login(moderator, ADMIN)
    moderator.goto("/beheer/inzendingen/")
    shoot(moderator, story, "wachtrij")
    moderator.get_by_role("link", name=title).first.click()
    shoot(moderator, story, "inzending")
    moderator.get_by_role("button", name=re.compile("Goedkeuren")).click()
    moderator.wait_for_selector(".brug-build-status--live", timeout=180_000)
    shoot(moderator, story, "gepubliceerd")
    href = moderator.locator(".brug-build-status__link").get_attribute("href")
    org.goto(href)
    assert org.locator("h1").inner_text().startswith(title)
    shoot(org, story, "pagina-op-de-site")
    live.mailbox.wait_for("ina.inzender@example.nl", subject="")
    assert_own_host_only(live, org)


def test_coordinator_works_the_volunteer_pipeline(browser: Any, live: Live) -> None:
    story = "4-coordinator-werkt-de-aanmeldingen-bij"
    page = new_page(browser, live, DESKTOP)
    page.goto("/beheer/")
    page.wait_for_url("**/beheer/inloggen**")
    shoot(page, story, "inloggen")
    page.fill("#email", COORDINATOR)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    shoot(page, story, "dashboard")
    page.goto("/beheer/vrijwilligers/")
    shoot(page, story, "vrijwilligers")
    page.locator("main table a").first.click()
    shoot(page, story, "vrijwilliger")
    options = page.locator("#status option").all()
    current = page.locator("#status").input_value()
    values = [o.get_attribute("value") for o in options]
    following = (
        values[min(values.index(current) + 1, len(values) - 1)] if current in values else values[-1]
    )
    page.select_option("#status", following)
    page.get_by_role("button", name="Opslaan").click()
    assert "De stap is opgeslagen" in page.locator("main").inner_text()
    shoot(page, story, "stap-opgeslagen")
    assert_own_host_only(live, page)


def test_volunteer_erases_their_data(browser: Any, live: Live) -> None:
    story, address = "5-vrijwilliger-wist-gegevens", "vrijwilliger2@demo.brug.example.nl"
    page = new_page(browser, live)
    page.goto("/mijn/")
    shoot(page, story, "link-aanvragen")
    page.fill("#email", address)
    page.get_by_role("button", name="Stuur mij een link").click()
    shoot(page, story, "link-aangevraagd")
    mail = live.mailbox.wait_for(address)
    page.goto(link_in(mail, "/mijn/"))
    shoot(page, story, "mijn-gegevens")
    page.get_by_role("link", name="Mijn gegevens verwijderen").click()
    shoot(page, story, "verwijderen")
    page.get_by_role("button", name="Ja, verwijder al mijn gegevens").click()
    assert "Je gegevens zijn verwijderd" in page.locator("main").inner_text()
    shoot(page, story, "verwijderd")
    page.goto(link_in(mail, "/mijn/"))
    assert "Je gegevens zijn verwijderd" not in page.locator("main").inner_text()
    assert_own_host_only(live, page)
