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
