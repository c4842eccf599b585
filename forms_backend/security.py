"""Security headers, request limits and rate limiting for every backend response."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import time
from typing import Any

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from forms_backend import shell

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATELIMIT_STORAGE_URL"])
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URL"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Redis down must never become a 500: fall back to per-process memory and keep serving.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    app.config["RATELIMIT_KEY_PREFIX"] = "brug"
    app.extensions["brug.limiter"] = Limiter(
        key_func=get_remote_address, app=app, enabled=bool(app.config["RATELIMIT_ENABLED"])
    )
    app.extensions["brug.failure_fallback"] = {
        "strategy": FixedWindowRateLimiter(MemoryStorage()),
        "retry_at": 0.0,
    }
    app.after_request(_headers)
    # The embedded server (flask serve) logs every request's path on werkzeug's logger: no
    # personal link that still works may end up there. (gunicorn logs no requests; nginx's
    # access log redacts the same paths.)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactLinks) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactLinks())
    app.session_interface = _SessionInterface()
    # Templates post buttons (log out, confirm) with {{ csrf_token() }}; FlaskForm alone does not
    # register that global (only CSRFProtect does), so production rendering failed without it.
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its serializer built once per set of keys.

    Flask builds a new serializer for every request that opens or saves the session (the
    sign-up form's CSRF secret lives there); the keys only change with the configuration.
    """

    _cache: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._cache
        if cached is None or cached[0] != keys:
            cached = self._cache = (keys, super().get_signing_serializer(app))
        return cached[1]


def rate_limit(rule: str, *, scope: str, key: str | None = None) -> Any:
    """A context manager that counts one hit against ``rule`` (429 when exceeded).

    ``key`` limits per value (e.g. an e-mail address); without it, per client IP. The value is
    hashed with the secret key first, so no address ends up in Redis.
    """
    limiter: Limiter = current_app.extensions["brug.limiter"]
    if not limiter.enabled:
        return contextlib.nullcontext()
    if key is not None:
        hashed = keyed_hash(key.strip().lower())
        key_func = lambda: f"{scope}:{hashed}"  # noqa: E731
    else:
        key_func = lambda: f"{scope}:{get_remote_address()}"  # noqa: E731
    return limiter.limit(rule, key_func=key_func, scope=scope)


def over_limit(rule: str, *, scope: str, key: str | None = None) -> bool:
    """Count one hit as ``rate_limit`` does, but answer True instead of raising the 429 page:
    a form that was refused for trying too often shows itself again, with what was typed."""
    try:
        with rate_limit(rule, scope=scope, key=key):
            return False
    except TooManyRequests:
        return True


class FailureLimit:
    """A limit that only failures count against (a wrong password): ``check()`` answers 429
    once the failures within the rule's windows reached it, ``failed()`` counts one. Logging in
    many times a day, or a whole office behind one address logging in each morning, never
    locks anyone out; guessing still does.

    The counters live where the app's limiter keeps its own (Redis when configured). When that
    store fails, this process counts in memory for the next 30 seconds, then tries it again, as
    the limiter itself does: never a 500, and the limit still holds within the process."""

    RETRY_AFTER = 30.0

    def __init__(self, rule: str, *, scope: str, key: str | None = None) -> None:
        self.limiter: Limiter = current_app.extensions["brug.limiter"]
        self.items = parse_many(rule)
        who = keyed_hash(key.strip().lower()) if key is not None else get_remote_address()
        self.identifiers = ("brug", "failures", scope, who)

    def check(self) -> None:
        if self.limiter.enabled and not all(
            self._run(lambda strategy, item: strategy.test(item, *self.identifiers))
        ):
            raise TooManyRequests()

    def failed(self) -> None:
        if self.limiter.enabled:
            self._run(lambda strategy, item: strategy.hit(item, *self.identifiers))

    def _run(self, action: Any) -> list[bool]:
        fallback = current_app.extensions["brug.failure_fallback"]
        if time.monotonic() >= fallback["retry_at"]:
            try:
                return [action(self.limiter.limiter, item) for item in self.items]
            except Exception as exc:  # the store is down: count in this process for a while
                log.warning("rate-limit storage unavailable: %s", type(exc).__name__)
                fallback["retry_at"] = time.monotonic() + self.RETRY_AFTER
        return [action(fallback["strategy"], item) for item in self.items]


def keyed_hash(value: str) -> str:
    """A short keyed digest of a personal value (rate-limit keys, never reversible)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hashlib.blake2b(value.encode("utf-8", "replace"), key=secret[:64], digest_size=12)
    return digest.hexdigest()


# Paths whose next segment is a raw token: a link that works as a key (personal data page,
# confirmation, private feed, submission status). deploy/nginx/brug.conf redacts the same
# paths in its access log; tests check both against every route with a <token> in the URL map.
_LINK = re.compile(
    r"(?P<head>/(?:mijn|aanmelden/bevestigen|agenda/aanmelding|agenda/afmelden"
    r"|agenda/prive/bevestigen|agenda/prive|inzenden/status)/)[A-Za-z0-9_-]{20,}"
)
LINK_PLACEHOLDER = "[sleutel]"


def redact_links(text: str) -> str:
    """``text`` with the token of every personal link replaced: "/mijn/[sleutel]/wissen"."""
    return _LINK.sub(_placeholder, text)


def _placeholder(match: re.Match[str]) -> str:
    return match["head"] + LINK_PLACEHOLDER


class RedactLinks(logging.Filter):
    """Rewrites a log record's message and arguments with ``redact_links``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_links(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_links(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def content_security_policy() -> str:
    return _policy(shell.script_hashes())


@functools.lru_cache(maxsize=8)
def _policy(script_hashes: tuple[str, ...]) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'self'; "
        "object-src 'none'"
    )


_EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def _headers(response: Response) -> Response:
    """Add the security headers a view did not set itself (a view's own value wins).

    The names present are read once: werkzeug's ``setdefault`` and ``in`` scan the list and
    raise a ``KeyError`` for every absent header, on every response."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    for name, value in _EVERY_RESPONSE:
        if name.lower() not in present:
            headers.add(name, value)
    if request.endpoint and request.endpoint not in ("core.static_site", "site.static_site"):
        if "content-security-policy" not in present:
            headers.add("Content-Security-Policy", content_security_policy())
        # A view that set its own Cache-Control (public feeds, "no-cache" pages) keeps it; the
        # header is read as a string, not parsed (response.cache_control parses it per request).
        if "cache-control" not in present:
            headers.add("Cache-Control", "no-store")
    return response
