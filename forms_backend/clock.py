"""The clock: domain functions take ``now`` explicitly; the app owns where it comes from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask, current_app

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock for tests and demos: returns a fixed time that a test can move."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


def init_app(app: Flask) -> None:
    app.extensions["brug.clock"] = app.config.get("CLOCK") or system_clock


def now() -> dt.datetime:
    """The app's current time (aware, UTC)."""
    return current_app.extensions["brug.clock"]()


def as_utc(value: dt.datetime) -> dt.datetime:
    """Databases may hand back naive datetimes: they are stored as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
