"""Public submissions of practices and werkbezoeken (/inzenden/) — issue 6.

An organisation fills in the same fields as a content page's front matter plus its contact,
previews the page exactly as the site will render it, and sends it. The status link
(/inzenden/status/<token>) shows the state and the moderator's questions and takes answers.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from forms_backend import BACKEND_PREFIXES, clock, db, submissions, tokens
from forms_backend.config import configured_app, number
from forms_backend.content import (
    FASEN,
    LEEFGEBIEDEN,
    ORGANISATIETYPES,
    REGIOS,
    PageMeta,
    role_mailbox_problem,
)
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
    single_line,
)
from forms_backend.localtime import local_date
from forms_backend.publishing import BuildWorker, Publisher, make_writer
from forms_backend.security import over_limit
from forms_backend.views.core import error_page

bp = Blueprint("submit", __name__, url_prefix="/inzenden")

CONFIG_DEFAULTS: dict[str, Any] = {
    "CONTENT_WRITER": "filesystem",  # filesystem | git
    "BUILD_WORKER": "thread",  # thread (embedded default) | off (run `flask rebuild`)
    "BUILD_KEEP": 3,  # releases kept, the live one included
    "RELEASES_DIR": None,  # default: <SITE_DIR>/../releases
    "SUBMIT_RATELIMIT": "5/minute;30/hour",
}


def role_mailbox(_form: Any, field: Any) -> None:
    """A general mailbox of the organisation: it is published on the page."""
    problem = role_mailbox_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = configured_app(state, CONFIG_DEFAULTS)
    number(app.config, "BUILD_KEEP", whole=True, minimum=1)  # the live release is one of them

    def run() -> object:
        with app.app_context():
            return submissions.run_pending_builds(
                db.get_engine(app),
                Publisher.from_config(app.config),
                clock=app.extensions["brug.clock"],
                writer=writer(app.config),
                public_url=str(app.config["PUBLIC_URL"]),
            )

    app.extensions["brug.build_worker"] = BuildWorker(run)


def writer(config: Any = None) -> Any:
    config = config or current_app.config
    return make_writer(config["CONTENT_WRITER"], config["CONTENT_DIR"])


def wake_builder() -> None:
    """Start (or nudge) this process's build worker, unless builds run elsewhere."""
    if current_app.config["BUILD_WORKER"] == "thread":
        current_app.extensions["brug.build_worker"].wake()


def site_check() -> dict[str, Any]:
    """Where links in a body are checked: the live site and the backend's own paths."""
    return {"site_dir": current_app.config["SITE_DIR"], "backend_prefixes": BACKEND_PREFIXES}


# ---------------------------------------------------------------------------------------------
# forms


def _sources(form: Any, field: Any) -> None:
    try:
        submissions.parse_sources(field.data or "")
    except submissions.SubmissionError as exc:
        *earlier, last = exc.problems  # WTForms keeps one message per raise: add the others
        field.errors.extend(earlier)
        raise ValidationError(last) from None


class PageFields(BrugForm):
    """The public fields: exactly the page's front matter and body."""

    title = StringField(
        "Titel",
        filters=[clean],
        validators=[DataRequired("Geef een titel."), Length(max=140), single_line],
    )
    summary = TextAreaField(
        "Samenvatting",
        filters=[clean],
        validators=[DataRequired("Schrijf een korte samenvatting."), Length(max=320)],
    )
    body = TextAreaField(
        "Tekst",
        filters=[clean_multiline],
        validators=[DataRequired("Schrijf de tekst."), Length(max=20_000)],
        render_kw={"rows": 16},
    )
    leefgebieden = MultiCheckboxField(
        "Leefgebieden",
        choices=choices(LEEFGEBIEDEN),
        validators=[DataRequired("Kies minstens één leefgebied.")],
    )
    regio = SelectField(
        "Regio",
        choices=choices({"": "Kies een regio", **REGIOS}),
        validators=[DataRequired("Kies een regio.")],
    )
    fase = MultiCheckboxField("Fase", choices=choices(FASEN), validators=[Optional()])
    organisatietypes = MultiCheckboxField(
        "Soort organisatie",
        choices=choices(ORGANISATIETYPES),
        validators=[DataRequired("Kies minstens één soort organisatie.")],
    )
    organisatie = StringField(
        "Naam van de organisatie",
        filters=[clean],
        validators=[
            DataRequired("Vul de naam van de organisatie in."),
            Length(max=200),
            single_line,
        ],
    )
    bronnen = TextAreaField(
        "Bronnen",
        filters=[clean_multiline],
        validators=[Optional(), Length(max=3000), _sources],
        render_kw={"rows": 3},
    )


class WerkbezoekFields(PageFields):
    plaats = StringField(
        "Plaats van het werkbezoek",
        filters=[clean],
        validators=[DataRequired("Vul de plaats in."), Length(max=120), single_line],
    )
    role_mailbox = EmailField(
        "Algemeen e-mailadres voor aanmeldingen",
        filters=[clean],
        validators=[Optional(), Length(max=200), role_mailbox],
    )


class ContactFields:
    contact_name = StringField(
        "Je naam",
        filters=[clean],
        validators=[DataRequired(NAME_MISSING), Length(max=120), single_line],
    )
    contact_email = EmailField(
        "Je e-mailadres",
        filters=[clean],
        validators=[
            DataRequired(EMAIL_MISSING),
            Email(EMAIL_INVALID),
            Length(max=320),
        ],
    )
    consent = BooleanField(
        "Ik geef toestemming om mijn naam en e-mailadres te bewaren voor deze inzending.",
        validators=[DataRequired("Geef toestemming, anders kunnen we je niet bereiken.")],
    )
    summary_labels: ClassVar[dict[str, str]] = {"consent": "Toestemming"}


class PraktijkForm(SpamGuardMixin, ContactFields, PageFields):
    pass


class WerkbezoekForm(SpamGuardMixin, ContactFields, WerkbezoekFields):
    pass


def form_class(kind: str, *, public: bool) -> type[BrugForm]:
    if public:
        return WerkbezoekForm if kind == "werkbezoek" else PraktijkForm
    return WerkbezoekFields if kind == "werkbezoek" else PageFields


def form_data(form: Any, kind: str) -> submissions.SubmissionData:
    """The domain shape of a validated form."""
    return submissions.SubmissionData.model_validate(
        {
            "kind": kind,
            "title": form.title.data,
            "summary": form.summary.data,
            "body": form.body.data,
            "leefgebieden": list(form.leefgebieden.data or []),
            "regio": form.regio.data,
            "fase": list(form.fase.data or []),
            "organisatietypes": list(form.organisatietypes.data or []),
            "bronnen": submissions.parse_sources(form.bronnen.data or ""),
            "organisatie": form.organisatie.data,
            "plaats": form.plaats.data if kind == "werkbezoek" else None,
            "role_mailbox": (form.role_mailbox.data or None) if kind == "werkbezoek" else None,
        }
    )


class Preview(NamedTuple):
    """What submit/_preview.html shows: the page's body and the front matter the site adds."""

    page: Markup  # nh3-cleaned, as the site renders it
    meta: PageMeta | None  # None while the form's values do not yet fit the site's schema


def preview_of(data: submissions.SubmissionData) -> tuple[Preview, list[str]]:
    """The page as the site will show it, and what still blocks it."""
    meta, html, problems = submissions.preview(data, datum=local_date(clock.now()), **site_check())
    return Preview(Markup(html), meta), problems  # noqa: S704 - cleaned by nh3 (Brug's allowlist)


# ---------------------------------------------------------------------------------------------
# views


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("submit/index.html")


@bp.route("/<any(praktijk, werkbezoek):kind>", methods=["GET", "POST"])
def new(kind: str) -> ResponseReturnValue:
    form = form_class(kind, public=True)()
    preview: Preview | None = None
    problems: list[str] = []
    limited = False
    if request.method == "GET":
        form.stamp_start()
    elif form.validate_on_submit():
        data = form_data(form, kind)
        if request.form.get("actie") == "voorbeeld":
            preview, problems = preview_of(data)
        elif over_limit(current_app.config["SUBMIT_RATELIMIT"], scope="inzenden"):
            limited = True
            form.form_errors.append(RATE_MESSAGE)
        else:
            try:
                _, raw = submissions.submit(
                    db.session(),
                    data,
                    submissions.Contact(name=form.contact_name.data, email=form.contact_email.data),
                    now=clock.now(),
                    public_url=str(current_app.config["PUBLIC_URL"]),
                    form_stamp=form.started.data,
                    **site_check(),
                )
            except submissions.SubmissionError as exc:
                problems = exc.problems
                preview, _ = preview_of(data)
            else:
                db.session().commit()
                flash(
                    "Bedankt! We hebben je inzending ontvangen. "
                    "Je krijgt een e-mail met deze link.",
                    "info",
                )
                return redirect(url_for("submit.status", token=raw), code=303)
    status = 429 if limited else 422 if form.errors or form.form_errors or problems else 200
    return render_template(
        "submit/form.html", form=form, kind=kind, preview=preview, problems=problems
    ), status


LINK_GONE = (
    "Deze link naar je inzending is verlopen, of je contactgegevens zijn na de bewaartermijn "
    "verwijderd. Een gepubliceerde pagina blijft gewoon op de site staan. Wil je iets nieuws "
    "insturen? Gebruik dan het formulier opnieuw."
)


def _by_token(token: str) -> submissions.Submission:
    try:
        return submissions.by_token(db.session(), token, now=clock.now())
    except tokens.TokenError as exc:
        if exc.gone:
            abort(make_response(error_page(410, LINK_GONE)))
        abort(404)


class AnswerForm(BrugForm):
    body = TextAreaField(
        "Je antwoord",
        filters=[clean_multiline],
        validators=[DataRequired("Schrijf je antwoord."), Length(max=5000)],
        render_kw={"rows": 5},
    )


@bp.route("/status/<token>", methods=["GET", "POST"])
def status(token: str) -> ResponseReturnValue:
    submission = _by_token(token)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            submissions.answer(db.session(), submission, form.body.data, now=clock.now())
        except submissions.SubmissionError as exc:
            return error_page(409, str(exc))
        db.session().commit()
        flash("Bedankt voor je antwoord. De moderator gaat verder met je inzending.", "info")
        return redirect(url_for("submit.status", token=token), code=303)
    code = 422 if form.errors else 200
    return render_template(
        "submit/status.html",
        submission=submission,
        form=form,
        messages=submissions.messages(db.session(), submission),
    ), code
