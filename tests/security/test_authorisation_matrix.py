"""Every /beheer route × anonymous, coordinator of programme A, coordinator of region B and
administrator: each cell is asserted. Out of scope looks like absent (404) or forbidden (403),
changes nothing, and never shows another scope's records."""

from __future__ import annotations

import hashlib

import pytest
from brug_world import ROLES, World, make_world
from sqlalchemy import inspect, text

from forms_backend import db

PASSWORD = "een-lang-wachtwoord"
ADMIN_ONLY = {
    "beheer_meetings.partner_feeds",
    "beheer_meetings.revoke_feed",
    "beheer_audit.index",
    "beheer_audit.export",
}
OPEN = {"beheer.login"}
LOGOUT = ("beheer.logout", "beheer.logout_everywhere")  # asked last: they end the session
# routes whose extra argument is made up here (a date key, a feed id): 404 is a fine answer
SYNTHETIC = {"beheer_meetings.occurrence", "beheer_meetings.revoke_feed"}


def beheer_rules(app):
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith("/beheer") and r.endpoint not in OPEN
        ),
        key=lambda r: (r.endpoint in LOGOUT, r.rule),
    )


def object_of(rule) -> str:
    args = rule.arguments
    if "volunteer_id" in args:
        return "volunteer"
    if "submission_id" in args:
        return "submission"
    if "meeting_id" in args:
        return "meeting"
    return "list"


def url_for_rule(rule, world: World) -> str:
    values = {
        "volunteer_id": world.volunteer_id,
        "meeting_id": world.meeting_id,
        "registration_id": world.registration_id,
        "submission_id": world.submission_id or 999999,
        "feed_id": 999999,
        "key": "20260414",
    }
    return rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]


def allowed(role: str, rule) -> bool:
    if role == "anonymous":
        return False
    if rule.endpoint in ADMIN_ONLY:
        return role == "admin"
    kind = object_of(rule)
    if role == "admin" or kind == "list":
        return True
    if role == "coordinator-a":  # cosa in utrecht
        return kind == "volunteer"
    return kind in ("meeting", "submission")  # coordinator-b: gelderland


def snapshot(app) -> str:
    """A digest of every table except the audit log (viewing a record is audited)."""
    engine = db.get_engine(app)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            if table in ("audit_entry", "alembic_version"):
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


# what each coordinator must never see on any page: names and titles outside their scope
NOT_FOR = {
    "coordinator-a": ("Buiten Bereik", "Bijeenkomst meeting", "Praktijk proef", "Deelnemer"),
    "coordinator-b": ("Anna Proef", "Buiten Bereik", "Bijeenkomst other"),
}


@pytest.fixture
def logged_in(app, auth):
    def _as(role: str):
        client = app.test_client()
        if role != "anonymous":
            email = f"{role}@brug.example.nl"
            auth.create(email, password=PASSWORD, **ROLES[role])
            response = client.post("/beheer/inloggen", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302
        return client

    return _as


@pytest.mark.parametrize("role", ["anonymous", "coordinator-a", "coordinator-b", "admin"])
def test_every_beheer_route_for_every_role(app, logged_in, role):
    client = logged_in(role)
    cells = []
    for n, rule in enumerate(beheer_rules(app)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            world = make_world(app, n * 10 + len(cells))
            path = url_for_rule(rule, world)
            before = snapshot(app)
            response = client.open(path, method=method, data={} if method == "POST" else None)
            body = response.get_data(as_text=True)
            cell = (rule.endpoint, method, response.status_code)
            cells.append(cell)
            assert response.status_code != 500, cell
            if role == "anonymous":
                assert response.status_code == 302 and "/beheer/inloggen" in response.location, cell
            elif not allowed(role, rule):
                assert response.status_code in (403, 404), cell
            elif rule.endpoint in LOGOUT:
                assert response.status_code == 302 and "/beheer/inloggen" in response.location, cell
            elif rule.endpoint in SYNTHETIC:
                assert response.status_code not in (403, 500), cell
            else:
                assert response.status_code in (200, 302, 303, 400, 409, 422), cell
                if response.status_code == 302:
                    assert "/beheer/inloggen" not in response.location, cell
            if not allowed(role, rule):
                assert snapshot(app) == before, f"{cell} changed data"
                assert "Anna Proef" not in body and "Deelnemer" not in body, cell
            if method == "GET" and response.status_code == 200:
                for secret in NOT_FOR.get(role, ()):
                    assert secret not in body, (cell, secret)
    assert len(cells) >= 30
