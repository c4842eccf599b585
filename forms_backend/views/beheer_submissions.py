"""Back office: moderation of submissions (/beheer/inzendingen) and the rebuild commands.

A moderator is an administrator, or a coordinator for the submission's region. Every action is
one domain call in ``forms_backend.submissions`` and is written to the audit log there.
Approval queues a build; the page polls ``<id>/status`` (JSON) through a small static script.
"""

from __future__ import annotations

from typing import ClassVar

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from forms_backend import accounts, audit, clock, db, submissions
from forms_backend.command_errors import CommandError
from forms_backend.forms import BrugForm, clean_multiline
from forms_backend.publishing import Publisher, UndoableWriter, WriteError
from forms_backend.views.beheer import (
    current_user,
    list_query,
    login_required,
    page_of,
    register_section,
)
from forms_backend.views.submit import (
    Preview,
    form_class,
    form_data,
    preview_of,
    site_check,
    wake_builder,
    writer,
)

bp = Blueprint("beheer_submissions", __name__, url_prefix="/beheer/inzendingen", cli_group=None)

register_section(
    "beheer_submissions.queue", "Inzendingen", "praktijken en werkbezoeken beoordelen en publiceren"
)


class QuestionForm(BrugForm):
    body = TextAreaField(
        "Vraag aan de inzender",
        filters=[clean_multiline],
        validators=[DataRequired("Schrijf je vraag."), Length(max=5000)],
        render_kw={"rows": 4},
    )


class RejectForm(BrugForm):
    reason = TextAreaField(
        "Reden (de inzender krijgt deze tekst)",
        filters=[clean_multiline],
        validators=[DataRequired("Schrijf de reden."), Length(max=5000)],
        render_kw={"rows": 4},
    )


class OfflineForm(BrugForm):
    summary_labels: ClassVar[dict[str, str]] = {"reason": "Reden", "sure": "Offline halen"}
    reason = TextAreaField(
        "Waarom gaat de pagina van de site? (de inzender krijgt deze tekst)",
        filters=[clean_multiline],
        validators=[DataRequired("Schrijf de reden."), Length(max=5000)],
        render_kw={"rows": 3},
    )
    sure = BooleanField(
        "Ja, haal deze pagina van de site.",
        validators=[DataRequired("Vink aan dat je de pagina van de site wilt halen.")],
    )


def _load(submission_id: int) -> submissions.Submission:
    submission = db.session().get(submissions.Submission, submission_id)
    user = current_user()
    if submission is None or user is None or not submissions.may_moderate(user, submission):
        abort(404)  # outside one's scope looks like not there
    return submission


def _public_url() -> str:
    return str(current_app.config["PUBLIC_URL"])


@bp.get("/")
@login_required
def queue() -> ResponseReturnValue:
    state = request.args.get("status") or None
    if state is not None and state not in submissions.STATES:
        abort(404)
    user = current_user()
    counts = submissions.counts(db.session(), user)
    page = page_of(counts[state] if state else sum(counts.values()))
    return render_template(
        "beheer/inzendingen/queue.html",
        rows=submissions.queue(
            db.session(), user, state=state, limit=page.size, offset=page.offset
        ),
        counts=counts,
        states=submissions.STATES,
        current=state,
        page=page,
        query=list_query(),
    )


def _detail(
    submission: submissions.Submission,
    *,
    question: QuestionForm | None = None,
    reject: RejectForm | None = None,
    offline: OfflineForm | None = None,
    problems: list[str] | None = None,
    code: int = 200,
) -> ResponseReturnValue:
    preview, preview_problems = preview_of(submissions.data_of(submission))
    log = audit.for_subject(db.session(), submission.subject)
    return render_template(
        "beheer/inzendingen/detail.html",
        submission=submission,
        preview=preview,
        problems=problems or preview_problems,
        messages=submissions.messages(db.session(), submission),
        question=question or QuestionForm(formdata=None),
        reject=reject or RejectForm(formdata=None),
        offline=offline or OfflineForm(formdata=None),
        status=submissions.status(db.session(), submission),
        log=log,
        actions=submissions.ACTIONS,
        actors=accounts.actor_names(db.session(), (entry.actor for entry in log)),
    ), code


@bp.get("/<int:submission_id>")
@login_required
def detail(submission_id: int) -> ResponseReturnValue:
    return _detail(_load(submission_id))


@bp.get("/<int:submission_id>/status")
@login_required
def status(submission_id: int) -> ResponseReturnValue:
    response = jsonify(submissions.status(db.session(), _load(submission_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _act(
    submission: submissions.Submission,
    done: str,
    action: object,
    content: UndoableWriter | None = None,
) -> ResponseReturnValue:
    """Run a moderator's action and commit it. An action that changed the content folder
    (``content``) has it put back when the action or the COMMIT fails: a page is on disk only
    while the database says so."""
    try:
        action()  # type: ignore[operator]
        db.session().commit()
    except submissions.SubmissionError as exc:
        db.session().rollback()
        if content is not None:
            content.undo()
        return _detail(submission, problems=exc.problems, code=409)
    except BaseException:
        db.session().rollback()
        if content is not None:
            content.undo()
        raise
    flash(done, "info")
    return redirect(url_for("beheer_submissions.detail", submission_id=submission.id), code=303)


@bp.post("/<int:submission_id>/behandelen")
@login_required
def take(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    return _act(
        submission,
        "Je behandelt deze inzending.",
        lambda: submissions.take(db.session(), submission, user, now=clock.now()),
    )


@bp.post("/<int:submission_id>/vraag")
@login_required
def ask(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    form = QuestionForm()
    if not form.validate():
        return _detail(submission, question=form, code=422)
    return _act(
        submission,
        "Je vraag is verstuurd naar de inzender.",
        lambda: submissions.ask(
            db.session(),
            submission,
            user,
            form.body.data,
            now=clock.now(),
            public_url=_public_url(),
        ),
    )


@bp.post("/<int:submission_id>/afwijzen")
@login_required
def reject(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    form = RejectForm()
    if not form.validate():
        return _detail(submission, reject=form, code=422)
    return _act(
        submission,
        "De inzending is afgewezen; de inzender krijgt de reden.",
        lambda: submissions.reject(
            db.session(),
            submission,
            user,
            form.reason.data,
            now=clock.now(),
            public_url=_public_url(),
        ),
    )


@bp.post("/<int:submission_id>/offline")
@login_required
def take_offline(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    form = OfflineForm()
    if not form.validate():
        return _detail(submission, offline=form, code=422)
    content = UndoableWriter(writer())
    response = _act(
        submission,
        "De pagina gaat van de site. De site wordt gebouwd; de inzender krijgt de reden.",
        lambda: submissions.take_offline(
            db.session(),
            submission,
            user,
            form.reason.data,
            now=clock.now(),
            writer=content,
            public_url=_public_url(),
        ),
        content,
    )
    if submission.state == "offline":
        wake_builder()
    return response


@bp.post("/<int:submission_id>/goedkeuren")
@login_required
def approve(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    content = UndoableWriter(writer())
    response = _act(
        submission,
        "Goedgekeurd. De site wordt gebouwd; hieronder zie je de voortgang.",
        lambda: submissions.approve(
            db.session(), submission, user, now=clock.now(), writer=content, **site_check()
        ),
        content,
    )
    if submission.state == "goedgekeurd":
        wake_builder()
    return response


@bp.route("/<int:submission_id>/bewerken", methods=["GET", "POST"])
@login_required
def edit(submission_id: int) -> ResponseReturnValue:
    submission, user = _load(submission_id), current_user()
    if submission.state not in submissions.EDITABLE_STATES:
        flash("Deze inzending kan niet meer worden bewerkt.", "info")
        return redirect(url_for("beheer_submissions.detail", submission_id=submission.id), code=303)
    form_type = form_class(submission.kind, public=False)
    form = form_type(obj=submission) if request.method == "GET" else form_type()
    if request.method == "GET":
        form.bronnen.data = submissions.format_sources(submission.bronnen)
    preview: Preview | None = None
    problems: list[str] = []
    if form.validate_on_submit():
        data = form_data(form, submission.kind)
        if request.form.get("actie") == "voorbeeld":
            preview, problems = preview_of(data)
        else:
            try:
                submissions.update(
                    db.session(), submission, user, data, now=clock.now(), **site_check()
                )
            except submissions.SubmissionError as exc:
                db.session().rollback()
                problems = exc.problems
                preview, _ = preview_of(data)
            else:
                db.session().commit()
                flash("De wijzigingen zijn bewaard.", "info")
                return redirect(
                    url_for("beheer_submissions.detail", submission_id=submission.id), code=303
                )
    code = 422 if form.errors or problems else 200
    return render_template(
        "beheer/inzendingen/edit.html",
        form=form,
        submission=submission,
        preview=preview,
        problems=problems,
    ), code


# ---------------------------------------------------------------------------------------------
# command line: flask --app forms_backend rebuild | rollback


@bp.cli.command("rebuild")
def rebuild_command() -> None:
    """Build the site into a fresh release and switch the live site to it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with db.transaction() as session:
        submissions.request_build(session, now=clock.now(), actor="cli")
    ok = submissions.run_pending_builds(
        db.get_engine(app),
        Publisher.from_config(app.config),
        clock=app.extensions["brug.clock"],
        writer=writer(),
        public_url=_public_url(),
    )
    with db.transaction(write=False) as session:
        last = submissions.latest_build(session)
    if not ok:
        detail = (last.message or "") if last else ""
        raise CommandError(detail + "\nBouwen mislukt; de vorige versie blijft live.")
    click.echo(f"De site is gebouwd en staat live (versie {last.release if last else '?'}).")


@bp.cli.command("rollback")
def rollback_command() -> None:
    """Make the previous release live again."""
    try:
        release = Publisher.from_config(current_app.config).rollback()
    except WriteError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"De vorige versie staat weer live ({release.name}).")
