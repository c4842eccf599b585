"""An append-only log of who did what to which record (views, exports, status changes).

Entries name records by id, never copy personal data into the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    # The log's page asks "what did this account do, newest first" (migration 0008).
    __table_args__ = (Index("ix_audit_entry_actor_at", "actor", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=80)  # "user:3", "systeem", "vrijwilliger:12"
    action: str = Field(max_length=60)  # "vrijwilliger.bekeken", "export.csv", ...
    subject: str = Field(default="", max_length=80, index=True)  # "volunteer:12"
    detail: str = Field(default="", max_length=500)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    subject: str = "",
    detail: str = "",
) -> AuditEntry:
    """Add an entry to the session; it commits with the caller's transaction."""
    entry = AuditEntry(at=now, actor=actor, action=action, subject=subject, detail=detail[:500])
    session.add(entry)
    return entry


def export_detail(count: int, filters: list[str]) -> str:
    """An export's entry: how many rows, and which filters ("2 rijen; status=bevestigd")."""
    counted = f"{count} {'rij' if count == 1 else 'rijen'}"
    return f"{counted}; {', '.join(filters)}" if filters else counted


def for_subject(session: Session, subject: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject)
    return list(session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))))


# ---------------------------------------------------------------------------------------------
# reading the log (the administrators' page /beheer/logboek)

# What an entry is about, by the first part of its action: the filter on the log's page.
KINDS: dict[str, str] = {
    "vrijwilliger": "Vrijwilligers",
    "bijeenkomst": "Bijeenkomsten",
    "aanmelding": "Aanmeldingen (agenda)",
    "inzending": "Inzendingen",
    "prive-agenda": "Privé-agenda's",
    "account": "Inloggen en uitloggen",
    "logboek": "Het logboek zelf",
}
# Actions whose first part differs from the kind they belong to.
_KIND_OF = {"vrijwilligers": "vrijwilliger", "aanmeldingen": "aanmelding"}


# Every action in words; "Over" on the log's page names the record it was done to.
ACTIONS: dict[str, str] = {
    "account.ingelogd": "Ingelogd",
    "account.overal-uitgelogd": "Op alle apparaten uitgelogd",
    "vrijwilliger.bekeken": "Gegevens bekeken",
    "vrijwilliger.stap": "Nieuwe stap",
    "vrijwilliger.notitie": "Notitie gemaakt",
    "vrijwilliger.gecorrigeerd": "Gegevens aangepast",
    "vrijwilliger.gewist": "Gegevens gewist",
    "vrijwilliger.onbevestigd": "Gewist: niet bevestigd",
    "vrijwilliger.bewaartermijn": "Gewist: bewaartermijn voorbij",
    "vrijwilligers.export": "Lijst gedownload (CSV)",
    "logboek.export": "Logboek gedownload (CSV)",
    "bijeenkomst.aangemaakt": "Aangemaakt",
    "bijeenkomst.gewijzigd": "Gewijzigd",
    "bijeenkomst.geannuleerd": "Geannuleerd",
    "bijeenkomst.verwijderd": "Verwijderd",
    "bijeenkomst.bericht": "Bericht aan de aanmelders gestuurd",
    "bijeenkomst.datum.skip": "Eén datum weggelaten",
    "bijeenkomst.datum.restore": "Weggelaten datum teruggezet",
    "bijeenkomst.datum.cancel": "Eén datum geannuleerd",
    "bijeenkomst.datum.move": "Eén datum verplaatst",
    "aanmeldingen.bekeken": "Aanmeldingen bekeken",
    "aanmeldingen.export": "Aanmeldingen gedownload (CSV)",
    "aanmelding.afgemeld": "Afgemeld",
    "prive-agenda.aangemaakt": "Aangemaakt",
    "prive-agenda.ingetrokken": "Ingetrokken",
    "inzending.ingediend": "Ingediend",
    "inzending.antwoord": "Antwoord gegeven",
    "inzending.in-behandeling": "In behandeling genomen",
    "inzending.vraag": "Vraag gesteld",
    "inzending.bewerkt": "Bewerkt",
    "inzending.afgewezen": "Afgewezen",
    "inzending.goedgekeurd": "Goedgekeurd",
    "inzending.gepubliceerd": "Gepubliceerd",
    "inzending.mislukt": "Publiceren mislukt",
    "inzending.offline": "Offline gehaald",
}


def kind_of(action: str) -> str:
    first = action.partition(".")[0]
    return _KIND_OF.get(first, first)


@dataclass(frozen=True)
class Query:
    """Which entries the log's page shows: about one record, of one kind, by one actor, in a
    period (``since`` included, ``until`` not)."""

    subject: str = ""
    kind: str = ""
    actor: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _where(query: Any, wanted: Query) -> Any:
    if wanted.subject:
        query = query.where(AuditEntry.subject == wanted.subject)
    if wanted.kind:
        prefixes = [wanted.kind] + [first for first, k in _KIND_OF.items() if k == wanted.kind]
        query = query.where(
            or_(*(col(AuditEntry.action).startswith(p + ".", autoescape=True) for p in prefixes))
        )
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.since is not None:
        query = query.where(col(AuditEntry.at) >= wanted.since)
    if wanted.until is not None:
        query = query.where(col(AuditEntry.at) < wanted.until)
    return query


def count(session: Session, wanted: Query = Query()) -> int:
    query = _where(select(func.count()).select_from(AuditEntry), wanted)
    return int(session.exec(query).one())


def newest(
    session: Session, wanted: Query = Query(), *, limit: int | None, offset: int = 0
) -> list[AuditEntry]:
    """Entries, newest first (the id breaks ties within one moment); all of them without
    ``limit``."""
    query = _where(select(AuditEntry), wanted)
    query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.exec(query))
