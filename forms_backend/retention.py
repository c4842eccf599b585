"""Retention: every rule that removes personal data after its term, run by ``flask purge``.

Each domain module may define ``RETENTION_RULES: dict[str, Rule]``; one command and one daily
job run them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session

from forms_backend import meetings, outbox, submissions, tokens, volunteers

Rule = Callable[[Session, dt.datetime], int]
BASE_RULES: dict[str, Rule] = {
    "verstuurde e-mails ouder dan 30 dagen": lambda s, now: outbox.purge_sent(
        s, now=now, older_than=dt.timedelta(days=30)
    ),
    "verlopen links": lambda s, now: tokens.purge_expired(s, now=now, grace=dt.timedelta(days=7)),
}


def rules() -> dict[str, Rule]:
    found: dict[str, Rule] = dict(BASE_RULES)
    for module in (volunteers, meetings, submissions):
        found.update(getattr(module, "RETENTION_RULES", {}))
    return found


def purge(session: Session, *, now: dt.datetime) -> dict[str, int]:
    """Run every rule in one transaction; returns the count per rule."""
    return {name: rule(session, now) for name, rule in rules().items()}
