"""The production set-up, started for real on loopback: Debian's nginx with deploy/nginx/brug.conf
in front of gunicorn (deploy/gunicorn.conf.py, 2 workers) on a migrated SQLite database, serving
the real site build through a build/site -> build/releases/<release> symlink.

The tests run in file order; the last ones stop and restart the backend.
"""

from __future__ import annotations

import gzip
import secrets
import shutil
import time
import uuid
from pathlib import Path

import pytest
from brug_stack import Browser, hidden_inputs, switch_release

from forms_backend import BACKEND_PREFIXES, accounts, create_app, db
from forms_backend.clock import system_clock
from forms_backend.security import LINK_PLACEHOLDER
from tests.conftest import shut_down
from tests.scratch_databases import opened
from tests.security.catalogue import token_link_paths

pytestmark = [pytest.mark.slow]


def a_static_page(site: Path) -> str:
    """A content page of the build (not the shell, not an asset)."""
    pages = sorted(
        p for p in site.glob("*/index.html") if p.parent.name not in {"_shell", "search", "assets"}
    )
    assert pages, "the build has no pages"
    return "/" + pages[0].parent.name + "/"


def test_static_page_is_served_by_nginx_from_the_release(stack, production_build):
    _backend, web = stack
    site = production_build / "site"
    assert site.is_symlink()
    page = a_static_page(site)
    reply = Browser(web.url).get(page)
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/html")
    assert reply.body == (site / page.strip("/") / "index.html").read_bytes()
    assert reply.header("Cache-Control") == "no-cache"
    # the same path without its slash: a relative redirect to the folder
    folder = Browser(web.url).get(page.rstrip("/"))
    assert folder.status == 301 and folder.location == page


def test_static_pages_carry_security_headers(stack, production_build):
    _backend, web = stack
    reply = Browser(web.url).get(a_static_page(production_build / "site"))
    assert reply.header("Strict-Transport-Security") == "max-age=31536000"
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Referrer-Policy") == "same-origin"
    csp = reply.header("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "nginx/" not in (reply.header("Server") or "")  # server_tokens off


GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_static_files_are_sent_as_the_builds_gzip_copies(stack, production_build):
    _backend, web = stack
    site = production_build / "site"
    css = next((site / "assets" / "stylesheets").glob("main.*.min.css"))
    page = a_static_page(site)
    files = {f"/assets/stylesheets/{css.name}": css, page: site / page.strip("/") / "index.html"}
    for path, file in files.items():
        plain = Browser(web.url).get(path)
        packed = Browser(web.url).get(path, headers=GZIP)
        assert plain.status == packed.status == 200
        assert plain.header("Content-Encoding") is None and plain.body == file.read_bytes()
        assert packed.header("Content-Encoding") == "gzip"
        assert packed.header("Content-Type") == plain.header("Content-Type")
        assert "Accept-Encoding" in (packed.header("Vary") or "")
        # exactly the build's own copy (gzip_static), not compressed per request
        assert packed.body == file.with_name(file.name + ".gz").read_bytes()
        assert gzip.decompress(packed.body) == plain.body
    hashed = Browser(web.url).get(f"/assets/stylesheets/{css.name}", headers=GZIP)
    assert hashed.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert hashed.header("X-Content-Type-Options") == "nosniff"
    own = Browser(web.url).get("/assets/brug/brug.css", headers=GZIP)
    assert own.status == 200 and own.header("Cache-Control") == "public, max-age=3600"


def test_backend_pages_are_compressed_except_back_office_and_personal_ones(stack):
    _backend, web = stack
    agenda = Browser(web.url).get("/agenda/", headers=GZIP)
    assert agenda.status == 200
    assert agenda.header("Content-Encoding") == "gzip"
    assert "</html>" in gzip.decompress(agenda.body).decode("utf-8")
    for path in ("/beheer/inloggen", "/mijn/"):
        reply = Browser(web.url).get(path, headers=GZIP)
        assert reply.header("Content-Encoding") is None, path


def test_switching_the_release_link_switches_the_live_site(stack, production_build):
    _backend, web = stack
    build = production_build
    page = a_static_page(build / "site")
    first = build / "releases" / "r1"
    second = build / "releases" / f"r2-{uuid.uuid4().hex[:6]}"
    shutil.copytree(first, second)
    marker = f"<!-- release {second.name} -->"
    target = second / page.strip("/") / "index.html"
    target.write_text(target.read_text(encoding="utf-8") + marker, encoding="utf-8")
    try:
        switch_release(build, second)
        assert marker in Browser(web.url).get(page).text
    finally:
        switch_release(build, first)
        shutil.rmtree(second)
    assert marker not in Browser(web.url).get(page).text


def test_unknown_page_is_the_sites_own_404(stack, production_build):
    _backend, web = stack
    reply = Browser(web.url).get("/bestaat-niet/echt-niet/")
    assert reply.status == 404
    assert reply.body == (production_build / "site" / "404.html").read_bytes()
    assert reply.header("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    "path",
    ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc/passwd",
     "/_shell/", "/_shell/index.html", "/..%5c..%5cetc/passwd", "/%00/etc/passwd"],
)
def test_no_traversal_and_no_shell(stack, path):
    _backend, web = stack
    reply = Browser(web.url).get(path)
    assert reply.status in (400, 404)
    assert "root:" not in reply.text and "BRUG:CONTENT" not in reply.text


def test_plain_http_redirects_to_https(stack):
    _backend, web = stack
    reply = Browser(web.plain_url).get("/beheer/inloggen?next=/beheer/")
    assert reply.status == 301
    assert reply.location == "https://brug.example.nl/beheer/inloggen?next=/beheer/"


def test_backend_paths_reach_gunicorn(stack):
    _backend, web = stack
    health = Browser(web.url).get("/health")
    assert health.status == 200
    assert '"database":"ok"' in health.text.replace(" ", "")
    login = Browser(web.url).get("/beheer/inloggen")
    assert login.status == 200
    assert "Inloggen" in login.text and "csrf_token" in login.text
    # the backend's own headers, once each, plus nginx's HSTS
    assert len(login.header_all("Content-Security-Policy")) == 1
    assert len(login.header_all("X-Frame-Options")) == 1
    csp = login.header("Content-Security-Policy")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert login.header("Strict-Transport-Security") == "max-age=31536000"
    assert login.header("Cache-Control") == "no-store"


def upstream_of(web, path: str) -> str:
    """The upstream nginx used for ``path``, from its access log ("-": served from disk)."""
    for _ in range(100):  # nginx logs when it finalises the request, just after the client has it
        lines = [
            line
            for line in (web.prefix / "access.log").read_text().splitlines()
            if f' {path}" ' in line
        ]
        if lines:
            return lines[-1].rsplit(" ", 1)[1]
        time.sleep(0.05)
    raise AssertionError(f"{path} is not in nginx's access log")


@pytest.mark.parametrize("prefix", BACKEND_PREFIXES)
def test_every_backend_prefix_is_proxied(stack, prefix):
    """Each prefix nginx proxies reaches gunicorn; a near miss is served from disk."""
    backend, web = stack
    probe = prefix + ("" if prefix.endswith("/") else "/") + "probe-" + uuid.uuid4().hex[:6]
    reply = Browser(web.url).get(probe)
    assert reply.status != 502
    assert upstream_of(web, probe) == f"127.0.0.1:{backend.port}"
    near_miss = "/x" + prefix.strip("/") + "/"
    assert Browser(web.url).get(near_miss).status == 404
    assert upstream_of(web, near_miss) == "-"


def test_access_log_keeps_no_personal_link(stack, sqlite_production_url, tmp_path):
    """A token in a path (/mijn/<token>, confirmations, private feeds) works as a key: the
    access log shows "[sleutel]" instead, for every such route in the URL map."""
    _backend, web = stack
    app = create_app(
        {"TESTING": True, "DATABASE_URL": sqlite_production_url, "SITE_DIR": str(tmp_path)}
    )
    raw = secrets.token_urlsafe(32)
    paths = token_link_paths(app, raw)
    shut_down(app)  # as the app fixture does
    for path in paths:
        assert Browser(web.url).get(path + "?naam=x").status in (200, 302, 404, 405, 410)
    redacted = [path.replace(raw, LINK_PLACEHOLDER) for path in paths]
    for _ in range(100):  # nginx writes the line when it finalises the request
        log = (web.prefix / "access.log").read_text()
        if all(f" {path}\" " in log for path in redacted):
            break
        time.sleep(0.05)
    assert raw not in log
    for path in redacted:
        assert f" {path}\" " in log, f"{path} not in the access log"


def test_session_cookie_is_a_host_cookie(stack):
    _backend, web = stack
    reply = Browser(web.url).get("/beheer/inloggen")
    cookies = reply.header_all("Set-Cookie")
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie.startswith("__Host-brug=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes
    assert "Path=/" in cookie and "SameSite=Lax" in cookie


def test_oversized_body_gets_a_dutch_413_from_nginx(stack):
    _backend, web = stack
    browser = Browser(web.url)
    too_big = browser.post("/beheer/inloggen", body=b"email=" + b"a" * (300 * 1024),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert too_big.status == 413
    assert "Te veel tekst" in too_big.text
    fits = browser.post("/beheer/inloggen", body=b"email=" + b"a" * (200 * 1024),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert fits.status in (400, 422)  # through to Flask, which refuses it: no CSRF token
    assert "Te veel tekst" not in fits.text
    assert "script-src" in fits.header("Content-Security-Policy")


def _create_user(url: str, email: str, password: str) -> None:
    with opened(url) as engine, db.transaction(engine) as session:
        accounts.create_user(session, email=email, name="Proef Coördinator", password=password,
                             role="coordinator", now=system_clock(), programmes=["cosa"])


def test_login_through_nginx_rotates_the_session(stack, sqlite_production_url):
    _backend, web = stack
    email, password = f"coord-{uuid.uuid4().hex[:8]}@example.nl", "een-lang-wachtwoord"
    _create_user(sqlite_production_url, email, password)
    browser = Browser(web.url)
    page = browser.get("/beheer/inloggen?next=/beheer/")
    before = browser.cookies["__Host-brug"]
    reply = browser.post("/beheer/inloggen?next=/beheer/",
                         data={**hidden_inputs(page.text), "email": email, "password": password})
    assert reply.status in (302, 303) and reply.location == "/beheer/"
    assert browser.cookies["__Host-brug"] != before
    dashboard = browser.get("/beheer/")
    assert dashboard.status == 200 and "Proef Coördinator" in dashboard.text
    # the old, pre-login cookie does not carry the login
    stale = Browser(web.url, cookies={"__Host-brug": before}).get("/beheer/")
    assert stale.status == 302 and stale.location.startswith("/beheer/inloggen")


def test_public_feed_is_answered_from_nginx_cache_while_the_backend_is_down(stack):
    backend, web = stack
    browser = Browser(web.url)
    first = browser.get("/agenda.ics")
    if first.status == 404:
        pytest.skip("no public /agenda.ics feed yet (issue 5)")
    assert first.status == 200
    assert "public" in first.header("Cache-Control")
    assert browser.get("/agenda.ics").header("X-Cache-Status") in ("HIT", "REVALIDATED", "UPDATING")
    backend.stop()
    try:
        down = browser.get("/agenda.ics")
        assert down.status == 200
        assert down.body == first.body
        assert down.header("X-Cache-Status") in ("HIT", "STALE", "UPDATING")
    finally:
        backend.start()


def test_backend_down_gives_a_dutch_503_and_the_site_stays_up(stack, production_build):
    backend, web = stack
    browser = Browser(web.url)
    backend.stop()
    try:
        reply = browser.get("/beheer/inloggen")
        assert reply.status == 503
        assert "Tijdelijk niet beschikbaar" in reply.text and "nginx" not in reply.text
        assert reply.header("Retry-After") == "60"
        assert browser.post("/beheer/inloggen", data={"email": "x@example.nl"}).status == 503
        assert browser.get(a_static_page(production_build / "site")).status == 200
    finally:
        backend.start()
    assert browser.get("/health").status == 200


def test_login_throttling_counts_the_real_client_not_a_forwarded_header(stack):
    """nginx replaces X-Forwarded-For; a client that sends its own still hits the IP limit."""
    _backend, web = stack
    statuses = []
    browser = Browser(web.url)
    hidden = hidden_inputs(browser.get("/beheer/inloggen").text)
    for attempt in range(25):  # 10/minute per IP, per worker with memory storage (2 workers)
        reply = browser.post(
            "/beheer/inloggen",
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            data={
                **hidden,
                "email": f"nobody-{attempt}@example.nl",
                "password": "verkeerd-wachtwoord",
            },
        )
        statuses.append(reply.status)
        if reply.status == 429:
            assert "Even wachten" in reply.text
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses) <= {422, 429}
