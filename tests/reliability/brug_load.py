"""Load against a running gunicorn: many clients signing up, workers killed with SIGKILL, and a
check that every acknowledged sign-up is stored with its mail. Used by tests/reliability and by
bench/bench_reliability.py (longer runs).

A client is one person: it GETs the form (CSRF token, start stamp, session cookie), then POSTs
it. "Acknowledged" means the answer was the 303 to the thank-you page; only then may the person
believe it worked, so only then must it be in the database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from brug_stack import Browser, Gunicorn, hidden_inputs
from sqlalchemy import text

from forms_backend import db

THANKS = "/aanmelden/cosa/bedankt"
ROOT = Path(__file__).resolve().parents[2]


def signup_fields(email: str, n: int) -> dict[str, object]:
    return {
        "name": f"Proef Vrijwilliger {n}",
        "email": email,
        "phone": "06 12345678",
        "postcode": "6811 AA",
        "motivation": "Ik wil graag helpen bij de terugkeer van mensen na detentie.",
        "availability": ["weekend"],
        "heard_via": "website",
        "consent": "y",
        "q_twee_jaar": "ja",
        "q_zedendelict": "ja",
    }


@dataclass
class Outcome:
    email: str
    status: int | None  # None: no answer (connection reset by a killed worker)
    location: str | None = None
    error: str = ""
    body_has_locked: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.status == 303 and self.location == THANKS


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    kills: int = 0

    @property
    def acknowledged(self) -> list[str]:
        return [o.email for o in self.outcomes if o.acknowledged]

    @property
    def rate(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0

    def statuses(self) -> Counter[str]:
        return Counter(
            str(o.status) if o.status is not None else f"geen antwoord ({o.error})"
            for o in self.outcomes
        )


def sign_up_once(base: str, n: int, run: str) -> Outcome:
    email = f"load-{run}-{n}@example.nl"
    # each client has its own address (nginx would pass it on); the per-IP limits count per person
    browser = Browser(
        base, headers={"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    )
    try:
        page = browser.get("/aanmelden/cosa")
        if page.status != 200:
            return Outcome(
                email, page.status, error="form page", body_has_locked="locked" in page.text
            )
        reply = browser.post(
            "/aanmelden/cosa", data={**hidden_inputs(page.text), **signup_fields(email, n)}
        )
        return Outcome(email, reply.status, reply.location, body_has_locked="locked" in reply.text)
    except (OSError, ConnectionError) as exc:  # the worker died under us: not acknowledged
        return Outcome(email, None, error=type(exc).__name__)
    except Exception as exc:  # http.client.RemoteDisconnected and friends
        return Outcome(email, None, error=type(exc).__name__)


def run_signups(
    base: str,
    *,
    total: int,
    concurrency: int,
    keep_going: Callable[[], bool] | None = None,
    max_total: int = 5000,
    into: LoadResult | None = None,
) -> LoadResult:
    """``total`` sign-ups from ``concurrency`` clients at once. With ``keep_going``: sign-ups go on
    while it says so, then ``total`` more (never more than ``max_total``). ``into`` lets another
    thread watch the outcomes as they come in."""
    run = uuid.uuid4().hex[:8]
    result = into if into is not None else LoadResult()
    lock = threading.Lock()
    counter = iter(range(max_total))
    stop_at: list[int | None] = [None if keep_going is not None else total]

    def next_number() -> int | None:
        with lock:
            n = next(counter, None)
            if n is None:
                return None
            if stop_at[0] is None and keep_going is not None and not keep_going():
                stop_at[0] = n + total
            return n if stop_at[0] is None or n < stop_at[0] else None

    def client() -> None:
        while (n := next_number()) is not None:
            outcome = sign_up_once(base, n, run)
            with lock:
                result.outcomes.append(outcome)

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


class Killer(threading.Thread):
    """SIGKILLs every gunicorn worker ``times`` times while sign-ups are being acknowledged."""

    def __init__(self, backend: Gunicorn, result_progress: Callable[[], int], *, times: int = 10,
                 timeout: float = 60.0) -> None:
        super().__init__(daemon=True)
        self.backend, self.progress = backend, result_progress
        self.times, self.timeout = times, timeout
        self.kills = 0
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        try:
            for _ in range(self.times):
                seen = self.progress()
                while self.progress() < seen + 3 and time.monotonic() < deadline:  # load is flowing
                    time.sleep(0.02)
                pids = self.backend.worker_pids()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.kills += 1
                while time.monotonic() < deadline:  # the master starts fresh workers
                    fresh = self.backend.worker_pids()
                    if len(fresh) >= self.backend.workers and not set(fresh) & set(pids):
                        break
                    time.sleep(0.05)
                if time.monotonic() >= deadline:
                    return
        finally:
            self.done.set()


@dataclass
class Stored:
    volunteers: dict[str, int]  # email -> rows
    mails: dict[str, int]  # recipient -> confirmation mails in the outbox
    integrity: str


def stored_signups(database_url: str, emails: list[str]) -> Stored:
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            volunteers = Counter(
                r[0]
                for r in conn.execute(text("SELECT email FROM volunteer WHERE email LIKE 'load-%'"))
            )
            mails = Counter(r[0] for r in conn.execute(text(
                "SELECT recipient FROM outbox_message "
                "WHERE kind = 'vrijwilliger.bevestigen' AND recipient LIKE 'load-%'"
            )))
            integrity = "ok"
            if engine.dialect.name == "sqlite":
                integrity = ",".join(r[0] for r in conn.execute(text("PRAGMA integrity_check")))
    finally:
        engine.dispose()
    wanted = set(emails)
    return Stored(
        {e: volunteers.get(e, 0) for e in wanted}, {e: mails.get(e, 0) for e in wanted}, integrity
    )


def lost(stored: Stored) -> list[str]:
    """Acknowledged sign-ups without exactly one volunteer row and one confirmation mail."""
    return sorted(e for e in stored.volunteers if stored.volunteers[e] != 1 or stored.mails[e] != 1)
