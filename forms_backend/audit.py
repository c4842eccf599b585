"""An append-only log of who did what to which record (views, exports, status changes).

Entries name records by id, never copy personal data into the log.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, Session, SQLModel, col, select

from forms_backend.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

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


def for_subject(session: Session, subject: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.subject == subject)
    return list(session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))))
