"""Back office: the audit log (/beheer/logboek), for administrators only.

Who viewed or exported whose data, and who changed what: the log that every detail view, export
and status change writes (issue 4). Entries name records by id; this page turns an id into a
link to the record and an account into its name.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from sqlmodel import Session
from wtforms import DateField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, Regexp, ValidationError

from forms_backend import accounts, audit, clock, db, meetings, spreadsheet, volunteers
from forms_backend.forms import BrugForm, choices
from forms_backend.localtime import day_start, local_date, short_moment
from forms_backend.views.beheer import (
    admin_required,
    list_query,
    page_of,
    register_section,
    signed_in_user,
)
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
    wie = SelectField("Wie", choices=choices([("", "Iedereen")]), validators=[Optional()])
    van = DateField("Van", validators=[Optional()])
    tot = DateField("Tot en met", validators=[Optional()])
    over = HiddenField(validators=[Optional(), Regexp(SUBJECT)])

    # A person chooses these; a mistake there is shown on the page, not as an error page.
    TYPED = ("van", "tot")

    def fill_choices(self, session: Session) -> None:
        """Every account by name, then the actors that are no account ("Brug", "de inzender")."""
        users = sorted(accounts.all_users(session), key=lambda u: (u.name.casefold(), u.id))
        # A name is as long as its owner made it: on a phone the closed select may cut it off
        # (the open list shows it whole). data-name tells the narrow-screen test so.
        names = [SelectChoice(u.actor, u.name, render_kw={"data-name": ""}) for u in users]
        fixed = choices(accounts.ACTOR_WORDS)
        self.wie.choices = [*choices([("", "Iedereen")]), *names, *fixed]

    def validate_tot(self, field: DateField) -> None:
        if field.data and self.van.data and field.data < self.van.data:
            raise ValidationError("Kies een einddatum op of na de begindatum.")

    def query(self) -> audit.Query:
        return audit.Query(
            subject=self.over.data or "",
            kind=self.soort.data or "",
            actor=self.wie.data or "",
            since=day_start(self.van.data) if self.van.data else None,
            until=day_start(self.tot.data + dt.timedelta(days=1)) if self.tot.data else None,
        )


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


BAD_FILTER = "Dit filter van het logboek klopt niet. Open het logboek opnieuw vanuit het menu."


def _filter_form(session: Session) -> tuple[LogFilter, bool]:
    form = LogFilter(formdata=request.args)
    form.fill_choices(session)
    return form, form.validate()


@bp.get("/")
@admin_required
def index() -> ResponseReturnValue:
    session = db.session()
    form, valid = _filter_form(session)
    if not valid and set(form.errors) - set(LogFilter.TYPED):
        return error_page(400, BAD_FILTER)
    wanted = form.query() if valid else None
    page = page_of(audit.count(session, wanted) if wanted else 0)
    entries = audit.newest(session, wanted, limit=page.size, offset=page.offset) if wanted else []
    subject = form.over.data or ""
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
        choosable={choice.value for choice in form.wie.choices},  # a name links to its filter
    ), 200 if valid else 400


@bp.get("/export.csv")
@admin_required
@db.writes  # the download is itself logged
def export() -> ResponseReturnValue:
    """The log as the filters choose it, every row, as a spreadsheet: for a privacy officer's
    question "who looked at this person's data?". The download is logged: about the record the
    filter was about, with the other filters (ids and dates only) as its detail."""
    session = db.session()
    form, valid = _filter_form(session)
    if not valid:
        return error_page(400, BAD_FILTER)
    wanted = form.query()
    entries = audit.newest(session, wanted, limit=None)
    actors = accounts.actor_names(session, (e.actor for e in entries))
    body = spreadsheet.to_csv(
        [
            ["Wanneer", "Wie", "Wat", "Over", "Toelichting"],
            *(
                [
                    short_moment(e.at),
                    actors.get(e.actor, e.actor),
                    audit.ACTIONS.get(e.action, e.action),
                    subject_in_words(e.subject)[0] if e.subject else "",
                    explain(e),
                ]
                for e in entries
            ),
        ]
    )
    fields = (form.soort, form.wie, form.van, form.tot)
    used = [f"{field.name}={field.raw_data[0]}" for field in fields if field.data]
    audit.record(
        session,
        actor=signed_in_user().actor,
        action="logboek.export",
        subject=wanted.subject,
        detail=audit.export_detail(len(entries), used),
        now=clock.now(),
    )
    session.commit()  # logged before the file leaves
    stamp = f"{local_date(clock.now()):%Y%m%d}"
    response = current_app.response_class(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="logboek-{stamp}.csv"'
    return response


def explain(entry: audit.AuditEntry) -> str:
    """The entry's detail for a reader: a step's status in words ("Intake gepland"), a date of a
    series in Amsterdam time rather than its key."""
    if entry.action == "vrijwilliger.stap":
        return volunteers.STATUSES.get(entry.detail, entry.detail)
    if entry.action.startswith("bijeenkomst.datum."):
        start = meetings.key_start(entry.detail)
        if start is not None:
            return f"De datum van {meetings.describe_moment(start)}"
    return entry.detail
