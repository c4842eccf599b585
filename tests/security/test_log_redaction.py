"""Logs never hold a personal link that still works (/mijn/<token>, confirmations, private feeds).

The token routes come from the URL map, so a new route with a ``<token>`` that the redaction
does not know fails here (and in tests/production/test_nginx.py for nginx's access log).
"""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.error
import urllib.request

import pytest
from catalogue import token_link_paths
from flask import Flask
from werkzeug.serving import make_server

from forms_backend.security import LINK_PLACEHOLDER, redact_links


def test_the_url_map_has_token_links(app):
    paths = token_link_paths(app, "T" * 43)
    prefixes = {p.split("T" * 43)[0] for p in paths}
    # the personal page, the confirmations and the private feeds at least
    assert {"/mijn/", "/aanmelden/bevestigen/", "/agenda/prive/"} <= prefixes


def test_every_token_link_is_redacted_and_other_paths_are_not(app):
    raw = secrets.token_urlsafe(32)
    for path in token_link_paths(app, raw):
        redacted = redact_links(f"GET {path}?x=1 HTTP/1.1")
        assert raw not in redacted, path
        assert LINK_PLACEHOLDER in redacted
        # what the link was for stays readable: everything but the token
        assert redacted == f"GET {path.replace(raw, LINK_PLACEHOLDER)}?x=1 HTTP/1.1"
    for path in (
        "/mijn/link-aanvragen",
        "/mijn/gewist",
        "/agenda/prive/",
        "/agenda/2-kennismaking-cosa-vrijwilligers-demo/",
        "/aanmelden/cosa/bedankt",
        "/inzenden/praktijk",
    ):
        assert redact_links(path) == path


def test_the_embedded_server_logs_requests_without_their_token(app, caplog):
    """What ``flask serve`` (make serve) writes for each request: the path, not the key."""
    raw = secrets.token_urlsafe(32)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in (f"/mijn/{raw}", f"/agenda/prive/{raw}.ics", "/mijn/link-aanvragen"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10)
                except urllib.error.HTTPError as error:
                    assert error.code in (404, 410)
    finally:
        server.shutdown()
        thread.join()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    assert "/mijn/link-aanvragen" in logged  # the log itself works
    assert raw not in logged
    assert f"/mijn/{LINK_PLACEHOLDER}" in logged
    assert f"/agenda/prive/{LINK_PLACEHOLDER}.ics" in logged


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    @app.get("/mijn/<token>/stuk")
    def broken(token: str) -> str:
        raise RuntimeError("kapot")

    return app


def test_a_failing_request_is_logged_without_its_token(failing_app, caplog):
    """The Dutch 500 page's handler logs the failing request's path, without its key."""
    raw = secrets.token_urlsafe(32)
    with caplog.at_level(logging.ERROR, logger="forms_backend"):
        response = failing_app.test_client().get(f"/mijn/{raw}/stuk")
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.name.startswith("forms_backend")]
    assert errors, "nothing logged for the failing request"
    assert all(raw not in r.getMessage() for r in errors)
    assert any(f"/mijn/{LINK_PLACEHOLDER}/stuk" in r.getMessage() for r in errors)
