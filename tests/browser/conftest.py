"""A live Brug for the browser suite: the real app on a free loopback port, real SMTP, Chromium.

Once per session: the real site build (``built_site``), a migrated SQLite database with the demo
data, an aiosmtpd server that keeps every message, the app served by werkzeug in a thread with the
outbox worker thread delivering over SMTP, and one Chromium. Every test gets a fresh browser
context (no cookies carried over) whose requests are recorded.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from forms_backend import clock, create_app, db, demo
from forms_backend.cli import start_background_workers
from forms_backend.publishing import Publisher

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
COORDINATOR = f"cosa-gelderland@{demo.DEMO_DOMAIN}"
ADMIN = f"beheer@{demo.DEMO_DOMAIN}"
PASSWORD = demo.DEMO_PASSWORD

pytestmark = pytest.mark.browser


def login(page: Any, address: str = ADMIN) -> None:
    """Log in to /beheer with a demo account, like a coordinator would."""
    page.goto("/beheer/inloggen")
    page.fill("#email", address)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/beheer/**")
    assert page.locator("form[action$='/beheer/uitloggen']").count() == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# real SMTP


class Mailbox:
    """What the aiosmtpd server received, parsed; ``wait_for`` polls until a message arrives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(
        self, address: str, *, subject: str = "", count: int = 1, timeout: float = 20
    ) -> EmailMessage:
        """The newest message to ``address`` whose subject contains ``subject``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(address) if subject.lower() in str(m["Subject"]).lower()]
            if len(found) >= count:
                return found[-1]
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in self.to(address)]
                raise AssertionError(f"no mail {subject!r} to {address} (got {subjects})")
            time.sleep(0.1)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path_part: str) -> str:
    """The first link in the mail whose path contains ``path_part``, as a path + query."""
    for url in re.findall(r"https?://[^\s<>\"]+", body_text(message)):
        parts = urlsplit(url)
        if path_part in parts.path:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link with {path_part!r} in:\n{body_text(message)}")


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# ---------------------------------------------------------------------------------------------
# the live app


@dataclass
class Live:
    app: Flask
    url: str
    mailbox: Mailbox
    host: str = field(init=False)

    def __post_init__(self) -> None:
        self.host = urlsplit(self.url).netloc

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live(
    built_site: Path, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    # As after `make build`: build/site -> releases/<first>, content/ writable for publishing.
    content, site = folder / "content", folder / "build" / "site"
    shutil.copytree(ROOT / "content", content)
    release = folder / "build" / "releases" / "20000101T000000000000Z"
    shutil.copytree(built_site, release)
    Publisher(content_dir=content, site_dir=site, releases_dir=release.parent).switch(release)
    database = f"sqlite:///{folder / 'brug.sqlite3'}"
    db.upgrade(database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app({
        "SECRET_KEY": "browser-suite-secret",
        "DATABASE_URL": database,
        "SITE_DIR": str(site),
        "CONTENT_DIR": str(content),
        "BUILD_WORKER": "thread",
        "PUBLIC_URL": url,
        "MAIL_TRANSPORT": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mailbox.port,
        "SESSION_COOKIE_SECURE": False,
        # Stories fill forms faster than a person would, from one address.
        "FORM_MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": False,
    })
    # The same demo data as `make serve`: accounts, volunteers, meetings, submissions.
    with app.app_context(), db.transaction() as session:
        demo.seed(session, now=clock.now(), config=app.config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="brug-live", daemon=True)
    serving.start()
    stop = threading.Event()
    start_background_workers(app, stop, mail_interval=0.2)
    yield Live(app, url, mailbox)
    stop.set()
    server.shutdown()
    if "brug.build_worker" in app.extensions:
        app.extensions["brug.build_worker"].stop()
    db.get_engine(app).dispose()


# ---------------------------------------------------------------------------------------------
# Chromium




class Requests:
    """Every request the page made, to assert it went nowhere but the site's own host."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def record(self, request: Any) -> None:
        self.urls.append(request.url)

    def foreign(self, host: str) -> list[str]:
        return [u for u in self.urls if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).netloc != host]


@pytest.fixture
def context(browser: Any, live: Live) -> Iterator[Any]:
    # bypass_csp lets axe-core be injected; the pages' own CSP is tested elsewhere.
    ctx = browser.new_context(viewport=DESKTOP, locale="nl-NL", base_url=live.url, bypass_csp=True)
    ctx.requests = Requests()
    ctx.on("request", ctx.requests.record)
    yield ctx
    foreign = ctx.requests.foreign(live.host)
    ctx.close()
    assert not foreign, f"requests to other hosts: {foreign}"


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


# ---------------------------------------------------------------------------------------------
# checks shared by the page and form tests


# Material fades its tabs and header title out when the page scrolls (a link to a field far
# down): axe would measure a half-faded link's contrast. Wait two frames (Material reacts to
# the scroll in the next one), then for every transition and animation that ends (at most
# two seconds: a paused one never would).
_SETTLED = """async () => {
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const ending = document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null));
  await Promise.race([Promise.all(ending), new Promise(done => setTimeout(done, 2000))]);
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page at WCAG 2.1 A/AA, once its transitions have ended; return the
    violations (empty is good)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    page.evaluate(_SETTLED)
    result = page.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(node["target"]) for node in v["nodes"][:4]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{describe(violations)}"


_steps: dict[str, int] = {}
# The innermost elements that reach past the right edge of the screen, for the message.
_WIDE_ELEMENTS = """(limit) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > limit + 1
    && ![...e.children].some(c => c.getBoundingClientRect().right > limit + 1))
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')
    + ' ' + (e.textContent || '').trim().slice(0, 40))"""


def shoot(page: Any, story: str, step: str) -> list[Path]:
    """Screenshots of this step at phone and desktop width (test-artifacts/browser/<story>/)."""
    folder = ARTIFACTS / story
    if story not in _steps:  # first step of this story in this run: start a clean folder
        shutil.rmtree(folder, ignore_errors=True)
        _steps[story] = 0
    folder.mkdir(parents=True, exist_ok=True)
    _steps[story] += 1
    number = _steps[story]
    original = page.viewport_size
    paths = []
    too_wide = []
    for name, size in (("telefoon", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        path = folder / f"{number:02d}-{step}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
        # Nothing may push the page wider than the screen (sideways scrolling on a phone).
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size["width"]:
            culprits = page.evaluate(_WIDE_ELEMENTS, size["width"])
            too_wide.append(f"{name}: {width}px > {size['width']}px, {culprits}")
    page.set_viewport_size(original)
    assert not too_wide, f"{page.url} ({step}) is wider than the screen: {too_wide}"
    return paths


def vnu_errors(files: list[Path]) -> list[dict[str, Any]]:
    """The Nu HTML Checker's errors for these files (java -jar vnu.jar --errors-only)."""
    java = shutil.which("java")
    if not java or not VNU.exists():
        pytest.skip("java or vnu-jar is missing (make js installs vnu-jar)")
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True, text=True, check=False,
    )
    report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    return [m for m in report["messages"] if m.get("type") == "error"]


def today() -> dt.date:
    return clock.now().date()
