"""The whole path in Chromium: programme page → form → mail → confirm → coordinator moves the
volunteer to actief → the volunteer downloads and erases their data.

Real pieces only: the mkdocs build, the app on a loopback port with CSRF on, an aiosmtpd
server fed by the outbox worker thread, Playwright driving Debian's Chromium.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select
from werkzeug.serving import make_server

from forms_backend import accounts, create_app, db, volunteers
from forms_backend.cli import start_background_workers
from tests.conftest import shut_down
from tests.volunteers.conftest import free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "een-lang-wachtwoord"
EMAIL = "browser@example.nl"


@pytest.fixture
def live(built_site, smtp, database_url, clock, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the browser story runs once, on SQLite")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "SECRET_KEY": "browser-secret",
            "DATABASE_URL": database_url,
            "SITE_DIR": str(built_site),
            "PUBLIC_URL": url,
            "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "SESSION_COOKIE_SECURE": False,
            "FORM_MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
        }
    )
    assert app.config.get("WTF_CSRF_ENABLED", True)  # the real thing: CSRF on
    with app.app_context(), db.transaction() as s:
        accounts.create_user(
            s,
            email="coord@example.nl",
            name="Coördinator Gelderland",
            password=PASSWORD,
            role="coordinator",
            now=clock(),
            programmes=["cosa"],
            regions=["gelderland"],
        )
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    start_background_workers(app, stop, mail_interval=0.2)
    yield app, url
    stop.set()
    server.shutdown()
    shut_down(app)




def _link(message, path):
    return re.search(
        rf"(http://127\.0\.0\.1:\d+{re.escape(path)}\S+)", message.get_content()
    ).group(1)


def test_programme_page_to_active_volunteer_to_erasure(live, browser, smtp):
    app, url = live
    volunteer = browser.new_context(locale="nl-NL", accept_downloads=True).new_page()
    volunteer.set_default_timeout(60_000)  # a busy machine; nothing here is a timing assertion

    # The programme page on the static site links to the form.
    volunteer.goto(url + "/programmas/cosa/")
    volunteer.get_by_role("link", name=re.compile("Meld je aan")).first.click()
    volunteer.wait_for_url("**/aanmelden/cosa")

    # A mistake first: the form keeps what was typed and says what is wrong, in Dutch.
    volunteer.fill("#name", "Browser <b>Vrijwilliger</b>")
    volunteer.fill("#email", EMAIL)
    volunteer.fill("#postcode", "12")
    volunteer.get_by_role("button", name="Aanmelding versturen").click()
    assert "Vul een Nederlandse postcode in" in volunteer.content()
    assert volunteer.input_value("#name") == "Browser <b>Vrijwilliger</b>"
    # focus starts at the error summary, whose link leads to the field
    volunteer.wait_for_function("document.activeElement && document.activeElement.id === 'fouten'")
    volunteer.locator("#fouten a[href='#postcode']").click()
    assert volunteer.evaluate("document.activeElement.id") == "postcode"

    volunteer.fill("#postcode", "6811 AA")
    volunteer.fill("#phone", "+31 6 12345678")
    volunteer.fill("#motivation", "Ik wil iemand helpen een nieuwe start te maken.")
    volunteer.get_by_label("In het weekend").check()
    volunteer.locator("input[name=q_twee_jaar][value=ja]").check()
    volunteer.locator("input[name=q_zedendelict][value=ja]").check()
    volunteer.locator("#consent").check()
    volunteer.get_by_role("button", name="Aanmelding versturen").click()
    volunteer.wait_for_url(re.compile(r"/aanmelden/cosa/bedankt(#.*)?$"))  # keeps #postcode
    assert "Kijk in je mailbox" in volunteer.content()

    # The confirmation mail arrives over SMTP; the link shows a button that confirms.
    confirmation = smtp.wait_for(EMAIL, "Bevestig je aanmelding als vrijwilliger")
    volunteer.goto(_link(confirmation, "/aanmelden/bevestigen/"))
    volunteer.get_by_role("button", name="Ja, ik bevestig mijn aanmelding").click()
    expect(volunteer.locator("body")).to_contain_text("Je aanmelding is bevestigd")

    # The coordinator of COSA Gelderland sees the volunteer and moves them to actief.
    coordinator = browser.new_context(locale="nl-NL").new_page()
    coordinator.set_default_timeout(60_000)
    coordinator.goto(url + "/beheer/vrijwilligers/")
    coordinator.fill("#email", "coord@example.nl")
    coordinator.fill("#password", PASSWORD)
    coordinator.get_by_role("button", name="Inloggen").click()
    coordinator.wait_for_url("**/beheer/vrijwilligers/")
    coordinator.get_by_role("link", name="Browser <b>Vrijwilliger</b>").click()
    expect(coordinator.locator("body")).to_contain_text("+31 6 12345678")
    coordinator.select_option("#status", "actief")
    coordinator.get_by_role("button", name="Opslaan").click()
    expect(coordinator.locator("body")).to_contain_text("De stap is opgeslagen")
    assert coordinator.locator("p", has_text="Status:").inner_text().startswith("Status: Actief")
    # On a phone the step table stacks into "Stap: Actief" lines instead of scrolling sideways.
    coordinator.set_viewport_size({"width": 360, "height": 740})
    steps = coordinator.locator(".brug-stapel table")
    assert steps.evaluate("t => t.scrollWidth <= t.clientWidth"), "the step table scrolls sideways"
    width = "t => [t.clientWidth, t.closest('.brug-stapel').clientWidth]"
    assert len(set(steps.evaluate(width))) == 1, "the stacked rows do not span the page"
    first_step = coordinator.locator(".brug-stapel td[data-label=Stap]").first
    assert first_step.evaluate("td => getComputedStyle(td, '::before').content") == '"Stap: "'
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "vrijwilliger-stappen-telefoon.png"
    coordinator.screenshot(path=str(shot), full_page=True)
    coordinator.set_viewport_size({"width": 1280, "height": 800})

    # The volunteer gets a welcome mail, opens their personal page, downloads and erases.
    welcome = smtp.wait_for(EMAIL, "Welkom als vrijwilliger")
    volunteer.goto(_link(welcome, "/mijn/"))
    assert "Actief" in volunteer.content()
    with volunteer.expect_download() as download:
        volunteer.get_by_role("link", name="als JSON").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["naam"] == "Browser <b>Vrijwilliger</b>" and data["status"] == "Actief"
    volunteer.get_by_role("link", name="Mijn gegevens verwijderen").click()
    volunteer.get_by_role("button", name="Ja, verwijder al mijn gegevens").click()
    expect(volunteer.locator("body")).to_contain_text("Je gegevens zijn verwijderd")

    with app.app_context(), db.transaction(write=False) as s:
        assert s.exec(select(volunteers.Volunteer)).all() == []
        assert volunteers.erasure_counts(s) == {"gewist": 1}
    coordinator.reload()
    assert (
        coordinator.title().startswith("Pagina niet gevonden")
        or "bestaat niet" in coordinator.content()
    )
