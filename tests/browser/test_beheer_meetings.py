"""A coordinator changes single dates of a series in Chromium, with CSRF protection on as in
production: moving a date, and cancelling one only after ticking that everyone gets a mail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from .conftest import Live, assert_accessible, login

pytestmark = pytest.mark.browser


def test_a_coordinator_moves_one_date_and_cancels_another_after_ticking(
    page: Any, live: Live
) -> None:
    assert live.app.config.get("WTF_CSRF_ENABLED", True)  # the real thing: CSRF on
    login(page)
    page.goto("/beheer/bijeenkomsten/nieuw")
    start = (dt.datetime.now() + dt.timedelta(days=30)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.fill("#title", "Wekelijks spreekuur (browser)")
    page.fill("#start", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#end", (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#location", "Stadhuis Arnhem")
    page.select_option("#region", "gelderland")
    page.select_option("#repeat", "weekly")
    page.fill("#repeat_count", "3")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/beheer/bijeenkomsten/\d+$"))
    rows = page.locator("table tbody tr")
    assert rows.count() == 3

    # Move the first date: a new time and another address.
    first = rows.nth(0)
    first.locator("summary", has_text="Verplaatsen").click()
    moved = start.replace(hour=14)
    first.get_by_label("Nieuw begin").fill(moved.strftime("%Y-%m-%dT%H:%M"))
    first.get_by_label("Nieuw einde").fill(
        (moved + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    first.get_by_label("Ander adres").fill("Buurthuis De Brug, Arnhem")
    first.get_by_role("button", name="Verplaatsen").click()
    assert "De datum is bijgewerkt." in page.locator(".brug-flash").inner_text()
    assert "Het formulier was verlopen" not in page.content()
    assert "(gewijzigd: Buurthuis De Brug, Arnhem)" in rows.nth(0).inner_text()
    assert "14.00–16.00 uur" in rows.nth(0).inner_text()

    # Cancel the second date: first without the tick (nothing happens), then with it.
    second = rows.nth(1)
    second.locator("summary", has_text="Gaat niet door of weglaten").click()
    second.get_by_role("button", name="Gaat niet door").click()
    summary = page.locator(".brug-error-summary")
    assert "Vink aan dat je het zeker weet" in summary.inner_text()
    assert "(gaat niet door)" not in rows.nth(1).inner_text()
    assert_accessible(page)
    second = rows.nth(1)
    second.get_by_label(re.compile("Ja, ik weet het zeker")).check()
    second.get_by_role("button", name="Gaat niet door").click()
    assert "De datum is bijgewerkt." in page.locator(".brug-flash").inner_text()
    assert "(gaat niet door)" in rows.nth(1).inner_text()
    assert_accessible(page)
