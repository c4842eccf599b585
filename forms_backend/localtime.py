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
