"""Many people sign up at once through gunicorn (4 workers), on SQLite and PostgreSQL; then
the same while every worker is SIGKILLed ten times. Every acknowledged sign-up must be stored
with its confirmation mail; without kills there are no errors at all, and "database is locked"
never reaches anyone. Bounded: a fixed number of sign-ups and kills, loopback only."""

from __future__ import annotations

import pytest
from brug_load import Killer, LoadResult, lost, run_signups, stored_signups

pytestmark = [pytest.mark.slow]

SIGNUPS = 100
CLIENTS = 12


def test_concurrent_signups_are_all_acknowledged_and_stored(gunicorn_4, production_database):
    result = run_signups(gunicorn_4.url, total=SIGNUPS, concurrency=CLIENTS)
    assert result.statuses() == {"303": SIGNUPS}, result.statuses()
    assert not any(o.body_has_locked for o in result.outcomes)
    stored = stored_signups(production_database, result.acknowledged)
    assert len(stored.volunteers) == SIGNUPS
    assert lost(stored) == []
    assert stored.integrity == "ok"
    log = gunicorn_4.log_text()
    assert "locked" not in log and "Traceback" not in log


def test_kill_9_of_every_worker_ten_times_loses_no_acknowledged_signup(
    gunicorn_4, production_database
):
    result = LoadResult()
    killer = Killer(gunicorn_4, lambda: len(result.outcomes), times=10, timeout=90)
    killer.start()
    run_signups(
        gunicorn_4.url,
        total=20,
        concurrency=CLIENTS,
        keep_going=lambda: not killer.done.is_set(),
        max_total=2000,
        into=result,
    )
    killer.join(timeout=100)
    assert killer.kills == 10
    acknowledged = result.acknowledged
    assert len(acknowledged) >= 20, result.statuses()
    stored = stored_signups(production_database, acknowledged)
    assert lost(stored) == []
    assert stored.integrity == "ok"
    # what was not acknowledged failed loudly (no answer or an error page), never a false "thanks"
    for outcome in result.outcomes:
        assert outcome.acknowledged or outcome.status in (None, 500, 502, 503), outcome
        assert not outcome.body_has_locked
