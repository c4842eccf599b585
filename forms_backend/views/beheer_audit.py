"""Back office: the audit log (/beheer/logboek), for administrators only.

Who viewed or exported whose data, and who changed what: the log that every detail view, export
and status change writes (issue 4). Entries name records by id; this page turns an id into a
link to the record and an account into its name.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from wtforms import HiddenField, SelectField
from wtforms.validators import Optional, Regexp

from forms_backend import accounts, audit, db, volunteers
from forms_backend.forms import BrugForm, choices
from forms_backend.views.beheer import admin_required, list_query, page_of, register_section
from forms_backend.views.core import error_page

bp = Blueprint("beheer_audit", __name__, url_prefix="/beheer/logboek")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    # At registration, not at import: the app registers this blueprint last, so the log comes
    # last in the back office's menu, after the sections whose entries it shows.
    register_section(
        "beheer_audit.index",
        "Logboek",
        "wie welke gegevens bekeek, downloadde of veranderde",
        admin=True,
    )


# A subject as the log stores it: "volunteer:12", or a whole list ("volunteers").
SUBJECT = re.compile(r"^[a-z]{1,20}(:[0-9]{1,10})?$")
# What a subject is in words, and the back-office page that shows it (endpoint, its id's name).
SUBJECTS: dict[str, tuple[str, str | None, str]] = {
    "volunteer": ("Vrijwilliger", "beheer_volunteers.detail", "volunteer_id"),
    "volunteers": ("De lijst van vrijwilligers", None, ""),
    "meeting": ("Bijeenkomst", "beheer_meetings.edit", "meeting_id"),
    "registration": ("Aanmelding voor een bijeenkomst", None, ""),
    "partnerfeed": ("Privé-agenda", None, ""),
    "submission": ("Inzending", "beheer_submissions.detail", "submission_id"),
}


class LogFilter(BrugForm):
    class Meta:
        csrf = False  # a GET form that changes nothing
        mark_optional = False

    soort = SelectField(
        "Soort",
        choices=choices([("", "Alles"), *audit.KINDS.items()]),
        validators=[Optional()],
    )
    over = HiddenField(validators=[Optional(), Regexp(SUBJECT)])


def subject_in_words(subject: str) -> tuple[str, str | None]:
    """ "volunteer:12" → ("Vrijwilliger 12", its page); an unknown kind stays as it is."""
    kind, _, number = subject.partition(":")
    if kind not in SUBJECTS:
        return subject, None
    words, endpoint, argument = SUBJECTS[kind]
    if not number:
        return words, None
    values: dict[str, Any] = {argument: int(number)}
    link = url_for(endpoint, **values) if endpoint else None
    return f"{words} {number}", link


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    form = LogFilter(formdata=request.args)
    if not form.validate():
        return error_page(
            400,
            "Dit filter van het logboek klopt niet. Open het logboek opnieuw vanuit het menu.",
        )
    subject, kind = form.over.data or "", form.soort.data or ""
    session = db.session()
    page = page_of(audit.count(session, subject=subject, kind=kind))
    entries = audit.newest(session, subject=subject, kind=kind, limit=page.size, offset=page.offset)
    return render_template(
        "beheer/logboek.html",
        form=form,
        entries=entries,
        page=page,
        query=list_query(),
        subject=subject_in_words(subject) if subject else None,
        subjects={e.subject: subject_in_words(e.subject) for e in entries if e.subject},
        actors=accounts.actor_names(session, (e.actor for e in entries)),
        actions=audit.ACTIONS,
        explain=explain,
    )


def explain(entry: audit.AuditEntry) -> str:
    """The entry's detail for a reader: a step's status in words ("Intake gepland")."""
    if entry.action == "vrijwilliger.stap":
        return volunteers.STATUSES.get(entry.detail, entry.detail)
    return entry.detail
