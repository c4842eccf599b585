"""Brug's one time zone: moments are stored in UTC, people read them in Amsterdam time.

A date that a person reads or a rule counts in (a step's date, "Sinds", a CSV's "aangemeld op")
is the Amsterdam date of the moment: at 00.30 in the night it is already the next day there,
while in UTC it is still the day before. No Flask here: domain modules use it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZID = "Europe/Amsterdam"
ZONE = ZoneInfo(TZID)


def local(value: dt.datetime) -> dt.datetime:
    """The moment in Amsterdam time (aware)."""
    return value.astimezone(ZONE)


def local_date(value: dt.datetime) -> dt.date:
    """The Amsterdam date of a moment."""
    return value.astimezone(ZONE).date()


def short_moment(value: dt.datetime) -> str:
    """A moment in a table or a spreadsheet: "04-10-2026 14.30", in Amsterdam time."""
    return f"{local(value):%d-%m-%Y %H.%M}"


def day_start(day: dt.date) -> dt.datetime:
    """The moment (UTC) an Amsterdam day begins; midnight always exists here (the clocks change
    at 2.00 and 3.00), so a day of 23 or 25 hours ends where the next one begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZONE).astimezone(dt.UTC)


def term(length: dt.timedelta) -> str:
    """How long something works, in words: "7 dagen", "1 dag", "36 uur", "30 minuten".

    Whole days in days, else whole hours, below an hour in minutes; rounded down, so a link
    never works shorter than the mail says.
    """
    minutes = int(length.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and hours % 24 == 0 and not rest:
        return "1 dag" if hours == 24 else f"{hours // 24} dagen"
    if hours:
        return f"{hours} uur"
    return "1 minuut" if minutes <= 1 else f"{minutes} minuten"
