"""Meetings, registrations with a waitlist, partner feeds, and what feeds and invitations need.

Times are stored in UTC plus a zone name (always Europe/Amsterdam for now); organisers type
local wall-clock times. Every change that a subscriber or registrant should notice raises the
meeting's ``sequence`` and moves ``last_modified``; every change at all bumps the one
``calendar_version`` row, so a feed poll costs a single primary-key lookup.

Registration never overbooks: seats are handed out while the meeting row is locked (``SELECT
... FOR UPDATE`` on PostgreSQL; SQLite write transactions are ``BEGIN IMMEDIATE`` already).
When a seat frees up, the first person on the waitlist gets it and an invitation.

Pure domain code: functions take a session, explicit inputs and ``now``; no Flask here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from dateutil.rrule import rrulestr
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    Text,
    UniqueConstraint,
    func,
    update,
)
from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend import audit, feeds, outbox, spreadsheet, tokens
from forms_backend.content import LEEFGEBIEDEN, MONTHS, REGIOS, role_mailbox_problem
from forms_backend.db import UTCDateTime
from forms_backend.localtime import ZONE, local, term

PACKAGE = Path(__file__).resolve().parent
TZ_NAME = feeds.TZID

AUDIENCES: dict[str, str] = {
    "open": "Open voor iedereen",
    "partners": "Voor partners (professionals)",
    "closed": "Besloten groep",
}
PUBLIC_AUDIENCES = ("open", "partners")
STATUSES: dict[str, str] = {
    "gepland": "Gepland",
    "gewijzigd": "Gewijzigd",
    "geannuleerd": "Geannuleerd",
}
REPEATS: dict[str, str] = {
    "": "Niet herhalen",
    "weekly": "Elke week",
    "biweekly": "Om de week",
    "monthly": "Elke maand",  # on the same weekday: the form's hint says so
}
REGISTRATION_STATUSES: dict[str, str] = {
    "bevestigen": "Nog niet bevestigd",
    "aangemeld": "Aangemeld",
    "wachtlijst": "Wachtlijst",
    "afgemeld": "Afgemeld",
}
MAX_OCCURRENCES = 52
MAX_CAPACITY = 5000
MAX_DURATION = dt.timedelta(days=14)
MAX_AHEAD = dt.timedelta(days=3 * 365)

PURPOSE_CONFIRM = "bijeenkomst.bevestigen"
PURPOSE_CANCEL = "bijeenkomst.afmelden"
PURPOSE_FEED_CONFIRM = "prive-agenda.bevestigen"
CONFIRM_TTL = dt.timedelta(hours=72)
CONFIRM_TERM = term(CONFIRM_TTL)  # "3 dagen", as the mails say it
FETCH_STAMP_EVERY = dt.timedelta(minutes=10)
REGISTRATION_KEPT = dt.timedelta(days=90)  # after the (last) meeting ends

_GROUP = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


class MeetingError(ValueError):
    """Something an organiser or registrant can fix or must know (Dutch message)."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        problems: list[tuple[str, str | None]] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        # every problem found, each with its field; the first is the message itself
        self.problems = problems or [(message, field)]


class LinkError(MeetingError):
    """A personal link that does not work: unknown (404), or used or expired (410)."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone

    @property
    def status(self) -> int:
        return 410 if self.gone else 404


LINK_USED = "Deze link is al gebruikt."
LINK_EXPIRED = "Deze link is verlopen."
LINK_UNKNOWN = "Deze link kennen we niet. Misschien is hij niet helemaal gekopieerd."


def _link_error(exc: tokens.TokenError, used: str = LINK_USED) -> LinkError:
    if exc.reason == "used":
        return LinkError(used, gone=True)
    if exc.reason == "expired":
        return LinkError(LINK_EXPIRED, gone=True)
    return LinkError(LINK_UNKNOWN)


# ---------------------------------------------------------------------------------------------
# tables


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    slug: str = Field(default="", max_length=80)
    description: str = ""
    starts_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_start: dt.datetime = Field(sa_type=UTCDateTime, index=True)  # start of the last occurrence
    tz: str = Field(default=TZ_NAME, max_length=60)
    all_day: bool = False
    location: str = Field(default="", max_length=300)
    online_url: str = Field(default="", max_length=500)
    geo_lat: float | None = None
    geo_lon: float | None = None
    region: str = Field(max_length=40, index=True)
    theme: str = Field(default="", max_length=40, index=True)
    audience: str = Field(default="open", max_length=20, index=True)
    group: str = Field(default="", max_length=60)  # for a closed audience: who may see it
    organiser_mailbox: str = Field(default="", max_length=320)  # a role mailbox, never a person
    organiser_name: str = Field(default="Brug agenda", max_length=120)
    capacity: int | None = None
    registration_deadline: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    repeat: str = Field(default="", max_length=20)
    repeat_count: int = 1
    exdates: list[str] = Field(default_factory=list, sa_type=JSON)  # UTC ISO original starts
    status: str = Field(default="gepland", max_length=20)
    sequence: int = 0
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_modified: dt.datetime = Field(sa_type=UTCDateTime)
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=80)
    # The meeting's serialised VEVENTs (master and RECURRENCE-ID overrides), stored on every
    # change: a feed is a query of this column plus a fixed head and footer. ``ical_key`` says
    # which site and serialiser made it (feeds.fragment_key); ``feed_until`` when it leaves feeds.
    ical: str | None = Field(default=None, sa_type=Text)
    ical_key: str = Field(default="", max_length=16)
    feed_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)

    @property
    def cancelled(self) -> bool:
        return self.status == "geannuleerd"

    @property
    def rrule(self) -> str | None:
        return build_rrule(self.repeat, self.repeat_count, self.starts_at)

    @property
    def path(self) -> str:
        return f"{self.id}-{self.slug}" if self.slug else str(self.id)

    @property
    def public(self) -> bool:
        """Whether it has a page on the site (a closed group's meeting has none)."""
        return self.audience in PUBLIC_AUDIENCES

    @property
    def subject(self) -> str:
        return f"meeting:{self.id}"


class MeetingOccurrence(SQLModel, table=True):
    """A changed (moved, other place) or cancelled single occurrence of a recurring meeting."""

    __tablename__ = "meeting_occurrence"
    __table_args__ = (UniqueConstraint("meeting_id", "recurrence_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    recurrence_id: dt.datetime = Field(sa_type=UTCDateTime)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    cancelled: bool = False
    location: str = Field(default="", max_length=300)


class Registration(SQLModel, table=True):
    __tablename__ = "meeting_registration"
    __table_args__ = (UniqueConstraint("meeting_id", "email_key"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=120)
    email: str = Field(max_length=320)
    email_key: str = Field(
        max_length=320, index=True
    )  # lower-case, for "have we seen this address"
    organisation: str = Field(default="", max_length=200)
    status: str = Field(default="bevestigen", max_length=20)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    confirmed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    placed_at: dt.datetime | None = Field(
        default=None, sa_type=UTCDateTime
    )  # seat or waitlist since
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Added to the meeting's SEQUENCE in this person's iTIP mail. A deregistration raises it
    # twice: once for its CANCEL, and once more so that a later REQUEST (registering again, or
    # moving up from the waitlist) outranks that CANCEL; clients ignore one that does not rise.
    itip_offset: int = 0

    @property
    def subject(self) -> str:
        return f"registration:{self.id}"


class PartnerFeed(SQLModel, table=True):
    """A private feed for a partner: filters, closed groups they may see, revocable."""

    __tablename__ = "partner_feed"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=320)
    organisation: str = Field(default="", max_length=200)
    token_digest: str | None = Field(default=None, max_length=64, unique=True)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    audiences: list[str] = Field(default_factory=lambda: list(PUBLIC_AUDIENCES), sa_type=JSON)
    groups: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    confirmed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_fetched_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=80)

    @property
    def active(self) -> bool:
        return (
            self.confirmed_at is not None
            and self.revoked_at is None
            and self.token_digest is not None
        )


class CalendarVersion(SQLModel, table=True):
    """One row whose ``version`` goes up on every change to any meeting (feed cache key)."""

    __tablename__ = "calendar_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---------------------------------------------------------------------------------------------
# settings, e-mail


@dataclass(frozen=True)
class Settings:
    """Links and addresses from the app's configuration (the views build this once)."""

    base_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "brug.example.nl"
    site_name: str = "Brug"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings of an app's configuration (PUBLIC_URL, MAIL_DOMAIN, SITE_NAME)."""
        return cls(
            base_url=config["PUBLIC_URL"],
            mail_domain=config["MAIL_DOMAIN"],
            site_name=config["SITE_NAME"],
        )

    @property
    def organiser(self) -> str:
        return f"agenda@{self.mail_domain}"

    @property
    def feed_site(self) -> feeds.FeedSite:
        return feeds.FeedSite(
            base_url=self.base_url.rstrip("/"), domain=self.mail_domain, organiser=self.organiser
        )

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


render_mail = outbox.render_mail  # the one mail-template renderer


# ---------------------------------------------------------------------------------------------
# time helpers


def to_utc(
    local: dt.datetime, *, what: str = "Dit tijdstip", field: str | None = None
) -> dt.datetime:
    """A wall-clock time in Amsterdam to UTC; refuses times that do not exist (the spring gap)
    and times that exist twice (the autumn hour, 2.00-3.00): which one was meant is a guess."""
    if local.tzinfo is not None:
        return local.astimezone(dt.UTC)
    aware = local.replace(tzinfo=ZONE)
    back = aware.astimezone(dt.UTC).astimezone(ZONE).replace(tzinfo=None)
    if back != local:
        raise MeetingError(
            f"{what} bestaat niet: de klok gaat die nacht een uur vooruit. "
            "Kies een ander tijdstip.",
            field,
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        raise MeetingError(
            f"{what} komt die nacht twee keer voor: de klok gaat een uur terug. "
            "Kies een tijdstip vóór 2.00 of vanaf 3.00 uur.",
            field,
        )
    return aware.astimezone(dt.UTC)


def build_rrule(repeat: str, count: int, starts_at: dt.datetime) -> str | None:
    if not repeat or count <= 1:
        return None
    if repeat == "weekly":
        return f"FREQ=WEEKLY;COUNT={count}"
    if repeat == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;COUNT={count}"
    if repeat == "monthly":
        start = local(starts_at)
        nth = (start.day - 1) // 7 + 1
        weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]
        return f"FREQ=MONTHLY;BYDAY={-1 if nth == 5 else nth}{weekday};COUNT={count}"
    raise MeetingError("Kies een geldige herhaling.", "repeat")


def series_starts(meeting: Meeting) -> list[dt.datetime]:
    """Every original start of the series in UTC (wall-clock recurrence in Amsterdam)."""
    rule = meeting.rrule
    if rule is None:
        return [meeting.starts_at]
    first = local(meeting.starts_at).replace(tzinfo=None)
    starts = list(rrulestr(rule, dtstart=first))[:MAX_OCCURRENCES]
    return [value.replace(tzinfo=ZONE).astimezone(dt.UTC) for value in starts]


OCCURRENCE_KEY = "%Y%m%dT%H%M%SZ"


def occurrence_key(start: dt.datetime) -> str:
    """How one date of a series is named in links and forms: its original start in UTC."""
    return start.strftime(OCCURRENCE_KEY)


def key_start(key: str) -> dt.datetime | None:
    """The original start that ``occurrence_key`` named (None for anything else)."""
    try:
        return dt.datetime.strptime(key, OCCURRENCE_KEY).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Occurrence:
    """One date of a meeting as people see it on the agenda."""

    meeting: Meeting
    recurrence_id: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    cancelled: bool
    changed: bool
    location: str

    @property
    def key(self) -> str:
        return occurrence_key(self.recurrence_id)


def occurrences(meeting: Meeting, overrides: Iterable[MeetingOccurrence] = ()) -> list[Occurrence]:
    """The dates of a meeting: skipped dates left out, changed ones moved, cancelled marked."""
    by_id = {o.recurrence_id: o for o in overrides}
    skipped = {dt.datetime.fromisoformat(value) for value in meeting.exdates}
    duration = meeting.ends_at - meeting.starts_at
    result = []
    for start in series_starts(meeting):
        if start in skipped:
            continue
        override = by_id.get(start)
        if override is not None:
            result.append(
                Occurrence(
                    meeting,
                    start,
                    override.starts_at,
                    override.ends_at,
                    meeting.cancelled or override.cancelled,
                    True,
                    override.location or meeting.location,
                )
            )
        else:
            result.append(
                Occurrence(
                    meeting,
                    start,
                    start,
                    start + duration,
                    meeting.cancelled,
                    False,
                    meeting.location,
                )
            )
    return result


def places(count: int) -> str:
    """A number of places in words: "1 plaats", "5 plaatsen"."""
    return "1 plaats" if count == 1 else f"{count} plaatsen"


def one_line(value: str | None, limit: int) -> str:
    """Collapse whitespace and drop control characters (CR, LF, BEL ...) from a one-line field."""
    text = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " "
        for ch in unicodedata.normalize("NFC", value or "")
    )
    return " ".join(text.split())[:limit]


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")


# ---------------------------------------------------------------------------------------------
# the calendar version (feed cache key)


def calendar_version(session: Session) -> int:
    """One primary-key lookup: what a feed poll costs before it can answer 304."""
    row = session.get(CalendarVersion, 1)
    return row.version if row is not None else 0


def calendar_version_row(session: Session) -> tuple[int, dt.datetime | None]:
    """(version, changed_at) in one indexed query, bypassing the session's identity map."""
    row = session.exec(
        select(CalendarVersion.version, CalendarVersion.changed_at).where(CalendarVersion.id == 1)
    ).first()
    return (row[0], row[1]) if row is not None else (0, None)


def _bump(session: Session, now: dt.datetime) -> None:
    updated = session.exec(
        update(CalendarVersion)
        .where(col(CalendarVersion.id) == 1)
        .values(version=CalendarVersion.version + 1, changed_at=now)
    )
    if updated.rowcount == 0:
        session.add(CalendarVersion(id=1, version=1, changed_at=now))
    session.flush()


def _touch(
    session: Session, meeting: Meeting, now: dt.datetime, *, notable: bool, settings: Settings
) -> None:
    # last_modified must move forward even when two edits share a clock reading
    meeting.last_modified = (
        max(now, meeting.last_modified + dt.timedelta(seconds=1)) if meeting.last_modified else now
    )
    if notable:
        meeting.sequence += 1
    store_fragment(session, meeting, settings.feed_site)
    session.add(meeting)
    _bump(session, now)


def store_fragment(session: Session, meeting: Meeting, site: feeds.FeedSite) -> None:
    """Render the meeting's VEVENTs (with its current overrides) into its ``ical`` column."""
    session.flush()  # pending overrides and a new meeting's id
    item = meeting_feed(session, meeting)
    meeting.ical = feeds.fragment(item, site).decode("utf-8")
    meeting.ical_key = feeds.fragment_key(site)
    meeting.feed_until = feeds.feed_until(item)
    session.add(meeting)


# ---------------------------------------------------------------------------------------------
# creating and changing meetings


@dataclass
class MeetingInput:
    """What an organiser typed, parsed; ``validate`` turns it into column values or raises."""

    title: str
    start: dt.datetime  # local wall-clock time (naive) in Amsterdam
    end: dt.datetime
    region: str
    description: str = ""
    all_day: bool = False
    location: str = ""
    online_url: str = ""
    theme: str = ""
    audience: str = "open"
    group: str = ""
    organiser_mailbox: str = ""
    organiser_name: str = ""
    capacity: int | None = None
    registration_deadline: dt.datetime | None = None  # local, naive
    repeat: str = ""
    repeat_count: int = 1
    geo_lat: float | None = None
    geo_lon: float | None = None

    def validate(self, *, now: dt.datetime, mail_domain: str) -> dict[str, Any]:
        """The values to store; MeetingError with every problem at once (each at its field),
        so an organiser fixes the form in one go."""
        problems: list[tuple[str, str | None]] = []

        def refuse(message: str, field: str) -> None:
            problems.append((message, field))

        def utc(value: dt.datetime, what: str, field: str) -> dt.datetime | None:
            try:
                return to_utc(value, what=what, field=field)
            except MeetingError as exc:
                problems.extend(exc.problems)
                return None

        title = one_line(self.title, 1000)
        if not title:
            refuse("Geef de bijeenkomst een titel.", "title")
        elif len(title) > 200:
            refuse("Maak de titel korter (hoogstens 200 tekens).", "title")
        start: dt.datetime | None
        end: dt.datetime | None
        if self.all_day:
            start = to_utc(dt.datetime.combine(self.start.date(), dt.time()))
            # the form gives the last day; the calendar wants the day after it (exclusive)
            end = to_utc(dt.datetime.combine(self.end.date() + dt.timedelta(days=1), dt.time()))
        else:
            start = utc(self.start, "De begintijd", "start")
            end = utc(self.end, "De eindtijd", "end")
        if start is not None and end is not None:
            problems.extend(span_problems(start, end, now=now))
        if self.region not in REGIOS:
            refuse("Kies een regio uit de lijst.", "region")
        if self.theme and self.theme not in LEEFGEBIEDEN:
            refuse("Kies een leefgebied uit de lijst.", "theme")
        if self.audience not in AUDIENCES:
            refuse("Kies voor wie de bijeenkomst is.", "audience")
        group = (self.group or "").strip().lower()
        if self.audience == "closed" and not _GROUP.match(group):
            refuse(
                "Geef voor een besloten groep een groepsnaam van kleine letters, "
                "cijfers en streepjes.",
                "group",
            )
        if self.capacity is not None and not 1 <= self.capacity <= MAX_CAPACITY:
            refuse(
                f"Het aantal plaatsen ligt tussen 1 en {MAX_CAPACITY}. "
                "Laat het leeg voor onbeperkt.",
                "capacity",
            )
        deadline = None
        if self.registration_deadline is not None:
            deadline = utc(self.registration_deadline, "De aanmeldtermijn", "registration_deadline")
            if deadline is not None and start is not None and deadline > start:
                refuse(
                    "De aanmeldtermijn moet vóór het begin van de bijeenkomst liggen.",
                    "registration_deadline",
                )
        count = self.repeat_count if self.repeat else 1
        if self.repeat not in REPEATS:
            refuse("Kies een geldige herhaling.", "repeat")
        elif not 1 <= count <= MAX_OCCURRENCES:
            refuse(f"Een reeks heeft hoogstens {MAX_OCCURRENCES} keer.", "repeat_count")
        elif self.repeat and count < 2:
            refuse("Een herhaling heeft minstens 2 keer.", "repeat_count")
        online = (self.online_url or "").strip()
        if online and not re.match(r"^https://[^\s<>\"]+$", online):
            refuse("Een online link begint met https:// en heeft geen spaties.", "online_url")
        mailbox = (self.organiser_mailbox or "").strip().lower()
        if mailbox:  # it goes into every feed as ORGANIZER: a role mailbox, never a person
            try:
                mailbox = validate_email(mailbox, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                refuse(
                    "Geef een geldig functioneel e-mailadres (zoals agenda@...).",
                    "organiser_mailbox",
                )
            else:
                problem = role_mailbox_problem(mailbox)
                if problem:
                    refuse(problem, "organiser_mailbox")
        if (self.geo_lat is None) != (self.geo_lon is None):
            refuse("Geef breedte- en lengtegraad allebei, of geen van beide.", "geo_lat")
        if self.geo_lat is not None and not -90 <= self.geo_lat <= 90:
            refuse("De breedtegraad ligt tussen -90 en 90 (Nederland: rond 52).", "geo_lat")
        if self.geo_lon is not None and not -180 <= self.geo_lon <= 180:
            refuse("De lengtegraad ligt tussen -180 en 180 (Nederland: rond 5).", "geo_lon")
        location = one_line(self.location, 300)
        if not location and not online:
            refuse("Geef een adres of een online link.", "location")
        if problems:
            message, field = problems[0]
            raise MeetingError(message, field, problems=problems)
        assert start is not None and end is not None
        values: dict[str, Any] = {
            "title": title,
            "slug": slugify(title),
            "description": (self.description or "").strip()[:10_000],
            "starts_at": start,
            "ends_at": end,
            "all_day": self.all_day,
            "location": location,
            "online_url": online,
            "region": self.region,
            "theme": self.theme or "",
            "audience": self.audience,
            "group": group if self.audience == "closed" else "",
            "organiser_mailbox": mailbox,
            "organiser_name": one_line(self.organiser_name, 120) or "Brug agenda",
            "capacity": self.capacity,
            "registration_deadline": deadline,
            "repeat": self.repeat if count > 1 else "",
            "repeat_count": count,
            "geo_lat": self.geo_lat,
            "geo_lon": self.geo_lon,
        }
        return values


NOTABLE = (
    "title",
    "starts_at",
    "ends_at",
    "all_day",
    "location",
    "online_url",
    "repeat",
    "repeat_count",
)


def _apply(meeting: Meeting, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(meeting, name, value)
    meeting.last_start = series_starts(meeting)[-1]


def create_meeting(
    session: Session, data: MeetingInput, *, actor: str, now: dt.datetime, settings: Settings
) -> Meeting:
    values = data.validate(now=now, mail_domain=settings.mail_domain)
    meeting = Meeting(
        created_at=now,
        last_modified=now,
        created_by=actor,
        last_start=values["starts_at"],
        **values,
    )
    _apply(meeting, {})
    session.add(meeting)
    store_fragment(session, meeting, settings.feed_site)
    _bump(session, now)
    audit.record(
        session, actor=actor, action="bijeenkomst.aangemaakt", subject=meeting.subject, now=now
    )
    return meeting


def lock_meeting(session: Session, meeting_id: int) -> Meeting | None:
    """The meeting row, locked until the transaction ends (PostgreSQL); SQLite write
    transactions hold the database lock already."""
    query = (
        select(Meeting).where(Meeting.id == meeting_id).execution_options(populate_existing=True)
    )
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def update_meeting(
    session: Session,
    meeting_id: int,
    data: MeetingInput,
    *,
    actor: str,
    now: dt.datetime,
    settings: Settings,
    allow_overbooked: bool = False,
) -> MeetingUpdate:
    """Change a meeting; notable changes raise SEQUENCE and re-invite registrants. When the
    series' dates change, what single dates had moves with them (``_carry_exceptions``)."""
    meeting = lock_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError("Deze bijeenkomst bestaat niet.")
    if meeting.cancelled:
        raise MeetingError("Een geannuleerde bijeenkomst kun je niet meer wijzigen.")
    values = data.validate(now=now, mail_domain=settings.mail_domain)
    confirmed = count_status(session, meeting.id, "aangemeld")  # type: ignore[arg-type]
    capacity = values["capacity"]
    if (
        capacity is not None
        and capacity < confirmed
        and capacity != meeting.capacity  # acknowledged when it was chosen: not again
        and not allow_overbooked
    ):
        raise MeetingError(
            f"Er zijn al {confirmed} aanmeldingen, meer dan {places(capacity)}. "
            "Vink aan dat je dit weet, of kies meer plaatsen. Niemand wordt afgemeld.",
            "capacity",
        )
    notable = any(getattr(meeting, name) != values[name] for name in NOTABLE)
    moved = (
        values["repeat"] != meeting.repeat
        or values["repeat_count"] != meeting.repeat_count
        or values["starts_at"] != meeting.starts_at
    )
    if moved:  # the series' instants change: what single dates had must follow them
        skipped = [dt.datetime.fromisoformat(value) for value in meeting.exdates]
        overrides = list(
            session.exec(
                select(MeetingOccurrence).where(MeetingOccurrence.meeting_id == meeting.id)
            )
        )
        old_duration = meeting.ends_at - meeting.starts_at
    _apply(meeting, values)
    lapsed: tuple[dt.date, ...] = ()
    if moved:
        lapsed = _carry_exceptions(session, meeting, skipped, overrides, old_duration)
    if notable:
        meeting.status = "gewijzigd"
    _touch(session, meeting, now, notable=notable, settings=settings)
    audit.record(
        session, actor=actor, action="bijeenkomst.gewijzigd", subject=meeting.subject, now=now
    )
    session.flush()
    if notable:
        _invite_all(session, meeting, now=now, settings=settings, template="meeting_changed.txt")
    _promote(session, meeting, now=now, settings=settings)
    return MeetingUpdate(meeting, lapsed)


@dataclass(frozen=True)
class MeetingUpdate:
    meeting: Meeting
    # local dates whose own change (skipped, cancelled, moved) lapsed: the new series has no
    # date there any more
    lapsed: tuple[dt.date, ...] = ()


def _carry_exceptions(
    session: Session,
    meeting: Meeting,
    skipped: list[dt.datetime],
    overrides: list[MeetingOccurrence],
    old_duration: dt.timedelta,
) -> tuple[dt.date, ...]:
    """After the series moved, each single date's change goes to the new series' instance on
    the same local date (its new RECURRENCE-ID). A cancelled date that was not moved follows
    the series' new time; a moved one keeps the time it was moved to. A change on a date the
    new series no longer has lapses; the dates that lapsed are returned."""
    by_date = {local(start).date(): start for start in series_starts(meeting)}
    duration = meeting.ends_at - meeting.starts_at
    lapsed: set[dt.date] = set()
    kept = []
    for old in skipped:
        new = by_date.get(local(old).date())
        if new is None:
            lapsed.add(local(old).date())
        else:
            kept.append(new.isoformat())
    meeting.exdates = sorted(set(kept))
    for override in overrides:
        day = local(override.recurrence_id).date()
        new = by_date.get(day)
        if new is None:
            lapsed.add(day)
            session.delete(override)
            continue
        if (override.starts_at, override.ends_at) == (
            override.recurrence_id,
            override.recurrence_id + old_duration,
        ):
            override.starts_at, override.ends_at = new, new + duration
        override.recurrence_id = new
        session.add(override)
    return tuple(sorted(lapsed))


def cancel_meeting(
    session: Session,
    meeting_id: int,
    *,
    actor: str,
    now: dt.datetime,
    settings: Settings,
    reason: str = "",
) -> Meeting:
    """Cancel: STATUS:CANCELLED stays in feeds for 30 days; registrants get METHOD:CANCEL."""
    meeting = lock_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError("Deze bijeenkomst bestaat niet.")
    if meeting.cancelled:
        return meeting
    meeting.status = "geannuleerd"
    meeting.cancelled_at = now
    _touch(session, meeting, now, notable=True, settings=settings)
    audit.record(
        session, actor=actor, action="bijeenkomst.geannuleerd", subject=meeting.subject, now=now
    )
    for registration in _registrations(session, meeting.id, ("aangemeld", "wachtlijst")):  # type: ignore[arg-type]
        with_invite = registration.status == "aangemeld"
        _mail(
            session,
            meeting,
            registration,
            "meeting_cancelled.txt",
            kind="bijeenkomst.geannuleerd",
            now=now,
            settings=settings,
            method="CANCEL" if with_invite else None,
            reason=reason.strip(),
        )
    return meeting


def _override(
    session: Session, meeting: Meeting, recurrence_id: dt.datetime
) -> MeetingOccurrence | None:
    return session.exec(
        select(MeetingOccurrence).where(
            MeetingOccurrence.meeting_id == meeting.id,
            MeetingOccurrence.recurrence_id == recurrence_id,
        )
    ).first()


def _series_member(meeting: Meeting, key: str) -> dt.datetime:
    for start in series_starts(meeting):
        if occurrence_key(start) == key:
            return start
    raise MeetingError("Deze datum hoort niet bij de reeks.")


def span_problems(
    start: dt.datetime, end: dt.datetime, *, now: dt.datetime
) -> list[tuple[str, str | None]]:
    """What is wrong with a meeting's time span (a new meeting, or one date of a series moved)."""
    problems: list[tuple[str, str | None]] = []
    if end <= start:
        problems.append(("De bijeenkomst moet eindigen na het begin.", "end"))
    elif end - start > MAX_DURATION:
        problems.append(("Een bijeenkomst duurt hoogstens 14 dagen.", "end"))
    if start > now + MAX_AHEAD:
        problems.append(("Plan een bijeenkomst hoogstens drie jaar vooruit.", "start"))
    return problems


def _check_move(
    session: Session,
    meeting: Meeting,
    recurrence_id: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime,
) -> None:
    """A date moves forward in time, keeps a sane length, and not onto a day on which the
    series meets already (two events of one series on one day reads as a mistake)."""
    if start < now:
        raise MeetingError("Verplaats een datum niet naar het verleden.", "start")
    problems = span_problems(start, end, now=now)
    if problems:
        raise MeetingError(*problems[0], problems=problems)
    day = local(start).date()
    assert meeting.id is not None
    dates = occurrences(meeting, overrides_for(session, [meeting.id]).get(meeting.id, []))
    for other in dates:
        same_day = local(other.starts_at).date() == day
        if same_day and other.recurrence_id != recurrence_id and not other.cancelled:
            raise MeetingError(
                f"Op {dutch_date(day)} is al een bijeenkomst van deze reeks. "
                "Kies een andere dag, of sla deze datum over.",
                "start",
            )


def change_occurrence(
    session: Session,
    meeting_id: int,
    key: str,
    *,
    action: str,
    actor: str,
    now: dt.datetime,
    settings: Settings,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    location: str = "",
) -> Meeting:
    """One date of a series: ``skip`` (EXDATE), ``cancel`` (STATUS:CANCELLED), ``move`` or
    ``restore``."""
    meeting = lock_meeting(session, meeting_id)
    if meeting is None:
        raise MeetingError("Deze bijeenkomst bestaat niet.")
    if meeting.rrule is None:
        raise MeetingError("Alleen een reeks heeft losse datums.")
    if meeting.cancelled:
        raise MeetingError("Een geannuleerde bijeenkomst kun je niet meer wijzigen.")
    recurrence_id = _series_member(meeting, key)
    override = _override(session, meeting, recurrence_id)
    stamp = recurrence_id.isoformat()
    if action == "skip":
        if override is not None:
            session.delete(override)
        meeting.exdates = sorted({*meeting.exdates, stamp})
    elif action == "restore":
        if override is not None:
            session.delete(override)
        meeting.exdates = [value for value in meeting.exdates if value != stamp]
    elif action in ("cancel", "move"):
        if override is None:
            duration = meeting.ends_at - meeting.starts_at
            override = MeetingOccurrence(
                meeting_id=meeting_id,
                recurrence_id=recurrence_id,
                starts_at=recurrence_id,
                ends_at=recurrence_id + duration,
            )
        if action == "cancel":
            override.cancelled = True
        else:
            if start is None or end is None:
                raise MeetingError("Geef een nieuwe begin- en eindtijd.", "start")
            new_start = to_utc(start, what="De begintijd", field="start")
            new_end = to_utc(end, what="De eindtijd", field="end")
            _check_move(session, meeting, recurrence_id, new_start, new_end, now=now)
            override.starts_at, override.ends_at = new_start, new_end
            override.location = one_line(location, 300)
            override.cancelled = False
        session.add(override)
        meeting.exdates = [value for value in meeting.exdates if value != stamp]
    else:
        raise MeetingError("Onbekende actie.")
    if meeting.status == "gepland":
        meeting.status = "gewijzigd"
    _touch(session, meeting, now, notable=True, settings=settings)
    audit.record(
        session,
        actor=actor,
        action=f"bijeenkomst.datum.{action}",
        subject=meeting.subject,
        now=now,
        detail=key,
    )
    session.flush()
    _invite_all(session, meeting, now=now, settings=settings, template="meeting_changed.txt")
    return meeting


DELETE_WINDOW = dt.timedelta(hours=1)  # after this, feeds may have it: cancel instead


def deletable(session: Session, meeting: Meeting, *, now: dt.datetime) -> bool:
    """Whether ``delete_unpublished`` would take this meeting (the page offers it then)."""
    if now - meeting.created_at > DELETE_WINDOW:
        return False
    registered = select(Registration.id).where(Registration.meeting_id == meeting.id)
    return session.exec(registered).first() is None


def delete_unpublished(session: Session, meeting_id: int, *, actor: str, now: dt.datetime) -> None:
    """Remove a meeting nobody registered for and that was never in a feed long (a mistake).

    Anything else must be cancelled instead, so subscribers see the cancellation.
    """
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingError("Deze bijeenkomst bestaat niet.")
    if (
        session.exec(select(Registration.id).where(Registration.meeting_id == meeting_id)).first()
        is not None
    ):
        raise MeetingError(
            "Er zijn aanmeldingen. Annuleer de bijeenkomst in plaats van haar te verwijderen."
        )
    if now - meeting.created_at > DELETE_WINDOW:
        raise MeetingError(
            "Deze bijeenkomst staat al in agenda's van abonnees. "
            "Annuleer haar in plaats van te verwijderen."
        )
    for override in session.exec(
        select(MeetingOccurrence).where(MeetingOccurrence.meeting_id == meeting_id)
    ):
        session.delete(override)
    # The single dates first: the unit of work knows no relationship between the two tables
    # and deleted the meeting first, whose ON DELETE CASCADE took the dates along, so that
    # their own DELETE then matched nothing (a SAWarning on every such delete).
    session.flush()
    session.delete(meeting)
    _bump(session, now)
    audit.record(
        session,
        actor=actor,
        action="bijeenkomst.verwijderd",
        subject=f"meeting:{meeting_id}",
        now=now,
    )


# ---------------------------------------------------------------------------------------------
# reading meetings


def get_meeting(session: Session, meeting_id: int) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def overrides_for(
    session: Session, meeting_ids: Sequence[int]
) -> dict[int, list[MeetingOccurrence]]:
    found: dict[int, list[MeetingOccurrence]] = {}
    if not meeting_ids:
        return found
    rows = session.exec(
        select(MeetingOccurrence).where(col(MeetingOccurrence.meeting_id).in_(list(meeting_ids)))
    )
    for row in rows:
        found.setdefault(row.meeting_id, []).append(row)
    return found


@dataclass(frozen=True)
class Filter:
    """Which meetings a list or feed shows. Empty tuples mean "all"."""

    regions: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = PUBLIC_AUDIENCES
    groups: tuple[str, ...] = ()  # closed groups a private feed may see

    def check(self) -> None:
        for value in self.regions:
            if value not in REGIOS:
                raise MeetingError("Deze regio kennen we niet.", "regio")
        for value in self.themes:
            if value not in LEEFGEBIEDEN:
                raise MeetingError("Dit leefgebied kennen we niet.", "thema")
        for value in self.audiences:
            if value not in PUBLIC_AUDIENCES:
                raise MeetingError("Kies open of partners.", "publiek")

    @property
    def key(self) -> str:
        return "|".join(
            ",".join(sorted(part))
            for part in (self.regions, self.themes, self.audiences, self.groups)
        )


def _filtered(query: Any, flt: Filter) -> Any:
    if flt.regions:
        query = query.where(col(Meeting.region).in_(flt.regions))
    if flt.themes:
        query = query.where(col(Meeting.theme).in_(flt.themes))
    visible: ColumnElement[bool] = col(Meeting.audience).in_(flt.audiences)
    if flt.groups:
        visible = visible | (
            (col(Meeting.audience) == "closed") & col(Meeting.group).in_(flt.groups)
        )
    return query.where(visible)


def list_meetings(session: Session, flt: Filter, *, since: dt.datetime) -> list[Meeting]:
    query = _filtered(select(Meeting).where(Meeting.last_start >= since), flt)
    return list(session.exec(query.order_by(Meeting.starts_at, Meeting.id)))


def upcoming(
    session: Session,
    flt: Filter,
    *,
    now: dt.datetime,
    horizon: dt.timedelta = dt.timedelta(days=400),
) -> list[Occurrence]:
    """The dates still to come (cancelled ones included, marked), in order."""
    meetings = list_meetings(session, flt, since=now - dt.timedelta(days=14))
    extra = overrides_for(session, [m.id for m in meetings])  # type: ignore[misc]
    found = [
        occ
        for meeting in meetings
        for occ in occurrences(meeting, extra.get(meeting.id, []))  # type: ignore[arg-type]
        if occ.ends_at > now
        and occ.starts_at < now + horizon
        and not (occ.cancelled and occ.starts_at < now)
    ]
    return sorted(found, key=lambda o: (o.starts_at, o.meeting.id))


def to_feed(meeting: Meeting, overrides: Iterable[MeetingOccurrence] = ()) -> feeds.FeedMeeting:
    assert meeting.id is not None
    return feeds.FeedMeeting(
        id=meeting.id,
        title=meeting.title,
        slug=meeting.slug,
        description=meeting.description,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        last_start=meeting.last_start,
        all_day=meeting.all_day,
        location=meeting.location,
        online_url=meeting.online_url,
        geo=(meeting.geo_lat, meeting.geo_lon)
        if meeting.geo_lat is not None and meeting.geo_lon is not None
        else None,
        cancelled=meeting.cancelled,
        sequence=meeting.sequence,
        last_modified=meeting.last_modified,
        created_at=meeting.created_at,
        organiser=meeting.organiser_mailbox or None,
        organiser_name=meeting.organiser_name,
        rrule=meeting.rrule,
        exdates=tuple(dt.datetime.fromisoformat(value) for value in meeting.exdates),
        public=meeting.public,
        occurrences=tuple(
            feeds.FeedOccurrence(
                o.recurrence_id, o.starts_at, o.ends_at, o.cancelled, o.location or None
            )
            for o in overrides
        ),
    )


def feed_meetings(session: Session, flt: Filter, *, now: dt.datetime) -> list[feeds.FeedMeeting]:
    """What a feed needs, in two queries; the renderer decides what is still in the feed."""
    meetings = list_meetings(session, flt, since=now - feeds.PAST_KEPT - MAX_DURATION)
    extra = overrides_for(session, [m.id for m in meetings if m.repeat])  # type: ignore[misc]
    return [to_feed(m, extra.get(m.id, [])) for m in meetings]  # type: ignore[arg-type]


def meeting_feed(session: Session, meeting: Meeting) -> feeds.FeedMeeting:
    return to_feed(meeting, overrides_for(session, [meeting.id]).get(meeting.id, []))  # type: ignore[list-item,arg-type]


@dataclass(frozen=True)
class FeedParts:
    """A feed as stored fragments, read as plain rows (no Meeting object per row)."""

    fragments: list[str]  # the stored VEVENTs of the meetings in the feed, in id order
    stale: list[int]  # meetings whose fragment is missing or made for another site/serialiser
    last_modified: dt.datetime | None  # the latest change of a meeting in the feed
    left_at: dt.datetime | None  # the latest moment a meeting left the feed (at or before now)


def feed_parts(
    session: Session,
    flt: Filter | None,
    *,
    now: dt.datetime,
    key: str,
    meeting_id: int | None = None,
) -> FeedParts:
    """The fragments of a filtered feed (or of one meeting) at ``now``: one query over the
    fragment columns, and one indexed lookup of when the feed last lost a meeting (its bytes
    change then without any data changing, so Last-Modified must move too)."""
    table = Meeting.__table__.c  # type: ignore[attr-defined]

    def scoped(query: Any) -> Any:
        return _filtered(query, flt) if flt is not None else query.where(table.id == meeting_id)

    rows = session.exec(
        scoped(
            select(table.id, table.ical, table.ical_key, table.last_modified).where(
                (table.feed_until > now) | (table.ical_key != key)
            )
        ).order_by(table.id)
    ).all()
    fragments, stale, changed = [], [], []
    for row_id, ical, ical_key, modified in rows:
        if ical_key != key or ical is None:
            stale.append(row_id)
        else:
            fragments.append(ical)
            changed.append(modified)
    left_at = session.exec(
        scoped(select(table.feed_until).where(table.feed_until <= now))
        .order_by(table.feed_until.desc())
        .limit(1)  # walks the feed_until index down from now to the first match
    ).first()
    return FeedParts(fragments, stale, max(changed, default=None), left_at)


def refresh_fragments(
    session: Session, site: feeds.FeedSite, ids: Sequence[int] | None = None
) -> int:
    """Re-render stored fragments that are missing or stale (made for another site or
    icalendar version): all of them, or those of ``ids``. Rows are locked on PostgreSQL so a
    concurrent change is not overwritten with older data. Returns how many were rendered."""
    key = feeds.fragment_key(site)
    stale = (col(Meeting.ical_key) != key) | (col(Meeting.ical).is_(None))
    query = select(Meeting.id).where(stale)
    if ids is not None:
        query = query.where(col(Meeting.id).in_(list(ids)))
    todo = list(session.exec(query.order_by(col(Meeting.id))))
    postgres = session.get_bind().dialect.name == "postgresql"
    done = 0
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        rows = select(Meeting).where(col(Meeting.id).in_(chunk), stale)
        if postgres:
            rows = rows.with_for_update()
        found = list(session.exec(rows.execution_options(populate_existing=True)))
        extra = overrides_for(session, [m.id for m in found if m.repeat])  # type: ignore[misc]
        for meeting in found:
            item = to_feed(meeting, extra.get(meeting.id, []))  # type: ignore[arg-type]
            meeting.ical = feeds.fragment(item, site).decode("utf-8")
            meeting.ical_key = key
            meeting.feed_until = feeds.feed_until(item)
            session.add(meeting)
            done += 1
        session.flush()
    return done


# ---------------------------------------------------------------------------------------------
# registrations


def count_status(session: Session, meeting_id: int, status: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Registration)
            .where(Registration.meeting_id == meeting_id, Registration.status == status)
        ).one()
    )


def _registrations(
    session: Session, meeting_id: int, statuses: Sequence[str]
) -> list[Registration]:
    query = select(Registration).where(
        Registration.meeting_id == meeting_id, col(Registration.status).in_(list(statuses))
    )
    return list(session.exec(query.order_by(col(Registration.placed_at), col(Registration.id))))


def registrations(session: Session, meeting_id: int) -> list[Registration]:
    order = {"aangemeld": 0, "wachtlijst": 1, "bevestigen": 2, "afgemeld": 3}
    rows = session.exec(select(Registration).where(Registration.meeting_id == meeting_id))
    return sorted(
        rows, key=lambda r: (order.get(r.status, 9), r.placed_at or r.created_at, r.id or 0)
    )


def registration_open(meeting: Meeting, now: dt.datetime) -> str | None:
    """None when people can register; otherwise the Dutch reason."""
    if meeting.cancelled:
        return "Deze bijeenkomst is geannuleerd."
    if meeting.registration_deadline is not None and now >= meeting.registration_deadline:
        return "De aanmeldtermijn is voorbij."
    if now >= meeting.starts_at:
        return "Deze bijeenkomst is al begonnen."
    return None


def _email_key(email: str) -> str:
    return email.strip().lower()


def clean_name(name: str, message: str = "Vul je naam in (hoogstens 120 tekens).") -> str:
    """A person's name on one line, 1 to 120 characters."""
    cleaned = one_line(name, 1000)
    if not cleaned or len(cleaned) > 120:
        raise MeetingError(message, "name")
    return cleaned


def clean_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise MeetingError(
            "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.", "email"
        ) from None


def known_address(session: Session, email: str) -> bool:
    """Has this address confirmed anything with us before (a registration or a feed)?"""
    key = _email_key(email)
    if session.exec(
        select(Registration.id).where(
            Registration.email_key == key, col(Registration.confirmed_at).is_not(None)
        )
    ).first():
        return True
    return (
        session.exec(
            select(PartnerFeed.id).where(
                func.lower(PartnerFeed.email) == key, col(PartnerFeed.confirmed_at).is_not(None)
            )
        ).first()
        is not None
    )


def _cancel_link(
    session: Session,
    meeting: Meeting,
    registration: Registration,
    *,
    now: dt.datetime,
    settings: Settings,
) -> str:
    ttl = max(
        meeting.last_start + (meeting.ends_at - meeting.starts_at) - now, dt.timedelta(0)
    ) + dt.timedelta(days=1)
    raw = tokens.issue(
        session,
        purpose=PURPOSE_CANCEL,
        subject=registration.subject,
        now=now,
        ttl=ttl,
        single_use=False,
    )
    return settings.url(f"/agenda/afmelden/{raw}")


def _mail(
    session: Session,
    meeting: Meeting,
    registration: Registration,
    template: str,
    *,
    kind: str,
    now: dt.datetime,
    settings: Settings,
    method: str | None = None,
    **extra: Any,
) -> None:
    ical = None
    if method is not None:
        sequence = meeting.sequence + registration.itip_offset
        ical = feeds.invitation(
            meeting_feed(session, meeting),
            method=method,
            attendee_email=registration.email,
            attendee_name=registration.name,
            site=settings.feed_site,
            sequence=sequence,
        )
    extra.setdefault(
        "cancel_link",
        _cancel_link(session, meeting, registration, now=now, settings=settings)
        if registration.status in ("aangemeld", "wachtlijst")
        else "",
    )
    subject, body = render_mail(
        template,
        meeting=meeting,
        registration=registration,
        when=when_of(session, meeting),
        place=meeting.location or meeting.online_url,
        # a closed group's meeting has no page on the site
        meeting_url=settings.url(f"/agenda/{meeting.path}/") if meeting.public else "",
        site_name=settings.site_name,
        **extra,
    )
    outbox.enqueue(
        session,
        to=registration.email,
        subject=subject,
        body=body,
        now=now,
        kind=kind,
        ical=ical,
        ical_method=method,
    )


def _place(
    session: Session,
    meeting: Meeting,
    registration: Registration,
    *,
    now: dt.datetime,
    settings: Settings,
) -> None:
    """Give a seat or a waitlist place; the caller holds the meeting lock."""
    taken = count_status(session, meeting.id, "aangemeld")  # type: ignore[arg-type]
    seat = meeting.capacity is None or taken < meeting.capacity
    registration.status = "aangemeld" if seat else "wachtlijst"
    registration.confirmed_at = registration.confirmed_at or now
    registration.placed_at = now
    registration.cancelled_at = None
    session.add(registration)
    session.flush()
    if seat:
        _mail(
            session,
            meeting,
            registration,
            "meeting_registered.txt",
            kind="bijeenkomst.uitnodiging",
            now=now,
            settings=settings,
            method="REQUEST",
        )
    else:
        position = len(_registrations(session, meeting.id, ("wachtlijst",)))  # type: ignore[arg-type]
        _mail(
            session,
            meeting,
            registration,
            "meeting_waitlist.txt",
            kind="bijeenkomst.wachtlijst",
            now=now,
            settings=settings,
            position=position,
        )


def _promote(
    session: Session, meeting: Meeting, *, now: dt.datetime, settings: Settings
) -> list[Registration]:
    """Move people from the waitlist to free seats, first come first served."""
    if meeting.cancelled:
        return []
    assert meeting.id is not None
    promoted = []
    waiting = _registrations(session, meeting.id, ("wachtlijst",))
    free = (
        None
        if meeting.capacity is None
        else meeting.capacity - count_status(session, meeting.id, "aangemeld")
    )
    for registration in waiting:
        if free is not None and free <= 0:
            break
        registration.status = "aangemeld"
        registration.placed_at = now
        session.add(registration)
        session.flush()
        _mail(
            session,
            meeting,
            registration,
            "meeting_promoted.txt",
            kind="bijeenkomst.uitnodiging",
            now=now,
            settings=settings,
            method="REQUEST",
        )
        promoted.append(registration)
        if free is not None:
            free -= 1
    return promoted


def _invite_all(
    session: Session, meeting: Meeting, *, now: dt.datetime, settings: Settings, template: str
) -> None:
    changes = date_changes(session, meeting, now=now)
    for registration in _registrations(session, meeting.id, ("aangemeld",)):  # type: ignore[arg-type]
        _mail(
            session,
            meeting,
            registration,
            template,
            kind="bijeenkomst.wijziging",
            now=now,
            settings=settings,
            method="REQUEST",
            changes=changes,
        )


def date_changes(session: Session, meeting: Meeting, *, now: dt.datetime) -> list[str]:
    """A series' single dates that differ from the series, still to come, one line each:
    "dinsdag 24 maart 2026: gaat niet door", "dinsdag 7 april 2026: 13.00–14.00 uur, …"."""
    if meeting.rrule is None or meeting.id is None:
        return []
    overrides = {
        o.recurrence_id: o for o in overrides_for(session, [meeting.id]).get(meeting.id, [])
    }
    skipped = {dt.datetime.fromisoformat(value) for value in meeting.exdates}
    lines = []
    for start in series_starts(meeting):
        override = overrides.get(start)
        if start < now or (override is None and start not in skipped):
            continue
        day = dutch_date(local(start))
        if start in skipped or (override is not None and override.cancelled):
            lines.append(f"{day}: gaat niet door")
        elif override is not None:
            begin, end = local(override.starts_at), local(override.ends_at)
            moved = (
                ""
                if begin.date() == local(start).date()
                else f"verplaatst naar {dutch_date(begin)}, "
            )
            place = override.location or meeting.location or meeting.online_url
            lines.append(
                f"{day}: {moved}{begin:%H.%M}–{end:%H.%M} uur" + (f", {place}" if place else "")
            )
    return lines


@dataclass(frozen=True)
class RegistrationResult:
    registration_id: int
    status: str  # "bevestigen" (mail sent), or the placed status


def register(
    session: Session,
    meeting_id: int,
    *,
    name: str,
    email: str,
    organisation: str,
    now: dt.datetime,
    settings: Settings,
    audiences: Sequence[str] = PUBLIC_AUDIENCES,
) -> RegistrationResult:
    """Register someone. A first-time address confirms by e-mail first (double opt-in); a
    known address gets a seat or a waitlist place at once. The answer to the person is the
    same either way ("kijk in je mail"), so the form does not reveal who registered before."""
    name = clean_name(name)
    organisation = one_line(organisation, 1000)
    if len(organisation) > 200:
        raise MeetingError("Maak de naam van je organisatie korter.", "organisation")
    address = clean_email(email)
    meeting = lock_meeting(session, meeting_id)
    if meeting is None or meeting.audience not in audiences:
        raise MeetingError("Deze bijeenkomst bestaat niet.")
    reason = registration_open(meeting, now)
    if reason:
        raise MeetingError(reason)
    key = _email_key(address)
    registration = session.exec(
        select(Registration).where(
            Registration.meeting_id == meeting_id, Registration.email_key == key
        )
    ).first()
    if registration is not None and registration.status in ("aangemeld", "wachtlijst"):
        _mail(
            session,
            meeting,
            registration,
            "meeting_already.txt",
            kind="bijeenkomst.al-aangemeld",
            now=now,
            settings=settings,
        )
        return RegistrationResult(registration.id, registration.status)  # type: ignore[arg-type]
    known = known_address(session, address)
    if registration is None:
        registration = Registration(
            meeting_id=meeting_id,
            name=name,
            email=address,
            email_key=key,
            organisation=organisation,
            created_at=now,
        )
    else:
        registration.name, registration.email, registration.organisation = (
            name,
            address,
            organisation,
        )
        registration.status = "bevestigen"
    session.add(registration)
    session.flush()
    if known:
        _place(session, meeting, registration, now=now, settings=settings)
    else:
        raw = tokens.issue(
            session, purpose=PURPOSE_CONFIRM, subject=registration.subject, now=now, ttl=CONFIRM_TTL
        )
        deadline = meeting.registration_deadline
        _mail(
            session,
            meeting,
            registration,
            "meeting_confirm.txt",
            kind="bijeenkomst.bevestigen",
            now=now,
            settings=settings,
            confirm_link=settings.url(f"/agenda/aanmelding/{raw}"),
            confirm_term=CONFIRM_TERM,
            # the deadline, when it ends registration before the link expires
            deadline=describe_moment(deadline)
            if deadline is not None and deadline < now + CONFIRM_TTL
            else "",
        )
    return RegistrationResult(registration.id, registration.status)  # type: ignore[arg-type]


def _registration_for(
    session: Session, raw: str, *, purpose: str, now: dt.datetime, redeem: bool
) -> Registration:
    """The registration of a link (LinkError if it does not work). A used confirmation link
    still gives its registration while that has a seat or a waitlist place: the person
    confirmed, and the page can say so."""
    try:
        token = (tokens.redeem if redeem else tokens.peek)(session, raw, purpose=purpose, now=now)
        registration_id = tokens.subject_id(token, "registration")
    except tokens.TokenError as exc:
        if exc.reason == "used" and purpose == PURPOSE_CONFIRM:
            placed = _placed_by(session, raw)
            if placed is not None:
                return placed
        raise _link_error(exc) from None
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise LinkError(LINK_UNKNOWN)
    return registration


def _placed_by(session: Session, raw: str) -> Registration | None:
    """The registration of a used confirmation link, if it has a seat or waitlist place."""
    token = tokens.find(session, raw, purpose=PURPOSE_CONFIRM)
    if token is None:
        return None
    try:
        registration = session.get(Registration, tokens.subject_id(token, "registration"))
    except tokens.TokenError:
        return None
    if registration is None or registration.status not in ("aangemeld", "wachtlijst"):
        return None
    return registration


def peek_registration(
    session: Session, raw: str, *, purpose: str, now: dt.datetime
) -> tuple[Registration, Meeting]:
    """A link's registration and meeting without using the link up (LinkError otherwise)."""
    registration = _registration_for(session, raw, purpose=purpose, now=now, redeem=False)
    meeting = session.get(Meeting, registration.meeting_id)
    assert meeting is not None
    return registration, meeting


def confirm_registration(
    session: Session, raw: str, *, now: dt.datetime, settings: Settings
) -> Registration:
    """The double opt-in: the link from the e-mail gives a seat or a waitlist place."""
    registration = _registration_for(session, raw, purpose=PURPOSE_CONFIRM, now=now, redeem=True)
    meeting = lock_meeting(session, registration.meeting_id)
    assert meeting is not None
    session.refresh(registration)
    if registration.status != "bevestigen":
        return registration
    reason = registration_open(meeting, now)
    if reason:
        raise MeetingError(reason)
    _place(session, meeting, registration, now=now, settings=settings)
    return registration


@dataclass(frozen=True)
class Cancellation:
    """What a deregistration did, for the page, the flash and the mail that say so."""

    registration: Registration
    was: str  # the status before: a seat ("aangemeld"), "wachtlijst", ...; "afgemeld": no change
    promoted: tuple[Registration, ...] = ()  # who moved up from the waitlist into the seat


def cancel_registration(
    session: Session,
    raw: str | None,
    *,
    now: dt.datetime,
    settings: Settings,
    registration_id: int | None = None,
    actor: str | None = None,
) -> Cancellation:
    """Deregister (by the link in the e-mail, or by an organiser): METHOD:CANCEL to the person,
    and the first on the waitlist moves up if a seat came free."""
    if raw is not None:
        registration = _registration_for(
            session, raw, purpose=PURPOSE_CANCEL, now=now, redeem=False
        )
    else:
        found = session.get(Registration, registration_id)
        if found is None:
            raise MeetingError("Deze aanmelding bestaat niet.")
        registration = found
    meeting = lock_meeting(session, registration.meeting_id)
    assert meeting is not None
    session.refresh(registration)
    was = registration.status
    if was == "afgemeld":
        return Cancellation(registration, was)
    had_seat = was == "aangemeld"
    registration.status = "afgemeld"
    registration.cancelled_at = now
    if had_seat:
        registration.itip_offset += 1
    session.add(registration)
    session.flush()
    _mail(
        session,
        meeting,
        registration,
        "meeting_deregistered.txt",
        kind="bijeenkomst.afgemeld",
        now=now,
        settings=settings,
        method="CANCEL" if had_seat else None,
        had_seat=had_seat,
    )
    if had_seat:
        registration.itip_offset += 1  # past the CANCEL, for the next REQUEST
        session.add(registration)
    if actor:
        audit.record(
            session,
            actor=actor,
            action="aanmelding.afgemeld",
            subject=registration.subject,
            now=now,
        )
    promoted = _promote(session, meeting, now=now, settings=settings) if had_seat else []
    return Cancellation(registration, was, tuple(promoted))


def mail_registrants(
    session: Session,
    meeting: Meeting,
    *,
    subject: str,
    body: str,
    statuses: Sequence[str],
    actor: str,
    now: dt.datetime,
    settings: Settings,
) -> int:
    """An organiser's message to registrants, through the outbox."""
    subject = one_line(subject, 1000)
    if not subject or len(subject) > 150:
        raise MeetingError("Geef een onderwerp (hoogstens 150 tekens).", "subject")
    if not (body or "").strip() or len(body) > 10_000:
        raise MeetingError("Schrijf een bericht (hoogstens 10.000 tekens).", "body")
    if not statuses or any(s not in ("aangemeld", "wachtlijst") for s in statuses):
        raise MeetingError("Kies wie het bericht krijgt.", "statuses")
    people = _registrations(session, meeting.id, statuses)  # type: ignore[arg-type]
    for registration in people:
        _mail(
            session,
            meeting,
            registration,
            "meeting_message.txt",
            kind="bijeenkomst.bericht",
            now=now,
            settings=settings,
            message_subject=subject,
            message_body=body.strip(),
        )
    audit.record(
        session,
        actor=actor,
        action="bijeenkomst.bericht",
        subject=meeting.subject,
        now=now,
        detail=f"{len(people)} ontvangers",
    )
    return len(people)


def export_csv(meeting: Meeting, rows: Sequence[Registration]) -> str:
    header = ["Naam", "E-mailadres", "Organisatie", "Status", "Sinds"]
    return spreadsheet.to_csv(
        [
            header,
            *(
                [
                    r.name,
                    r.email,
                    r.organisation,
                    REGISTRATION_STATUSES.get(r.status, r.status),
                    local(r.placed_at or r.created_at).strftime("%d-%m-%Y %H:%M"),
                ]
                for r in rows
            ),
        ]
    )


# ---------------------------------------------------------------------------------------------
# private partner feeds


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class _FeedFilters(TypedDict):
    regions: list[str]
    themes: list[str]
    audiences: list[str]
    groups: list[str]


def _feed_filters(
    regions: Iterable[str], themes: Iterable[str], audiences: Iterable[str], groups: Iterable[str]
) -> _FeedFilters:
    regions, themes, audiences = sorted(set(regions)), sorted(set(themes)), sorted(set(audiences))
    groups = sorted({g.strip().lower() for g in groups if g.strip()})
    Filter(tuple(regions), tuple(themes), tuple(audiences)).check()
    if not audiences:
        raise MeetingError("Kies minstens één soort bijeenkomst (open of partners).", "audiences")
    if any(not _GROUP.match(g) for g in groups):
        raise MeetingError(
            "Een groepsnaam bestaat uit kleine letters, cijfers en streepjes.", "groups"
        )
    return {"regions": regions, "themes": themes, "audiences": audiences, "groups": groups}


def _new_feed_token(feed: PartnerFeed) -> str:
    raw = secrets.token_urlsafe(32)
    feed.token_digest = _digest(raw)
    return raw


def request_partner_feed(
    session: Session,
    *,
    name: str,
    email: str,
    organisation: str,
    regions: Iterable[str],
    themes: Iterable[str],
    audiences: Iterable[str],
    now: dt.datetime,
    settings: Settings,
) -> PartnerFeed:
    """A partner asks for a private feed: confirmation by e-mail first (double opt-in)."""
    name = clean_name(name)
    address = clean_email(email)
    feed = PartnerFeed(
        name=name,
        email=address,
        organisation=one_line(organisation, 200),
        created_at=now,
        created_by="partner",
        **_feed_filters(regions, themes, audiences, ()),
    )
    session.add(feed)
    session.flush()
    raw = tokens.issue(
        session,
        purpose=PURPOSE_FEED_CONFIRM,
        subject=f"partnerfeed:{feed.id}",
        now=now,
        ttl=CONFIRM_TTL,
    )
    subject, body = render_mail(
        "meeting_feed_confirm.txt",
        feed=feed,
        confirm_link=settings.url(f"/agenda/prive/bevestigen/{raw}"),
        confirm_term=CONFIRM_TERM,
        site_name=settings.site_name,
    )
    outbox.enqueue(
        session, to=address, subject=subject, body=body, now=now, kind="prive-agenda.bevestigen"
    )
    return feed


def _send_feed_link(
    session: Session, feed: PartnerFeed, raw: str, *, now: dt.datetime, settings: Settings
) -> None:
    subject, body = render_mail(
        "meeting_feed_link.txt",
        feed=feed,
        feed_url=settings.url(f"/agenda/prive/{raw}.ics"),
        manage_url=settings.url(f"/agenda/prive/{raw}/"),
        site_name=settings.site_name,
    )
    outbox.enqueue(
        session, to=feed.email, subject=subject, body=body, now=now, kind="prive-agenda.link"
    )


FEED_ALREADY_MADE = (
    "Deze link is al gebruikt. Je privé-agenda is al gemaakt. Het adres staat in de e-mail die"
    " je daarna van ons kreeg."
)


def _requested_feed(session: Session, raw: str, *, now: dt.datetime, redeem: bool) -> PartnerFeed:
    try:
        token = (tokens.redeem if redeem else tokens.peek)(
            session, raw, purpose=PURPOSE_FEED_CONFIRM, now=now
        )
        feed_id = tokens.subject_id(token, "partnerfeed")
    except tokens.TokenError as exc:
        made = exc.reason == "used" and _made_by(session, raw) is not None
        raise _link_error(exc, FEED_ALREADY_MADE if made else LINK_USED) from None
    feed = session.get(PartnerFeed, feed_id)
    if feed is None:
        raise LinkError(LINK_UNKNOWN)
    if feed.revoked_at is not None:
        raise LinkError("Deze privé-agenda is ingetrokken.", gone=True)
    return feed


def _made_by(session: Session, raw: str) -> PartnerFeed | None:
    """The feed a used confirmation link made, while it is active."""
    token = tokens.find(session, raw, purpose=PURPOSE_FEED_CONFIRM)
    if token is None:
        return None
    try:
        feed = session.get(PartnerFeed, tokens.subject_id(token, "partnerfeed"))
    except tokens.TokenError:
        return None
    return feed if feed is not None and feed.active else None


def peek_partner_feed(session: Session, raw_confirm: str, *, now: dt.datetime) -> PartnerFeed:
    """The requested feed of a confirmation link, without using the link (LinkError if it
    does not work): the page shows its button only for a link that works."""
    return _requested_feed(session, raw_confirm, now=now, redeem=False)


def confirm_partner_feed(
    session: Session, raw_confirm: str, *, now: dt.datetime, settings: Settings
) -> tuple[PartnerFeed, str]:
    """Activate a requested feed; returns it with the raw feed token (shown once, e-mailed)."""
    feed = _requested_feed(session, raw_confirm, now=now, redeem=True)
    feed.confirmed_at = now
    raw = _new_feed_token(feed)
    session.add(feed)
    _send_feed_link(session, feed, raw, now=now, settings=settings)
    return feed, raw


def create_partner_feed(
    session: Session,
    *,
    name: str,
    email: str,
    organisation: str,
    regions: Iterable[str],
    themes: Iterable[str],
    audiences: Iterable[str],
    groups: Iterable[str],
    actor: str,
    now: dt.datetime,
    settings: Settings,
    send_mail: bool = True,
) -> tuple[PartnerFeed, str]:
    """An administrator makes a private feed (may include closed groups); active at once."""
    name = clean_name(name, "Vul een naam in (hoogstens 120 tekens).")
    address = clean_email(email)
    feed = PartnerFeed(
        name=name,
        email=address,
        organisation=one_line(organisation, 200),
        created_at=now,
        confirmed_at=now,
        created_by=actor,
        **_feed_filters(regions, themes, audiences, groups),
    )
    raw = _new_feed_token(feed)
    session.add(feed)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="prive-agenda.aangemaakt",
        subject=f"partnerfeed:{feed.id}",
        now=now,
    )
    if send_mail:
        _send_feed_link(session, feed, raw, now=now, settings=settings)
    return feed, raw


def find_partner_feed(session: Session, raw: str) -> PartnerFeed | None:
    """The active feed for a raw token, or None (unknown, revoked): one indexed lookup."""
    if not raw or len(raw) > 100:
        return None
    feed = session.exec(select(PartnerFeed).where(PartnerFeed.token_digest == _digest(raw))).first()
    return feed if feed is not None and feed.active else None


def revoke_partner_feed(
    session: Session, feed: PartnerFeed, *, actor: str, now: dt.datetime
) -> None:
    if feed.revoked_at is None:
        feed.revoked_at = now
        session.add(feed)
        audit.record(
            session,
            actor=actor,
            action="prive-agenda.ingetrokken",
            subject=f"partnerfeed:{feed.id}",
            now=now,
        )


def stamp_fetch(session: Session, feed_id: int, *, now: dt.datetime) -> bool:
    """Record "last fetched" at most every few minutes (a poll must stay cheap)."""
    result = session.exec(
        update(PartnerFeed)
        .where(col(PartnerFeed.id) == feed_id)
        .where(
            (col(PartnerFeed.last_fetched_at).is_(None))
            | (col(PartnerFeed.last_fetched_at) < now - FETCH_STAMP_EVERY)
        )
        .values(last_fetched_at=now)
    )
    return bool(result.rowcount)


def partner_filter(feed: PartnerFeed) -> Filter:
    return Filter(
        tuple(feed.regions), tuple(feed.themes), tuple(feed.audiences), tuple(feed.groups)
    )


def partner_feeds(session: Session) -> list[PartnerFeed]:
    return list(session.exec(select(PartnerFeed).order_by(col(PartnerFeed.id).desc())))


# ---------------------------------------------------------------------------------------------
# words for people


DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def dutch_date(value: dt.datetime | dt.date) -> str:
    day = value.date() if isinstance(value, dt.datetime) else value
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def dutch_list(items: Sequence[str]) -> str:
    """ "a", "a en b", "a, b en c"."""
    return " en ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else list(items))


def describe_moment(value: dt.datetime) -> str:
    moment = local(value)
    return f"{dutch_date(moment)}, {moment:%H.%M} uur"


def describe_span(start: dt.datetime, end: dt.datetime, all_day: bool) -> str:
    a, b = local(start), local(end)
    if all_day:
        last = (b - dt.timedelta(days=1)).date()
        return (
            dutch_date(a) if last == a.date() else f"{dutch_date(a)} tot en met {dutch_date(last)}"
        )
    if a.date() == b.date() and a.utcoffset() != b.utcoffset():  # the night the clocks change
        return (
            f"{dutch_date(a)}, {a:%H.%M} uur ({_clock_name(a)}) tot {b:%H.%M} uur"
            f" ({_clock_name(b)})"
        )
    if a.date() == b.date():
        return f"{dutch_date(a)}, {a:%H.%M}–{b:%H.%M} uur"
    return f"{dutch_date(a)} {a:%H.%M} uur tot {dutch_date(b)} {b:%H.%M} uur"


def _clock_name(moment: dt.datetime) -> str:
    return "zomertijd" if moment.dst() else "wintertijd"


def when_of(session: Session, meeting: Meeting) -> str:
    """``describe_when`` with the meeting's changed and cancelled dates read from the database."""
    assert meeting.id is not None
    return describe_when(meeting, overrides_for(session, [meeting.id]).get(meeting.id, []))


def describe_when(meeting: Meeting, overrides: Iterable[MeetingOccurrence] = ()) -> str:
    """When a meeting is, in one line. A series names its first date that still takes place
    (a skipped first date is not "when"; a moved one counts where it went) and how many of
    its dates do: "(wekelijks, 5 keer; 1 datum vervalt)"."""
    if not meeting.rrule:
        return describe_span(meeting.starts_at, meeting.ends_at, meeting.all_day)
    repeat = REPEATS[meeting.repeat].lower()
    held = [d for d in occurrences(meeting, overrides) if not d.cancelled]
    if meeting.cancelled or not held:  # the whole series is off: say what it was
        span = describe_span(meeting.starts_at, meeting.ends_at, meeting.all_day)
        return f"{span} ({repeat}, {meeting.repeat_count} keer)"
    first = min(held, key=lambda d: d.starts_at)
    gone = meeting.repeat_count - len(held)
    lapsed = "" if not gone else "; 1 datum vervalt" if gone == 1 else f"; {gone} data vervallen"
    span = describe_span(first.starts_at, first.ends_at, meeting.all_day)
    return f"{span} ({repeat}, {len(held)} keer{lapsed})"


# ---------------------------------------------------------------------------------------------
# retention and demo data


def _purge_registrations(session: Session, now: dt.datetime) -> int:
    ended = select(Meeting.id).where(Meeting.last_start < now - REGISTRATION_KEPT - MAX_DURATION)
    old = list(session.exec(select(Registration).where(col(Registration.meeting_id).in_(ended))))
    stale = list(
        session.exec(
            select(Registration).where(
                Registration.status == "bevestigen",
                Registration.created_at < now - CONFIRM_TTL - dt.timedelta(days=1),
            )
        )
    )
    for registration in {r.id: r for r in old + stale}.values():
        session.delete(registration)
    return len({r.id for r in old + stale})


def _purge_feeds(session: Session, now: dt.datetime) -> int:
    old = list(
        session.exec(
            select(PartnerFeed).where(
                (col(PartnerFeed.revoked_at) < now - dt.timedelta(days=30))
                | (
                    (col(PartnerFeed.confirmed_at).is_(None))
                    & (PartnerFeed.created_at < now - CONFIRM_TTL - dt.timedelta(days=1))
                )
            )
        )
    )
    for feed in old:
        session.delete(feed)
    return len(old)


RETENTION_RULES = {
    "aanmeldingen voor bijeenkomsten (90 dagen na afloop), onbevestigde aanmeldingen": (
        _purge_registrations
    ),
    "ingetrokken of onbevestigde privé-agenda's": _purge_feeds,
}


def seed_demo(session: Session, now: dt.datetime, settings: Settings | None = None) -> list[str]:
    """Demo meetings over a year, on both sides of both DST changes, all marked "(demo)".
    ``settings`` are the app's, so demo invitations carry the feed's UIDs and this site's links."""
    from forms_backend.demo import DEMO_DOMAIN

    settings = settings or Settings()
    today = local(now).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)

    def at(days: int, hour: int, minute: int = 0, *, base: dt.datetime = today) -> dt.datetime:
        """A local wall-clock time ``days`` after midnight of ``base`` (today by default)."""
        return base + dt.timedelta(days=days, hours=hour, minutes=minute)

    def workday(days: int) -> int:
        """``days``, or the Monday after it when that day is a Saturday or a Sunday: nobody
        plans a professionals' afternoon or a work visit in the weekend."""
        weekday = (today + dt.timedelta(days=days)).weekday()
        return days + (7 - weekday if weekday >= 5 else 0)

    def dst_day(month: int) -> dt.datetime:
        """The next last Sunday of ``month`` (the day the clocks change) after today."""
        for year in (today.year, today.year + 1):
            last = dt.datetime(year, month, 31)
            sunday = last - dt.timedelta(days=(last.weekday() + 1) % 7)
            if sunday > today + dt.timedelta(days=3):
                return sunday
        raise AssertionError("unreachable")

    spring, autumn = dst_day(3), dst_day(10)
    afternoon = workday(10)
    organiser = f"agenda@{DEMO_DOMAIN}"
    specs = [
        MeetingInput(
            "Regionale nazorgmiddag West-Veluwe Vallei (demo)",
            at(afternoon, 13, 30),
            at(afternoon, 17),
            "gelderland",
            description="Voor PI-casemanagers, nazorgcoördinatoren en reclassering.\n\n"
            "- Wat werkt bij **wonen na detentie**\n- Kennismaken met elkaar",
            location="Zorg- en Veiligheidshuis, Stationsweg 1, Ede (demo)",
            theme="wonen",
            audience="partners",
            capacity=40,
            organiser_mailbox=organiser,
            organiser_name="Brug agenda (demo)",
            registration_deadline=at(afternoon - 2, 17),
        ),
        MeetingInput(
            "Kennismaking COSA-vrijwilligers (demo)",
            at(-2, 19, base=spring),
            at(-2, 21, base=spring),
            "noord-holland",
            location='Café "De Brug", Damstraat 2, Amsterdam (demo)',
            theme="sociaal-netwerk",
            capacity=3,
            description="Een avond voor nieuwe vrijwilligers. Zoë vertelt over haar cirkel. 🙂",
        ),
        MeetingInput(
            "Werkbezoek re-integratiecentrum (demo)",
            at(3, 10, base=spring),
            at(3, 12, base=spring),
            "utrecht",
            location="PI Utrecht (demo)",
            theme="werk-en-dagbesteding",
            audience="partners",
            capacity=15,
        ),
        MeetingInput(
            "Intervisie nazorgcoördinatoren (demo)",
            at(workday(7), 15),
            at(workday(7), 16, 30),
            "gelderland",
            location="",
            online_url="https://vergaderen.example.nl/intervisie-demo",
            audience="closed",
            group="nazorg-gelderland",
            repeat="monthly",
            repeat_count=10,
            theme="zorg",
        ),
        MeetingInput(
            "COSA-training, deel 1 (demo)",
            at(-3, 9, 30, base=autumn),
            at(-3, 16, base=autumn),
            "zuid-holland",
            location="Buurthuis De Schakel, Rotterdam (demo)",
            capacity=12,
            theme="sociaal-netwerk",
        ),
        MeetingInput(
            "Spreekuur schulden na detentie (demo)",
            at(4, 14, base=autumn),
            at(4, 16, base=autumn),
            "noord-holland",
            location="Wijkcentrum Oost, Amsterdam (demo)",
            theme="schulden",
        ),
        MeetingInput(
            "Landelijke netwerkdag Brug (demo)",
            at(workday(200), 0),
            at(workday(200), 0),
            "landelijk",
            all_day=True,
            location="Jaarbeurs, Utrecht (demo)",
            capacity=200,
            description="De hele dag. Programma volgt.",
        ),
        # Tuesdays from four weeks before the spring change to well after it
        MeetingInput(
            "Wekelijks inloopuur ID-bewijs (demo)",
            at(-26, 10, base=spring),
            at(-26, 11, base=spring),
            "gelderland",
            location="Gemeentehuis Ede, balie 3 (demo)",
            theme="id-bewijs",
            repeat="weekly",
            repeat_count=12,
        ),
        MeetingInput(
            "Werkbezoek Huis van Herstel (demo, gaat niet door)",
            at(workday(20), 10),
            at(workday(20), 12),
            "limburg",
            location="Maastricht (demo)",
            theme="wonen",
        ),
    ]
    made = [
        create_meeting(session, spec, actor="demo", now=now, settings=settings) for spec in specs
    ]
    weekly_id, starts = made[7].id, series_starts(made[7])
    assert weekly_id is not None

    def change(index: int, action: str, **extra: Any) -> None:
        """Change one date of the weekly series, as an organiser would."""
        key = occurrence_key(starts[index])
        change_occurrence(
            session,
            weekly_id,
            key,
            action=action,
            actor="demo",
            now=now,
            settings=settings,
            **extra,
        )

    change(2, "skip")
    moved = local(starts[4]).replace(tzinfo=None) + dt.timedelta(hours=3)
    change(
        4, "move", start=moved, end=moved + dt.timedelta(hours=1), location="Bibliotheek Ede (demo)"
    )
    change(6, "cancel")
    cancelled_id = made[8].id
    assert cancelled_id is not None
    cancel_meeting(
        session,
        cancelled_id,
        actor="demo",
        now=now,
        settings=settings,
        reason="De locatie is niet beschikbaar.",
    )
    full = made[1]
    assert full.id is not None
    for n in range(5):  # 3 seats: 3 registered, 2 on the waitlist
        person = f"deelnemer{n + 1}@{DEMO_DOMAIN}"
        session.add(
            Registration(
                meeting_id=full.id,
                name=f"Demo deelnemer {n + 1}",
                email=person,
                email_key=person,
                organisation="Demo-organisatie",
                created_at=now,
                confirmed_at=now,
            )
        )
        session.flush()
        registration = session.exec(
            select(Registration).where(Registration.email_key == person)
        ).one()
        _place(session, full, registration, now=now + dt.timedelta(seconds=n), settings=settings)
    _, raw = create_partner_feed(
        session,
        name="Demo partner",
        email=f"partner@{DEMO_DOMAIN}",
        organisation="Demo-reclassering",
        regions=["gelderland"],
        themes=[],
        audiences=list(PUBLIC_AUDIENCES),
        groups=["nazorg-gelderland"],
        actor="demo",
        now=now,
        settings=settings,
        send_mail=False,
    )
    return [
        f"Demo-agenda: {len(made)} bijeenkomsten op /agenda/ (feed: /agenda.ics).",
        f"  privé-feed (demo, met besloten groep): /agenda/prive/{raw}.ics",
    ]
