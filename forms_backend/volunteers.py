"""Volunteer sign-ups, double opt-in, the coordinator pipeline and AVG self-service (issue 4).

A sign-up is stored as ``aangemeld`` together with its confirmation e-mail (outbox, same
transaction). Only a confirmed sign-up reaches coordinators. Every e-mail carries a personal
link (``/mijn/<token>``) where the volunteer sees, downloads, corrects, withdraws or erases
their data. Coordinators see only their own programmes and regions.

Pure domain code: functions take a session, explicit inputs and ``now``; no Flask here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import field_validator
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, bindparam, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend import audit, db, localtime, outbox, tokens
from forms_backend.accounts import User
from forms_backend.content import REGIOS
from forms_backend.db import UTCDateTime
from forms_backend.localtime import local, local_date
from forms_backend.spreadsheet import to_csv

PACKAGE = Path(__file__).resolve().parent
PROGRAMMES_FILE = PACKAGE / "data" / "programmas.yml"
POSTCODES_FILE = PACKAGE / "data" / "postcodes.yml"

# The pipeline, in order. Labels are what people read.
STATUSES: dict[str, str] = {
    "aangemeld": "Aangemeld (niet bevestigd)",
    "bevestigd": "Bevestigd",
    "intake_gepland": "Intake gepland",
    "intake_gehad": "Intake gehad",
    "vog_aangevraagd": "VOG aangevraagd",
    "vog_ontvangen": "VOG ontvangen",
    "training": "Training",
    "actief": "Actief",
    "gestopt": "Gestopt",
    "afgewezen": "Afgewezen",
}
ENDED = ("gestopt", "afgewezen")
# Only the system sets these: a sign-up and its confirmation by the volunteer.
SYSTEM_STATUSES = ("aangemeld", "bevestigd")
# A coordinator may send the volunteer an e-mail on these steps (mail/volunteer_status_*.txt).
MAIL_STATUSES = ("intake_gepland", "vog_aangevraagd", "training", "actief", "gestopt", "afgewezen")

AVAILABILITY: dict[str, str] = {
    "doordeweeks_overdag": "Doordeweeks overdag",
    "doordeweeks_avond": "Doordeweeks 's avonds",
    "weekend": "In het weekend",
}
HEARD_VIA: dict[str, str] = {
    "website": "Via deze website",
    "zoekmachine": "Via een zoekmachine",
    "bekende": "Via iemand die ik ken",
    "sociale_media": "Via sociale media",
    "organisatie": "Via een organisatie",
    "anders": "Anders",
}

PURPOSE_CONFIRM = "vrijwilliger.bevestigen"
PURPOSE_SELF = "vrijwilliger.mijn"

_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")


class VolunteerError(ValueError):
    """Something a person can fix or must know (Dutch message)."""


class NotFound(VolunteerError):
    """No such volunteer, or not in the caller's scope: answered as 404."""


# ---------------------------------------------------------------------------------------------
# configuration: programmes and postcode regions


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    type: str  # text | textarea | choice | yesno
    required: bool = False
    hint: str | None = None
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def options(self) -> tuple[tuple[str, str], ...]:
        return (("ja", "Ja"), ("nee", "Nee")) if self.type == "yesno" else self.choices

    def display(self, value: str) -> str:
        return dict(self.options).get(value, value)


@dataclass(frozen=True)
class Programme:
    slug: str
    title: str
    next_steps: str
    questions: tuple[Question, ...] = ()


_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_QUESTION_TYPES = ("text", "textarea", "choice", "yesno")


def parse_programmes(raw: Any) -> dict[str, Programme]:
    """Validate the programme configuration; a mistake names the programme and the key."""
    if not isinstance(raw, dict):
        raise ValueError("programmas.yml: verwacht een lijst van programma's (slug: ...)")
    programmes = {}
    for slug, spec in raw.items():
        where = f"programmas.yml, {slug}"
        if not isinstance(spec, dict) or not spec.get("title") or not spec.get("next_steps"):
            raise ValueError(f"{where}: title en next_steps zijn verplicht")
        questions = []
        for item in spec.get("questions") or []:
            qid, qtype = item.get("id", ""), item.get("type", "text")
            if (
                not _QUESTION_ID.match(str(qid))
                or qtype not in _QUESTION_TYPES
                or not item.get("label")
            ):
                raise ValueError(f"{where}: vraag {qid!r} heeft een ongeldige id, type of label")
            choices = tuple(
                (str(k), str(v)) for choice in item.get("choices") or [] for k, v in choice.items()
            )
            if qtype == "choice" and not choices:
                raise ValueError(f"{where}: vraag {qid} van type choice heeft choices nodig")
            questions.append(
                Question(
                    qid,
                    str(item["label"]),
                    qtype,
                    bool(item.get("required")),
                    item.get("hint"),
                    choices,
                )
            )
        programmes[str(slug)] = Programme(
            str(slug),
            str(spec["title"]),
            " ".join(str(spec["next_steps"]).split()),
            tuple(questions),
        )
    return programmes


@functools.cache
def programmes(path: Path = PROGRAMMES_FILE) -> dict[str, Programme]:
    """The programmes that accept sign-ups, from data/programmas.yml (read once)."""
    return parse_programmes(yaml.safe_load(path.read_text(encoding="utf-8")))


def programme(slug: str) -> Programme:
    try:
        return programmes()[slug]
    except KeyError:
        raise NotFound("Voor dit programma kun je je hier niet aanmelden.") from None


@functools.cache
def postcode_ranges(path: Path = POSTCODES_FILE) -> tuple[tuple[int, int, str], ...]:
    ranges = tuple(
        (int(low), int(high), str(region))
        for low, high, region in yaml.safe_load(path.read_text(encoding="utf-8"))
    )
    for _, _, region in ranges:
        if region not in REGIOS:
            raise ValueError(f"postcodes.yml: onbekende regio {region!r}")
    return ranges


def normalise_postcode(value: str) -> str:
    """'1234ab' → '1234 AB'; VolunteerError when it is not a Dutch postcode."""
    match = _POSTCODE.match(value.strip())
    if not match:
        raise VolunteerError("Vul een Nederlandse postcode in, bijvoorbeeld 1234 AB.")
    return f"{match.group(1)} {match.group(2).upper()}"


def region_for_postcode(postcode: str) -> str:
    """The (approximate) province for a Dutch postcode."""
    number = int(normalise_postcode(postcode)[:4])
    for low, high, region in postcode_ranges():
        if low <= number <= high:
            return region
    raise VolunteerError("We kennen deze postcode niet. Controleer hem.")


def normalise_phone(value: str) -> str:
    """Dutch (06-12345678, 010 123 4567) or international (+32 ...) numbers; '' stays ''."""
    value = " ".join(value.split())
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if not _PHONE_ALLOWED.match(value) or value.count("+") > 1:
        raise VolunteerError(
            "Gebruik alleen cijfers, spaties, streepjes en eventueel een + aan het begin."
        )
    if value.startswith("+") or value.startswith("00"):
        if not 8 <= len(digits.removeprefix("00")) <= 15:
            raise VolunteerError(
                "Een internationaal nummer heeft 8 tot 15 cijfers, bijvoorbeeld +32 470 12 34 56."
            )
    elif not (len(digits) == 10 and digits.startswith("0")):
        raise VolunteerError(
            "Een Nederlands nummer heeft 10 cijfers en begint met 0, bijvoorbeeld 06 12345678."
        )
    return value


# ---------------------------------------------------------------------------------------------
# tables


class Volunteer(SQLModel, table=True):
    # The sign-up's duplicate check (address + programme) seeks this index; with separate
    # indexes SQLite chose the programme one and scanned every sign-up of the programme.
    __table_args__ = (Index("ix_volunteer_email_programme", "email", "programme"),)

    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(max_length=60, index=True)
    region: str = Field(max_length=40, index=True)
    status: str = Field(default="aangemeld", max_length=20, index=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=30)
    postcode: str = Field(max_length=7)
    motivation: str | None = Field(default=None, max_length=4000)
    availability: list[str] = Field(default_factory=list, sa_type=JSON)
    heard_via: str = Field(default="", max_length=40)
    answers: dict[str, str] | None = Field(default=None, sa_type=JSON(none_as_null=True))
    consent_version: str = Field(max_length=64)
    consent_at: dt.datetime = Field(sa_type=UTCDateTime)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    confirmed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)  # when it was recorded
    status_on: dt.date  # the current step's own date, as the coordinator gave it ("Sinds")
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)

    @property
    def subject(self) -> str:
        return f"volunteer:{self.id}"

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def region_label(self) -> str:
        return REGIOS.get(self.region, self.region)

    @property
    def programme_label(self) -> str:
        prog = programmes().get(self.programme)
        return prog.title if prog else self.programme


class VolunteerEvent(SQLModel, table=True):
    """One step in the pipeline or a note: who, when, the step's date and a note."""

    __tablename__ = "volunteer_event"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("volunteer.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    at: dt.datetime = Field(sa_type=UTCDateTime)
    step_date: (
        dt.date
    )  # the date of the step (e.g. when the VOG arrived); never the document itself
    actor: str = Field(max_length=80)  # "user:3", "vrijwilliger", "systeem"
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    note: str = Field(default="", max_length=2000)
    mailed: bool = False


class VolunteerErasure(SQLModel, table=True):
    """An anonymous count of erased sign-ups: programme, month and why. Nothing else."""

    __tablename__ = "volunteer_erasure"

    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(max_length=60)
    month: str = Field(max_length=7)  # "2026-03"
    reason: str = Field(max_length=30)  # gewist | onbevestigd | bewaartermijn


# ---------------------------------------------------------------------------------------------
# validated domain input


class SignupInput(SQLModel):
    programme: str = Field(max_length=60)
    name: str = Field(min_length=1, max_length=120)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(default="", max_length=30)
    postcode: str = Field(max_length=7)
    motivation: str = Field(min_length=1, max_length=4000)
    availability: list[str] = Field(default_factory=list)
    heard_via: str = Field(default="", max_length=40)
    answers: dict[str, str] = Field(default_factory=dict)
    consent_version: str = Field(min_length=1, max_length=64)

    @field_validator("name", "email", "phone", "postcode", "heard_via", "consent_version")
    @classmethod
    def _single_line(cls, value: str) -> str:
        if any(ch in value for ch in "\x00\r\n"):
            raise ValueError("regeleinden en onzichtbare tekens passen niet in dit veld")
        return value

    @field_validator("motivation")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("onzichtbare tekens passen niet in dit veld")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if "\n" in value or " " in value or value.count("@") != 1:
            raise ValueError("geen geldig e-mailadres")
        return value

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: list[str]) -> list[str]:
        if any(item not in AVAILABILITY for item in value):
            raise ValueError("onbekende beschikbaarheid")
        return value


class CorrectionInput(SQLModel):
    """What a volunteer may correct themselves (the e-mail address is their identity)."""

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(default="", max_length=30)
    postcode: str = Field(max_length=7)
    motivation: str = Field(default="", max_length=4000)
    availability: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """Links and terms, from the app's configuration (the views build this once)."""

    base_url: str = "http://127.0.0.1:8000"
    site_name: str = "Brug"
    confirm_ttl: dt.timedelta = dt.timedelta(hours=72)
    link_ttl: dt.timedelta = dt.timedelta(days=7)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @functools.cached_property  # worked out once: every mail uses it
    def link_term(self) -> str:
        """How long a personal link works, in words: "7 dagen", "1 dag", "36 uur"."""
        return localtime.term(self.link_ttl)

    @functools.cached_property
    def confirm_term(self) -> str:
        """How long a confirmation link works, in words: "3 dagen"."""
        return localtime.term(self.confirm_ttl)


# ---------------------------------------------------------------------------------------------
# e-mail


render_mail = outbox.render_mail  # the one mail-template renderer


def _personal_link(
    session: Session, volunteer: Volunteer, *, now: dt.datetime, settings: Settings
) -> str:
    raw = tokens.issue(
        session,
        purpose=PURPOSE_SELF,
        subject=volunteer.subject,
        now=now,
        ttl=settings.link_ttl,
        single_use=False,
    )
    return settings.url(f"/mijn/{raw}")


def _mail(
    session: Session,
    volunteer: Volunteer,
    template: str,
    *,
    kind: str,
    now: dt.datetime,
    settings: Settings,
    **extra: Any,
) -> None:
    personal_link = _personal_link(session, volunteer, now=now, settings=settings)
    subject, body = _render(
        volunteer.name, volunteer.programme, template, personal_link, settings=settings, **extra
    )
    outbox.enqueue(session, to=volunteer.email, subject=subject, body=body, now=now, kind=kind)


def _render(
    name: str,
    programme_slug: str,
    template: str,
    personal_link: str,
    *,
    settings: Settings,
    **extra: Any,
) -> tuple[str, str]:
    prog = programmes().get(programme_slug)
    return render_mail(
        template,
        name=name,
        programme=prog,
        programme_title=prog.title if prog else programme_slug,
        personal_link=personal_link,
        link_term=settings.link_term,
        site_name=settings.site_name,
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# sign-up and double opt-in


@dataclass(frozen=True)
class SignupResult:
    volunteer_id: int
    repeated: bool  # the address was already signed up for this programme: never shown to anyone


def _find(session: Session, *, email: str, programme_slug: str | None = None) -> list[Volunteer]:
    query = select(Volunteer).where(Volunteer.email == email.strip().lower())
    if programme_slug is not None:
        query = query.where(Volunteer.programme == programme_slug)
    return list(session.exec(query.order_by(col(Volunteer.id))))


def sign_up(
    session: Session, data: SignupInput, *, now: dt.datetime, settings: Settings
) -> SignupResult:
    """Store a sign-up as ``aangemeld`` and queue its confirmation mail, in one transaction.

    A repeat with a known address creates nothing new but still queues one mail (a new
    confirmation link, or "you were already signed up, here is your personal link"), so the
    page and the mail traffic look the same whether or not the address was known. Someone
    whose latest sign-up for the programme has ``gestopt`` signs up anew (a new row; the old
    one keeps its own retention term); a rejected sign-up stays the one on record.

    Everything a new sign-up needs (normalised values, both tokens and their digests, the
    rendered mail) is computed before the first statement, because on SQLite that statement
    takes the write lock (``BEGIN IMMEDIATE``): the lock covers one SELECT and four inserts (five
    rows), run on the driver's cursor (``db.FastInsert``).
    """
    prog = programme(data.programme)
    new = _prepare_signup(prog, data, now=now, settings=settings)
    connection = session.connection()  # the write transaction (lock) starts here
    existing_id = _SELECT_EXISTING(
        connection, {"email": new.volunteer["email"], "programme": prog.slug}
    )
    volunteer = session.get_one(Volunteer, existing_id) if existing_id is not None else None
    if volunteer is not None and volunteer.status != "gestopt":  # who stopped may come back
        if volunteer.status == "aangemeld":
            _send_confirmation(session, volunteer, now=now, settings=settings)
        else:
            _mail(
                session,
                volunteer,
                "volunteer_known.txt",
                kind="vrijwilliger.bekend",
                now=now,
                settings=settings,
                rejected=volunteer.status == "afgewezen",
            )
        session.commit()
        return SignupResult(volunteer.id or 0, repeated=True)
    volunteer_id = _INSERT_VOLUNTEER.one(connection, new.volunteer)
    subject = f"volunteer:{volunteer_id}"
    _INSERT_EVENT.one(connection, {**new.event, "volunteer_id": volunteer_id})
    _INSERT_TOKEN.many(connection, [{**t, "subject": subject} for t in new.tokens])
    _INSERT_OUTBOX.one(connection, new.mail)
    session.commit()
    return SignupResult(volunteer_id, repeated=False)


# Built and compiled once, run on the driver's cursor: see db.FastInsert.
_SELECT_EXISTING = db.FastScalar(
    select(Volunteer.id)
    .where(Volunteer.email == bindparam("email"), Volunteer.programme == bindparam("programme"))
    .order_by(col(Volunteer.id).desc())
    .limit(1)
)
_INSERT_VOLUNTEER = db.FastInsert(Volunteer.__table__)  # type: ignore[attr-defined]
_INSERT_EVENT = db.FastInsert(VolunteerEvent.__table__)  # type: ignore[attr-defined]
_INSERT_TOKEN = db.FastInsert(tokens.Token.__table__)  # type: ignore[attr-defined]
_INSERT_OUTBOX = db.FastInsert(outbox.OutboxMessage.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _NewSignup:
    """Column values of a new sign-up's rows, all computed before the write transaction."""

    volunteer: dict[str, Any]
    event: dict[str, Any]
    tokens: list[dict[str, Any]]  # without the subject: that needs the volunteer's id
    mail: dict[str, object]


def _prepare_signup(
    prog: Programme, data: SignupInput, *, now: dt.datetime, settings: Settings
) -> _NewSignup:
    postcode = normalise_postcode(data.postcode)
    volunteer = {
        "programme": prog.slug,
        "region": region_for_postcode(postcode),
        "status": "aangemeld",
        "name": data.name.strip(),
        "email": data.email,
        "phone": normalise_phone(data.phone),
        "postcode": postcode,
        "motivation": data.motivation.strip(),
        "availability": list(dict.fromkeys(data.availability)),
        "heard_via": data.heard_via if data.heard_via in HEARD_VIA else "",
        "answers": _clean_answers(prog, data.answers),
        "consent_version": data.consent_version,
        "consent_at": now,
        "created_at": now,
        "confirmed_at": None,
        "status_at": now,
        "status_on": local_date(now),
        "updated_at": now,
    }
    confirm_raw, confirm_digest = tokens.mint()
    self_raw, self_digest = tokens.mint()
    token_rows = [
        _token_values(confirm_digest, PURPOSE_CONFIRM, now, settings.confirm_ttl, single_use=True),
        _token_values(self_digest, PURPOSE_SELF, now, settings.link_ttl, single_use=False),
    ]
    subject, body = _render(
        data.name.strip(),
        prog.slug,
        "volunteer_confirm.txt",
        settings.url(f"/mijn/{self_raw}"),
        settings=settings,
        confirm_link=settings.url(f"/aanmelden/bevestigen/{confirm_raw}"),
        confirm_term=settings.confirm_term,
    )
    event = _first_step(now, note="Aangemeld via het formulier")
    mail = outbox.message_values(
        to=data.email, subject=subject, body=body, now=now, kind="vrijwilliger.bevestigen"
    )
    return _NewSignup(volunteer, event, token_rows, mail)


def _token_values(
    digest: str, purpose: str, now: dt.datetime, ttl: dt.timedelta, *, single_use: bool
) -> dict[str, Any]:
    return {
        "digest": digest,
        "purpose": purpose,
        "created_at": now,
        "expires_at": now + ttl,
        "used_at": None,
        "single_use": single_use,
    }


def _first_step(at: dt.datetime, *, note: str) -> dict[str, Any]:
    return {
        "at": at,
        "step_date": local_date(at),
        "actor": "vrijwilliger",
        "from_status": None,
        "to_status": "aangemeld",
        "note": note,
        "mailed": False,
    }


def _add_signup(session: Session, volunteer: Volunteer, *, note: str) -> None:
    """Insert a new sign-up and its first step (the id is needed for tokens and events)."""
    session.add(volunteer)
    session.flush()
    assert volunteer.id is not None
    session.add(
        VolunteerEvent(volunteer_id=volunteer.id, **_first_step(volunteer.created_at, note=note))
    )


def _clean_answers(prog: Programme, answers: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for question in prog.questions:
        value = (answers.get(question.id) or "").strip()[:2000]
        if question.options and value and value not in dict(question.options):
            raise VolunteerError(f"Kies een van de antwoorden bij: {question.label}")
        if question.required and not value:
            raise VolunteerError(f"Beantwoord deze vraag: {question.label}")
        if value:
            cleaned[question.id] = value
    return cleaned


def _send_confirmation(
    session: Session, volunteer: Volunteer, *, now: dt.datetime, settings: Settings
) -> None:
    raw = tokens.issue(
        session,
        purpose=PURPOSE_CONFIRM,
        subject=volunteer.subject,
        now=now,
        ttl=settings.confirm_ttl,
    )
    _mail(
        session,
        volunteer,
        "volunteer_confirm.txt",
        kind="vrijwilliger.bevestigen",
        now=now,
        settings=settings,
        confirm_link=settings.url(f"/aanmelden/bevestigen/{raw}"),
        confirm_term=settings.confirm_term,
    )


def _token_error(exc: tokens.TokenError) -> VolunteerError:
    reason = str(exc)
    if "gebruikt" in reason:
        return VolunteerError("Deze link is al gebruikt.")
    if "verlopen" in reason:
        return VolunteerError("Deze link is verlopen.")
    return VolunteerError("Deze link kennen we niet. Misschien is hij niet helemaal gekopieerd.")


def volunteer_for_confirmation(session: Session, raw: str, *, now: dt.datetime) -> Volunteer:
    """The sign-up a confirmation link belongs to, without using the link (GET shows a button)."""
    try:
        token = tokens.peek(session, raw, purpose=PURPOSE_CONFIRM, now=now)
        volunteer = session.get(Volunteer, tokens.subject_id(token, "volunteer"))
    except tokens.TokenError as exc:
        raise _token_error(exc) from None
    if volunteer is None:
        raise VolunteerError("Deze aanmelding bestaat niet meer.")
    return volunteer


def confirm(session: Session, raw: str, *, now: dt.datetime) -> Volunteer:
    """Redeem a confirmation link: ``aangemeld`` → ``bevestigd``; now coordinators see it."""
    volunteer = volunteer_for_confirmation(session, raw, now=now)
    tokens.redeem(session, raw, purpose=PURPOSE_CONFIRM, now=now)
    return confirm_own(session, volunteer, now=now)


def confirm_own(session: Session, volunteer: Volunteer, *, now: dt.datetime) -> Volunteer:
    """Confirm from the personal page: its link went to the same address, so it proves the
    address as well as a confirmation link does (one whose confirmation link expired)."""
    if volunteer.status == "aangemeld":
        _set_status(
            session,
            volunteer,
            "bevestigd",
            actor="vrijwilliger",
            now=now,
            step_date=local_date(now),
            note="E-mailadres bevestigd",
        )
        volunteer.confirmed_at = now
    session.commit()
    return volunteer


def _set_status(
    session: Session,
    volunteer: Volunteer,
    status: str,
    *,
    actor: str,
    now: dt.datetime,
    step_date: dt.date,
    note: str = "",
    mailed: bool = False,
) -> VolunteerEvent:
    assert volunteer.id is not None
    event = VolunteerEvent(
        volunteer_id=volunteer.id,
        at=now,
        step_date=step_date,
        actor=actor,
        from_status=volunteer.status,
        to_status=status if status != volunteer.status else None,
        note=note,
        mailed=mailed,
    )
    if status != volunteer.status:
        volunteer.status, volunteer.status_at, volunteer.status_on = status, now, step_date
    volunteer.updated_at = now
    session.add(volunteer)
    session.add(event)
    return event


# ---------------------------------------------------------------------------------------------
# self-service (AVG): view, download, correct, withdraw, erase


def volunteer_for_link(session: Session, raw: str, *, now: dt.datetime) -> Volunteer:
    """The volunteer a personal link belongs to; VolunteerError for unknown/expired links."""
    try:
        token = tokens.peek(session, raw, purpose=PURPOSE_SELF, now=now)
        volunteer = session.get(Volunteer, tokens.subject_id(token, "volunteer"))
    except tokens.TokenError as exc:
        raise _token_error(exc) from None
    if volunteer is None:
        raise VolunteerError("Deze gegevens bestaan niet meer.")
    return volunteer


def request_links(session: Session, email: str, *, now: dt.datetime, settings: Settings) -> None:
    """Mail a fresh personal link for every sign-up of this address; silent when there is none.
    A sign-up not yet confirmed gets a fresh confirmation mail instead (it has the personal link
    too): its first link may have expired."""
    found = _find(session, email=email)
    for volunteer in found:
        if volunteer.status == "aangemeld":
            _send_confirmation(session, volunteer, now=now, settings=settings)
            continue
        _mail(
            session,
            volunteer,
            "volunteer_link.txt",
            kind="vrijwilliger.link",
            now=now,
            settings=settings,
        )
    session.commit()


def events_of(session: Session, volunteer: Volunteer) -> list[VolunteerEvent]:
    query = select(VolunteerEvent).where(VolunteerEvent.volunteer_id == volunteer.id)
    return list(session.exec(query.order_by(col(VolunteerEvent.at), col(VolunteerEvent.id))))


def data_export(session: Session, volunteer: Volunteer) -> dict[str, Any]:
    """Everything Brug holds about this volunteer (AVG art. 15 and 20), in the words the
    personal page uses: names instead of codes, moments in Amsterdam time with their offset
    (ISO 8601, so a program reads them too)."""
    prog = programmes().get(volunteer.programme)
    questions = {q.id: q for q in prog.questions} if prog else {}

    def moment(value: dt.datetime | None) -> str | None:
        return local(value).isoformat(timespec="seconds") if value else None

    return {
        "programma": volunteer.programme_label,
        "naam": volunteer.name,
        "e-mailadres": volunteer.email,
        "telefoon": volunteer.phone,
        "postcode": volunteer.postcode,
        "regio": volunteer.region_label,
        "motivatie": volunteer.motivation,
        "beschikbaarheid": [AVAILABILITY.get(a, a) for a in volunteer.availability],
        "hoe_gehoord": HEARD_VIA.get(volunteer.heard_via, volunteer.heard_via),
        "antwoorden": {
            (questions[k].label if k in questions else k): (
                questions[k].display(v) if k in questions else v
            )
            for k, v in (volunteer.answers or {}).items()
        },
        "status": STATUSES.get(volunteer.status, volunteer.status),
        "status_sinds": volunteer.status_on.isoformat(),
        "toestemming_privacyverklaring_versie": volunteer.consent_version,
        "toestemming_gegeven_op": moment(volunteer.consent_at),
        "aangemeld_op": moment(volunteer.created_at),
        "bevestigd_op": moment(volunteer.confirmed_at),
        "stappen": [
            {
                "moment": moment(event.at),
                "datum": event.step_date.isoformat(),
                "van": STATUSES.get(event.from_status or "", event.from_status),
                "naar": STATUSES.get(event.to_status or "", event.to_status),
                "notitie": event.note,
            }
            for event in events_of(session, volunteer)
        ],
    }


def data_export_csv(session: Session, volunteer: Volunteer) -> str:
    """The self-service export as two-column CSV (veld, waarde)."""
    data = data_export(session, volunteer)
    rows: list[tuple[str, object]] = []
    for key, value in data.items():
        if key == "stappen":
            for index, step in enumerate(value, 1):
                rows.append(
                    (
                        f"stap {index}",
                        f"{step['datum']}: {step['van'] or '-'} → {step['naar'] or '-'}"
                        f" {step['notitie']}".strip(),
                    )
                )
        elif key == "antwoorden":
            rows.extend((f"vraag: {label}", answer) for label, answer in value.items())
        elif isinstance(value, list):
            rows.append((key, ", ".join(value)))
        else:
            rows.append((key, value))
    return to_csv([("veld", "waarde"), *rows])


def correct(
    session: Session, volunteer: Volunteer, data: CorrectionInput, *, now: dt.datetime
) -> Volunteer:
    """The volunteer corrects their own data (AVG art. 16)."""
    postcode = normalise_postcode(data.postcode)
    volunteer.region = region_for_postcode(postcode)
    volunteer.postcode = postcode
    volunteer.name = data.name.strip()
    volunteer.phone = normalise_phone(data.phone)
    if data.motivation.strip():
        volunteer.motivation = data.motivation.strip()
    volunteer.availability = [a for a in dict.fromkeys(data.availability) if a in AVAILABILITY]
    volunteer.updated_at = now
    session.add(volunteer)
    audit.record(
        session,
        actor="vrijwilliger",
        action="vrijwilliger.gecorrigeerd",
        subject=volunteer.subject,
        now=now,
    )
    session.commit()
    return volunteer


def withdraw(session: Session, volunteer: Volunteer, *, now: dt.datetime) -> Volunteer:
    """The volunteer stops: status ``gestopt``; the data stays until the retention term ends."""
    if volunteer.status not in ENDED:
        _set_status(
            session,
            volunteer,
            "gestopt",
            actor="vrijwilliger",
            now=now,
            step_date=local_date(now),
            note="Ingetrokken door de vrijwilliger",
        )
    session.commit()
    return volunteer


def _erase(session: Session, volunteer: Volunteer, *, now: dt.datetime, reason: str) -> None:
    tokens.revoke(session, subject=volunteer.subject, now=now)
    session.exec(
        delete(outbox.OutboxMessage).where(col(outbox.OutboxMessage.recipient) == volunteer.email)
    )
    session.exec(delete(VolunteerEvent).where(col(VolunteerEvent.volunteer_id) == volunteer.id))
    session.add(
        VolunteerErasure(programme=volunteer.programme, month=now.strftime("%Y-%m"), reason=reason)
    )
    audit.record(
        session,
        actor="systeem" if reason != "gewist" else "vrijwilliger",
        action=f"vrijwilliger.{reason}",
        subject=volunteer.subject,
        now=now,
    )
    session.delete(volunteer)


def erase(session: Session, volunteer: Volunteer, *, now: dt.datetime) -> None:
    """Remove every personal detail (AVG art. 17); only an anonymous count stays."""
    _erase(session, volunteer, now=now, reason="gewist")
    session.commit()


def erasure_counts(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(VolunteerErasure.reason, func.count()).group_by(VolunteerErasure.reason)
    )
    return {reason: count for reason, count in rows}


# ---------------------------------------------------------------------------------------------
# the coordinator workspace


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    programme: str | None = None
    region: str | None = None
    search: str = ""


def _scoped(user: User, query: Any) -> Any:
    """Only confirmed sign-ups; a coordinator only their programmes and regions."""
    query = query.where(Volunteer.status != "aangemeld")
    if user.is_admin:
        return query
    query = query.where(col(Volunteer.programme).in_(user.programmes or [""]))
    if user.regions:
        query = query.where(col(Volunteer.region).in_(user.regions))
    return query


def _filtered(query: Any, filters: Filters) -> Any:
    if filters.programme:
        query = query.where(Volunteer.programme == filters.programme)
    if filters.region:
        query = query.where(Volunteer.region == filters.region)
    if filters.search:
        needle = (
            "%" + filters.search.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        )
        query = query.where(
            func.lower(Volunteer.name).like(needle) | func.lower(Volunteer.email).like(needle)
        )
    return query


def status_counts(session: Session, user: User, filters: Filters) -> dict[str, int]:
    """Count per status within the user's scope and the filters (ignoring the status filter)."""
    query = _filtered(
        _scoped(user, select(Volunteer.status, func.count()).group_by(Volunteer.status)), filters
    )
    counts = dict.fromkeys(STATUSES, 0)
    counts.pop("aangemeld")
    for status, count in session.exec(query):
        counts[status] = count
    return counts


def list_volunteers(
    session: Session, user: User, filters: Filters, *, limit: int | None = 200, offset: int = 0
) -> list[Volunteer]:
    """The newest step first; ``limit`` and ``offset`` give one page (``limit=None``: all)."""
    query = _filtered(_scoped(user, select(Volunteer)), filters)
    if filters.status:
        query = query.where(Volunteer.status == filters.status)
    query = query.order_by(col(Volunteer.status_at).desc(), col(Volunteer.id).desc())
    if limit:
        query = query.limit(limit).offset(offset)
    return list(session.exec(query))


def get_volunteer(session: Session, user: User, volunteer_id: int) -> Volunteer:
    """One volunteer in the user's scope; NotFound otherwise (a 404, not a 403: no hints)."""
    volunteer = session.exec(
        _scoped(user, select(Volunteer)).where(Volunteer.id == volunteer_id)
    ).first()
    if volunteer is None:
        raise NotFound("Deze vrijwilliger bestaat niet of valt buiten jouw programma's en regio's.")
    return volunteer


def view_volunteer(
    session: Session, user: User, volunteer_id: int, *, now: dt.datetime
) -> tuple[Volunteer, list[VolunteerEvent]]:
    """The detail page: the volunteer, their steps, and an audit entry for this view."""
    volunteer = get_volunteer(session, user, volunteer_id)
    audit.record(
        session, actor=user.actor, action="vrijwilliger.bekeken", subject=volunteer.subject, now=now
    )
    session.commit()
    return volunteer, events_of(session, volunteer)


def allowed_next(volunteer: Volunteer) -> list[str]:
    """Statuses a coordinator may set: every step after confirmation but the current one."""
    return [s for s in STATUSES if s not in SYSTEM_STATUSES and s != volunteer.status]


def change_status(
    session: Session,
    user: User,
    volunteer_id: int,
    *,
    status: str | None,
    on: dt.date,
    note: str,
    send_mail: bool,
    now: dt.datetime,
    settings: Settings,
) -> Volunteer:
    """Move a volunteer to the next step (or only add a note); mail them if asked."""
    volunteer = get_volunteer(session, user, volunteer_id)
    note = note.strip()[:2000]
    if status and status not in allowed_next(volunteer):
        raise VolunteerError("Deze stap kun je hier niet kiezen.")
    if not status and not note:
        raise VolunteerError("Kies een nieuwe stap of schrijf een notitie.")
    signed_up = local_date(volunteer.created_at)
    if on < signed_up:
        raise VolunteerError(
            f"Deze datum ligt vóór de aanmelding ({signed_up:%d-%m-%Y}). Kies een latere datum."
        )
    if on > local_date(now) + dt.timedelta(days=366):
        raise VolunteerError("Kies een datum die hoogstens een jaar vooruit ligt.")
    mail = bool(status) and send_mail and status in MAIL_STATUSES
    _set_status(
        session,
        volunteer,
        status or volunteer.status,
        actor=user.actor,
        now=now,
        step_date=on,
        note=note,
        mailed=mail,
    )
    if mail:
        _mail(
            session,
            volunteer,
            f"volunteer_status_{status}.txt",
            kind=f"vrijwilliger.{status}",
            now=now,
            settings=settings,
            note=note,  # the volunteer may read every note (the form says so): here, in words
        )
    audit.record(
        session,
        actor=user.actor,
        action="vrijwilliger.stap" if status else "vrijwilliger.notitie",
        subject=volunteer.subject,
        now=now,
        detail=status or "",
    )
    session.commit()
    return volunteer


EXPORT_COLUMNS = (
    "id",
    "programma",
    "regio",
    "status",
    "sinds",
    "naam",
    "e-mailadres",
    "telefoon",
    "postcode",
    "beschikbaarheid",
    "aangemeld op",
    "bevestigd op",
)


def export_csv(session: Session, user: User, filters: Filters, *, now: dt.datetime) -> str:
    """The filtered list as CSV (no motivation: export only what coordinating needs); audited."""
    volunteers = list_volunteers(session, user, filters, limit=None)
    rows = [
        (
            v.id,
            v.programme_label,
            v.region_label,
            v.status_label,
            f"{v.status_on:%d-%m-%Y}",
            v.name,
            v.email,
            v.phone,
            v.postcode,
            ", ".join(AVAILABILITY.get(a, a) for a in v.availability),
            f"{local_date(v.created_at):%d-%m-%Y}",
            f"{local_date(v.confirmed_at):%d-%m-%Y}" if v.confirmed_at else "",
        )
        for v in volunteers
    ]
    # Which filters, not what was searched for: a search term is often a name.
    chosen = [
        f"{word}={value}"
        for word, value in (
            ("status", filters.status),
            ("programma", filters.programme),
            ("regio", filters.region),
        )
        if value
    ] + (["zoekterm"] if filters.search else [])
    audit.record(
        session,
        actor=user.actor,
        action="vrijwilligers.export",
        subject="volunteers",
        now=now,
        detail=audit.export_detail(len(rows), chosen),
    )
    session.commit()
    return to_csv([EXPORT_COLUMNS, *rows])


# ---------------------------------------------------------------------------------------------
# retention


@dataclass(frozen=True)
class RetentionTerms:
    """How long data is kept. Configurable per app (BRUG_VOLUNTEER_* keys)."""

    unconfirmed: dt.timedelta = dt.timedelta(days=30)  # everything of a sign-up never confirmed
    motivation_after_end: dt.timedelta = dt.timedelta(
        days=365
    )  # motivation + answers after gestopt/afgewezen
    all_after_end: dt.timedelta = dt.timedelta(days=730)  # everything, after gestopt/afgewezen


_terms_by_database: dict[str, RetentionTerms] = {}


def configure_retention(database_url: str, terms: RetentionTerms) -> None:
    """Set the terms for one database (the app does this from its config)."""
    _terms_by_database[database_url] = terms


def _terms_for(session: Session) -> RetentionTerms:
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return (
        _terms_by_database.get(url)
        or _terms_by_database.get(url.replace("postgresql+psycopg://", "postgresql://"))
        or RetentionTerms()
    )


def purge_unconfirmed(
    session: Session, now: dt.datetime, terms: RetentionTerms | None = None
) -> int:
    terms = terms or _terms_for(session)
    old = session.exec(
        select(Volunteer).where(
            Volunteer.status == "aangemeld", Volunteer.created_at < now - terms.unconfirmed
        )
    ).all()
    for volunteer in old:
        _erase(session, volunteer, now=now, reason="onbevestigd")
    return len(old)


def purge_motivation(
    session: Session, now: dt.datetime, terms: RetentionTerms | None = None
) -> int:
    terms = terms or _terms_for(session)
    query = select(Volunteer).where(
        col(Volunteer.status).in_(ENDED),
        Volunteer.status_at < now - terms.motivation_after_end,
        col(Volunteer.motivation).is_not(None) | col(Volunteer.answers).is_not(None),
    )
    old = session.exec(query).all()
    for volunteer in old:
        volunteer.motivation, volunteer.answers, volunteer.updated_at = None, None, now
        session.add(volunteer)
    return len(old)


def purge_ended(session: Session, now: dt.datetime, terms: RetentionTerms | None = None) -> int:
    terms = terms or _terms_for(session)
    old = session.exec(
        select(Volunteer).where(
            col(Volunteer.status).in_(ENDED), Volunteer.status_at < now - terms.all_after_end
        )
    ).all()
    for volunteer in old:
        _erase(session, volunteer, now=now, reason="bewaartermijn")
    return len(old)


RETENTION_RULES: dict[str, Callable[[Session, dt.datetime], int]] = {
    "onbevestigde aanmeldingen (alle gegevens)": purge_unconfirmed,
    "motivatie en antwoorden van gestopte vrijwilligers": purge_motivation,
    "gestopte en afgewezen vrijwilligers (alle gegevens)": purge_ended,
}


# ---------------------------------------------------------------------------------------------
# demo data


DEMO_DOMAIN = "demo.brug.example.nl"


@dataclass
class _Demo:
    programme: str
    postcode: str
    status: str
    steps: list[str] = field(default_factory=list)


def seed_demo(session: Session, now: dt.datetime) -> list[str]:
    """A handful of clearly fake volunteers across the pipeline (no real people)."""
    plan = [
        _Demo("cosa", "6811 AA", "bevestigd"),
        _Demo("cosa", "6511 AB", "intake_gepland", ["intake_gepland"]),
        _Demo(
            "cosa",
            "7311 AC",
            "vog_aangevraagd",
            ["intake_gepland", "intake_gehad", "vog_aangevraagd"],
        ),
        _Demo(
            "cosa",
            "3511 AD",
            "actief",
            [
                "intake_gepland",
                "intake_gehad",
                "vog_aangevraagd",
                "vog_ontvangen",
                "training",
                "actief",
            ],
        ),
        _Demo("bezoekvrijwilliger", "1011 AE", "bevestigd"),
        _Demo(
            "bezoekvrijwilliger",
            "6811 AF",
            "training",
            ["intake_gepland", "intake_gehad", "vog_aangevraagd", "vog_ontvangen", "training"],
        ),
        _Demo("cosa", "6822 AG", "aangemeld"),
    ]
    start = now - dt.timedelta(days=60)
    for number, demo in enumerate(plan, 1):
        if demo.programme not in programmes():
            continue
        moment = start + dt.timedelta(days=number)
        volunteer = Volunteer(
            programme=demo.programme,
            region=region_for_postcode(demo.postcode),
            name=f"Demo Vrijwilliger {number}",
            email=f"vrijwilliger{number}@{DEMO_DOMAIN}",
            phone="06 12345678" if number % 2 else "",
            postcode=demo.postcode,
            motivation="Demotekst: ik wil graag iets betekenen voor mensen met een nieuwe start.",
            availability=["doordeweeks_avond"],
            heard_via="website",
            answers={},
            consent_version="demo",
            consent_at=moment,
            created_at=moment,
            status_at=moment,
            status_on=local_date(moment),
            updated_at=moment,
        )
        _add_signup(session, volunteer, note="Demo")
        if demo.status == "aangemeld":
            continue
        for step in ["bevestigd", *demo.steps]:
            moment += dt.timedelta(days=3)
            if step == "bevestigd":
                volunteer.confirmed_at = moment
            _set_status(
                session,
                volunteer,
                step,
                actor="systeem",
                now=moment,
                step_date=local_date(moment),
                note="Demostap",
            )
    return [f"Demovrijwilligers: {len(plan)} (e-mailadressen @{DEMO_DOMAIN})."]
