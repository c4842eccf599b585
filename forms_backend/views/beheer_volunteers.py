"""Back office: the volunteer pipeline (/beheer/vrijwilligers) — issue 4.

Coordinators see only confirmed sign-ups of their own programmes and regions; any other
volunteer's URL answers 404. Every detail view and every export is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, DateField, SearchField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forms_backend import accounts, clock, db, volunteers
from forms_backend.content import REGIOS
from forms_backend.forms import BrugForm, choices, clean_text
from forms_backend.localtime import local_date
from forms_backend.views.beheer import (
    list_query,
    login_required,
    page_of,
    register_section,
    signed_in_user,
)
from forms_backend.views.core import error_page
from forms_backend.views.volunteer import settings

bp = Blueprint("beheer_volunteers", __name__, url_prefix="/beheer/vrijwilligers")

register_section(
    "beheer_volunteers.index",
    "Vrijwilligers",
    "aanmeldingen en de stappen tot actieve vrijwilliger",
)


class FilterForm(BrugForm):
    class Meta:
        csrf = False  # a GET form that changes nothing
        mark_optional = False  # every filter is optional: no "(niet verplicht)" four times

    status = SelectField("Status", choices=choices([("", "Alle")]), validators=[Optional()])
    programme = SelectField("Programma", choices=choices([("", "Alle")]), validators=[Optional()])
    region = SelectField("Regio", choices=choices([("", "Alle")]), validators=[Optional()])
    # "zoek", not "q": the site's own search box opens on any page whose URL carries ?q=
    zoek = SearchField(
        "Zoek op naam of e-mail",
        filters=[lambda v: clean_text(v) if isinstance(v, str) else v],
        validators=[Optional(), Length(max=100)],
    )

    def fill_choices(self, user: accounts.User) -> None:
        statuses = [(k, v) for k, v in volunteers.STATUSES.items() if k != "aangemeld"]
        programmes = {slug: p.title for slug, p in volunteers.programmes().items()}
        if not user.is_admin:
            programmes = {k: v for k, v in programmes.items() if k in user.programmes}
        regions = (
            REGIOS
            if user.is_admin or not user.regions
            else {k: v for k, v in REGIOS.items() if k in user.regions}
        )
        self.status.choices = choices([("", "Alle"), *statuses])
        self.programme.choices = choices([("", "Alle"), *programmes.items()])
        self.region.choices = choices([("", "Alle"), *regions.items()])

    def filters(self) -> volunteers.Filters:
        """The valid filters; one with an error (shown beside it) filters nothing."""
        self.validate()

        def value(field: Any) -> Any:
            return None if field.errors else field.data or None

        return volunteers.Filters(
            status=value(self.status),
            programme=value(self.programme),
            region=value(self.region),
            search=value(self.zoek) or "",
        )


# Short enough to read in full in the closed select on a phone (320 px).
NO_STEP = ("", "Geen (alleen een notitie)")


class StepForm(BrugForm):
    status = SelectField(
        "Nieuwe stap",
        choices=choices([NO_STEP]),
        validators=[Optional()],
    )
    step_date = DateField("Datum van deze stap", validators=[DataRequired("Vul een datum in.")])
    note = TextAreaField(
        "Notitie",
        filters=[lambda v: clean_text(v, multiline=True) if isinstance(v, str) else v],
        validators=[Optional(), Length(max=2000)],
    )
    send_mail = BooleanField("Stuur de vrijwilliger een e-mail over deze stap", default=True)

    def fill_choices(self, volunteer: volunteers.Volunteer) -> None:
        next_steps = [(s, volunteers.STATUSES[s]) for s in volunteers.allowed_next(volunteer)]
        self.status.choices = choices([NO_STEP, *next_steps])


def _filter_form(user: accounts.User) -> FilterForm:
    form = FilterForm(formdata=request.args)
    form.fill_choices(user)
    return form


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    user = signed_in_user()
    form = _filter_form(user)
    filters = form.filters()
    session = db.session()
    counts = volunteers.status_counts(session, user, filters)
    total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    page = page_of(total)
    rows = volunteers.list_volunteers(session, user, filters, limit=page.size, offset=page.offset)
    query = list_query()
    return render_template(
        "beheer/vrijwilligers/list.html",
        form=form,
        counts=counts,
        rows=rows,
        page=page,
        statuses=volunteers.STATUSES,
        filters=filters,
        query=query,
    )


@bp.get("/export.csv")
@login_required
@db.writes  # the audit entry for this view of personal data
def export() -> ResponseReturnValue:
    user = signed_in_user()
    form = _filter_form(user)
    filters = form.filters()
    if form.errors:  # an export of more than the list shows: refuse, and say why
        return error_page(
            400,
            "Een van de filters klopt niet, dus deze export zou meer vrijwilligers bevatten"
            " dan je hebt gekozen. Pas het filter aan op de lijst en download opnieuw.",
        )
    body = volunteers.export_csv(db.session(), user, filters, now=clock.now())
    response = current_app.response_class(body, mimetype="text/csv")
    stamp = f"{local_date(clock.now()):%Y%m%d}"
    response.headers["Content-Disposition"] = f'attachment; filename="vrijwilligers-{stamp}.csv"'
    return response


def _detail(
    volunteer_id: int, form: StepForm | None = None, status: int = 200
) -> ResponseReturnValue:
    user = signed_in_user()
    try:
        volunteer, events = volunteers.view_volunteer(
            db.session(), user, volunteer_id, now=clock.now()
        )
    except volunteers.NotFound as exc:
        return error_page(404, str(exc))
    if form is None:
        form = StepForm(formdata=None)
        form.step_date.data = local_date(clock.now())
    form.fill_choices(volunteer)
    programme = volunteers.programmes().get(volunteer.programme)
    answers = [
        (q.label, q.display((volunteer.answers or {})[q.id]))
        for q in (programme.questions if programme else ())
        if (volunteer.answers or {}).get(q.id)
    ]
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "events": events,
        "form": form,
        "programme": programme,
        "answers": answers,
        "statuses": volunteers.STATUSES,
        "mail_hint": "Kan bij: "
        + ", ".join(volunteers.STATUSES[s] for s in volunteers.MAIL_STATUSES)
        + ".",
        "actors": accounts.actor_names(db.session(), (e.actor for e in events)),
        "availability": volunteers.AVAILABILITY,
        "heard_via": volunteers.HEARD_VIA,
    }
    return render_template("beheer/vrijwilligers/detail.html", **context), status


@bp.get("/<int:volunteer_id>")
@login_required
@db.writes  # the audit entry for this view of personal data
def detail(volunteer_id: int) -> ResponseReturnValue:
    return _detail(volunteer_id)


@bp.post("/<int:volunteer_id>/stap")
@login_required
def step(volunteer_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    try:
        volunteer = volunteers.get_volunteer(db.session(), user, volunteer_id)
    except volunteers.NotFound as exc:
        return error_page(404, str(exc))
    form = StepForm()
    form.fill_choices(volunteer)
    if form.validate_on_submit():
        try:
            volunteers.change_status(
                db.session(),
                user,
                volunteer_id,
                status=form.status.data or None,
                on=form.step_date.data,
                note=form.note.data or "",
                send_mail=bool(form.send_mail.data),
                now=clock.now(),
                settings=settings(),
            )
        except volunteers.VolunteerError as exc:
            db.session().rollback()
            form.form_errors.append(str(exc))
        else:
            flash(
                "De stap is opgeslagen." if form.status.data else "De notitie is opgeslagen.",
                "info",
            )
            return redirect(url_for(".detail", volunteer_id=volunteer_id), code=303)
    db.session().rollback()
    return _detail(volunteer_id, form, 422)
