"""Fixtures for the production set-up: the built site as a release, gunicorn, nginx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from brug_stack import NGINX, Gunicorn, Nginx, backend_env, switch_release

from forms_backend import db


@pytest.fixture(scope="module")
def production_build(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Path:
    """build/ with releases/r1 (the real site) and site -> releases/r1, as a deploy makes it."""
    build = tmp_path_factory.mktemp("srv") / "build"
    release = build / "releases" / "r1"
    shutil.copytree(built_site, release)
    switch_release(build, release)
    return build


@pytest.fixture(scope="module")
def sqlite_production_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('proddb') / 'brug.sqlite3'}"
    db.upgrade(url)
    return url


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, production_build: Path, sqlite_production_url: str
) -> Iterator[tuple[Gunicorn, Nginx]]:
    """gunicorn (2 workers, deploy/gunicorn.conf.py) behind nginx (deploy/nginx/brug.conf)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (CI installs nginx-light)")
    workdir = tmp_path_factory.mktemp("stack")
    backend = Gunicorn(
        backend_env(sqlite_production_url, production_build / "site"), workdir, workers=2
    ).start()
    web = Nginx(workdir, site_root=production_build / "site", upstream_port=backend.port)
    try:
        web.start()
    except BaseException:
        backend.stop()
        raise
    yield backend, web
    web.stop()
    backend.stop()
