"""Public agenda (/agenda/), registration, private feeds and the iCalendar feeds (/agenda.ics ...).

Feeds are cached as bytes per filter, keyed by the one ``calendar_version`` row: a poll costs a
primary-key lookup, and a matching ``If-None-Match`` gets 304 without rendering. A miss (or the
first request after a restart) renders nothing: every change stores the meeting's VEVENTs in
``meeting.ical``, and a feed is one query over that column between a fixed head and footer.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import click
import markdown
import nh3
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from markupsafe import Markup
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from forms_backend import clock, db, feeds, meetings
from forms_backend.config import configured_app, number
from forms_backend.content import LEEFGEBIEDEN, REGIOS
from forms_backend.forms import (
    EMAIL_INVALID,
    EMAIL_MISSING,
    NAME_MISSING,
    BrugForm,
    MultiCheckboxField,
    SpamGuardMixin,
    choices,
    single_line,
)
from forms_backend.sanitize import separate_lists
from forms_backend.security import rate_limit
from forms_backend.views.core import error_page

bp = Blueprint("agenda", __name__)

# Defaults for this module's settings; BRUG_<KEY> in the environment overrides each one.
CONFIG_DEFAULTS: dict[str, Any] = {
    "FEED_VERSION_TTL": 1.0,  # seconds a worker trusts the calendar version it last read
}


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = configured_app(state, CONFIG_DEFAULTS)
    number(app.config, "FEED_VERSION_TTL")  # read by the first feed request: else a 500 there

PUBLIC_MAX_AGE = 900
PRIVATE_MAX_AGE = 900
CACHE_ENTRIES = 256
PUBLIEK = {"open": "Open voor iedereen", "partners": "Voor partners"}


# ---------------------------------------------------------------------------------------------
# settings and the feed cache


def settings() -> meetings.Settings:
    return meetings.Settings.from_config(current_app.config)


@dataclass(frozen=True)
class CachedFeed:
    stamp: tuple[int, dt.date]
    data: bytes
    etag: str
    last_modified: dt.datetime


class FeedCache:
    """Feed bytes per filter (LRU), per process; the renderer only serves stale fragments.

    The calendar version itself is re-read at most every ``version_ttl`` seconds (config
    ``FEED_VERSION_TTL``, default 1 s): under a storm of polls a worker asks the database about
    once a second, and a change shows up in feeds within that second.
    """

    def __init__(self, site: feeds.FeedSite, *, version_ttl: float = 1.0) -> None:
        self.renderer = feeds.FeedRenderer(site)
        self.entries: OrderedDict[str, CachedFeed] = OrderedDict()
        self.lock = threading.Lock()
        self.version_ttl = version_ttl
        self._version: tuple[float, int, dt.datetime | None] | None = None

    def version(
        self, lookup: Callable[[], tuple[int, dt.datetime | None]]
    ) -> tuple[int, dt.datetime | None]:
        known = self._version
        if known is not None and time.monotonic() - known[0] < self.version_ttl:
            return known[1], known[2]
        version, changed_at = lookup()
        self._version = (time.monotonic(), version, changed_at)
        return version, changed_at

    def lookup(self, key: str, stamp: tuple[int, dt.date]) -> CachedFeed | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None
            self.entries.move_to_end(key)
            return entry

    def store(self, key: str, entry: CachedFeed) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > CACHE_ENTRIES:
                self.entries.popitem(last=False)


def feed_cache(app: Flask | None = None) -> FeedCache:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get("brug.feed_cache")
    if cache is None:
        ttl = float(app.config["FEED_VERSION_TTL"])  # checked at start-up
        cache = app.extensions.setdefault(
            "brug.feed_cache", FeedCache(settings().feed_site, version_ttl=ttl)
        )
    return cache


def _feed_response(
    key: str,
    flt: meetings.Filter | None,
    *,
    name: str,
    filename: str,
    private: bool,
    meeting_id: int | None = None,
) -> ResponseReturnValue:
    """Answer a feed poll: version lookup → cached bytes (or assemble) → 200 or 304."""
    session = db.session()  # no connection until the first query
    now = clock.now()
    cache = feed_cache()
    version, changed_at = cache.version(lambda: meetings.calendar_version_row(session))
    day = now.date()
    # Which meetings are still "in the feed" is decided per day, so bytes stay identical
    # within a day and across days when nothing dropped out (same ETag either way).
    cutoff = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    entry = cache.lookup(key, (version, day))
    if entry is None:
        data, modified = _assemble(session, cache, flt, meeting_id, cutoff, name)
        last = max((t for t in (modified, changed_at) if t is not None), default=cutoff)
        entry = CachedFeed((version, day), data, feeds.etag(data), last)
        cache.store(key, entry)
    headers = {
        "ETag": entry.etag,
        "Last-Modified": entry.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": f"private, max-age={PRIVATE_MAX_AGE}"
        if private
        else f"public, max-age={PUBLIC_MAX_AGE}",
    }
    if _not_modified(entry):
        return Response(status=304, headers=headers)
    response = Response(entry.data, content_type="text/calendar; charset=utf-8", headers=headers)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _assemble(
    session: Any,
    cache: FeedCache,
    flt: meetings.Filter | None,
    meeting_id: int | None,
    cutoff: dt.datetime,
    name: str,
) -> tuple[bytes, dt.datetime | None]:
    """Feed bytes from the stored fragments: one query, no rendering. Fragments that are
    missing or stale (another PUBLIC_URL/MAIL_DOMAIN, another icalendar) are rendered and
    stored first; under a race that leaves some stale, render from the meetings instead."""
    site = cache.renderer.site
    parts = meetings.feed_parts(
        session, flt, now=cutoff, key=cache.renderer.key, meeting_id=meeting_id
    )
    if parts.stale:
        with db.transaction() as write:
            meetings.refresh_fragments(write, site, parts.stale)
        session.rollback()  # a fresh snapshot that sees them
        parts = meetings.feed_parts(
            session, flt, now=cutoff, key=cache.renderer.key, meeting_id=meeting_id
        )
    if parts.stale:
        if flt is not None:
            items = meetings.feed_meetings(session, flt, now=cutoff)
        else:
            found = meetings.get_meeting(session, meeting_id)  # type: ignore[arg-type]
            items = [meetings.meeting_feed(session, found)] if found is not None else []
        with cache.lock:
            data = cache.renderer.render(items, now=cutoff, name=name)
        return data, feeds.last_modified([m for m in items if feeds.in_feed(m, cutoff)], cutoff)
    data = feeds.assemble(feeds.calendar_head(name), parts.fragments)
    # A meeting that left the feed changed the bytes at the first cutoff after it left.
    left = parts.left_at and _next_cutoff(parts.left_at)
    return data, max((t for t in (parts.last_modified, left) if t is not None), default=None)


@bp.cli.command("refresh-feeds")
def refresh_feeds_command() -> None:
    """Render the stored feed fragments that are missing or stale (run after changing
    PUBLIC_URL or MAIL_DOMAIN, or upgrading icalendar)."""
    with db.transaction() as session:
        done = meetings.refresh_fragments(session, settings().feed_site)
    click.echo(f"{done} bijeenkomsten opnieuw klaargezet voor de agenda-feeds.")


def _next_cutoff(value: dt.datetime) -> dt.datetime:
    midnight = dt.datetime.combine(value.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    return midnight if midnight >= value else midnight + dt.timedelta(days=1)


def _not_modified(entry: CachedFeed) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains(entry.etag.strip('"'))
    since = request.if_modified_since
    return since is not None and entry.last_modified.replace(microsecond=0) <= since


def _public_feed(flt: meetings.Filter, *, name: str, filename: str) -> ResponseReturnValue:
    return _feed_response(
        "public:" + flt.key,
        flt,
        name=name,
        filename=filename,
        private=False,
    )


def _filter_from_args() -> tuple[meetings.Filter, dict[str, str]]:
    """?regio=&thema=&publiek= → a checked Filter; unknown values raise MeetingError."""
    chosen = {k: request.args.get(k, "").strip() for k in ("regio", "thema", "publiek")}
    flt = meetings.Filter(
        regions=(chosen["regio"],) if chosen["regio"] else (),
        themes=(chosen["thema"],) if chosen["thema"] else (),
        audiences=(chosen["publiek"],) if chosen["publiek"] else meetings.PUBLIC_AUDIENCES,
    )
    flt.check()
    return flt, {k: v for k, v in chosen.items() if v}


# ---------------------------------------------------------------------------------------------
# feeds


@bp.get("/agenda.ics")
def feed_all() -> ResponseReturnValue:
    try:
        flt, chosen = _filter_from_args()
    except meetings.MeetingError as exc:
        abort_plain(400, str(exc))
    suffix = ", ".join(_label(k, v) for k, v in chosen.items())
    return _public_feed(
        flt,
        name="Brug bijeenkomsten" + (f" ({suffix})" if suffix else ""),
        filename="brug-agenda.ics",
    )


def _one_choice_feed(
    slug: str, labels: dict[str, str], field: str, name: Callable[[str], str]
) -> ResponseReturnValue:
    """The short, stable feed of one region, theme or audience (``field`` of the Filter)."""
    if slug not in labels:
        abort(404)
    return _public_feed(
        meetings.Filter(**{field: (slug,)}),
        name=name(labels[slug]),
        filename=f"brug-{slug}.ics",
    )


@bp.get("/agenda/regio/<slug>.ics")
def feed_region(slug: str) -> ResponseReturnValue:
    return _one_choice_feed(slug, REGIOS, "regions", "Brug bijeenkomsten {}".format)


@bp.get("/agenda/thema/<slug>.ics")
def feed_theme(slug: str) -> ResponseReturnValue:
    return _one_choice_feed(slug, LEEFGEBIEDEN, "themes", "Brug bijeenkomsten {}".format)


@bp.get("/agenda/publiek/<slug>.ics")
def feed_audience(slug: str) -> ResponseReturnValue:
    return _one_choice_feed(
        slug, PUBLIEK, "audiences", lambda label: f"Brug bijeenkomsten: {label.lower()}"
    )


@bp.get("/agenda/<int:meeting_id>.ics")
def feed_meeting(meeting_id: int) -> ResponseReturnValue:
    meeting = _public_meeting(meeting_id)
    return _feed_response(
        f"meeting:{meeting_id}",
        None,
        meeting_id=meeting_id,
        name=meeting.title,
        filename=f"brug-bijeenkomst-{meeting_id}.ics",
        private=False,
    )


@bp.get("/agenda/prive/<token>.ics")
def feed_private(token: str) -> ResponseReturnValue:
    feed = meetings.find_partner_feed(db.session(), token)
    if feed is None:
        abort(404)
    _stamp_fetch(feed)
    flt = meetings.partner_filter(feed)
    return _feed_response(
        f"private:{feed.id}:{flt.key}",
        flt,
        name="Brug bijeenkomsten (privé)",
        filename="brug-prive.ics",
        private=True,
    )


def _stamp_fetch(feed: meetings.PartnerFeed) -> None:
    now = clock.now()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < meetings.FETCH_STAMP_EVERY:
        return
    with db.transaction(write=True) as session:
        meetings.stamp_fetch(session, feed.id, now=now)  # type: ignore[arg-type]


def abort_plain(status: int, message: str) -> None:
    abort(Response(message, status=status, content_type="text/plain; charset=utf-8"))


# ---------------------------------------------------------------------------------------------
# pages


def _label(kind: str, value: str) -> str:
    return {"regio": REGIOS, "thema": LEEFGEBIEDEN, "publiek": PUBLIEK}[kind].get(value, value)


def subscribe_links(feed_url: str) -> dict[str, str]:
    """The links a person clicks to subscribe; the page itself requests none of them."""
    webcal = "webcal://" + feed_url.split("://", 1)[-1]
    return {
        "download": feed_url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal}),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": feed_url, "name": "Brug agenda"}),
    }


def _feed_url_for(chosen: dict[str, str]) -> str:
    base = settings().base_url.rstrip("/")
    if len(chosen) == 1:
        ((kind, value),) = chosen.items()
        return f"{base}/agenda/{kind}/{quote(value)}.ics"  # the short, stable feed URLs
    return f"{base}/agenda.ics" + (("?" + urlencode(sorted(chosen.items()))) if chosen else "")


def render_markdown(text: str) -> Markup:
    """Organisers write Markdown; people get sanitised HTML (no raw HTML, no scripts)."""
    html = markdown.markdown(
        separate_lists(text or ""), extensions=["sane_lists"], output_format="html"
    )
    return Markup(  # noqa: S704 - nh3 has sanitised it: an allow-list of tags and URL schemes
        nh3.clean(
            html,
            tags={
                "p",
                "ul",
                "ol",
                "li",
                "strong",
                "em",
                "a",
                "br",
                "h3",
                "h4",
                "blockquote",
                "code",
            },
            attributes={"a": {"href"}},
            url_schemes={"https", "http", "mailto"},
            link_rel="nofollow noopener",
        )
    )


@bp.get("/agenda/")
def index() -> ResponseReturnValue:
    try:
        flt, chosen = _filter_from_args()
    except meetings.MeetingError as exc:
        return error_page(400, f"{exc} Kies een filter uit de lijst op de agendapagina.")
    items = meetings.upcoming(db.session(), flt, now=clock.now())
    months: OrderedDict[str, list[meetings.Occurrence]] = OrderedDict()
    for occ in items:
        local = meetings.local(occ.starts_at)
        months.setdefault(f"{meetings.MONTHS[local.month - 1]} {local.year}", []).append(occ)

    def link(**change: str) -> str:
        args = {**chosen, **change}
        values: dict[str, Any] = {k: v for k, v in args.items() if v}
        return url_for("agenda.index", **values)

    return render_template(
        "agenda/index.html",
        months=months,
        chosen=chosen,
        link=link,
        regions=REGIOS,
        themes=LEEFGEBIEDEN,
        audiences=PUBLIEK,
        subscribe=subscribe_links(_feed_url_for(chosen)),
        describe=meetings.describe_span,
        label=_label,
    )


def _public_meeting(meeting_id: int) -> meetings.Meeting:
    meeting = meetings.get_meeting(db.session(), meeting_id)
    if meeting is None or not meeting.public:
        abort(404)
    return meeting


@bp.get("/agenda/<int:meeting_id>/")
@bp.get("/agenda/<int:meeting_id>-<slug>/")
def meeting_page(meeting_id: int, slug: str | None = None) -> ResponseReturnValue:
    meeting = _public_meeting(meeting_id)
    if slug != (meeting.slug or None):
        return redirect(url_for("agenda.meeting_page", **_path_args(meeting)), code=301)
    session = db.session()
    overrides = meetings.overrides_for(session, [meeting_id]).get(meeting_id, [])
    dates = meetings.occurrences(meeting, overrides)
    taken = meetings.count_status(session, meeting_id, "aangemeld")
    base = settings().base_url.rstrip("/")
    return render_template(
        "agenda/meeting.html",
        meeting=meeting,
        dates=dates,
        describe=meetings.describe_span,
        when=meetings.describe_when(meeting, overrides),
        closed_reason=meetings.registration_open(meeting, clock.now()),
        free=None if meeting.capacity is None else max(meeting.capacity - taken, 0),
        description=render_markdown(meeting.description),
        region=REGIOS.get(meeting.region, meeting.region),
        theme=LEEFGEBIEDEN.get(meeting.theme, ""),
        audience=meetings.AUDIENCES[meeting.audience],
        subscribe=subscribe_links(f"{base}/agenda/{meeting_id}.ics"),
        deadline=meetings.describe_moment(meeting.registration_deadline)
        if meeting.registration_deadline
        else None,
    )


def _path_args(meeting: meetings.Meeting) -> dict[str, Any]:
    return (
        {"meeting_id": meeting.id, "slug": meeting.slug}
        if meeting.slug
        else {"meeting_id": meeting.id}
    )


class RegistrationForm(SpamGuardMixin, BrugForm):
    name = StringField(
        "Naam", validators=[DataRequired(NAME_MISSING), Length(max=120), single_line]
    )
    email = EmailField(
        "E-mailadres",
        validators=[DataRequired(EMAIL_MISSING), Email(EMAIL_INVALID), Length(max=320)],
    )
    organisation = StringField("Organisatie", validators=[Length(max=200), single_line])


@bp.route("/agenda/<int:meeting_id>/aanmelden", methods=["GET", "POST"])
def register(meeting_id: int) -> ResponseReturnValue:
    meeting = _public_meeting(meeting_id)
    form = RegistrationForm()
    closed = meetings.registration_open(meeting, clock.now())
    if not closed and form.validate_on_submit():
        try:
            with rate_limit("10/minute;60/hour", scope="agenda-aanmelden"):
                meetings.register(
                    db.session(),
                    meeting_id,
                    name=form.name.data,
                    email=form.email.data,
                    organisation=form.organisation.data or "",
                    now=clock.now(),
                    settings=settings(),
                )
            db.session().commit()
            return redirect(url_for("agenda.registered", meeting_id=meeting_id))
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    elif request.method == "GET":
        form.stamp_start()
    status = 422 if request.method == "POST" else 200
    return render_template(
        "agenda/register.html",
        form=form,
        meeting=meeting,
        closed=closed,
        when=meetings.when_of(db.session(), meeting),
    ), status


def form_error(form: BrugForm, exc: meetings.MeetingError) -> None:
    """Show each domain problem at its field (or the first field), so the form re-renders.
    A field that has an error of its own already keeps just that one."""
    for message, name in exc.problems:
        field = getattr(form, name, None) if name else None
        if field is None:
            field = next(f for f in form if f.type not in ("CSRFTokenField", "HiddenField"))
        elif field.errors:
            continue
        if message not in field.errors:
            field.errors = [*field.errors, message]


@bp.get("/agenda/<int:meeting_id>/aangemeld")
def registered(meeting_id: int) -> ResponseReturnValue:
    meeting = _public_meeting(meeting_id)
    return render_template("agenda/sent.html", meeting=meeting)


class ButtonForm(BrugForm):
    """The one button of a personal link's page (confirm, cancel, revoke), with its CSRF token."""


def _bad_link(exc: meetings.LinkError, kind: str) -> ResponseReturnValue:
    """As for the volunteers' links: 410 for a used or expired link, 404 for an unknown one."""
    return render_template("agenda/bad_link.html", message=str(exc), kind=kind), exc.status


def _token_page(
    template: str, token: str, purpose: str, form: ButtonForm, status: int = 200
) -> ResponseReturnValue:
    try:
        registration, meeting = meetings.peek_registration(
            db.session(), token, purpose=purpose, now=clock.now()
        )
    except meetings.LinkError as exc:
        return _bad_link(exc, purpose)
    return _registration_page(template, registration, meeting, form, status)


def _registration_page(
    template: str,
    registration: meetings.Registration,
    meeting: meetings.Meeting,
    form: ButtonForm,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        template,
        form=form,
        registration=registration,
        meeting=meeting,
        when=meetings.when_of(db.session(), meeting),
        closed=meetings.registration_open(meeting, clock.now()),
        back=_back_to(meeting),
    ), status


def _back_to(meeting: meetings.Meeting) -> str:
    """The meeting's page, or the agenda when the meeting is not public (any more)."""
    if not meeting.public:
        return url_for("agenda.index")
    return url_for("agenda.meeting_page", **_path_args(meeting))


@bp.get("/agenda/aanmelding/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    return _token_page("agenda/confirm.html", token, meetings.PURPOSE_CONFIRM, ButtonForm())


@bp.post("/agenda/aanmelding/<token>")
def confirm(token: str) -> ResponseReturnValue:
    form = ButtonForm()
    purpose = meetings.PURPOSE_CONFIRM
    try:
        registration, meeting = meetings.peek_registration(
            db.session(), token, purpose=purpose, now=clock.now()
        )
    except meetings.LinkError as exc:
        return _bad_link(exc, purpose)
    if registration.status != "bevestigen":  # confirmed before: the page says so
        return _registration_page("agenda/confirm.html", registration, meeting, form)
    if not form.validate_on_submit():  # the page again: its message, a fresh token, the button
        return _registration_page("agenda/confirm.html", registration, meeting, form, 400)
    try:
        registration = meetings.confirm_registration(
            db.session(), token, now=clock.now(), settings=settings()
        )
        db.session().commit()
    except meetings.LinkError as exc:
        db.session().rollback()
        return _bad_link(exc, purpose)
    except meetings.MeetingError as exc:  # closed meanwhile: deadline, cancelled, begun
        db.session().rollback()
        return error_page(409, str(exc))
    flash(
        "Je bent aangemeld. De uitnodiging voor je agenda staat in je mail."
        if registration.status == "aangemeld"
        else "De bijeenkomst is vol. Je staat op de wachtlijst en krijgt bericht "
        "als er een plek vrijkomt.",
        "info",
    )
    return redirect(_back_to(meeting))


@bp.get("/agenda/afmelden/<token>")
def cancel_page(token: str) -> ResponseReturnValue:
    return _token_page("agenda/cancel.html", token, meetings.PURPOSE_CANCEL, ButtonForm())


@bp.post("/agenda/afmelden/<token>")
def cancel(token: str) -> ResponseReturnValue:
    form = ButtonForm()
    purpose = meetings.PURPOSE_CANCEL
    try:
        registration, meeting = meetings.peek_registration(
            db.session(), token, purpose=purpose, now=clock.now()
        )
    except meetings.LinkError as exc:
        return _bad_link(exc, purpose)
    if not form.validate_on_submit():
        return _registration_page("agenda/cancel.html", registration, meeting, form, 400)
    try:
        done = meetings.cancel_registration(
            db.session(), token, now=clock.now(), settings=settings()
        )
        db.session().commit()
    except meetings.LinkError as exc:
        db.session().rollback()
        return _bad_link(exc, purpose)
    flash(CANCELLED.get(done.was, "Je bent afgemeld."), "info")
    return redirect(_back_to(meeting))


# What a person hears after the cancel button, by the status they had: only a seat had an
# invitation in their calendar.
CANCELLED = {
    "aangemeld": "Je bent afgemeld. Je krijgt een e-mail die de afspraak uit je agenda haalt.",
    "wachtlijst": "Je bent afgemeld. Je staat niet meer op de wachtlijst.",
    "afgemeld": "Je bent al afgemeld. Je hoeft niets meer te doen.",
}


# ---------------------------------------------------------------------------------------------
# private feeds for partners


class PrivateFeedForm(SpamGuardMixin, BrugForm):
    name = StringField(
        "Naam", validators=[DataRequired(NAME_MISSING), Length(max=120), single_line]
    )
    email = EmailField(
        "E-mailadres (werk)",
        validators=[DataRequired(EMAIL_MISSING), Email(EMAIL_INVALID), Length(max=320)],
    )
    organisation = StringField("Organisatie", validators=[Length(max=200), single_line])
    regions = MultiCheckboxField("Regio's", choices=choices(REGIOS))
    themes = MultiCheckboxField("Leefgebieden", choices=choices(LEEFGEBIEDEN))
    audiences = MultiCheckboxField(
        "Soort bijeenkomsten", choices=choices(PUBLIEK), default=list(PUBLIEK)
    )


@bp.route("/agenda/prive/", methods=["GET", "POST"])
def private_request() -> ResponseReturnValue:
    form = PrivateFeedForm()
    if form.validate_on_submit():
        try:
            with rate_limit("5/minute;20/hour", scope="agenda-prive"):
                meetings.request_partner_feed(
                    db.session(),
                    name=form.name.data,
                    email=form.email.data,
                    organisation=form.organisation.data or "",
                    regions=form.regions.data or [],
                    themes=form.themes.data or [],
                    audiences=form.audiences.data or [],
                    now=clock.now(),
                    settings=settings(),
                )
            db.session().commit()
            return redirect(url_for("agenda.private_sent"))
        except meetings.MeetingError as exc:
            db.session().rollback()
            form_error(form, exc)
    elif request.method == "GET":
        form.stamp_start()
    return render_template(
        "agenda/private_request.html", form=form
    ), 422 if request.method == "POST" else 200


@bp.get("/agenda/prive/verstuurd")
def private_sent() -> ResponseReturnValue:
    return render_template("agenda/sent.html", meeting=None)


@bp.get("/agenda/prive/bevestigen/<token>")
def private_confirm_page(token: str) -> ResponseReturnValue:
    try:
        meetings.peek_partner_feed(db.session(), token, now=clock.now())
    except meetings.LinkError as exc:
        return _bad_link(exc, meetings.PURPOSE_FEED_CONFIRM)
    return render_template("agenda/private_confirm.html", token=token, form=ButtonForm())


@bp.post("/agenda/prive/bevestigen/<token>")
def private_confirm(token: str) -> ResponseReturnValue:
    form = ButtonForm()
    try:
        meetings.peek_partner_feed(db.session(), token, now=clock.now())
    except meetings.LinkError as exc:
        return _bad_link(exc, meetings.PURPOSE_FEED_CONFIRM)
    if not form.validate_on_submit():
        return render_template("agenda/private_confirm.html", token=token, form=form), 400
    try:
        _feed, raw = meetings.confirm_partner_feed(
            db.session(), token, now=clock.now(), settings=settings()
        )
        db.session().commit()
    except meetings.LinkError as exc:
        db.session().rollback()
        return _bad_link(exc, meetings.PURPOSE_FEED_CONFIRM)
    flash("Je privé-agenda is klaar. We hebben het adres ook naar je gemaild.", "info")
    return redirect(url_for("agenda.private_manage", token=raw))


@bp.get("/agenda/prive/<token>/")
def private_manage(token: str) -> ResponseReturnValue:
    feed = meetings.find_partner_feed(db.session(), token)
    if feed is None:
        return error_page(404, "Deze privé-agenda bestaat niet of is ingetrokken.")
    return _manage_page(feed, token, ButtonForm())


def _manage_page(
    feed: meetings.PartnerFeed, token: str, form: ButtonForm, status: int = 200
) -> ResponseReturnValue:
    url = settings().url(f"/agenda/prive/{token}.ics")
    return render_template(
        "agenda/private_manage.html",
        form=form,
        feed=feed,
        token=token,
        subscribe=subscribe_links(url),
        regions=REGIOS,
        themes=LEEFGEBIEDEN,
        audiences=PUBLIEK,
        local=meetings.local,
    ), status


@bp.post("/agenda/prive/<token>/intrekken")
def private_revoke(token: str) -> ResponseReturnValue:
    feed = meetings.find_partner_feed(db.session(), token)
    if feed is None:
        return error_page(404, "Deze privé-agenda bestaat niet of is al ingetrokken.")
    form = ButtonForm()
    if not form.validate_on_submit():
        return _manage_page(feed, token, form, 400)
    meetings.revoke_partner_feed(
        db.session(), feed, actor=f"partnerfeed:{feed.id}", now=clock.now()
    )
    db.session().commit()
    flash("Je privé-agenda is ingetrokken. Het adres werkt niet meer.", "info")
    return redirect(url_for("agenda.index"))
