"""Seams between the static site and the backend: every backend URL the site links to exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "site"))

from brug_links import backend_links  # noqa: E402


@pytest.fixture
def app_config(app_config, built_site):
    # The real content (programme configuration checks it) and the real shell.
    app_config["SITE_DIR"] = str(built_site)
    app_config["CONTENT_DIR"] = str(ROOT / "content")
    return app_config


@pytest.mark.build
def test_site_links_to_backend_pages(built_site):
    links = backend_links(built_site)
    # The home page routes volunteers, organisations and partners to the backend.
    assert {"/aanmelden/cosa", "/inzenden/praktijk", "/agenda/"} <= links


@pytest.mark.build
def test_every_backend_link_on_the_site_answers(client, built_site, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("URL existence does not depend on the database")
    failures = {}
    for path in sorted(backend_links(built_site)):
        response = client.get(path)
        if response.status_code not in (200, 301, 302, 303):
            failures[path] = response.status_code
    assert failures == {}


@pytest.mark.build
def test_backend_pages_render_in_the_real_shell(client, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("rendering does not depend on the database")
    html = client.get("/aanmelden/cosa").get_data(as_text=True)
    assert '<html lang="nl"' in html
    assert "md-header" in html and "md-search" in html  # the site's own header and search
    assert "/assets/" in html and "../assets" not in html
