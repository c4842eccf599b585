"""Submitted best practices and werkbezoek offers, their moderation, and site builds (issue 6).

An organisation submits; a moderator takes it up, may ask questions (kept as messages), edits,
approves or rejects. Approval writes a page through the content writer and queues a site build;
the build worker publishes it (``gepubliceerd``) or, if the build fails, removes the page again
and marks the submission ``mislukt`` with the build's message while the old site stays live.

The submitter's name and e-mail address live only here (and in the outbox): the page is made
from the public fields alone, and a check refuses a page that contains the contact details.
No Flask in this module: views pass ``now``, ``public_url``, the writer and the site folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator
from sqlalchemy import JSON, Text, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend import audit, outbox, tokens
from forms_backend.content import (
    Bron,
    FrontMatterError,
    PageMeta,
    validate_front_matter,
)
from forms_backend.db import UTCDateTime, new_session
from forms_backend.localtime import local_date
from forms_backend.publishing import ContentWriter, Publisher, WriteError, render_page
from forms_backend.sanitize import (
    UnsafeMarkdown,
    check_markdown,
    inline_text,
    without_foreign_images,
)

log = logging.getLogger(__name__)

Kind = Literal["praktijk", "werkbezoek"]
KINDS: dict[str, str] = {"praktijk": "Praktijkvoorbeeld", "werkbezoek": "Werkbezoek"}
FOLDERS: dict[str, str] = {"praktijk": "praktijken", "werkbezoek": "werkbezoeken"}

STATES: dict[str, str] = {
    "ingediend": "Ingediend",
    "in_behandeling": "In behandeling",
    "vraag_gesteld": "Vraag gesteld",
    "goedgekeurd": "Goedgekeurd, wordt gepubliceerd",
    "afgewezen": "Afgewezen",
    "gepubliceerd": "Gepubliceerd",
    "mislukt": "Publiceren mislukt",
    "offline": "Offline gehaald",
}
# The moderator's log in words (the audit log stores the keys): audit's words for submissions.
ACTIONS: dict[str, str] = {k: v for k, v in audit.ACTIONS.items() if k.startswith("inzending.")}
OPEN_STATES = ("ingediend", "in_behandeling", "vraag_gesteld", "mislukt")
EDITABLE_STATES = OPEN_STATES
CLOSED_STATES = ("afgewezen", "gepubliceerd", "offline")

BUILD_STATES: dict[str, str] = {
    "wachtrij": "In de wachtrij",
    "bezig": "De site wordt gebouwd",
    "live": "Live",
    "mislukt": "Bouwen mislukt",
}

STATUS_PURPOSE = "inzending-status"
STATUS_TTL = dt.timedelta(days=365)
CONTACT_RETENTION = dt.timedelta(days=180)
DEMO_MARK = "[demo] "


class SubmissionError(ValueError):
    """A submission or action that cannot go ahead; ``problems`` are Dutch, for the person."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems) or [message]
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# tables


class Submission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    state: str = Field(default="ingediend", max_length=20, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    # public fields: they become the page
    title: str = Field(max_length=140)
    summary: str = Field(max_length=320)
    body: str = Field(sa_type=Text)
    leefgebieden: list[str] = Field(default_factory=list, sa_type=JSON)
    regio: str = Field(max_length=40, index=True)
    fase: list[str] = Field(default_factory=list, sa_type=JSON)
    organisatietypes: list[str] = Field(default_factory=list, sa_type=JSON)
    bronnen: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    organisatie: str = Field(max_length=200)
    plaats: str | None = Field(default=None, max_length=120)
    role_mailbox: str | None = Field(default=None, max_length=200)
    # personal data: database only
    contact_name: str | None = Field(default=None, max_length=120)
    contact_email: str | None = Field(default=None, max_length=320)
    consent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    contact_erased_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # moderation and publication
    reject_reason: str | None = Field(default=None, sa_type=Text)
    decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    page_path: str | None = Field(default=None, max_length=200)
    page_url: str | None = Field(default=None, max_length=200)
    build_id: int | None = Field(default=None, foreign_key="site_build.id", index=True)
    build_message: str | None = Field(default=None, sa_type=Text)
    published_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    is_demo: bool = False
    # A digest of the form page's start stamp and everything sent: the same page sent twice (a
    # double click, a retry after a timeout) finds its first submission instead of a second.
    form_key: str | None = Field(default=None, max_length=64, unique=True, index=True)

    @property
    def subject(self) -> str:
        return f"submission:{self.id}"

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class SubmissionMessage(SQLModel, table=True):
    __tablename__ = "submission_message"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author: str = Field(max_length=20)  # "moderator" | "inzender"
    user_id: int | None = Field(default=None)
    body: str = Field(sa_type=Text)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class SiteBuild(SQLModel, table=True):
    """One request to rebuild the site; requests made while one waits join it (coalescing)."""

    __tablename__ = "site_build"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="wachtrij", max_length=20, index=True)
    requested_at: dt.datetime = Field(sa_type=UTCDateTime)
    requested_by: str = Field(default="systeem", max_length=80)
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    release: str | None = Field(default=None, max_length=80)
    message: str | None = Field(default=None, sa_type=Text)

    @property
    def state_label(self) -> str:
        return BUILD_STATES.get(self.state, self.state)


# ---------------------------------------------------------------------------------------------
# domain input


class SubmissionData(SQLModel):
    """The public fields of a submission, validated; they map one-to-one onto the page."""

    kind: Kind
    title: str = Field(min_length=1, max_length=140)
    summary: str = Field(min_length=1, max_length=320)
    body: str = Field(min_length=1, max_length=20_000)
    leefgebieden: list[str]
    regio: str
    fase: list[str] = Field(default_factory=list)
    organisatietypes: list[str] = Field(default_factory=list)
    bronnen: list[Bron] = Field(default_factory=list)
    organisatie: str = Field(min_length=1, max_length=200)
    plaats: str | None = Field(default=None, max_length=120)
    role_mailbox: str | None = Field(default=None, max_length=200)

    @field_validator("role_mailbox", "plaats")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class Contact(SQLModel):
    """Who submitted: kept in the database only, never on a page."""

    name: str = Field(min_length=1, max_length=120)
    email: str = Field(min_length=3, max_length=320)


def data_of(submission: Submission) -> SubmissionData:
    return SubmissionData.model_validate(
        {name: getattr(submission, name) for name in SubmissionData.model_fields}
    )


def parse_sources(text: str) -> list[Bron]:
    """Sources from lines ``titel | uitgever | https://...`` (the url is optional); a
    SubmissionError names every line that is wrong, not just the first."""
    sources = []
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
            problems.append(
                f"Bron op regel {number}: schrijf 'titel | uitgever | webadres' (webadres mag weg)."
            )
            continue
        try:
            sources.append(
                Bron(
                    title=parts[0],
                    publisher=parts[1],
                    url=(parts[2] or None) if len(parts) == 3 else None,
                )
            )
        except ValueError:
            problems.append(
                f"Bron op regel {number}: het webadres begint met https:// en heeft geen spaties."
            )
    if problems:
        raise SubmissionError(problems[0], problems)
    return sources


def format_sources(sources: Iterable[Bron | dict[str, Any]]) -> str:
    lines = []
    for source in sources:
        bron = source if isinstance(source, Bron) else Bron.model_validate(source)
        lines.append(
            " | ".join(part for part in (bron.title, bron.publisher, bron.url or "") if part)
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the page a submission becomes


def page_meta(data: SubmissionData, *, datum: dt.date, path: str = "inzending") -> PageMeta:
    """The front matter, validated by the same schema as the build."""
    meta: dict[str, Any] = {
        "type": data.kind,
        "title": data.title,
        "summary": data.summary,
        "datum": datum,
        "leefgebieden": data.leefgebieden,
        "regio": data.regio,
        "fase": data.fase,
        "organisatietypes": data.organisatietypes,
        "bronnen": [bron.model_dump(exclude_none=True) for bron in data.bronnen],
    }
    if data.kind == "werkbezoek":
        meta["werkbezoek"] = {
            "soort": "aanbod",
            "plaats": data.plaats or "",
            "organisatie": data.organisatie,
            **({"contact": data.role_mailbox} if data.role_mailbox else {}),
        }
    try:
        return validate_front_matter(meta, path)
    except FrontMatterError as exc:
        raise SubmissionError(
            "De gegevens passen niet bij de site.",
            [f"{key}: {message}" for key, message in exc.problems],
        ) from None


def page_body(
    data: SubmissionData, *, site_dir: str | Path | None, backend_prefixes: Iterable[str]
) -> tuple[str, str]:
    """(safe Markdown with the title heading, its HTML as the site renders it)."""
    try:
        safe = check_markdown(
            f"# {data.title}\n\n{data.body}", site_dir=site_dir, backend_prefixes=backend_prefixes
        )
    except UnsafeMarkdown as exc:
        raise SubmissionError(str(exc)) from None
    if safe.problems:
        raise SubmissionError("Pas de links in de tekst aan.", safe.problems)
    # The heading is escaped as one line of text, not as Markdown the submitter controls.
    _, _, rest = safe.source.partition("\n")
    return f"# {inline_text(data.title)}\n{rest}", safe.html


def preview(
    data: SubmissionData,
    *,
    site_dir: str | Path | None,
    backend_prefixes: Iterable[str],
    datum: dt.date,
) -> tuple[PageMeta | None, str, list[str]]:
    """What the page will look like, and the problems that would stop it (for the form)."""
    problems: list[str] = []
    meta = None
    try:
        meta = page_meta(data, datum=datum)
    except SubmissionError as exc:
        problems += exc.problems
    try:
        _, rendered = page_body(data, site_dir=site_dir, backend_prefixes=backend_prefixes)
    except SubmissionError as exc:
        problems += exc.problems
        rendered = without_foreign_images(check_markdown(f"# {data.title}\n\n{data.body}").html)
    return meta, rendered, problems


def _personal_data_problems(data: SubmissionData, contact: Contact | None) -> list[str]:
    if contact is None:
        return []
    public = " ".join(
        [
            data.title,
            data.summary,
            data.body,
            data.organisatie,
            data.plaats or "",
            data.role_mailbox or "",
            *(f"{b.title} {b.publisher} {b.url or ''}" for b in data.bronnen),
        ]
    ).casefold()
    problems = []
    if contact.email.casefold() in public:
        problems.append(
            "Je eigen e-mailadres staat in de openbare tekst. Haal het weg; wij bewaren het apart."
        )
    name = " ".join(contact.name.split()).casefold()
    if len(name) >= 5 and " " in name and name in " ".join(public.split()):
        problems.append(
            "Je eigen naam staat in de openbare tekst. Haal die weg; wij bewaren je gegevens apart."
        )
    return problems


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")
    if slug in ("index", "readme"):  # MkDocs makes index.md/README.md the section's own page
        return f"{slug}-inzending"
    return slug or "inzending"


# ---------------------------------------------------------------------------------------------
# submitting and following the status


def _status_link(
    session: Session, submission: Submission, *, now: dt.datetime, public_url: str
) -> tuple[str, str]:
    """A fresh status link (only digests are stored, so every mail gets its own): (raw, url)."""
    raw = tokens.issue(
        session,
        purpose=STATUS_PURPOSE,
        subject=submission.subject,
        now=now,
        ttl=STATUS_TTL,
        single_use=False,
    )
    return raw, f"{public_url.rstrip('/')}/inzenden/status/{raw}"


def _mail_submitter(
    session: Session,
    submission: Submission,
    name: str,
    *,
    kind: str,
    now: dt.datetime,
    public_url: str,
    **context: Any,
) -> str:
    """Queue templates/mail/submission_<name>.txt with a fresh status link; returns its token."""
    assert submission.contact_email is not None
    raw, link = _status_link(session, submission, now=now, public_url=public_url)
    subject, body = outbox.render_mail(
        f"submission_{name}.txt",
        submission=submission,
        link=link,
        public_url=public_url.rstrip("/"),
        **context,
    )
    outbox.enqueue(
        session, to=submission.contact_email, subject=subject, body=body, now=now, kind=kind
    )
    return raw


def _notify(
    session: Session,
    submission: Submission,
    name: str,
    *,
    now: dt.datetime,
    public_url: str,
    **context: Any,
) -> None:
    """A later mail to the submitter; none once their contact details are erased."""
    if submission.contact_email:
        _mail_submitter(
            session,
            submission,
            name,
            kind=f"inzending.{name}",
            now=now,
            public_url=public_url,
            **context,
        )


def submit(
    session: Session,
    data: SubmissionData,
    contact: Contact,
    *,
    now: dt.datetime,
    public_url: str,
    site_dir: str | Path | None = None,
    backend_prefixes: Iterable[str] = (),
    form_stamp: str | None = None,
) -> tuple[Submission, str]:
    """Store a submission with its confirmation mail; returns it and the raw status token.

    ``form_stamp`` is the form page's signed start stamp. The same page sent again with the same
    content within RESEND_WINDOW gives the first submission and a fresh status link, without a
    second mail; later it is refused, so an old page in the history makes no copy either."""
    page_meta(data, datum=local_date(now))
    page_body(data, site_dir=site_dir, backend_prefixes=backend_prefixes)
    problems = _personal_data_problems(data, contact)
    if problems:
        raise SubmissionError(problems[0], problems)
    key = form_key(form_stamp, data, contact) if form_stamp else None
    earlier = _sent_before(session, key, now=now, public_url=public_url)
    if earlier is not None:
        return earlier
    submission = Submission(
        **data.model_dump(exclude={"bronnen"}),
        bronnen=[b.model_dump(mode="json", exclude_none=True) for b in data.bronnen],
        contact_name=contact.name,
        contact_email=contact.email.strip(),
        consent_at=now,
        created_at=now,
        updated_at=now,
        form_key=key,
    )
    try:
        with session.begin_nested():
            session.add(submission)
            session.flush()
    except IntegrityError:
        # The same page, sent at the same moment by a second click (PostgreSQL lets both look
        # before either stores; the unique key stops the second): answer as for a resend. The
        # savepoint's rollback took the new row out of the session again.
        earlier = _sent_before(session, key, now=now, public_url=public_url)
        if earlier is None:
            raise
        return earlier
    raw = _mail_submitter(
        session, submission, "received", kind="inzending.ontvangen", now=now, public_url=public_url
    )
    audit.record(
        session, actor="inzender", action="inzending.ingediend", subject=submission.subject, now=now
    )
    return submission, raw


RESEND_WINDOW = dt.timedelta(hours=1)
ALREADY_RECEIVED = (
    "Deze inzending hebben we al ontvangen. De link om haar te volgen staat in de e-mail die "
    "je toen kreeg. Wil je nog een inzending doen? Open het formulier dan opnieuw."
)


def form_key(stamp: str, data: SubmissionData, contact: Contact) -> str:
    """The digest of one form page (its start stamp) with everything that was sent from it."""
    sent = json.dumps(
        [stamp, data.model_dump(mode="json"), contact.model_dump(mode="json")],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(sent.encode()).hexdigest()


def _sent_before(
    session: Session, key: str | None, *, now: dt.datetime, public_url: str
) -> tuple[Submission, str] | None:
    """The submission this form page already made, with a fresh status link; None if none."""
    if key is None:
        return None
    earlier = session.exec(select(Submission).where(Submission.form_key == key)).first()
    if earlier is None:
        return None
    if now - earlier.created_at > RESEND_WINDOW:
        raise SubmissionError(ALREADY_RECEIVED, [ALREADY_RECEIVED])
    raw, _ = _status_link(session, earlier, now=now, public_url=public_url)
    return earlier, raw


def by_token(session: Session, raw: str, *, now: dt.datetime) -> Submission:
    """The submission a status link belongs to; TokenError for an unknown or expired link."""
    token = tokens.peek(session, raw, purpose=STATUS_PURPOSE, now=now)
    submission = session.get(Submission, tokens.subject_id(token, "submission"))
    if submission is None:
        raise tokens.TokenError("onbekende link")
    return submission


def messages(session: Session, submission: Submission) -> list[SubmissionMessage]:
    query = select(SubmissionMessage).where(SubmissionMessage.submission_id == submission.id)
    return list(
        session.exec(query.order_by(col(SubmissionMessage.created_at), col(SubmissionMessage.id)))
    )


def _add_message(
    session: Session,
    submission: Submission,
    *,
    author: str,
    body: str,
    now: dt.datetime,
    user_id: int | None = None,
) -> SubmissionMessage:
    body = body.strip()
    if not body:
        raise SubmissionError("Schrijf een bericht.")
    assert submission.id is not None
    message = SubmissionMessage(
        submission_id=submission.id, author=author, user_id=user_id, body=body, created_at=now
    )
    session.add(message)
    return message


def answer(
    session: Session, submission: Submission, text: str, *, now: dt.datetime
) -> SubmissionMessage:
    """The submitter answers the moderator's question; the submission goes back to the queue."""
    if submission.state != "vraag_gesteld":
        raise SubmissionError("Er staat geen vraag open bij deze inzending.")
    message = _add_message(session, submission, author="inzender", body=text, now=now)
    _move(
        session,
        submission,
        "in_behandeling",
        actor="inzender",
        action="inzending.antwoord",
        now=now,
    )
    return message


# ---------------------------------------------------------------------------------------------
# moderation


def may_moderate(user: Any, submission: Submission) -> bool:
    """Administrators moderate everything; a coordinator the submissions of their regions."""
    return bool(user.is_admin or user.may_see(region=submission.regio))


def _in_scope(query: Any, user: Any) -> Any:
    """``query`` limited to the submissions ``user`` may moderate: ``may_moderate`` in SQL."""
    if not user.is_admin and user.regions:
        query = query.where(col(Submission.regio).in_(user.regions))
    return query


def queue(
    session: Session,
    user: Any,
    *,
    state: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Submission]:
    """The submissions ``user`` may moderate, newest first; one page with ``limit``."""
    query = _in_scope(select(Submission), user)
    if state:
        query = query.where(Submission.state == state)
    query = query.order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


def counts(session: Session, user: Any) -> dict[str, int]:
    """Submissions per state within ``user``'s scope, every state included."""
    found = dict.fromkeys(STATES, 0)
    query = _in_scope(select(Submission.state, func.count()), user).group_by(Submission.state)
    for state, number in session.exec(query):
        found[state] = number
    return found


def _move(
    session: Session,
    submission: Submission,
    state: str,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    detail: str = "",
) -> None:
    submission.state = state
    submission.updated_at = now
    session.add(submission)
    audit.record(
        session, actor=actor, action=action, subject=submission.subject, now=now, detail=detail
    )


def _require(submission: Submission, *states: str) -> None:
    if submission.state not in states:
        raise SubmissionError(
            f"Dit kan niet bij een inzending met status '{submission.state_label}'."
        )


def take(session: Session, submission: Submission, user: Any, *, now: dt.datetime) -> None:
    _require(submission, "ingediend")
    _move(
        session,
        submission,
        "in_behandeling",
        actor=user.actor,
        action="inzending.in-behandeling",
        now=now,
    )


def ask(
    session: Session,
    submission: Submission,
    user: Any,
    text: str,
    *,
    now: dt.datetime,
    public_url: str,
) -> SubmissionMessage:
    """A question for the submitter, e-mailed with a link to answer it."""
    _require(submission, "ingediend", "in_behandeling", "vraag_gesteld", "mislukt")
    message = _add_message(
        session, submission, author="moderator", body=text, now=now, user_id=user.id
    )
    _move(session, submission, "vraag_gesteld", actor=user.actor, action="inzending.vraag", now=now)
    _notify(session, submission, "question", now=now, public_url=public_url, question=message.body)
    return message


def update(
    session: Session,
    submission: Submission,
    user: Any,
    data: SubmissionData,
    *,
    now: dt.datetime,
    site_dir: str | Path | None = None,
    backend_prefixes: Iterable[str] = (),
) -> None:
    """The moderator's edit of the public fields (checked like a submission)."""
    _require(submission, *EDITABLE_STATES)
    if data.kind != submission.kind:
        raise SubmissionError("Het soort inzending kan niet veranderen.")
    page_meta(data, datum=local_date(now))
    page_body(data, site_dir=site_dir, backend_prefixes=backend_prefixes)
    changed = [
        name
        for name in SubmissionData.model_fields
        if getattr(data_of(submission), name) != getattr(data, name)
    ]
    for name, value in data.model_dump(exclude={"bronnen"}).items():
        setattr(submission, name, value)
    submission.bronnen = [b.model_dump(mode="json", exclude_none=True) for b in data.bronnen]
    _move(
        session,
        submission,
        submission.state,
        actor=user.actor,
        action="inzending.bewerkt",
        now=now,
        detail="gewijzigd: " + (", ".join(changed) or "niets"),
    )


def reject(
    session: Session,
    submission: Submission,
    user: Any,
    reason: str,
    *,
    now: dt.datetime,
    public_url: str,
) -> None:
    _require(submission, *OPEN_STATES)
    reason = reason.strip()
    if not reason:
        raise SubmissionError(
            "Schrijf waarom je de inzending afwijst; de inzender krijgt deze reden."
        )
    submission.reject_reason = reason
    submission.decided_at = now
    _move(session, submission, "afgewezen", actor=user.actor, action="inzending.afgewezen", now=now)
    _notify(session, submission, "rejected", now=now, public_url=public_url, reason=reason)


def take_offline(
    session: Session,
    submission: Submission,
    user: Any,
    reason: str,
    *,
    now: dt.datetime,
    writer: ContentWriter,
    public_url: str,
) -> SiteBuild:
    """Take a published page off the site (personal data spotted on it, out of date): the page
    leaves the content folder and a build publishes the site without it. The submitter gets
    the reason, as with a rejection."""
    _require(submission, "gepubliceerd")
    reason = reason.strip()
    if not reason:
        raise SubmissionError(
            "Schrijf waarom de pagina van de site gaat; de inzender krijgt deze reden."
        )
    if submission.page_path:
        try:
            writer.remove(submission.page_path, message=f"Offline gehaald: {submission.page_path}")
        except WriteError as exc:
            raise SubmissionError(str(exc)) from None
    build = request_build(session, now=now, actor=user.actor)
    detail = submission.page_path or ""
    submission.page_path = submission.page_url = None
    submission.build_id = build.id
    submission.reject_reason = reason  # the reason the submitter reads: refused or taken off
    submission.decided_at = now
    _move(
        session,
        submission,
        "offline",
        actor=user.actor,
        action="inzending.offline",
        now=now,
        detail=detail,
    )
    _notify(session, submission, "offline", now=now, public_url=public_url, reason=reason)
    return build


def request_build(session: Session, *, now: dt.datetime, actor: str = "systeem") -> SiteBuild:
    """Queue a rebuild; while one is already waiting, join it (later requests coalesce)."""
    waiting = session.exec(
        select(SiteBuild).where(SiteBuild.state == "wachtrij").order_by(col(SiteBuild.id))
    ).first()
    if waiting is not None:
        return waiting
    build = SiteBuild(requested_at=now, requested_by=actor)
    session.add(build)
    session.flush()
    return build


def approve(
    session: Session,
    submission: Submission,
    user: Any,
    *,
    now: dt.datetime,
    writer: ContentWriter,
    site_dir: str | Path | None = None,
    backend_prefixes: Iterable[str] = (),
) -> SiteBuild:
    """Write the page into the content folder and queue the build that publishes it."""
    _require(submission, "ingediend", "in_behandeling", "vraag_gesteld", "mislukt")
    data = data_of(submission)
    meta = page_meta(data, datum=local_date(now))
    body, _ = page_body(data, site_dir=site_dir, backend_prefixes=backend_prefixes)
    contact = (
        Contact(name=submission.contact_name, email=submission.contact_email)
        if submission.contact_email and submission.contact_name
        else None
    )
    problems = _personal_data_problems(data, contact)
    if problems:
        raise SubmissionError(problems[0], problems)
    text = render_page(meta, body)
    folder = FOLDERS[submission.kind]
    try:
        path = writer.write_new(
            folder,
            slugify(submission.title),
            text,
            message=f"{KINDS[submission.kind]} publiceren: {slugify(submission.title)}",
        )
    except WriteError as exc:
        raise SubmissionError(str(exc)) from None
    build = request_build(session, now=now, actor=user.actor)
    submission.page_path = path
    submission.page_url = "/" + path.removesuffix(".md") + "/"
    submission.build_id = build.id
    submission.build_message = None
    submission.decided_at = now
    _move(
        session,
        submission,
        "goedgekeurd",
        actor=user.actor,
        action="inzending.goedgekeurd",
        now=now,
        detail=path,
    )
    return build


# ---------------------------------------------------------------------------------------------
# builds


def claim_builds(session: Session, *, now: dt.datetime) -> list[int]:
    """Mark every waiting request (and any left 'bezig' by a crashed worker) as building.

    Called under the build lock, so nothing else is building at this moment.
    """
    rows = list(
        session.exec(select(SiteBuild).where(col(SiteBuild.state).in_(["wachtrij", "bezig"])))
    )
    for row in rows:
        row.state, row.started_at = "bezig", now
        session.add(row)
    return [row.id for row in rows if row.id is not None]


def finish_builds(
    session: Session,
    build_ids: list[int],
    *,
    ok: bool,
    release: str | None,
    message: str,
    now: dt.datetime,
    writer: ContentWriter,
    public_url: str,
) -> list[Submission]:
    """Record a build's outcome on its requests and the submissions it was to publish."""
    for build_id in build_ids:
        build = session.get(SiteBuild, build_id)
        if build is None:
            continue
        build.state = "live" if ok else "mislukt"
        build.finished_at, build.release, build.message = now, release, message
        session.add(build)
    waiting = session.exec(
        select(Submission).where(
            col(Submission.build_id).in_(build_ids), Submission.state == "goedgekeurd"
        )
    ).all()
    for submission in waiting:
        if ok:
            submission.published_at = now
            _move(
                session,
                submission,
                "gepubliceerd",
                actor="systeem",
                action="inzending.gepubliceerd",
                now=now,
                detail=release or "",
            )
            _notify(session, submission, "published", now=now, public_url=public_url)
        else:
            # The old site is still live; take the page out so the next build is not blocked.
            if submission.page_path:
                try:
                    writer.remove(
                        submission.page_path,
                        message=f"Publicatie teruggedraaid: {submission.page_path}",
                    )
                except WriteError:
                    log.warning("could not remove %s after a failed build", submission.page_path)
            submission.build_message = message
            submission.page_path = None
            _move(
                session, submission, "mislukt", actor="systeem", action="inzending.mislukt", now=now
            )
    return list(waiting)


def run_pending_builds(
    engine: Engine,
    publisher: Publisher,
    *,
    clock: Callable[[], dt.datetime],
    writer: ContentWriter,
    public_url: str,
) -> bool | None:
    """Build once for everything waiting; None if nothing waited, else whether it went live.

    The publisher's file lock serialises builds across threads and processes; requests that
    arrive during a build wait and are served together by the next one.
    """
    with publisher.lock():
        with new_session(engine, write=True) as session:
            build_ids = claim_builds(session, now=clock())
            session.commit()
        if not build_ids:
            return None
        outcome = publisher.build_locked()
        with new_session(engine, write=True) as session:
            finish_builds(
                session,
                build_ids,
                ok=outcome.ok,
                release=outcome.release,
                message=outcome.message,
                now=clock(),
                writer=writer,
                public_url=public_url,
            )
            session.commit()
        return outcome.ok


def latest_build(session: Session) -> SiteBuild | None:
    return session.exec(select(SiteBuild).order_by(col(SiteBuild.id).desc())).first()


def build_of(session: Session, submission: Submission) -> SiteBuild | None:
    return session.get(SiteBuild, submission.build_id) if submission.build_id else None


def status(session: Session, submission: Submission) -> dict[str, Any]:
    """The publication status for the moderator's page (polled as JSON)."""
    build = build_of(session, submission)
    if submission.state == "goedgekeurd" and build is not None:
        phase = build.state if build.state in ("wachtrij", "bezig") else "bezig"
    elif submission.state == "gepubliceerd":
        phase = "live"
    elif submission.state == "mislukt":
        phase = "mislukt"
    elif submission.state == "offline":
        phase = "offline"
    elif submission.state == "afgewezen":
        phase = "afgewezen"
    else:
        phase = "geen"
    labels = {
        "wachtrij": "In de wachtrij voor de volgende build.",
        "bezig": "De site wordt gebouwd.",
        "live": "Live op de site.",
        "mislukt": "Publiceren is mislukt. De oude site blijft online.",
        "geen": "Nog niet goedgekeurd.",
        "offline": "Offline gehaald: de pagina staat niet meer op de site.",
        "afgewezen": "Afgewezen: deze inzending komt niet op de site.",
    }
    return {
        "state": submission.state,
        "state_label": submission.state_label,
        "phase": phase,
        "label": labels[phase],
        "done": phase not in ("wachtrij", "bezig"),
        "page_url": submission.page_url if submission.state == "gepubliceerd" else None,
        "message": submission.build_message if submission.state == "mislukt" else None,
    }


# ---------------------------------------------------------------------------------------------
# retention and demo data


def erase_old_contacts(session: Session, now: dt.datetime) -> int:
    """Remove the submitter's contact details and messages some time after the decision."""
    old = session.exec(
        select(Submission).where(
            col(Submission.state).in_(CLOSED_STATES),
            col(Submission.decided_at) < now - CONTACT_RETENTION,
            col(Submission.contact_erased_at).is_(None),
        )
    ).all()
    for submission in old:
        submission.contact_name = submission.contact_email = None
        submission.form_key = None  # it was made from the contact details too
        submission.contact_erased_at = now
        session.add(submission)
        for message in messages(session, submission):
            session.delete(message)
        tokens.revoke(session, subject=submission.subject, now=now)
    return len(old)


RETENTION_RULES = {"contactgegevens van inzenders (180 dagen na het besluit)": erase_old_contacts}


def seed_demo(session: Session, now: dt.datetime) -> list[str]:
    """A few invented submissions in different states, marked as demo."""
    demo_body = (
        "Dit is een **verzonnen** inzending om het beheer te laten zien.\n\n"
        "## Zo werkt het\n\n"
        "- De gemeente belt binnen een week na melding.\n"
        "- Samen maken we een plan.\n"
    )
    rows = [
        (
            "praktijk",
            "ingediend",
            "Warme overdracht bij vrijlating in Zwolle-Zuid",
            "overijssel",
            ["wonen", "zorg"],
        ),
        ("praktijk", "vraag_gesteld", "Schuldhulp start al in de PI", "gelderland", ["schulden"]),
        (
            "werkbezoek",
            "in_behandeling",
            "Werkbezoek aan een leer-werkbedrijf",
            "utrecht",
            ["werk-en-dagbesteding"],
        ),
    ]
    for index, (kind, state, title, regio, leefgebieden) in enumerate(rows, start=1):
        submission = Submission(
            kind=kind,
            state=state,
            title=DEMO_MARK + title,
            regio=regio,
            leefgebieden=leefgebieden,
            summary=f"Verzonnen voorbeeld voor de demo: {title[0].lower()}{title[1:]}.",
            body=demo_body,
            organisatietypes=["gemeente"],
            fase=["na"],
            organisatie="Demogemeente",
            plaats="Demostad" if kind == "werkbezoek" else None,
            contact_name=f"Demo inzender {index}",
            contact_email=f"inzender{index}@demo.brug.example.nl",
            consent_at=now,
            created_at=now - dt.timedelta(days=index),
            updated_at=now,
            is_demo=True,
        )
        session.add(submission)
        session.flush()
        audit.record(  # as a real submission's log begins
            session,
            actor="inzender",
            action="inzending.ingediend",
            subject=submission.subject,
            now=submission.created_at,
        )
        if state == "vraag_gesteld":
            _add_message(
                session,
                submission,
                author="moderator",
                now=now,
                body="Kunt u vertellen hoeveel mensen hieraan meededen? (demo)",
            )
    return [f"Demo-inzendingen: {len(rows)} (zie /beheer/inzendingen)."]
