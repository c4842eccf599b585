"""The web layer, split by audience: public forms, feeds, and the back office (/beheer)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from forms_backend.localtime import local_date, short_moment

# The largest row id both databases store in an INTEGER column (SQLite's is larger).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in Brug's URLs is a row id: a number beyond what the database can hold is
    no such row (404), not an overflow in the driver (500)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ROW_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    from forms_backend import meetings, volunteers
    from forms_backend.content import (
        FASEN,
        LEEFGEBIEDEN,
        ORGANISATIETYPES,
        PAGE_TYPES,
        REGIOS,
        nl_date,
    )

    app.url_map.converters["int"] = RowIdConverter  # before any route is added

    # One place that turns stored slugs into the words people read.
    for name, labels in (
        ("regio", REGIOS),
        ("leefgebied", LEEFGEBIEDEN),
        ("fase", FASEN),
        ("organisatietype", ORGANISATIETYPES),
        ("paginatype", PAGE_TYPES),
    ):
        app.jinja_env.filters[name] = (
            lambda slug, labels=labels: labels.get(slug, slug) if slug else ""
        )
    app.jinja_env.filters["programma"] = lambda slug: (
        volunteers.programmes()[slug].title if slug in volunteers.programmes() else slug
    )
    # Moments as Dutch readers expect them: local time, "maandag 2 maart 2026, 10.00 uur".
    app.jinja_env.filters["tijdstip"] = meetings.describe_moment
    app.jinja_env.filters["plaatsen"] = meetings.places  # "1 plaats", "5 plaatsen"
    app.jinja_env.filters["datum"] = _dutch_date
    app.jinja_env.filters["dag"] = _short_date
    app.jinja_env.filters["dagtijd"] = short_moment
    app.jinja_env.filters["nl_datum"] = nl_date  # as the site shows dates (shared/ templates)
    from forms_backend.views import (
        agenda,
        beheer,
        beheer_audit,
        beheer_meetings,
        beheer_submissions,
        beheer_volunteers,
        core,
        submit,
        volunteer,
    )

    core.init_app(app)
    for module in (
        volunteer,
        agenda,
        submit,
        beheer,
        beheer_volunteers,
        beheer_meetings,
        beheer_submissions,
        beheer_audit,
    ):
        app.register_blueprint(module.bp)
    # The static site is a catch-all: registered last, it never shadows a backend route.
    app.register_blueprint(core.site_bp)


def _short_date(value: dt.date | dt.datetime | None) -> str:
    """A date in a table or list: "04-10-2026"; a moment counts in Amsterdam time."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        value = local_date(value)
    return f"{value:%d-%m-%Y}"


def _dutch_date(value: dt.date | dt.datetime | str) -> str:
    """A date for Dutch readers: "zondag 4 oktober 2026"; a moment counts in Amsterdam time."""
    from forms_backend import meetings

    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = meetings.local(value)
    return meetings.dutch_date(value)
