"""The BRUG_* settings: each module's defaults, and checks at start-up (a bad value stops the start
with one Dutch line).

``ConfigError`` is a ``RuntimeError`` (gunicorn and tests see the message) and a click
exception (a ``flask --app forms_backend …`` command prints "Fout: …" and exits 1, without a
traceback). Settings are checked where their module reads them, when the app is built, so a bad
value never waits for the first request that needs it to answer with a 500.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

from flask import Flask
from flask.sansio.blueprints import BlueprintSetupState

from forms_backend.command_errors import CommandError


class ConfigError(CommandError, RuntimeError):
    """A setting that cannot work; the message names the environment variable."""


def configured_app(state: BlueprintSetupState, defaults: Mapping[str, Any]) -> Flask:
    """The app a blueprint registers on, with the blueprint's ``defaults`` for every setting
    left unset (BRUG_<KEY> in the environment, or a test's mapping, wins)."""
    app = state.app
    assert isinstance(app, Flask)  # typed as the sans-io App; blueprints register on Flask
    for key, value in defaults.items():
        app.config.setdefault(key, value)
    return app


def fallback_keys(config: MutableMapping[str, Any]) -> list[str]:
    """``SECRET_KEY_FALLBACKS`` as a list of keys: the old keys that still open a session cookie
    after a key change. One key may be given as plain text (``BRUG_SECRET_KEY_FALLBACKS=oud``);
    Flask would take a string for a list of one-letter keys."""
    value = config.get("SECRET_KEY_FALLBACKS") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(key, str) and key for key in value):
        raise ConfigError(
            "BRUG_SECRET_KEY_FALLBACKS moet een oude sleutel zijn of een JSON-lijst van oude "
            'sleutels, bijvoorbeeld ["oude-sleutel"]'  # the value itself is a secret: not shown
        )
    config["SECRET_KEY_FALLBACKS"] = value
    return value


def number(
    config: MutableMapping[str, Any],
    key: str,
    *,
    whole: bool = False,
    minimum: float = 0,
    above: bool = False,
    maximum: float | None = None,
) -> Any:
    """``config[key]`` as a number (a whole one with ``whole``) of at least ``minimum`` (more
    than it with ``above``) and at most ``maximum``; stored back normalised, and returned.

    Values from the environment arrive parsed as JSON (``72`` is an int, ``abc`` a string); a
    string that reads as a number is accepted too."""
    value = config[key]
    parsed: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            parsed = None
    if not _fits(parsed, whole=whole, minimum=minimum, above=above, maximum=maximum):
        kind = "een geheel getal" if whole else "een getal"
        bound = f"groter dan {minimum:g}" if above else f"van {minimum:g} of meer"
        if maximum is not None:
            bound = f"tussen {minimum:g} en {maximum:g}"
        raise ConfigError(f"BRUG_{key} moet {kind} {bound} zijn, niet {value!r}")
    assert parsed is not None
    result: int | float = int(parsed) if whole else parsed
    config[key] = result
    return result


def _fits(
    value: float | None, *, whole: bool, minimum: float, above: bool, maximum: float | None
) -> bool:
    if value is None or not math.isfinite(value) or (whole and value != int(value)):
        return False
    if value < minimum or (above and value == minimum):
        return False
    return maximum is None or value <= maximum
