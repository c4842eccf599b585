"""Single-purpose, expiring links (confirmation, self-service, cancellation, status).

Only a SHA-256 digest of a token is stored, so a database leak gives no working links. A token
names its purpose and subject; redeeming it for another purpose fails like an unknown token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlmodel import Field, Session, SQLModel, select

from forms_backend.db import UTCDateTime


class Token(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True, index=True)
    purpose: str = Field(max_length=40)
    subject: str = Field(max_length=80, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    single_use: bool = True


class TokenError(Exception):
    """The link is unknown, used, expired or meant for something else."""

    def __init__(self, message: str, *, reason: str = "unknown") -> None:
        super().__init__(message)
        self.reason = reason  # "unknown" (or meant for something else), "used" or "expired"

    @property
    def gone(self) -> bool:
        """The link was real but works no more (used, expired): 410 rather than 404."""
        return self.reason != "unknown"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def mint() -> tuple[str, str]:
    """A new raw token and its digest, without a database (a caller may insert the row itself)."""
    raw = secrets.token_urlsafe(32)
    return raw, _digest(raw)


def issue(
    session: Session,
    *,
    purpose: str,
    subject: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    single_use: bool = True,
) -> str:
    """Create a token and return its raw value (shown once, in a link)."""
    raw, digest = mint()
    session.add(
        Token(
            digest=digest,
            purpose=purpose,
            subject=subject,
            created_at=now,
            expires_at=now + ttl,
            single_use=single_use,
        )
    )
    return raw


def find(session: Session, raw: str, *, purpose: str) -> Token | None:
    """The token for ``raw`` and ``purpose`` whatever its state (used, expired), or None."""
    if not raw or len(raw) > 200:
        return None
    token = session.exec(select(Token).where(Token.digest == _digest(raw))).first()
    return token if token is not None and token.purpose == purpose else None


def peek(session: Session, raw: str, *, purpose: str, now: dt.datetime) -> Token:
    """The valid token for ``raw`` without using it up; TokenError otherwise."""
    token = find(session, raw, purpose=purpose)
    if token is None:
        raise TokenError("onbekende link")
    if token.single_use and token.used_at is not None:
        raise TokenError("deze link is al gebruikt", reason="used")
    if now >= token.expires_at:
        raise TokenError("deze link is verlopen", reason="expired")
    return token


def redeem(session: Session, raw: str, *, purpose: str, now: dt.datetime) -> Token:
    """Use the token once (single-use tokens cannot be redeemed again)."""
    token = peek(session, raw, purpose=purpose, now=now)
    if token.single_use:
        token.used_at = now
        session.add(token)
    return token


def subject_id(token: Token, kind: str) -> int:
    """The numeric id from a subject like ``volunteer:12``; TokenError if the kind differs."""
    prefix, _, value = token.subject.partition(":")
    if prefix != kind or not value.isdigit():
        raise TokenError("onbekende link")
    return int(value)


def revoke(session: Session, *, subject: str, now: dt.datetime, purpose: str | None = None) -> int:
    """Expire every open token of a subject (e.g. on erasure); returns how many."""
    query = select(Token).where(Token.subject == subject, Token.expires_at > now)
    if purpose is not None:
        query = query.where(Token.purpose == purpose)
    count = 0
    for token in session.exec(query):
        token.expires_at = now
        session.add(token)
        count += 1
    return count


def purge_expired(session: Session, *, now: dt.datetime, grace: dt.timedelta) -> int:
    """Delete tokens that expired more than ``grace`` ago."""
    old = session.exec(select(Token).where(Token.expires_at < now - grace)).all()
    for token in old:
        session.delete(token)
    return len(old)
