"""Demo data for `make serve`: clearly marked, invented, never real people.

Each domain module defines ``seed_demo(session, now) -> list[str]``; ``seed`` runs them in
order inside one transaction and returns the lines to print.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, select

from forms_backend import accounts, meetings, submissions, volunteers

DEMO_PASSWORD = "demo-wachtwoord-brug"  # noqa: S105 - printed by `make serve`; demo database only
DEMO_DOMAIN = "demo.brug.example.nl"

Seeder = Callable[[Session, dt.datetime], list[str]]


def _seed_accounts(session: Session, now: dt.datetime) -> list[str]:
    accounts.create_user(
        session,
        email=f"beheer@{DEMO_DOMAIN}",
        name="Demo beheerder",
        password=DEMO_PASSWORD,
        role="admin",
        now=now,
    )
    accounts.create_user(
        session,
        email=f"cosa-gelderland@{DEMO_DOMAIN}",
        name="Demo coördinator COSA Gelderland",
        password=DEMO_PASSWORD,
        role="coordinator",
        now=now,
        programmes=["cosa"],
        regions=["gelderland"],
    )
    return [
        "Demo-accounts (alleen voor de demodatabase):",
        f"  beheerder:   beheer@{DEMO_DOMAIN} / {DEMO_PASSWORD}",
        f"  coördinator: cosa-gelderland@{DEMO_DOMAIN} / {DEMO_PASSWORD}",
    ]


def seeders(config: Mapping[str, Any] | None = None) -> list[Seeder]:
    """The seeders in order; ``config`` (the app's) gives the agenda its links and UID domain."""
    settings = meetings.Settings.from_config(config) if config else meetings.Settings()
    return [
        _seed_accounts,
        volunteers.seed_demo,
        functools.partial(meetings.seed_demo, settings=settings),
        submissions.seed_demo,
    ]


def present(session: Session) -> bool:
    query = select(accounts.User).where(accounts.User.email == f"beheer@{DEMO_DOMAIN}")
    return session.exec(query).first() is not None


def seed(
    session: Session, *, now: dt.datetime, config: Mapping[str, Any] | None = None
) -> list[str]:
    lines: list[str] = []
    for seeder in seeders(config):
        lines += seeder(session, now)
    return lines
