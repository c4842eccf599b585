"""The personal links of the agenda (confirm, cancel, private feed): CSRF on every public POST,
what a used, expired or unknown link answers, and texts that fit a seat or a waitlist place."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from meeting_helpers import SETTINGS, Agenda, body_of, link_in
from sqlalchemy import text

from forms_backend import db, meetings
from forms_backend.forms import CSRF_MESSAGE

# What a POST may change: if any of these rows differ afterwards, the POST did something.
WATCHED = {
    "meeting_registration": "id, status, confirmed_at, cancelled_at",
    "partner_feed": "id, token_digest, confirmed_at, revoked_at",
    "token": "id, used_at",
    "outbox_message": "id",
}


def snapshot(app) -> dict[str, list[tuple]]:
    with db.get_engine(app).connect() as conn:
        return {
            table: [
                tuple(row)
                for row in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY id"))
            ]
            for table, columns in WATCHED.items()
        }


def hidden(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return found.group(1) if found else None


def heading(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found, html[:500]
    return found.group(1).strip()


def flashes(client) -> list[str]:
    """The messages waiting for the next page, taken (as that page would)."""
    with client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def confirm_link(agenda: Agenda, mail, meeting_id: int, email: str = "zoe@example.nl") -> str:
    """A first-time address registers: the path of the confirmation link in its mail."""
    agenda.register(meeting_id, email)
    [message] = agenda.deliver(mail)
    return link_in(message, "/agenda/aanmelding/")


def placed(agenda: Agenda, mail, meeting_id: int, email: str) -> tuple[str, str]:
    """A known address registers (seat or waitlist): (cancel path, body of its mail)."""
    agenda.known(email)
    agenda.register(meeting_id, email)
    [message] = agenda.deliver(mail)
    return link_in(message, "/agenda/afmelden/"), body_of(message)


def private_confirm_link(agenda: Agenda, mail) -> str:
    with agenda.session() as s:
        meetings.request_partner_feed(
            s,
            name="Sanne",
            email="sanne@example.nl",
            organisation="PI",
            regions=[],
            themes=[],
            audiences=["open"],
            now=agenda.now,
            settings=SETTINGS,
        )
    [message] = agenda.deliver(mail)
    return link_in(message, "/agenda/prive/bevestigen/")


def private_feed(agenda: Agenda) -> str:
    with agenda.session() as s:
        _feed, raw = meetings.create_partner_feed(
            s,
            name="Partner",
            email="partner@example.nl",
            organisation="Reclassering",
            regions=[],
            themes=[],
            audiences=["open"],
            groups=[],
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
            send_mail=False,
        )
    return raw


# ---------------------------------------------------------------------------------------------
# CSRF on every public POST of the agenda


@dataclass(frozen=True)
class Post:
    """How to reach one POST: ``setup`` returns (page that shows the form, path it posts to,
    the fields besides the CSRF token); ``refused`` are the statuses of a refusal."""

    setup: Callable[[Agenda, object], tuple[str, str, dict]]
    refused: int


def _register(agenda, _mail):
    meeting_id = agenda.create(capacity=5)
    page = f"/agenda/{meeting_id}/aanmelden"
    return page, page, {"name": "Zoë", "email": "zoe@example.nl", "organisation": "PI"}


def _confirm(agenda, mail):
    path = confirm_link(agenda, mail, agenda.create(capacity=5))
    return path, path, {}


def _cancel(agenda, mail):
    path, _body = placed(agenda, mail, agenda.create(capacity=5), "piet@example.nl")
    return path, path, {}


def _private_request(_agenda, _mail):
    return (
        "/agenda/prive/",
        "/agenda/prive/",
        {
            "name": "Sanne",
            "email": "sanne@example.nl",
            "audiences": ["open"],
        },
    )


def _private_confirm(agenda, mail):
    path = private_confirm_link(agenda, mail)
    return path, path, {}


def _private_revoke(agenda, _mail):
    raw = private_feed(agenda)
    return f"/agenda/prive/{raw}/", f"/agenda/prive/{raw}/intrekken", {}


AGENDA_POSTS = {
    "agenda.register": Post(_register, 422),
    "agenda.confirm": Post(_confirm, 400),
    "agenda.cancel": Post(_cancel, 400),
    "agenda.private_request": Post(_private_request, 422),
    "agenda.private_confirm": Post(_private_confirm, 400),
    "agenda.private_revoke": Post(_private_revoke, 400),
}


def test_every_public_agenda_post_is_in_the_csrf_test(app):
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("agenda.") and "POST" in (rule.methods or ())
    }
    assert posts == set(AGENDA_POSTS)


@pytest.mark.parametrize("endpoint", sorted(AGENDA_POSTS))
def test_an_agenda_post_without_a_valid_csrf_token_changes_nothing(
    app, agenda, client, mail, endpoint
):
    post = AGENDA_POSTS[endpoint]
    page, path, fields = post.setup(agenda, mail)
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(page).get_data(as_text=True)
    token = hidden(html, "csrf_token")
    assert token, "the page shows no CSRF token"
    started = hidden(html, "started")
    data = {**fields, **({"started": started} if started else {})}
    before = snapshot(app)
    for forged in ({}, {"csrf_token": ""}, {"csrf_token": "IjEyMyI.vervalst.token"}):
        response = client.post(path, data={**data, **forged})
        body = response.get_data(as_text=True)
        assert response.status_code == post.refused, body[:500]
        assert CSRF_MESSAGE in body.replace("\n", " ")
        assert snapshot(app) == before, f"{endpoint} changed data without a CSRF token"
        # the page that says "klik nog een keer" has a fresh token and the button
        assert hidden(body, "csrf_token") and 'type="submit"' in body
    # the token the page gave works: the refusals above were about the token alone
    response = client.post(path, data={**data, "csrf_token": token})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    assert snapshot(app) != before


# ---------------------------------------------------------------------------------------------
# the registration deadline on the confirmation page, its 409 and the confirmation mail

DEADLINE = dt.datetime(2026, 3, 4, 12, 0)  # Amsterdam; the clock starts 2026-03-02 10.00 there


def test_a_confirmation_after_the_deadline_says_so_under_a_fitting_heading(
    agenda, client, mail, clock
):
    meeting_id = agenda.create(capacity=5, registration_deadline=DEADLINE)
    path = confirm_link(agenda, mail, meeting_id)
    assert "Ja, ik meld me aan" in client.get(path).get_data(as_text=True)
    clock.advance(days=2, hours=3)  # past the deadline, the link still works
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "De aanmeldtermijn is voorbij." in html
    assert "Ja, ik meld me aan" not in html and 'type="submit"' not in html
    answer = client.post(path)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert heading(html) == "Dit kan nu niet"
    assert "De aanmeldtermijn is voorbij." in html and "Er ging iets mis" not in html
    assert agenda.statuses(meeting_id)["aangemeld"] == 0


@pytest.mark.parametrize(
    ("deadline", "mentioned"),
    [
        (DEADLINE, True),  # before the link's 72 hours are over
        (dt.datetime(2026, 3, 10, 12, 0), False),  # after: the link's own limit comes first
        (None, False),
    ],
)
def test_the_confirmation_mail_names_a_deadline_that_comes_before_the_link_expires(
    agenda, mail, deadline, mentioned
):
    agenda.register(agenda.create(registration_deadline=deadline), "zoe@example.nl")
    [message] = agenda.deliver(mail)
    body = " ".join(body_of(message).split())
    assert ("Aanmelden kan tot woensdag 4 maart 2026, 12.00 uur" in body) is mentioned
    assert ("Bevestig je aanmelding voor die tijd." in body) is mentioned
    assert "Bevestig je aanmelding met deze link. De link werkt 3 dagen:" in body  # 72 hours


# ---------------------------------------------------------------------------------------------
# cancelling: a seat or a waitlist place

SEAT_GOES = "Je plek gaat dan naar de eerste op de wachtlijst."
AGENDA_MAIL = "Je krijgt een e-mail die de afspraak uit je agenda haalt."
SOMEONE_ELSE = "Dan krijgt iemand anders je plek"


def test_cancelling_a_seat_and_a_waitlist_place_each_say_what_happens(agenda, client, mail):
    meeting_id = agenda.create(capacity=1)
    seat, seat_mail = placed(agenda, mail, meeting_id, "a@example.nl")
    waiting, waitlist_mail = placed(agenda, mail, meeting_id, "b@example.nl")
    assert "Je staat op de wachtlijst" in waitlist_mail
    # the mails
    assert SOMEONE_ELSE in " ".join(seat_mail.split())
    assert SOMEONE_ELSE not in " ".join(waitlist_mail.split())
    assert "Wil je niet meer op de wachtlijst staan? Meld je af met deze link:" in waitlist_mail
    # the pages
    seat_page = client.get(seat).get_data(as_text=True)
    waiting_page = client.get(waiting).get_data(as_text=True)
    assert SEAT_GOES in seat_page and SEAT_GOES not in waiting_page
    assert "Je staat dan niet meer op de wachtlijst." in waiting_page
    # and what they hear after the button
    assert client.post(waiting).status_code == 302
    [message] = flashes(client)
    assert AGENDA_MAIL not in message and "wachtlijst" in message
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 1,
        "wachtlijst": 0,
        "afgemeld": 1,
    }
    assert client.post(seat).status_code == 302
    [message] = flashes(client)
    assert AGENDA_MAIL in message


def test_cancelling_twice_says_you_were_already_cancelled(agenda, client, mail):
    meeting_id = agenda.create(capacity=1)
    seat, _body = placed(agenda, mail, meeting_id, "a@example.nl")
    assert client.post(seat).status_code == 302
    assert len(flashes(client)) == 1
    again = client.post(seat)
    assert again.status_code in (200, 302)
    text = again.get_data(as_text=True) + " ".join(flashes(client))
    assert "Je bent al afgemeld" in text and AGENDA_MAIL not in text


# ---------------------------------------------------------------------------------------------
# used, expired and unknown links: 410, 410 and 404, like the volunteers' links

BUTTON = 'type="submit"'


def answer(client, method: str, path: str) -> tuple[int, str, str]:
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    return response.status_code, heading(html), html


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_used_confirmation_link_says_you_are_already_registered(agenda, client, mail, method):
    meeting_id = agenda.create(capacity=1)
    first = confirm_link(agenda, mail, meeting_id, "a@example.nl")
    second = confirm_link(agenda, mail, meeting_id, "b@example.nl")
    assert client.post(first).status_code == 302
    assert client.post(second).status_code == 302
    agenda.deliver(mail)
    before = snapshot(agenda.app)
    status, title, html = answer(client, method, first)
    assert (status, title) == (200, "Je bent al aangemeld"), html[:800]
    assert BUTTON not in html and "Deze link werkt niet" not in html
    status, title, html = answer(client, method, second)
    assert (status, title) == (200, "Je staat al op de wachtlijst")
    assert BUTTON not in html
    assert snapshot(agenda.app) == before
    assert agenda.deliver(mail) == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_used_expired_or_unknown_confirmation_link_answers_410_or_404(
    agenda, client, mail, clock, method
):
    meeting_id = agenda.create(capacity=5)
    used = confirm_link(agenda, mail, meeting_id, "a@example.nl")
    assert client.post(used).status_code == 302
    [invite] = agenda.deliver(mail)
    assert client.post(link_in(invite, "/agenda/afmelden/")).status_code == 302  # no seat now
    agenda.deliver(mail)
    expired = confirm_link(agenda, mail, meeting_id, "b@example.nl")
    clock.advance(hours=73)
    for path, status, message in (
        (used, 410, "Deze link is al gebruikt."),
        (expired, 410, "Deze link is verlopen."),
        ("/agenda/aanmelding/bestaat-niet", 404, "Deze link kennen we niet."),
    ):
        got, title, html = answer(client, method, path)
        assert (got, title) == (status, "Deze link werkt niet"), (path, html[:800])
        assert message in html and BUTTON not in html
    assert agenda.statuses(meeting_id)["bevestigen"] == 1  # the expired one, untouched


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_expired_cancel_link_answers_410(agenda, client, mail, clock, method):
    path, _body = placed(agenda, mail, agenda.create(capacity=5), "a@example.nl")
    clock.advance(days=30)  # the meeting was on 12 March; its cancel link works a day after
    got, title, html = answer(client, method, path)
    assert (got, title) == (410, "Deze link werkt niet")
    assert "Deze link is verlopen." in html and BUTTON not in html
    got, title, _html = answer(client, method, "/agenda/afmelden/bestaat-niet")
    assert (got, title) == (404, "Deze link werkt niet")


def test_the_private_feed_confirmation_page_checks_its_link_before_showing_the_button(
    agenda, client, mail, clock
):
    path = private_confirm_link(agenda, mail)
    page = client.get(path)
    assert page.status_code == 200 and "Ja, maak mijn agenda" in page.get_data(as_text=True)
    for made_up in (
        "/agenda/prive/bevestigen/bestaat-niet",
        "/agenda/prive/bevestigen/" + "x" * 300,
    ):
        for method in ("GET", "POST"):
            got, title, html = answer(client, method, made_up)
            assert (got, title) == (404, "Deze link werkt niet")
            assert "Ja, maak mijn agenda" not in html and BUTTON not in html
    assert client.post(path).status_code == 302
    [_feed_link] = agenda.deliver(mail)
    before = snapshot(agenda.app)
    for method in ("GET", "POST"):
        got, title, html = answer(client, method, path)
        assert (got, title) == (410, "Deze link werkt niet")
        assert "Deze link is al gebruikt." in html and "al gemaakt" in html
        assert "Ja, maak mijn agenda" not in html
    assert snapshot(agenda.app) == before
    expired = private_confirm_link(agenda, mail)
    clock.advance(hours=73)
    for method in ("GET", "POST"):
        got, title, html = answer(client, method, expired)
        assert (got, title) == (410, "Deze link werkt niet")
        assert "Deze link is verlopen." in html and "Ja, maak mijn agenda" not in html
