"""Back-office accounts: coordinators (scoped to programmes and regions) and administrators.

Passwords are hashed with argon2id. A coordinator sees only records of their own programmes
*and* regions; an administrator sees everything. ``session_version`` lets a user log out
everywhere: raising it invalidates every session cookie issued before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON
from sqlmodel import Field, Session, SQLModel, func, select

from forms_backend.db import UTCDateTime

Role = Literal["coordinator", "admin"]
ROLES: dict[str, str] = {"coordinator": "Coördinator", "admin": "Beheerder"}
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=200)
    role: str = Field(default="coordinator", max_length=20)
    programmes: list[str] = Field(default_factory=list, sa_type=JSON)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    active: bool = True
    session_version: int = 1
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"user:{self.id}"

    def may_see(self, *, programme: str | None = None, region: str | None = None) -> bool:
        """Scope check used by every back-office query and detail page."""
        if self.is_admin:
            return True
        if programme is not None and programme not in self.programmes:
            return False
        return not (region is not None and self.regions and region not in self.regions)


class AccountError(ValueError):
    """Input that cannot make a valid account (Dutch message)."""


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    now: dt.datetime,
    programmes: list[str] | None = None,
    regions: list[str] | None = None,
) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"rol moet een van {', '.join(ROLES)} zijn")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens")
    if "@" not in email:
        raise AccountError("geef een geldig e-mailadres")
    if session.exec(select(User).where(func.lower(User.email) == email)).first():
        raise AccountError("er is al een account met dit e-mailadres")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=_hasher.hash(password),
        role=role,
        programmes=sorted(set(programmes or [])),
        regions=sorted(set(regions or [])),
        created_at=now,
    )
    session.add(user)
    return user


def authenticate(session: Session, *, email: str, password: str, now: dt.datetime) -> User | None:
    """The active user with this e-mail and password, or None. Same work either way."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    session.add(user)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens")
    user.password_hash = _hasher.hash(password)
    user.session_version += 1
    session.add(user)


def logout_everywhere(session: Session, user: User) -> None:
    user.session_version += 1
    session.add(user)


# Who did something, in the words of the back office's logs and step tables.
ACTOR_WORDS = {
    "vrijwilliger": "de vrijwilliger",
    "inzender": "de inzender",
    "systeem": "Brug",
    "demo": "demodata",  # the entries that `make db` writes with the demo data
    "cli": "een beheercommando",  # e.g. `flask --app forms_backend rebuild`
}


def all_users(session: Session) -> list[User]:
    """Every account, also those no longer active (their entries stay in the log)."""
    return list(session.exec(select(User)))


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """'user:3' → the account's name (and the fixed actors in words), for logs and tables."""
    names = dict(ACTOR_WORDS)
    for actor in set(actors):
        kind, _, number = actor.partition(":")
        if kind == "user" and number.isdigit() and actor not in names:
            user = session.get(User, int(number))
            names[actor] = user.name if user else "(account verwijderd)"
    return names
