"""The back office entrance: log in and out, the dashboard, and the guards other views use.

Every back-office view is wrapped in ``login_required``; ``current_user()`` gives the account,
whose ``may_see`` decides scope. The session stores the user id and ``session_version``; raising
the version logs the user out everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from forms_backend import accounts, audit, clock, db
from forms_backend.config import configured_app, number
from forms_backend.forms import BrugForm
from forms_backend.security import FailureLimit
from forms_backend.views.core import error_page

bp = Blueprint("beheer", __name__, url_prefix="/beheer")

F = TypeVar("F", bound=Callable[..., Any])

# Defaults for the back office's settings; BRUG_<KEY> in the environment overrides each one.
CONFIG_DEFAULTS: dict[str, Any] = {
    "PAGE_SIZE": 100,  # rows per page in the back office's lists (volunteers, submissions)
}


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = configured_app(state, CONFIG_DEFAULTS)
    number(app.config, "PAGE_SIZE", whole=True, minimum=1)  # else a 500 on every list page


@dataclass(frozen=True)
class Page:
    """One page of a list: its number (from 1), the page count, and the rows it shows."""

    number: int
    pages: int
    first: int  # position of the first row shown, from 1 (0 when there are none)
    last: int
    total: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_of(total: int) -> Page:
    """The page of a list of ``total`` rows that ``?pagina=`` asks for, in pages of
    ``BRUG_PAGE_SIZE``: anything that is not a page number gives page 1, a number past the end
    the last page."""
    size = current_app.config["PAGE_SIZE"]  # checked at start-up: an int >= 1
    pages = max(1, -(-total // size))
    raw = request.args.get("pagina", "")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1
    number = min(max(number, 1), pages)
    first = (number - 1) * size
    return Page(number, pages, first + 1 if total else 0, min(first + size, total), total, size)


def list_query() -> dict[str, str]:
    """The list's query string without its page: links to other filters start at page 1."""
    query = request.args.to_dict()
    query.pop("pagina", None)
    return query


class LoginForm(BrugForm):
    email = EmailField("E-mailadres", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Wachtwoord", validators=[DataRequired(), Length(max=500)])


def current_user() -> accounts.User | None:
    if "user" not in g:
        g.user = None
        user_id, version = session.get("uid"), session.get("v")
        if isinstance(user_id, int):
            user = db.session().get(accounts.User, user_id)
            if user is not None and user.active and user.session_version == version:
                g.user = user
    return g.user


def signed_in_user() -> accounts.User:
    """The account of a view behind ``login_required`` (or ``admin_required``)."""
    user = current_user()
    assert user is not None
    return user


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            target = request.full_path.rstrip("?")
            if request.method == "POST" and _from_this_site():
                # The session ended while the person typed: a redirect would drop the post.
                return _login_page(LoginForm(formdata=None), target, carried=_posted(), status=401)
            return redirect(url_for("beheer.login", next=target))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


CARRIED = "bewaard-"  # prefix of the fields a login page carries for the post it interrupted


def _from_this_site() -> bool:
    """Browsers send Origin with every form post. Only a post from our own pages is carried
    over a login: another site must not get its fields sent by a person who logs in."""
    origin = request.headers.get("Origin", "")
    return bool(origin) and origin.rstrip("/") == request.host_url.rstrip("/")


def _posted() -> list[tuple[str, str]]:
    """The interrupted post's fields, without its (stale) CSRF token."""
    return [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]


def _carried() -> list[tuple[str, str]]:
    """The interrupted post's fields, as the login page carried them."""
    return [
        (k.removeprefix(CARRIED), v)
        for k, v in request.form.items(multi=True)
        if k.startswith(CARRIED) and k != CARRIED + "csrf_token"
    ]


def _login_page(
    form: LoginForm, target: str | None, *, carried: list[tuple[str, str]], status: int
) -> ResponseReturnValue:
    action = url_for("beheer.login", next=target) if target else url_for("beheer.login")
    page = render_template(
        "beheer/login.html", form=form, action=action, carried=carried, prefix=CARRIED
    )
    return page, status


def admin_required(view: F) -> F:
    @functools.wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not user.is_admin:
            return error_page(
                403,
                "Deze pagina is alleen voor beheerders. Heb je hier iets nodig? Vraag het een"
                " beheerder.",
            )
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only same-site back-office paths; anything else (//evil, https://..) goes to the
    dashboard."""
    if not target:
        return url_for("beheer.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/beheer") or "\\" in target:
        return url_for("beheer.dashboard")
    return target


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET" and current_user() is not None:  # already in: go on
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        # only wrong passwords count: an office behind one address logs in every morning
        limits = (
            FailureLimit("10/minute;50/hour", scope="login-ip"),
            FailureLimit("5/minute;20/hour", scope="login-account", key=form.email.data),
        )
        for limit in limits:
            limit.check()
        user = accounts.authenticate(
            db.session(), email=form.email.data, password=form.password.data, now=clock.now()
        )
        if user is None:
            for limit in limits:
                limit.failed()
            form.password.errors = ["Deze combinatie van e-mailadres en wachtwoord kennen we niet."]
        else:
            audit.record(db.session(), actor=user.actor, action="account.ingelogd", now=clock.now())
            db.session().commit()
            session.clear()  # a fresh session on login: no fixation
            session.permanent = True
            session["uid"], session["v"] = user.id, user.session_version
            carried = _carried()
            target = safe_next(request.args.get("next"))
            if carried and target != url_for("beheer.dashboard"):
                # Not re-posted by itself: the person sees that it was not saved yet, and sends.
                return render_template("beheer/resend.html", action=target, carried=carried)
            return redirect(target)
    status = 422 if request.method == "POST" else 200  # a refused login is refused input
    return _login_page(form, request.args.get("next"), carried=_carried(), status=status)


def _csrf_checked() -> bool:
    """Buttons without fields (log out) still carry a CSRF token; a cross-site post has none."""
    return BrugForm().validate_on_submit()


@bp.post("/uitloggen")
@login_required
def logout() -> ResponseReturnValue:
    if not _csrf_checked():
        abort(400)
    session.clear()
    flash("Je bent uitgelogd.", "info")
    return redirect(url_for("beheer.login"))


@bp.post("/overal-uitloggen")
@login_required
def logout_everywhere() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if not _csrf_checked():
        abort(400)
    accounts.logout_everywhere(db.session(), user)
    audit.record(db.session(), actor=user.actor, action="account.overal-uitgelogd", now=clock.now())
    db.session().commit()
    session.clear()
    flash("Je bent op alle apparaten uitgelogd.", "info")
    return redirect(url_for("beheer.login"))


@bp.get("/")
@login_required
def dashboard() -> ResponseReturnValue:
    user = current_user()
    return render_template("beheer/dashboard.html", user=user, sections=sections_for(user))


# Back-office sections, registered by the modules that own them: (endpoint, title, description).
SECTIONS: list[tuple[str, str, str]] = []
ADMIN_SECTIONS: set[str] = set()  # endpoints only administrators see (and may open)


def register_section(endpoint: str, title: str, description: str, *, admin: bool = False) -> None:
    if all(existing[0] != endpoint for existing in SECTIONS):
        SECTIONS.append((endpoint, title, description))
    if admin:
        ADMIN_SECTIONS.add(endpoint)


def sections_for(user: accounts.User | None) -> list[tuple[str, str, str]]:
    """The sections this account can open: a coordinator is not shown a page that says 403."""
    if user is not None and user.is_admin:
        return SECTIONS
    return [section for section in SECTIONS if section[0] not in ADMIN_SECTIONS]


@bp.app_context_processor
def _beheer_context() -> dict[str, Any]:
    user = current_user() if "uid" in session else None
    return {"user": user, "sections": sections_for(user)}
