"""In Chromium: an organisation submits a practice with an XSS attempt, a moderator asks a
question, the submitter answers, the moderator approves and watches the build go live; the page
is on the site, on its overviews and in search, with the script shown as text and never run."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from forms_backend import accounts, create_app, db
from forms_backend.mailer import RecordingTransport
from forms_backend.publishing import Publisher
from tests.conftest import shut_down

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PASSWORD = "een-lang-wachtwoord-voor-tests"
XSS = "<script>window.__xss = 1</script>\n\n<img src=x onerror=\"window.__xss = 2\">"


@pytest.fixture
def server(tmp_path: Path, first_release: Path, sqlite_template: Path) -> Iterator[str]:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    site = tmp_path / "build" / "site"
    release = tmp_path / "build" / "releases" / "20000101T000000000000Z"
    shutil.copytree(first_release, release, symlinks=True)
    Publisher(content_dir=content, site_dir=site, releases_dir=release.parent).switch(release)
    database = tmp_path / "brug.sqlite3"
    shutil.copyfile(sqlite_template, database)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app({
        "TESTING": True, "SECRET_KEY": "browser-test", "DATABASE_URL": f"sqlite:///{database}",
        "SITE_DIR": str(site), "CONTENT_DIR": str(content), "MAIL_TRANSPORT": RecordingTransport(),
        "FORM_MIN_FILL_SECONDS": 0, "RATELIMIT_ENABLED": False, "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BUILD_WORKER": "thread",
    })
    with app.app_context(), db.transaction() as session:
        accounts.create_user(
            session,
            email="moderator@brug.example.nl",
            name="Moderator",
            password=PASSWORD,
            role="coordinator",
            regions=["gelderland"],
            now=__import__("datetime").datetime.now(__import__("datetime").UTC),
        )
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    http.shutdown()
    shut_down(app)




def test_submit_question_answer_approve_live(server: str, browser: Any) -> None:
    dialogs: list[str] = []
    org = browser.new_page(viewport={"width": 390, "height": 844})
    org.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    org.goto(f"{server}/inzenden/praktijk")
    org.fill("#title", "Buurtteam Voorbeeldstad regelt een kamer")
    org.fill(
        "#summary", "Het buurtteam regelt samen met de corporatie een kamer vóór de vrijlating."
    )
    org.fill(
        "#body",
        "## Zo werkt het\n\nDe casemanager belt het buurtteam over de woonladder.\n\n"
        f"{XSS}\n\nZie ook [alle praktijken](/praktijken/).",
    )
    org.check("input[name=leefgebieden][value=wonen]")
    org.select_option("#regio", "gelderland")
    org.check("input[name=organisatietypes][value=gemeente]")
    org.fill("#organisatie", "Gemeente Voorbeeldstad")
    org.fill("#contact_name", "Ineke Inzender-Voorbeeld")
    org.fill("#contact_email", "ineke.inzender@example.nl")
    org.check("#consent")
    org.click("button[value=voorbeeld]")
    preview = org.locator(".brug-preview__page")
    assert "<script>window.__xss = 1</script>" in preview.inner_text()
    org.click("button[value=versturen]")
    org.wait_for_url("**/inzenden/status/**")
    status_url = org.url
    assert "Ingediend" in org.inner_text("main")

    mod = browser.new_page(viewport={"width": 1280, "height": 900})
    mod.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    mod.goto(f"{server}/beheer/inloggen")
    mod.fill("#email", "moderator@brug.example.nl")
    mod.fill("#password", PASSWORD)
    mod.click("button[type=submit]")
    mod.goto(f"{server}/beheer/inzendingen/")
    mod.click("text=Buurtteam Voorbeeldstad regelt een kamer")
    mod.fill("textarea[name=body]", "Met hoeveel mensen werkten jullie zo?")
    mod.click("text=Vraag versturen")
    assert "Vraag gesteld" in mod.inner_text("main")

    org.goto(status_url)
    assert "Met hoeveel mensen werkten jullie zo?" in org.inner_text("main")
    org.fill("textarea[name=body]", "Met veertig mensen in twee jaar.")
    org.click("text=Antwoord versturen")
    assert "Met veertig mensen in twee jaar." in org.inner_text("main")

    mod.reload()
    assert "Met veertig mensen in twee jaar." in mod.inner_text("main")
    mod.click("text=Goedkeuren en publiceren")
    # The status box follows the build by itself (static JS polling the JSON status).
    mod.wait_for_selector(".brug-build-status--live", timeout=180_000)
    link = mod.locator(".brug-build-status__link")
    href = link.get_attribute("href")
    assert href == "/praktijken/buurtteam-voorbeeldstad-regelt-een-kamer/"
    assert mod.inner_text("#brug-submission-state") == "Gepubliceerd"  # the status row follows too
    mod.screenshot(
        path=str(ROOT / "test-artifacts" / "submissions" / "moderator-live.png"), full_page=True
    )

    page = browser.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + href)
    text = page.inner_text("article")
    assert "<script>window.__xss = 1</script>" in text and "onerror" in text
    assert page.evaluate("window.__xss") is None
    assert page.locator("article script").count() == 0 and page.locator("article img").count() == 0
    for overview in ("/leefgebieden/wonen/", "/regios/gelderland/", "/praktijken/"):
        page.goto(server + overview)
        assert page.locator("a[href*='buurtteam-voorbeeldstad-regelt-een-kamer']").count() >= 1, (
            overview
        )
    page.goto(server + "/")
    index = page.request.get(server + "/search/search_index.json").text()
    assert "woonladder" in index
    # The search worker loads the index in the background; ask again until it answers.
    found = page.locator(
        ".md-search-result__item a[href*='buurtteam-voorbeeldstad-regelt-een-kamer']"
    )
    for _ in range(30):
        page.fill("input.md-search__input", "")
        page.click("input.md-search__input")
        page.keyboard.type("woonladder", delay=30)
        page.wait_for_timeout(1000)
        if found.count():
            break
    assert found.count() >= 1
    assert dialogs == []
    assert "Ineke" not in org.evaluate("document.cookie")
