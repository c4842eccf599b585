"""A bad setting stops the start with one Dutch line that names it: never a 500 on the first
request that reads it, and never a traceback from a `flask --app forms_backend …` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forms_backend import create_app
from forms_backend.config import ConfigError

FLASK = Path(sys.executable).with_name("flask")

# (setting, bad values, a good value as the environment would give it, what the app then holds)
CASES = [
    ("PAGE_SIZE", ["honderd", 0, -5, 2.5, True, None], "25", 25),
    ("TRUSTED_PROXIES", ["een", -1, 1.5, False], 1, 1),
    ("SMTP_PORT", ["smtp", 0, 70000, 25.5], "587", 587),
    ("SMTP_TIMEOUT", ["lang", 0, -1, float("nan")], "2.5", 2.5),
    ("VOLUNTEER_CONFIRM_TTL_HOURS", ["drie dagen", 0, -72, float("inf")], "48", 48.0),
    ("VOLUNTEER_LINK_TTL_HOURS", ["week", 0], 24, 24.0),
    ("VOLUNTEER_UNCONFIRMED_DAYS", ["maand", -30], "14", 14.0),
    ("VOLUNTEER_MOTIVATION_MONTHS", ["jaar", 0], 6, 6.0),
    ("VOLUNTEER_RETENTION_MONTHS", ["", 0], 36, 36.0),
    ("FEED_VERSION_TTL", ["snel", -1], 0, 0.0),
    ("BUILD_KEEP", ["drie", 0, 2.5], "5", 5),
]


@pytest.mark.parametrize(
    ("key", "value"), [(key, value) for key, bad, _, _ in CASES for value in bad]
)
def test_a_bad_value_stops_the_start_with_its_name(app_config, database_url, key, value):
    if not database_url.startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    with pytest.raises(ConfigError, match=f"^BRUG_{key} moet een (geheel )?getal") as raised:
        create_app({**app_config, key: value})
    assert isinstance(raised.value, RuntimeError)  # what gunicorn and the tests see
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(("key", "good", "held"), [(k, g, h) for k, _, g, h in CASES])
def test_a_good_value_is_taken_as_a_number(app_config, database_url, key, good, held):
    if not database_url.startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    app = create_app({**app_config, key: good})
    assert app.config[key] == held and type(app.config[key]) is type(held)


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRUG_")}
    return subprocess.run(
        [str(FLASK), "--app", "forms_backend", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "Fout: BRUG_SECRET_KEY ontbreekt: zet een lange willekeurige waarde"),
        (
            {"BRUG_SECRET_KEY": "x" * 32, "BRUG_PAGE_SIZE": "0"},
            "Fout: BRUG_PAGE_SIZE moet een geheel getal van 1 of meer zijn, niet 0",
        ),
        (
            {"BRUG_SECRET_KEY": "x" * 32, "BRUG_MAIL_TRANSPORT": "postduif"},
            "Fout: BRUG_MAIL_TRANSPORT moet smtp, console of recording zijn, niet 'postduif'",
        ),
        (
            {"BRUG_SECRET_KEY": "x" * 32, "BRUG_DATABASE_URL": "postgres:/brug"},
            "Fout: BRUG_DATABASE_URL is geen database-URL die Brug kan gebruiken",
        ),
        (
            {"BRUG_SECRET_KEY": "x" * 32, "BRUG_DATABASE_URL": "mysql://brug@localhost/brug"},
            "Fout: BRUG_DATABASE_URL is geen database-URL die Brug kan gebruiken",
        ),
    ],
)
def test_a_command_says_what_is_wrong_in_one_dutch_line(tmp_path, env, message):
    assert shutil.which(str(FLASK)), FLASK
    env = {"BRUG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env}
    for args in (["create-user", "--help"], ["purge"]):
        done = _flask(env, *args)
        assert done.returncode == 1, done
        assert "Traceback" not in done.stderr + done.stdout
        assert done.stderr.strip().startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# Keys the code sets for Flask-Limiter and Flask-WTF from Brug's own settings (or fixes): an
# operator sets BRUG_RATELIMIT_STORAGE_URL, not these.
DERIVED_KEYS = {
    "RATELIMIT_HEADERS_ENABLED",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
    "RATELIMIT_KEY_PREFIX",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_STRATEGY",
    "RATELIMIT_SWALLOW_ERRORS",
    "WTF_CSRF_TIME_LIMIT",
    "WTF_I18N_ENABLED",
    "CLOCK",  # an injected clock, for tests
    "WTF_CSRF_ENABLED",  # off in most tests (the test mapping)
    "PREVIOUS_RELEASE",  # handed by the publisher to the build hook
}
ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_the_code_reads_is_in_the_readme(app_config):
    """An operator learns the settings from the README's table: a setting that the code reads
    (a default, a ``config.get``, a ``BRUG_…`` name in the code or the deploy files) and that the
    README does not name is one nobody knows to set."""
    import re

    from flask import Flask

    if not app_config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    app = create_app(app_config)
    settings = set(app.config) - set(Flask.default_config)
    sources = [*(ROOT / "forms_backend").rglob("*.py"), *(ROOT / "deploy").rglob("*")]
    for source in (path for path in sources if path.is_file()):
        text = source.read_text(errors="replace")
        settings |= set(re.findall(r"config\.get\(\"([A-Z][A-Z0-9_]+)\"", text))
        settings |= set(re.findall(r"\bBRUG_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)\b", text))
    settings |= {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}  # Flask's, but Brug's to set
    documented = set(re.findall(r"`BRUG_([A-Z0-9_]+)`", (ROOT / "README.md").read_text()))
    missing = sorted(settings - DERIVED_KEYS - documented)
    assert not missing, f"not in README.md: {', '.join('BRUG_' + key for key in missing)}"


@pytest.mark.parametrize("fallbacks", [["oude-sleutel-van-brug"], "oude-sleutel-van-brug", None])
def test_a_new_secret_key_keeps_workspace_logins_while_the_old_one_is_a_fallback(
    app_config, database_url, fallbacks
):
    """What the README promises for a key change: with the old key in BRUG_SECRET_KEY_FALLBACKS
    (a JSON list, or one key as plain text) a coordinator stays logged in; without it they log in
    again."""
    if not database_url.startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    from tests.conftest import Auth, running_app

    with running_app({**app_config, "SECRET_KEY": "oude-sleutel-van-brug"}) as old:
        client = old.test_client()
        auth = Auth(old, client)
        auth.create()
        assert auth.login().status_code == 302
        assert client.get("/beheer/").status_code == 200
        cookie = client.get_cookie(old.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
    rotated = {**app_config, "SECRET_KEY": "nieuwe-sleutel-van-brug"}
    if fallbacks is not None:
        rotated["SECRET_KEY_FALLBACKS"] = fallbacks
    with running_app(rotated) as new:
        client = new.test_client()
        client.set_cookie(cookie.key, cookie.value)
        answer = client.get("/beheer/")
        if fallbacks is None:
            assert answer.status_code in (302, 303) and "/beheer/inloggen" in answer.location
        else:
            assert answer.status_code == 200, answer.status_code


@pytest.mark.parametrize("value", [12345, ["goed", 7], {"sleutel": "x"}, True])
def test_a_fallback_key_that_is_no_text_stops_the_start(app_config, database_url, value):
    if not database_url.startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    with pytest.raises(ConfigError, match=r"^BRUG_SECRET_KEY_FALLBACKS moet"):
        create_app({**app_config, "SECRET_KEY_FALLBACKS": value})


def test_the_message_about_a_bad_fallback_key_does_not_show_the_keys(app_config, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("settings do not depend on the database")
    with pytest.raises(ConfigError) as raised:
        create_app({**app_config, "SECRET_KEY_FALLBACKS": ["geheime-oude-sleutel", 7]})
    assert "geheime-oude-sleutel" not in str(raised.value)
