"""Public volunteer sign-up (/aanmelden/) and AVG self-service (/mijn/) — issue 4.

Views parse a form, call one domain function in ``forms_backend.volunteers`` and render or
redirect. Programme-specific questions come from data/programmas.yml, not from code.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from forms_backend import clock, db, volunteers
from forms_backend.config import configured_app, number
from forms_backend.forms import (
    EMAIL_INVALID,
    EMAIL_MISSING,
    NAME_MISSING,
    RATE_MESSAGE,
    BrugForm,
    MultiCheckboxField,
    SpamGuardMixin,
    choices,
    clean,
    clean_multiline,
)
from forms_backend.security import over_limit
from forms_backend.views.core import error_page

log = logging.getLogger(__name__)

bp = Blueprint("volunteer", __name__)

# Defaults for this module's settings; BRUG_<KEY> in the environment overrides each one.
CONFIG_DEFAULTS: dict[str, Any] = {
    "VOLUNTEER_CONFIRM_TTL_HOURS": 72,  # the confirmation link in the first e-mail
    "VOLUNTEER_LINK_TTL_HOURS": 168,  # personal /mijn/ links
    "VOLUNTEER_UNCONFIRMED_DAYS": 30,  # unconfirmed sign-ups are erased after this
    "VOLUNTEER_MOTIVATION_MONTHS": 12,  # motivation and answers, after gestopt/afgewezen
    "VOLUNTEER_RETENTION_MONTHS": 24,  # everything, after gestopt/afgewezen
    "VOLUNTEER_RATELIMIT_IP": "10/minute;60/hour",  # sign-up and link-request posts per IP
    "VOLUNTEER_RATELIMIT_ADDRESS": "3/hour;10/day",  # per e-mail address
    "PRIVACY_STATEMENT": "over/privacy.md",  # under CONTENT_DIR; its hash is the consent version
    "PRIVACY_URL": "/over/privacy/",
}


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = configured_app(state, CONFIG_DEFAULTS)
    cfg = app.config
    for key in (
        "VOLUNTEER_CONFIRM_TTL_HOURS",
        "VOLUNTEER_LINK_TTL_HOURS",
        "VOLUNTEER_UNCONFIRMED_DAYS",
        "VOLUNTEER_MOTIVATION_MONTHS",
        "VOLUNTEER_RETENTION_MONTHS",
    ):
        number(cfg, key, above=True)
    month = dt.timedelta(days=365 / 12)
    terms = volunteers.RetentionTerms(
        unconfirmed=dt.timedelta(days=float(cfg["VOLUNTEER_UNCONFIRMED_DAYS"])),
        motivation_after_end=month * float(cfg["VOLUNTEER_MOTIVATION_MONTHS"]),
        all_after_end=month * float(cfg["VOLUNTEER_RETENTION_MONTHS"]),
    )
    engine = db.get_engine(app)
    volunteers.configure_retention(engine.url.render_as_string(hide_password=False), terms)
    app.extensions["brug.volunteers"] = volunteers.Settings(
        base_url=str(cfg["PUBLIC_URL"]),
        site_name=str(cfg["SITE_NAME"]),
        confirm_ttl=dt.timedelta(hours=float(cfg["VOLUNTEER_CONFIRM_TTL_HOURS"])),
        link_ttl=dt.timedelta(hours=float(cfg["VOLUNTEER_LINK_TTL_HOURS"])),
    )


def _limited(form: BrugForm, scope: str, email: str | None = None) -> bool:
    """Count one POST per IP, or per address when ``email`` is given. Over the rule, the form
    gets the message and the view shows it again (429) with everything typed still there."""
    cfg = current_app.config
    if email is None:
        over = over_limit(cfg["VOLUNTEER_RATELIMIT_IP"], scope=f"{scope}-ip")
    else:
        over = over_limit(cfg["VOLUNTEER_RATELIMIT_ADDRESS"], scope=f"{scope}-adres", key=email)
    if over:
        form.form_errors.append(RATE_MESSAGE)
    return over


def settings(app: Flask | None = None) -> volunteers.Settings:
    return (app or current_app).extensions["brug.volunteers"]


def privacy_version() -> str:
    """A short hash of the privacy statement's text: what the volunteer agreed to."""
    config = current_app.config
    # Plain strings, not Path: this runs on every sign-up (a Path costs more than the stat).
    path = os.path.join(config["CONTENT_DIR"], config["PRIVACY_STATEMENT"])
    try:
        return _hash_file(path, os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        log.warning("privacy statement %s not found; consent is stored without a version", path)
        return "ontbreekt"


@functools.lru_cache(maxsize=8)
def _hash_file(path: str, _mtime: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# forms


def _phone(form: Any, field: Field) -> None:
    try:
        volunteers.normalise_phone(field.data or "")
    except volunteers.VolunteerError as exc:
        raise ValidationError(str(exc)) from None


def _postcode(form: Any, field: Field) -> None:
    try:
        volunteers.region_for_postcode(field.data or "")
    except volunteers.VolunteerError as exc:
        raise ValidationError(str(exc)) from None


class PersonFields(BrugForm):
    """Fields a volunteer fills in at sign-up and may correct later."""

    name = StringField(
        "Naam", filters=[clean], validators=[DataRequired(NAME_MISSING), Length(max=120)]
    )
    phone = TelField(
        "Telefoonnummer", filters=[clean], validators=[Optional(), Length(max=30), _phone]
    )
    postcode = StringField(
        "Postcode",
        filters=[clean],
        validators=[DataRequired("Vul je postcode in."), Length(max=7), _postcode],
    )
    availability = MultiCheckboxField(
        "Wanneer kun je?",
        choices=choices(volunteers.AVAILABILITY),
        validators=[DataRequired("Kies minstens één moment.")],
    )
    motivation = TextAreaField(
        "Waarom wil je vrijwilliger worden?",
        filters=[clean_multiline],
        validators=[DataRequired("Vertel kort waarom je mee wilt doen."), Length(max=4000)],
    )


class SignupForm(SpamGuardMixin, PersonFields):
    email = EmailField(
        "E-mailadres",
        filters=[clean],
        validators=[
            DataRequired(EMAIL_MISSING),
            Length(max=254),
            Email(EMAIL_INVALID),
        ],
    )
    heard_via = SelectField(
        "Hoe hoorde je van ons?",
        choices=choices([("", "Kies een antwoord"), *volunteers.HEARD_VIA.items()]),
        validators=[Optional()],
    )
    consent = BooleanField(
        "Ik heb de privacyverklaring gelezen en ik ga ermee akkoord dat Brug mijn gegevens"
        " gebruikt voor mijn aanmelding.",
        validators=[
            DataRequired(
                "Je kunt je alleen aanmelden als je akkoord gaat met de privacyverklaring."
            )
        ],
    )
    question_names: tuple[str, ...] = ()
    summary_labels: ClassVar[dict[str, str]] = {"consent": "Privacyverklaring"}

    def page_order(self) -> tuple[str, ...]:  # volunteer/signup.html
        return (
            "name",
            "email",
            "phone",
            "postcode",
            "motivation",
            "availability",
            *self.question_names,
            "heard_via",
            "consent",
        )

    def to_input(
        self, programme: volunteers.Programme, consent_version: str
    ) -> volunteers.SignupInput:
        return volunteers.SignupInput.model_validate(
            {
                "programme": programme.slug,
                "name": self.name.data,
                "email": self.email.data,
                "phone": self.phone.data or "",
                "postcode": self.postcode.data,
                "motivation": self.motivation.data,
                "availability": self.availability.data or [],
                "heard_via": self.heard_via.data or "",
                "answers": {
                    name.removeprefix("q_"): self[name].data or "" for name in self.question_names
                },
                "consent_version": consent_version,
            }
        )


def _question_field(question: volunteers.Question) -> Field:
    required = [InputRequired("Beantwoord deze vraag.")] if question.required else [Optional()]
    if question.type in ("choice", "yesno"):
        return RadioField(question.label, choices=choices(question.options), validators=required)
    if question.type == "textarea":
        return TextAreaField(
            question.label, filters=[clean_multiline], validators=[*required, Length(max=2000)]
        )
    return StringField(question.label, filters=[clean], validators=[*required, Length(max=300)])


@functools.cache
def signup_form_class(programme: volunteers.Programme) -> type[SignupForm]:
    """The sign-up form plus this programme's own questions (from configuration)."""
    fields = {f"q_{q.id}": _question_field(q) for q in programme.questions}
    return type(
        f"SignupForm_{programme.slug}", (SignupForm,), {**fields, "question_names": tuple(fields)}
    )


class LinkRequestForm(SpamGuardMixin, BrugForm):
    email = EmailField(
        "E-mailadres",
        filters=[clean],
        validators=[
            DataRequired(EMAIL_MISSING),
            Length(max=254),
            Email(EMAIL_INVALID),
        ],
    )


class CorrectionForm(PersonFields):
    motivation = TextAreaField(
        "Waarom wil je vrijwilliger worden?",
        filters=[clean_multiline],
        validators=[Optional(), Length(max=4000)],
    )

    def to_input(self) -> volunteers.CorrectionInput:
        return volunteers.CorrectionInput.model_validate(
            {
                "name": self.name.data,
                "phone": self.phone.data or "",
                "postcode": self.postcode.data,
                "motivation": self.motivation.data or "",
                "availability": self.availability.data or [],
            }
        )


class ConfirmForm(BrugForm):
    """A button with CSRF: confirm, withdraw, erase."""


def _hints(programme: volunteers.Programme) -> dict[str, str]:
    return {f"q_{q.id}": q.hint for q in programme.questions if q.hint}


# ---------------------------------------------------------------------------------------------
# sign-up


def _programme_or_404(slug: str) -> volunteers.Programme | None:
    try:
        return volunteers.programme(slug)
    except volunteers.NotFound:
        return None


@bp.route("/aanmelden/<programma>", methods=["GET", "POST"])
def signup(programma: str) -> ResponseReturnValue:
    programme = _programme_or_404(programma)
    if programme is None:
        return error_page(
            404,
            "Voor dit programma kun je je hier niet aanmelden."
            " Kijk bij de programma's welke vrijwilligers zoeken.",
        )
    form = signup_form_class(programme)()
    limited = request.method == "POST" and _limited(form, "aanmelden")
    if not limited and form.validate_on_submit():
        limited = _limited(form, "aanmelden", form.email.data)
        if not limited:
            try:
                volunteers.sign_up(
                    db.session(),
                    form.to_input(programme, privacy_version()),
                    now=clock.now(),
                    settings=settings(),
                )
            except volunteers.VolunteerError as exc:
                form.form_errors.append(str(exc))
            except ValueError:  # pydantic: input the form let through but the domain refuses
                form.form_errors.append("Een van de velden klopt niet. Controleer je gegevens.")
            else:
                return redirect(url_for(".thanks", programma=programme.slug), code=303)
    elif request.method == "GET":
        form.stamp_start()
    status = 429 if limited else 422 if request.method == "POST" else 200
    return render_template(
        "volunteer/signup.html", form=form, programme=programme, hints=_hints(programme)
    ), status


@bp.get("/aanmelden/<programma>/bedankt")
def thanks(programma: str) -> ResponseReturnValue:
    programme = _programme_or_404(programma)
    if programme is None:
        return error_page(404)
    return render_template(
        "volunteer/thanks.html", programme=programme, confirm_term=settings().confirm_term
    )


@bp.route("/aanmelden/bevestigen/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            volunteer = volunteers.confirm(db.session(), token, now=clock.now())
            return redirect(url_for(".confirmed", programma=volunteer.programme), code=303)
        volunteer = volunteers.volunteer_for_confirmation(db.session(), token, now=clock.now())
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    if volunteer.status != "aangemeld":
        return redirect(url_for(".confirmed", programma=volunteer.programme), code=303)
    return render_template("volunteer/confirm.html", form=form, volunteer=volunteer)


@bp.get("/aanmelden/<programma>/bevestigd")
def confirmed(programma: str) -> ResponseReturnValue:
    programme = _programme_or_404(programma)
    if programme is None:
        return error_page(404)
    return render_template("volunteer/confirmed.html", programme=programme)


def _bad_link(message: str) -> ResponseReturnValue:
    status = 410 if ("verlopen" in message or "gebruikt" in message) else 404
    return render_template("volunteer/bad_link.html", message=message), status


# ---------------------------------------------------------------------------------------------
# self-service


@bp.route("/mijn/", methods=["GET"])
@bp.route("/mijn/link-aanvragen", methods=["GET", "POST"])
def request_link() -> ResponseReturnValue:
    """The same answer whether or not the address is known."""
    form = LinkRequestForm()
    limited = request.method == "POST" and _limited(form, "link")
    if not limited and form.validate_on_submit():
        limited = _limited(form, "link", form.email.data)
        if not limited:
            volunteers.request_links(
                db.session(), form.email.data, now=clock.now(), settings=settings()
            )
            return redirect(url_for(".link_requested"), code=303)
    if request.method == "GET":
        form.stamp_start()
    status = 429 if limited else 422 if request.method == "POST" else 200
    return render_template("volunteer/request_link.html", form=form), status


@bp.get("/mijn/link-aangevraagd")
def link_requested() -> ResponseReturnValue:
    return render_template("volunteer/link_requested.html", link_term=settings().link_term)


@bp.get("/mijn/gewist")
def erased() -> ResponseReturnValue:
    return render_template("volunteer/erased.html")


def _own(token: str) -> volunteers.Volunteer:
    return volunteers.volunteer_for_link(db.session(), token, now=clock.now())


@bp.get("/mijn/<token>")
def mine(token: str) -> ResponseReturnValue:
    try:
        volunteer = _own(token)
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    return _mine_page(volunteer, token, ConfirmForm())


def _mine_page(
    volunteer: volunteers.Volunteer, token: str, form: ConfirmForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "volunteer/mine.html",
        volunteer=volunteer,
        data=volunteers.data_export(db.session(), volunteer),
        token=token,
        form=form,
        ended=volunteer.status in volunteers.ENDED,
    ), status


@bp.get("/mijn/<token>/gegevens.<fmt>")
def download(token: str, fmt: str) -> ResponseReturnValue:
    if fmt not in ("json", "csv"):
        return error_page(404)
    try:
        volunteer = _own(token)
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    session = db.session()
    if fmt == "json":
        body = json.dumps(volunteers.data_export(session, volunteer), ensure_ascii=False, indent=2)
        mimetype = "application/json"
    else:
        body = volunteers.data_export_csv(session, volunteer)  # BOM: spreadsheets read UTF-8
        mimetype = "text/csv"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="mijn-gegevens-brug.{fmt}"'
    return response


@bp.route("/mijn/<token>/aanpassen", methods=["GET", "POST"])
def correct(token: str) -> ResponseReturnValue:
    try:
        volunteer = _own(token)
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    form = CorrectionForm(obj=volunteer if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            volunteers.correct(db.session(), volunteer, form.to_input(), now=clock.now())
        except (volunteers.VolunteerError, ValueError) as exc:
            form.form_errors.append(
                str(exc)
                if isinstance(exc, volunteers.VolunteerError)
                else "Een van de velden klopt niet."
            )
        else:
            flash("Je wijzigingen zijn opgeslagen.", "info")
            return redirect(url_for(".mine", token=token, _anchor="gegevens"), code=303)
    return render_template(
        "volunteer/correct.html", form=form, token=token
    ), 422 if request.method == "POST" else 200


def _own_button(token: str) -> volunteers.Volunteer | ResponseReturnValue:
    """The volunteer behind a personal page's button (POST with its CSRF token), or the page
    that says why not: a bad link, or the personal page again with the form's message and a
    fresh token when the post lacks the page's token (400)."""
    try:
        volunteer = _own(token)
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _mine_page(volunteer, token, form, 400)
    return volunteer


@bp.post("/mijn/<token>/bevestigen")
def confirm_own(token: str) -> ResponseReturnValue:
    volunteer = _own_button(token)
    if not isinstance(volunteer, volunteers.Volunteer):
        return volunteer
    volunteers.confirm_own(db.session(), volunteer, now=clock.now())
    return redirect(url_for(".confirmed", programma=volunteer.programme), code=303)


@bp.post("/mijn/<token>/intrekken")
def withdraw(token: str) -> ResponseReturnValue:
    volunteer = _own_button(token)
    if not isinstance(volunteer, volunteers.Volunteer):
        return volunteer
    volunteers.withdraw(db.session(), volunteer, now=clock.now())
    flash(
        "Je aanmelding is gestopt. Wil je ook dat we je gegevens nu wissen? Dat kan hieronder.",
        "info",
    )
    return redirect(url_for(".mine", token=token), code=303)


@bp.route("/mijn/<token>/wissen", methods=["GET", "POST"])
def erase(token: str) -> ResponseReturnValue:
    try:
        volunteer = _own(token)
    except volunteers.VolunteerError as exc:
        return _bad_link(str(exc))
    form = ConfirmForm()
    if form.validate_on_submit():
        volunteers.erase(db.session(), volunteer, now=clock.now())
        return redirect(url_for(".erased"), code=303)
    return render_template("volunteer/erase.html", form=form, token=token)
