"""The deploy/ files agree with the code: proxied paths, body limit, commands, settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forms_backend import BACKEND_PREFIXES, create_app, default_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def nginx_conf() -> str:
    return (DEPLOY / "nginx" / "brug.conf").read_text(encoding="utf-8")


def test_nginx_proxies_exactly_the_backend_prefixes():
    proxied = re.findall(r"location \^~ (\S+)\s*\{\s*include \S+brug-proxy\.conf;", nginx_conf())
    assert sorted(proxied) == sorted(BACKEND_PREFIXES)
    assert len(proxied) == len(set(proxied))


def _size(value: str) -> int:
    units = {"": 1, "k": 1024, "m": 1024 * 1024}
    number, unit = re.fullmatch(r"(\d+)([km]?)", value.lower()).groups()
    return int(number) * units[unit]


def test_nginx_body_limit_matches_the_backend():
    limit = re.search(r"client_max_body_size (\S+);", nginx_conf()).group(1)
    assert _size(limit) == default_config()["MAX_CONTENT_LENGTH"]


def test_nginx_serves_the_site_through_its_symlink():
    conf = nginx_conf()
    assert "root /srv/brug/build/site;" in conf and "disable_symlinks off;" in conf
    # a cached file handle would outlive a release switch
    assert not re.search(r"^\s*open_file_cache\s", conf, re.M)


def test_every_systemd_unit_runs_an_existing_command(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "brug-web.service",
        "brug-mail.service",
        "brug-purge.service",
    }
    assert (DEPLOY / "systemd" / "brug-purge.timer").exists()
    used = set()
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        assert "EnvironmentFile=/etc/brug/brug.env" in text, unit.name
        for command in re.findall(r"flask --app forms_backend ([a-z-]+)", text):
            assert command in app.cli.commands, f"{unit.name}: flask {command}"
            used.add(command)
    assert {"init-db", "send-mail", "purge", "backup"} <= used
    assert (
        "gunicorn --config /srv/brug/deploy/gunicorn.conf.py"
        in (DEPLOY / "systemd" / "brug-web.service").read_text()
    )


def _env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "brug.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value.strip('"')
    return values


def test_env_example_names_only_real_settings():
    known = set(default_config())
    for key in _env_example():
        assert key.startswith("BRUG_"), key
        name = key.removeprefix("BRUG_")
        assert name in known or name.startswith("GUNICORN_"), key


def test_app_built_from_the_env_example_is_hardened(monkeypatch, tmp_path):
    for key, value in _env_example().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BRUG_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert not app.testing and not app.debug
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-brug"
    assert app.config["SERVE_SITE"] is False
    assert app.config["SMTP_STARTTLS"] is True and app.config["SMTP_PORT"] == 587
    # behind one proxy the client address comes from X-Forwarded-For
    seen = {}

    @app.get("/_probe")
    def _probe():
        from flask import request

        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return "ok"

    app.test_client().get(
        "/_probe", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    )
    assert seen == {"addr": "198.51.100.7", "scheme": "https"}


@pytest.mark.parametrize("secure, name", [(True, "__Host-brug"), (False, "session")])
def test_host_prefixed_cookie_only_when_secure(tmp_path, secure, name):
    app = create_app({"TESTING": True, "SESSION_COOKIE_SECURE": secure,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert app.config["SESSION_COOKIE_NAME"] == name
