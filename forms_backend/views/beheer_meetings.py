"""Back office: meetings, single dates of a series, registrations, messages, private feeds.

Organisers are coordinators scoped by their regions (an administrator sees all). Private
partner feeds, which may carry closed-group meetings, are for administrators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from forms_backend import audit, clock, db, meetings
from forms_backend.content import LEEFGEBIEDEN, REGIOS
from forms_backend.forms import (
    CSRF_MESSAGE,
    EMAIL_INVALID,
    BrugForm,
    DecimalCommaField,
    MultiCheckboxField,
    choices,
    single_line,
)
from forms_backend.views.agenda import PUBLIEK, form_error, settings
from forms_backend.views.beheer import (
    admin_required,
    login_required,
    register_section,
    signed_in_user,
)
from forms_backend.views.core import error_page

bp = Blueprint("beheer_meetings", __name__, url_prefix="/beheer/bijeenkomsten")

register_section(
    "beheer_meetings.index",
    "Bijeenkomsten",
    "agenda, aanmeldingen en wachtlijsten (beheerders: ook privé-agenda's)",
)

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MeetingForm(BrugForm):
    title = StringField(
        "Titel", validators=[DataRequired("Vul een titel in."), Length(max=200), single_line]
    )
    description = TextAreaField("Beschrijving", validators=[Length(max=10_000)])
    all_day = BooleanField("Hele dag (of meerdere hele dagen)")
    start = DateTimeLocalField(
        "Begin",
        format=DATETIME_FORMATS,
        validators=[DataRequired("Kies de begindatum en -tijd.")],
    )
    end = DateTimeLocalField(
        "Einde",
        format=DATETIME_FORMATS,
        validators=[DataRequired("Kies de einddatum en -tijd.")],
    )
    location = StringField("Adres", validators=[Length(max=300), single_line])
    online_url = StringField("Online link", validators=[Length(max=500), single_line])
    region = SelectField("Regio", choices=[], validators=[DataRequired("Kies een regio.")])
    theme = SelectField("Leefgebied", choices=choices([("", "Geen"), *LEEFGEBIEDEN.items()]))
    audience = SelectField(
        "Voor wie",
        choices=choices(meetings.AUDIENCES),
        validators=[DataRequired("Kies voor wie de bijeenkomst is.")],
    )
    group = StringField("Besloten groep", validators=[Length(max=60), single_line])
    organiser_mailbox = EmailField(
        "Functioneel e-mailadres van de organisator",
        validators=[Optional(), Email(EMAIL_INVALID), Length(max=320)],
    )
    organiser_name = StringField(
        "Naam van de organisator", validators=[Length(max=120), single_line]
    )
    capacity = IntegerField("Aantal plaatsen", validators=[Optional()])
    registration_deadline = DateTimeLocalField(
        "Aanmelden kan tot", format=DATETIME_FORMATS, validators=[Optional()]
    )
    repeat = SelectField("Herhalen", choices=choices(meetings.REPEATS))
    repeat_count = IntegerField("Hoe vaak in totaal", default=1, validators=[Optional()])
    geo_lat = DecimalCommaField("Breedtegraad", validators=[Optional()])
    geo_lon = DecimalCommaField("Lengtegraad", validators=[Optional()])
    allow_overbooked = BooleanField("Ik weet dat er meer aanmeldingen zijn dan plaatsen")

    def to_input(self) -> meetings.MeetingInput:
        return meetings.MeetingInput(
            title=self.title.data or "",
            description=self.description.data or "",
            all_day=bool(self.all_day.data),
            start=self.start.data,
            end=self.end.data,
            location=self.location.data or "",
            online_url=self.online_url.data or "",
            region=self.region.data or "",
            theme=self.theme.data or "",
            audience=self.audience.data or "open",
            group=self.group.data or "",
            organiser_mailbox=self.organiser_mailbox.data or "",
            organiser_name=self.organiser_name.data or "",
            capacity=self.capacity.data,
            registration_deadline=self.registration_deadline.data,
            repeat=self.repeat.data or "",
            repeat_count=self.repeat_count.data or 1,
            geo_lat=self.geo_lat.data,
            geo_lon=self.geo_lon.data,
        )


class OccurrenceForm(BrugForm):
    """One date of a series back as the series has it ("Terugzetten"). Its prefix is
    ``o<key>``, so the CSRF field of each date on the page has its own name and id."""


NOTHING_CHANGED = "Er is nog niets veranderd."


class DateChangeForm(OccurrenceForm):
    """One date of a series cancelled or left out (the button says which): everyone
    registered gets a mail at once, so the person ticks first. The label says who
    (``date_change_form``)."""

    zeker = BooleanField(
        "Ja, ik weet het zeker.",
        validators=[DataRequired(f"Vink aan dat je het zeker weet. {NOTHING_CHANGED}")],
    )
    summary_labels: ClassVar[dict[str, str]] = {"zeker": "Gaat niet door of weglaten"}


class CancelForm(BrugForm):
    """The whole meeting cancelled: everyone registered or waiting gets a mail."""

    reason = StringField("Reden (gaat mee in de e-mail)", validators=[Length(max=500)])
    zeker = BooleanField(
        "Ja, annuleer deze bijeenkomst.",
        validators=[
            DataRequired(
                "Vink aan dat je de bijeenkomst echt wilt annuleren. Ze is nog niet geannuleerd."
            )
        ],
    )
    summary_labels: ClassVar[dict[str, str]] = {"zeker": "Bijeenkomst annuleren"}


class DeleteForm(BrugForm):
    """A meeting made by mistake removed altogether (only while nobody registered)."""

    zeker = BooleanField(
        "Ja, verwijder deze bijeenkomst. Er is nog niemand aangemeld, dus niemand krijgt een "
        "e-mail. Dit kan niet ongedaan worden gemaakt.",
        validators=[
            DataRequired(
                "Vink aan dat je de bijeenkomst echt wilt verwijderen. Ze is nog niet verwijderd."
            )
        ],
    )
    summary_labels: ClassVar[dict[str, str]] = {"zeker": "Bijeenkomst verwijderen"}


class DeregisterForm(BrugForm):
    """One registration deregistered by the organiser: the person gets a mail and their seat
    goes to the waitlist. Prefix ``r<id>``; the label names the person
    (``deregister_form``)."""

    zeker = BooleanField(
        "Ja, meld deze persoon af.",
        validators=[
            DataRequired(f"Vink aan dat je deze aanmelding echt wilt afmelden. {NOTHING_CHANGED}")
        ],
    )
    summary_labels: ClassVar[dict[str, str]] = {"zeker": "Afmelden"}


def who_gets_mail(taken: int, waiting: int = 0) -> str:
    """Who gets a mail: "Dan krijgen 3 aangemelde mensen en 1 persoon op de wachtlijst
    meteen een e-mail." """
    parts = []
    if taken:
        parts.append("1 aangemelde persoon" if taken == 1 else f"{taken} aangemelde mensen")
    if waiting:
        parts.append(
            "1 persoon op de wachtlijst" if waiting == 1 else f"{waiting} mensen op de wachtlijst"
        )
    if not parts:
        return "Er is nog niemand aangemeld, dus niemand krijgt een e-mail."
    verb = "krijgt" if taken + waiting == 1 else "krijgen"
    return f"Dan {verb} {meetings.dutch_list(parts)} meteen een e-mail."


def date_change_form(key: str, taken: int) -> DateChangeForm:
    form = DateChangeForm(formdata=None, prefix=f"o{key}")
    form.zeker.label.text = f"Ja, ik weet het zeker. {who_gets_mail(taken)}"
    return form


class MoveForm(BrugForm):
    """One date of a series to another time or place. Each date's form has its own prefix
    (``d<key>``), so the fields of the dates on one page keep their own ids."""

    start = DateTimeLocalField(
        "Nieuw begin",
        format=DATETIME_FORMATS,
        validators=[DataRequired("Geef een nieuwe begintijd.")],
    )
    end = DateTimeLocalField(
        "Nieuw einde",
        format=DATETIME_FORMATS,
        validators=[DataRequired("Geef een nieuwe eindtijd.")],
    )
    location = StringField("Ander adres", validators=[Length(max=300), single_line])


def move_form(occ: meetings.Occurrence | None, key: str) -> MoveForm:
    """The move form of one date; for the page, filled in with the date as it is now."""
    if occ is None:  # the POST
        return MoveForm(prefix=f"d{key}")
    return MoveForm(
        formdata=None,
        prefix=f"d{key}",
        data={
            "start": _local_naive(occ.starts_at),
            "end": _local_naive(occ.ends_at),
            # only a date's own address: the series' one, typed in here, would stop following it
            "location": occ.location if occ.location != occ.meeting.location else "",
        },
    )


class DateForms:
    """The forms of each date on the edit page. The one just posted and refused stands in for
    its fresh copy, with its errors and what the person typed, and its date's form is open."""

    KINDS: ClassVar[dict[str, type[BrugForm]]] = {
        "move": MoveForm,
        "change": DateChangeForm,
        "restore": OccurrenceForm,
    }

    def __init__(self, taken: int, posted: tuple[str, BrugForm] | None = None) -> None:
        self.taken = taken
        self.posted_key: str | None = posted[0] if posted else None
        self.posted: BrugForm | None = posted[1] if posted else None

    def _posted(self, key: str, kind: str) -> Any:
        if self.posted_key == key and type(self.posted) is self.KINDS[kind]:
            return self.posted
        return None

    def move(self, occ: meetings.Occurrence) -> MoveForm:
        posted = self._posted(occ.key, "move")
        return posted if posted is not None else move_form(occ, occ.key)

    def change(self, key: str) -> DateChangeForm:
        """Cancel or leave out: with a tick-box that says who gets a mail."""
        posted = self._posted(key, "change")
        if posted is not None:
            posted.zeker.label.text = date_change_form(key, self.taken).zeker.label.text
            return posted
        return date_change_form(key, self.taken)

    def restore(self, key: str) -> OccurrenceForm:
        posted = self._posted(key, "restore")
        return posted if posted is not None else OccurrenceForm(formdata=None, prefix=f"o{key}")

    def is_open(self, key: str, kind: str) -> bool:
        return self._posted(key, kind) is not None


class MessageForm(BrugForm):
    subject = StringField(
        "Onderwerp",
        validators=[DataRequired("Vul een onderwerp in."), Length(max=150), single_line],
    )
    body = TextAreaField(
        "Bericht", validators=[DataRequired("Schrijf je bericht."), Length(max=10_000)]
    )
    statuses = MultiCheckboxField(
        "Aan",
        choices=choices([("aangemeld", "Aangemeld"), ("wachtlijst", "Wachtlijst")]),
        default=["aangemeld"],
        validators=[DataRequired("Kies wie het bericht krijgt.")],
    )


class PartnerFeedForm(BrugForm):
    name = StringField(
        "Naam", validators=[DataRequired("Vul de naam in."), Length(max=120), single_line]
    )
    email = EmailField(
        "E-mailadres",
        validators=[
            DataRequired("Vul het e-mailadres in."),
            Email(EMAIL_INVALID),
            Length(max=320),
        ],
    )
    organisation = StringField("Organisatie", validators=[Length(max=200), single_line])
    regions = MultiCheckboxField("Regio's", choices=choices(REGIOS))
    themes = MultiCheckboxField("Leefgebieden", choices=choices(LEEFGEBIEDEN))
    audiences = MultiCheckboxField(
        "Soort bijeenkomsten", choices=choices(PUBLIEK), default=list(PUBLIEK)
    )
    groups = StringField(
        "Besloten groepen (komma's ertussen)", validators=[Length(max=500), single_line]
    )
    send_mail = BooleanField("Stuur het adres per e-mail", default=True)


# ---------------------------------------------------------------------------------------------
# helpers


def _region_choices() -> list[SelectChoice]:
    user = signed_in_user()
    return choices([(slug, title) for slug, title in REGIOS.items() if user.may_see(region=slug)])


def _meeting_in_scope(meeting_id: int) -> meetings.Meeting:
    meeting = meetings.get_meeting(db.session(), meeting_id)
    if meeting is None:
        abort(404)
    if not signed_in_user().may_see(region=meeting.region):
        abort(404)  # out of scope looks like absent
    return meeting


def _local_naive(value: dt.datetime | None) -> dt.datetime | None:
    return meetings.local(value).replace(tzinfo=None) if value is not None else None


def _fill(form: MeetingForm, meeting: meetings.Meeting) -> None:
    for name in (
        "title",
        "description",
        "all_day",
        "location",
        "online_url",
        "region",
        "theme",
        "audience",
        "group",
        "organiser_mailbox",
        "organiser_name",
        "capacity",
        "repeat",
        "repeat_count",
        "geo_lat",
        "geo_lon",
    ):
        getattr(form, name).data = getattr(meeting, name)
    form.start.data = _local_naive(meeting.starts_at)
    end = meeting.ends_at - dt.timedelta(days=1) if meeting.all_day else meeting.ends_at
    form.end.data = _local_naive(end)
    form.registration_deadline.data = _local_naive(meeting.registration_deadline)


def seats(taken: int, capacity: int | None, waiting: int = 0) -> str:
    """How full a meeting is, in words: "3 aangemeld, 5 plaatsen (2 vrij)", "2 aangemeld,
    1 plaats (1 te veel)", "5 aangemeld, 5 plaatsen (vol), 1 op de wachtlijst"."""
    text = f"{taken} aangemeld"
    if capacity is not None:
        free = capacity - taken
        state = f"{free} vrij" if free > 0 else "vol" if free == 0 else f"{-free} te veel"
        text += f", {meetings.places(capacity)} ({state})"
    if waiting:
        text += f", {waiting} op de wachtlijst"
    return text


# ---------------------------------------------------------------------------------------------
# meetings


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    user = signed_in_user()
    now = clock.now()
    show_past = request.args.get("voorbij") == "1"
    since = now - dt.timedelta(days=365) if show_past else now - dt.timedelta(days=1)
    flt = meetings.Filter(audiences=tuple(meetings.AUDIENCES))
    rows = [
        m
        for m in meetings.list_meetings(db.session(), flt, since=since)
        if user.may_see(region=m.region)
    ]
    if not show_past:
        rows = [m for m in rows if m.last_start >= now - dt.timedelta(days=1)]
    overrides = meetings.overrides_for(db.session(), [m.id for m in rows if m.id is not None])
    when = {m.id: meetings.describe_when(m, overrides.get(m.id or 0, [])) for m in rows}
    counts = {}
    for m in rows:
        assert m.id is not None
        counts[m.id] = (
            meetings.count_status(db.session(), m.id, "aangemeld"),
            meetings.count_status(db.session(), m.id, "wachtlijst"),
        )
    return render_template(
        "beheer/bijeenkomsten.html",
        rows=rows,
        counts=counts,
        when=when,
        regions=REGIOS,
        statuses=meetings.STATUSES,
        seats=seats,
        show_past=show_past,
    )


@bp.route("/nieuw", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    form = MeetingForm()
    form.region.choices = _region_choices()
    if form.validate_on_submit():
        if not signed_in_user().may_see(region=form.region.data):
            abort(403)
        try:
            meeting = meetings.create_meeting(
                db.session(),
                form.to_input(),
                actor=signed_in_user().actor,
                now=clock.now(),
                settings=settings(),
            )
            db.session().commit()
            flash("De bijeenkomst staat in de agenda.", "info")
            return redirect(url_for("beheer_meetings.edit", meeting_id=meeting.id))
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    elif request.method == "GET":
        form.organiser_mailbox.data = settings().organiser
        form.organiser_name.data = "Brug agenda"
    else:
        _domain_problems_too(form)
    status = 422 if request.method == "POST" else 200
    return render_template("beheer/bijeenkomst_form.html", form=form, meeting=None), status


@bp.route("/<int:meeting_id>", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    form = MeetingForm()
    form.region.choices = _region_choices()
    if request.method == "GET":
        _fill(form, meeting)
    elif form.validate_on_submit():
        if not signed_in_user().may_see(region=form.region.data):
            abort(403)
        try:
            result = meetings.update_meeting(
                db.session(),
                meeting_id,
                form.to_input(),
                actor=signed_in_user().actor,
                now=clock.now(),
                settings=settings(),
                allow_overbooked=bool(form.allow_overbooked.data),
            )
            db.session().commit()
            flash(
                "De wijziging is opgeslagen. Abonnees en aangemelde mensen krijgen haar vanzelf.",
                "info",
            )
            if result.lapsed:
                flash(
                    "De reeks heeft geen bijeenkomst meer op "
                    + meetings.dutch_list([meetings.dutch_date(day) for day in result.lapsed])
                    + ". Wat je voor die datum had veranderd, is daarom vervallen.",
                    "warning",
                )
            return redirect(url_for("beheer_meetings.edit", meeting_id=meeting_id))
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    else:
        _domain_problems_too(form)
    return _edit_page(meeting, form, status=422 if request.method == "POST" else 200)


def _domain_problems_too(form: MeetingForm) -> None:
    """When the form itself has errors, show the meeting's own problems beside them (a wrong
    capacity with an empty title), so that one round trip shows everything to fix."""
    if form.start.data is None or form.end.data is None:
        return
    try:
        form.to_input().validate(now=clock.now(), mail_domain=settings().mail_domain)
    except meetings.MeetingError as exc:
        form_error(form, exc)


def _edit_page(
    meeting: meetings.Meeting,
    form: MeetingForm,
    *,
    status: int,
    posted: BrugForm | None = None,
    posted_key: str = "",
) -> ResponseReturnValue:
    """The edit page of a meeting. ``posted`` is a refused form of the page other than the
    meeting's own (of one date: ``posted_key``): the page shows it again with its errors, in
    the error summary at the top as well."""
    assert meeting.id is not None
    session = db.session()
    dates = meetings.occurrences(
        meeting, meetings.overrides_for(session, [meeting.id]).get(meeting.id, [])
    )
    skipped = [dt.datetime.fromisoformat(value) for value in meeting.exdates]
    taken = meetings.count_status(session, meeting.id, "aangemeld")
    waiting = meetings.count_status(session, meeting.id, "wachtlijst")
    cancel_form = (
        posted if isinstance(posted, CancelForm) else CancelForm(formdata=None, prefix="annuleren")
    )
    cancel_form.zeker.label.text = (
        f"Ja, annuleer deze bijeenkomst. {who_gets_mail(taken, waiting)} "
        "Dit kan niet ongedaan worden gemaakt."
    )
    delete_form = (
        posted
        if isinstance(posted, DeleteForm)
        else DeleteForm(formdata=None, prefix="verwijderen")
    )
    return render_template(
        "beheer/bijeenkomst_form.html",
        form=form,
        summary_form=posted if posted is not None else form,
        meeting=meeting,
        dates=dates if meeting.rrule else [],
        skipped=skipped,
        describe=meetings.describe_span,
        key_of=meetings.occurrence_key,
        date_forms=DateForms(taken, (posted_key, posted) if posted_key and posted else None),
        cancel_form=cancel_form,
        delete_form=delete_form,
        seats=seats(taken, meeting.capacity, waiting),
        status_label=meetings.STATUSES.get(meeting.status, meeting.status),
        deletable=meetings.deletable(session, meeting, now=clock.now()),
    ), status


def _refused(meeting: meetings.Meeting, posted: BrugForm, key: str = "") -> ResponseReturnValue:
    """A form of the edit page that was refused: the page again, 422, the meeting's own form
    as it is stored."""
    form = MeetingForm(formdata=None)
    form.region.choices = _region_choices()
    _fill(form, meeting)
    return _edit_page(meeting, form, status=422, posted=posted, posted_key=key)


@bp.post("/<int:meeting_id>/annuleren")
@login_required
def cancel(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    form = CancelForm(prefix="annuleren")
    if not form.validate():  # cancelling mails everyone and cannot be undone: ticked first
        return _refused(meeting, form)
    meetings.cancel_meeting(
        db.session(),
        meeting_id,
        actor=signed_in_user().actor,
        now=clock.now(),
        settings=settings(),
        reason=(form.reason.data or "").strip(),
    )
    db.session().commit()
    flash(
        "De bijeenkomst is geannuleerd. Ze blijft 30 dagen als 'gaat niet door' "
        "in de agenda's staan.",
        "info",
    )
    return redirect(url_for("beheer_meetings.edit", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/verwijderen")
@login_required
def delete(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    form = DeleteForm(prefix="verwijderen")
    if not form.validate():
        return _refused(meeting, form)
    try:
        meetings.delete_unpublished(
            db.session(), meeting_id, actor=signed_in_user().actor, now=clock.now()
        )
        db.session().commit()
    except meetings.MeetingError as exc:
        db.session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("beheer_meetings.edit", meeting_id=meeting_id))
    flash("De bijeenkomst is verwijderd.", "info")
    return redirect(url_for("beheer_meetings.index"))


@bp.post("/<int:meeting_id>/datum/<key>")
@login_required
def occurrence(meeting_id: int, key: str) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    action = request.form.get("action", "")
    form: BrugForm
    if action == "move":
        form = move_form(None, key)
    elif action in ("cancel", "skip"):  # mails everyone registered: ticked first
        form = DateChangeForm(prefix=f"o{key}")
    else:
        form = OccurrenceForm(prefix=f"o{key}")
    if form.validate():
        moved = form if isinstance(form, MoveForm) else None
        try:
            meetings.change_occurrence(
                db.session(),
                meeting_id,
                key,
                action=action,
                actor=signed_in_user().actor,
                now=clock.now(),
                settings=settings(),
                start=moved.start.data if moved else None,
                end=moved.end.data if moved else None,
                location=(moved.location.data or "") if moved else "",
            )
            db.session().commit()
            flash("De datum is bijgewerkt.", "info")
            return redirect(url_for("beheer_meetings.edit", meeting_id=meeting_id))
        except meetings.MeetingError as exc:
            db.session().rollback()
            if not isinstance(form, MoveForm):  # nothing typed that could be lost
                flash(str(exc), "error")
                return redirect(url_for("beheer_meetings.edit", meeting_id=meeting_id))
            form_error(form, exc)
    # Refused: the page again, with this date's form as it was sent and what is wrong with it.
    return _refused(meeting, form, key)


# ---------------------------------------------------------------------------------------------
# registrations


def _record_access(meeting: meetings.Meeting, action: str) -> None:
    """Reading registrants' personal data is audited, and the entry committed at once."""
    audit.record(
        db.session(),
        actor=signed_in_user().actor,
        action=action,
        subject=meeting.subject,
        now=clock.now(),
    )
    db.session().commit()


def deregister_form(
    registration: meetings.Registration, posted: DeregisterForm | None = None
) -> DeregisterForm:
    """The "Afmelden" form of one registration, with a tick-box that says who gets a mail."""
    form = (
        posted
        if posted is not None
        else DeregisterForm(formdata=None, prefix=f"r{registration.id}")
    )
    name = registration.name
    label = f"Ja, meld {name} af. {name} krijgt daarover een e-mail."
    if registration.status == "aangemeld":
        label += (
            " Komt er een plaats vrij? Dan krijgt de eerste op de wachtlijst die plaats, "
            "en ook een e-mail."
        )
    form.zeker.label.text = label
    return form


def _registrations_page(
    meeting: meetings.Meeting,
    rows: list[meetings.Registration],
    form: MessageForm,
    refused: tuple[int, DeregisterForm] | None = None,
) -> str:
    """The registrations of a meeting; ``refused`` is a deregistration that was not ticked
    (registration id, form): the page shows it open, with its error."""

    def afmelden(registration: meetings.Registration) -> DeregisterForm:
        mine = refused is not None and refused[0] == registration.id
        return deregister_form(registration, refused[1] if refused and mine else None)

    return render_template(
        "beheer/bijeenkomst_aanmeldingen.html",
        meeting=meeting,
        rows=rows,
        labels=meetings.REGISTRATION_STATUSES,
        form=form,
        deregister_form=afmelden,
        refused=refused,
    )


@bp.get("/<int:meeting_id>/aanmeldingen")
@login_required
@db.writes  # the audit entry for this view of personal data
def registrations(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    rows = meetings.registrations(db.session(), meeting_id)
    _record_access(meeting, "aanmeldingen.bekeken")
    return _registrations_page(meeting, rows, MessageForm(formdata=None))


@bp.get("/<int:meeting_id>/aanmeldingen.csv")
@login_required
@db.writes  # the audit entry for this view of personal data
def export(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    rows = [r for r in meetings.registrations(db.session(), meeting_id) if r.status != "bevestigen"]
    _record_access(meeting, "aanmeldingen.export")
    return Response(
        meetings.export_csv(meeting, rows),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="aanmeldingen-{meeting_id}.csv"'},
    )


def _deregistered(meeting: meetings.Meeting, result: meetings.Cancellation) -> str:
    """What deregistering did, in the organiser's words: who got the seat, or why nobody."""
    name = result.registration.name
    if result.was == "afgemeld":
        return f"{name} was al afgemeld. Er is niets veranderd."
    message = f"{name} is afgemeld en krijgt daarover een e-mail."
    if result.was == "wachtlijst":
        return f"{message} {name} stond op de wachtlijst: er komt geen plaats vrij."
    if result.was != "aangemeld" or meeting.cancelled:
        return message
    if result.promoted:
        names = meetings.dutch_list([r.name for r in result.promoted])
        if len(result.promoted) == 1:
            return f"{message} {names} stond bovenaan de wachtlijst en krijgt de plaats."
        return f"{message} {names} stonden bovenaan de wachtlijst en krijgen een plaats."
    if meeting.capacity is None:
        return message
    assert meeting.id is not None
    taken = meetings.count_status(db.session(), meeting.id, "aangemeld")
    free = meeting.capacity - taken
    if free > 0:
        return f"{message} Er {'is' if free == 1 else 'zijn'} nu {meetings.places(free)} vrij."
    waiting = meetings.count_status(db.session(), meeting.id, "wachtlijst")
    nobody = (
        "Niemand van de wachtlijst krijgt een plaats" if waiting else "Er komt geen plaats vrij"
    )
    if free == 0:
        return (
            f"{message} {nobody}: alle plaatsen zijn nog bezet "
            f"({taken} aangemeld, {meetings.places(meeting.capacity)})."
        )
    return (
        f"{message} {nobody}: er zijn nog steeds meer aanmeldingen dan plaatsen "
        f"({taken} aangemeld, {meetings.places(meeting.capacity)})."
    )


@bp.post("/<int:meeting_id>/aanmeldingen/<int:registration_id>/afmelden")
@login_required
def deregister(meeting_id: int, registration_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    found = db.session().get(meetings.Registration, registration_id)
    if found is None or found.meeting_id != meeting_id:
        abort(404)
    form = DeregisterForm(prefix=f"r{registration_id}")
    if not form.validate():  # mails the person and gives their place away: ticked first
        rows = meetings.registrations(db.session(), meeting_id)
        return _registrations_page(
            meeting, rows, MessageForm(formdata=None), (registration_id, form)
        ), 422
    result = meetings.cancel_registration(
        db.session(),
        None,
        registration_id=registration_id,
        actor=signed_in_user().actor,
        now=clock.now(),
        settings=settings(),
    )
    message = _deregistered(meeting, result)
    db.session().commit()
    flash(message, "info")
    return redirect(url_for("beheer_meetings.registrations", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/bericht")
@login_required
def message(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting_in_scope(meeting_id)
    form = MessageForm()
    if form.validate():
        try:
            sent = meetings.mail_registrants(
                db.session(),
                meeting,
                subject=form.subject.data,
                body=form.body.data,
                statuses=form.statuses.data or [],
                actor=signed_in_user().actor,
                now=clock.now(),
                settings=settings(),
            )
            db.session().commit()
            flash(f"Je bericht gaat naar {sent} {'persoon' if sent == 1 else 'mensen'}.", "info")
            return redirect(url_for("beheer_meetings.registrations", meeting_id=meeting_id))
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    rows = meetings.registrations(db.session(), meeting_id)
    return _registrations_page(meeting, rows, form), 422


# ---------------------------------------------------------------------------------------------
# private partner feeds (administrators)


@bp.route("/prive-agendas", methods=["GET", "POST"])
@admin_required
def partner_feeds() -> ResponseReturnValue:
    form = PartnerFeedForm()
    new_url = None
    if form.validate_on_submit():
        try:
            _feed, raw = meetings.create_partner_feed(
                db.session(),
                name=form.name.data,
                email=form.email.data,
                organisation=form.organisation.data or "",
                regions=form.regions.data or [],
                themes=form.themes.data or [],
                audiences=form.audiences.data or [],
                groups=(form.groups.data or "").split(","),
                actor=signed_in_user().actor,
                now=clock.now(),
                settings=settings(),
                send_mail=bool(form.send_mail.data),
            )
            db.session().commit()
            new_url = settings().url(f"/agenda/prive/{raw}.ics")
            form = PartnerFeedForm(formdata=None)
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    status = 422 if request.method == "POST" and new_url is None else 200
    return render_template(
        "beheer/bijeenkomst_feeds.html",
        form=form,
        feeds=meetings.partner_feeds(db.session()),
        new_url=new_url,
        regions=REGIOS,
        themes=LEEFGEBIEDEN,
    ), status


@bp.post("/prive-agendas/<int:feed_id>/intrekken")
@admin_required
def revoke_feed(feed_id: int) -> ResponseReturnValue:
    feed = db.session().get(meetings.PartnerFeed, feed_id)
    if feed is None:
        abort(404)
    if not BrugForm().validate_on_submit():  # a cross-site post carries no token
        return error_page(400, CSRF_MESSAGE)
    meetings.revoke_partner_feed(db.session(), feed, actor=signed_in_user().actor, now=clock.now())
    db.session().commit()
    flash("De privé-agenda is ingetrokken.", "info")
    return redirect(url_for("beheer_meetings.partner_feeds"))
