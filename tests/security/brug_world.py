"""The security suite's world: records in two scopes and four kinds of visitor.

Scope A: programme "cosa" in region "utrecht" (a volunteer). Scope B: region "gelderland" (a
meeting with a registration, a submission). Visitors: anonymous, the coordinator of programme A
(cosa, utrecht), the coordinator of region B (gelderland, no programme), an administrator.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from forms_backend import db, meetings

ROOT = Path(__file__).resolve().parents[2]
ROLES = {
    "coordinator-a": dict(role="coordinator", programmes=["cosa"], regions=["utrecht"]),
    "coordinator-b": dict(role="coordinator", programmes=[], regions=["gelderland"]),
    "admin": dict(role="admin"),
}


def hidden(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def volunteer_form(**overrides):
    data = {
        "name": "Anna Proef", "email": "anna@example.nl", "phone": "06 12345678",
        "postcode": "3511 AA", "motivation": "Ik wil graag helpen.", "availability": ["weekend"],
        "heard_via": "website", "consent": "y", "q_twee_jaar": "ja", "q_zedendelict": "ja",
    }
    data.update(overrides)
    return data


def submission_form(**overrides):
    data = {
        "title": "Buurtteam Voorbeeldstad: wonen na detentie",
        "summary": (
            "Het buurtteam regelt samen met de woningcorporatie een kamer vóór de dag van "
            "vrijlating."
        ),
        "body": "## Zo werkt het\n\nDe casemanager belt het buurtteam.",
        "leefgebieden": ["wonen"],
        "regio": "gelderland",
        "fase": ["na"],
        "organisatietypes": ["gemeente"],
        "organisatie": "Gemeente Voorbeeldstad",
        "bronnen": "",
        "contact_name": "Ilse Inzender",
        "contact_email": "ilse@example.nl",
        "consent": "y",
        "actie": "versturen",
    }
    data.update(overrides)
    return data


def post_form(client, path, data):
    page = client.get(path).get_data(as_text=True)
    fields = {k: v for k in ("started", "csrf_token") if (v := hidden(page, k)) is not None}
    return client.post(path, data={**fields, **data})


@dataclass
class World:
    volunteer_id: int
    other_volunteer_id: int
    meeting_id: int
    other_meeting_id: int
    registration_id: int
    submission_id: int | None


def make_world(app, n: int = 0) -> World:
    client = app.test_client()
    signup = volunteer_form(name=f"Anna Proef {n}", email=f"anna{n}@example.nl")
    assert post_form(client, "/aanmelden/cosa", signup).status_code == 303
    assert post_form(
        client,
        "/aanmelden/bezoekvrijwilliger",
        volunteer_form(
            name=f"Buiten Bereik {n}", email=f"buiten{n}@example.nl", postcode="6811 AA"
        ),
    ).status_code in (303, 422)
    sub = post_form(
        client, "/inzenden/praktijk", submission_form(title=f"Praktijk proef {n} in Gelderland")
    )
    now = app.extensions["brug.clock"]()
    settings = meetings.Settings(base_url="http://brug.test")
    with app.app_context(), db.transaction() as session:
        ids = {}
        for key, region in (("meeting", "gelderland"), ("other", "utrecht")):
            start = dt.datetime(2026, 4, 14, 13, 30)
            meeting = meetings.create_meeting(
                session,
                meetings.MeetingInput(
                    title=f"Bijeenkomst {key} {n} {region}",
                    start=start,
                    end=start + dt.timedelta(hours=2),
                    region=region,
                    location="Stationsweg 1",
                    audience="open",
                    capacity=5,
                ),
                actor="user:1",
                now=now,
                settings=settings,
            )
            session.flush()
            ids[key] = meeting.id
        result = meetings.register(
            session,
            ids["meeting"],
            name=f"Deelnemer {n}",
            email=f"deelnemer{n}@example.nl",
            organisation="",
            now=now,
            settings=settings,
        )
        # confirmed, as if they clicked their link: unconfirmed sign-ups are hidden from everyone
        session.execute(
            text("UPDATE volunteer SET status = 'bevestigd' WHERE status = 'aangemeld'")
        )
        rows = session.execute(text("SELECT id, programme FROM volunteer ORDER BY id")).all()
        submission = (
            session.execute(text("SELECT max(id) FROM submission")).scalar()
            if sub.status_code in (302, 303)
            else None
        )
    mine = [r[0] for r in rows if r[1] == "cosa"][-1]
    others = [r[0] for r in rows if r[1] != "cosa"]
    return World(
        mine,
        others[-1] if others else 0,
        ids["meeting"],
        ids["other"],
        result.registration_id,
        submission,
    )
