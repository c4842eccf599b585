"""The back office's meeting pages with CSRF protection on, as in production: every form on a
page is posted with exactly the fields the page renders. And what the pages say to a
coordinator: confirmations before what cannot be undone, messages that match what happened."""

from __future__ import annotations

import re
from html import unescape

import pytest
from meeting_helpers import SETTINGS
from page_forms import PageForm, post_forms
from werkzeug.datastructures import MultiDict

from forms_backend import meetings
from forms_backend.forms import CSRF_MESSAGE

# A write that SQLAlchemy finds suspect (a DELETE that matched no row) fails the test.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

PASSWORD = "een-lang-wachtwoord"
ADMIN = "beheer@brug.example.nl"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "WTF_CSRF_ENABLED": True}


def log_in(auth, client) -> None:
    auth.create(ADMIN, role="admin", password=PASSWORD)
    (form,) = post_forms(client.get("/beheer/inloggen").data.decode())
    data = dict(form.data())
    data.update(email=ADMIN, password=PASSWORD)
    response = client.post("/beheer/inloggen", data=data)
    assert response.status_code == 302, response.data.decode()


def weekly_series(agenda) -> int:
    """Three weekly dates: the first as planned, the second cancelled, the third skipped."""
    meeting_id = agenda.create(repeat="weekly", repeat_count=3)
    with agenda.session() as s:
        starts = meetings.series_starts(meetings.get_meeting(s, meeting_id))
        for start, action in zip(starts[1:], ("cancel", "skip"), strict=True):
            meetings.change_occurrence(
                s,
                meeting_id,
                meetings.occurrence_key(start),
                action=action,
                actor="user:1",
                now=agenda.now,
                settings=SETTINGS,
            )
    return meeting_id


def submissions(html: str) -> list[tuple[PageForm, str]]:
    """(form, button text) for every button of every POST form on the page but logging out."""
    return [
        (form, button.label)
        for form in post_forms(html)
        if "uitloggen" not in form.action
        for button in form.buttons
    ]


def press(client, path: str, index: int):
    """Load the page afresh, press the index-th button as a person would, follow the answer."""
    form, label = submissions(client.get(path).data.decode())[index]
    button = next(b for b in form.buttons if b.label == label)
    response = client.post(
        form.action or path, data=MultiDict(form.data(button)), follow_redirects=True
    )
    return label, response


def test_every_form_on_a_series_page_is_accepted_as_the_page_renders_it(auth, client, agenda):
    log_in(auth, client)
    path = f"/beheer/bijeenkomsten/{weekly_series(agenda)}"
    buttons = [label for _form, label in submissions(client.get(path).data.decode())]
    for expected in (
        "Opslaan",
        "Gaat niet door",
        "Weglaten",
        "Verplaatsen",
        "Terugzetten",
        "Bijeenkomst verwijderen",
        "Bijeenkomst annuleren",
    ):
        assert expected in buttons, (expected, buttons)
    for index in range(len(buttons)):
        path = f"/beheer/bijeenkomsten/{weekly_series(agenda)}"  # every button on a fresh series
        label, response = press(client, path, index)
        html = response.data.decode()
        assert response.status_code == 200, (label, response.status_code)
        assert CSRF_MESSAGE not in html, label
        assert "brug-flash--error" not in html and "brug-error" not in html, (label, html)


def with_registrations(agenda) -> str:
    """A meeting with five seats, two people registered: its registrations page."""
    meeting_id = agenda.create(capacity=5)
    for person in ("a", "b"):
        agenda.known(f"{person}@example.nl")
        agenda.register(meeting_id, f"{person}@example.nl", name=f"Persoon {person}")
    return f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen"


def test_every_form_on_the_registrations_page_is_accepted_as_the_page_renders_it(
    auth, client, agenda
):
    log_in(auth, client)
    buttons = [
        label for _f, label in submissions(client.get(with_registrations(agenda)).data.decode())
    ]
    assert buttons.count("Afmelden") == 2 and "Versturen" in buttons, buttons
    for index in range(len(buttons)):
        label, response = press(client, with_registrations(agenda), index)
        html = response.data.decode()
        assert response.status_code == 200, (label, response.status_code)
        assert CSRF_MESSAGE not in html, label
        assert "brug-flash--error" not in html, (label, html)


def move_form_of(html: str, key: str) -> PageForm:
    return next(
        f
        for f in post_forms(html)
        if f.action.endswith(f"/datum/{key}") and any(b.value == "move" for b in f.buttons)
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"end": "2026-03-19T09:00"}, "De bijeenkomst moet eindigen na het begin."),
        ({"end": ""}, "Geef een nieuwe eindtijd."),
        (  # the third date of the series is on 26 March already
            {"start": "2026-03-26T10:00", "end": "2026-03-26T12:00"},
            "Op donderdag 26 maart 2026 is al een bijeenkomst van deze reeks.",
        ),
        (  # the clock says 2 March 2026
            {"start": "2026-03-01T15:00", "end": "2026-03-01T17:00"},
            "Verplaats een datum niet naar het verleden.",
        ),
        (
            {"start": "2026-03-19T15:00", "end": "2026-04-19T17:00"},
            "Een bijeenkomst duurt hoogstens 14 dagen.",
        ),
    ],
)
def test_a_move_that_fails_keeps_what_was_typed(auth, client, agenda, typed, message):
    log_in(auth, client)
    meeting_id = agenda.create(repeat="weekly", repeat_count=3)
    path = f"/beheer/bijeenkomsten/{meeting_id}"
    with agenda.session() as s:
        second = meetings.series_starts(meetings.get_meeting(s, meeting_id))[1]
    key = meetings.occurrence_key(second)
    form = move_form_of(client.get(path).data.decode(), key)
    data = MultiDict(form.data(next(b for b in form.buttons if b.value == "move")))
    values = {"start": "2026-03-19T15:00", "location": "Buurthuis De Brug, Ede", **typed}
    for name, value in values.items():
        data[f"d{key}-{name}"] = value
    response = client.post(form.action, data=data)
    html = response.data.decode()
    assert response.status_code == 422
    assert message in html
    again = move_form_of(html, key)  # the same form again, with what was typed
    shown = dict(again.data())
    assert shown[f"d{key}-start"] == values["start"]
    assert shown[f"d{key}-location"] == "Buurthuis De Brug, Ede"
    assert f'<details open id="datum-{key}"' in html  # open, so the person sees the error
    with agenda.session() as s:
        assert not meetings.overrides_for(s, [meeting_id])  # nothing moved


def test_a_moved_date_keeps_following_the_series_address(auth, client, agenda):
    """Moving a moved date again, as its form is filled in, does not copy the series' address
    into the date: "Ander adres" stays empty, so a later change of the address reaches it."""
    log_in(auth, client)
    meeting_id = agenda.create(repeat="weekly", repeat_count=3)
    path = f"/beheer/bijeenkomsten/{meeting_id}"
    with agenda.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        second, series_address = meetings.series_starts(meeting)[1], meeting.location
    key = meetings.occurrence_key(second)
    for start, end in (
        ("2026-03-19T15:00", "2026-03-19T16:00"),
        ("2026-03-19T16:00", "2026-03-19T17:00"),
    ):  # move, then move the moved date
        form = move_form_of(client.get(path).data.decode(), key)
        data = MultiDict(form.data(next(b for b in form.buttons if b.value == "move")))
        assert data[f"d{key}-location"] == ""  # not the series' address
        data[f"d{key}-start"], data[f"d{key}-end"] = start, end
        assert client.post(form.action, data=data).status_code in (302, 303)
    with agenda.session() as s:
        [override] = meetings.overrides_for(s, [meeting_id])[meeting_id]
        assert override.location == "" and series_address
        [occ] = [o for o in meetings.occurrences(meetings.get_meeting(s, meeting_id), [override])
                 if o.changed]  # fmt: skip
        assert occ.location == series_address


def flashes(html: str) -> list[str]:
    return [unescape(text) for text in re.findall(r'<p class="brug-flash--\w+">(.*?)</p>', html)]


def deregister(client, meeting_id: int, registration_id: int) -> str:
    """Press "Afmelden" for one registration as the page renders it; the message shown."""
    path = f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen"
    form = next(
        f
        for f in post_forms(client.get(path).data.decode())
        if f.action.endswith(f"/aanmeldingen/{registration_id}/afmelden")
    )
    response = client.post(form.action, data=MultiDict(form.data(form.buttons[0])))
    assert response.status_code == 302, response.data.decode()
    return " ".join(flashes(client.get(response.location).data.decode()))


def registered(agenda, meeting_id: int, *people: str) -> list[int]:
    ids = []
    for person in people:
        agenda.known(f"{person}@example.nl")
        ids.append(agenda.register(meeting_id, f"{person}@example.nl", name=person).registration_id)
    return ids


def test_deregistering_a_seat_names_who_gets_it_from_the_waitlist(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=1)
    anna, _bram = registered(agenda, meeting_id, "Anna", "Bram")
    message = deregister(client, meeting_id, anna)
    assert message == (
        "Anna is afgemeld en krijgt daarover een e-mail. "
        "Bram stond bovenaan de wachtlijst en krijgt de plaats."
    )
    assert agenda.statuses(meeting_id)["aangemeld"] == 1


def test_deregistering_someone_on_the_waitlist_gives_no_place_away(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=1)
    _anna, bram, _cor = registered(agenda, meeting_id, "Anna", "Bram", "Cor")
    message = deregister(client, meeting_id, bram)
    assert message == (
        "Bram is afgemeld en krijgt daarover een e-mail. "
        "Bram stond op de wachtlijst: er komt geen plaats vrij."
    )
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 1,
        "wachtlijst": 1,
        "afgemeld": 1,
    }


def test_deregistering_from_an_overbooked_meeting_says_nobody_moves_up(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=3)
    anna, *_others = registered(agenda, meeting_id, "Anna", "Bram", "Cor", "Dirk")
    with agenda.session() as s:  # fewer places than people, as the organiser acknowledged
        s.get(meetings.Meeting, meeting_id).capacity = 1
    message = deregister(client, meeting_id, anna)
    assert message == (
        "Anna is afgemeld en krijgt daarover een e-mail. Niemand van de wachtlijst krijgt een "
        "plaats: er zijn nog steeds meer aanmeldingen dan plaatsen (2 aangemeld, 1 plaats)."
    )
    assert agenda.statuses(meeting_id)["wachtlijst"] == 1


def test_deregistering_when_places_are_left_says_a_place_is_free(auth, client, agenda):
    log_in(auth, client)
    limited = agenda.create(capacity=5)
    (anna,) = registered(agenda, limited, "Anna")
    assert deregister(client, limited, anna) == (
        "Anna is afgemeld en krijgt daarover een e-mail. Er zijn nu 5 plaatsen vrij."
    )
    unlimited = agenda.create(title="Zonder grens")
    (bram,) = registered(agenda, unlimited, "Bram")
    assert deregister(client, unlimited, bram) == "Bram is afgemeld en krijgt daarover een e-mail."


def test_deregistering_one_too_many_says_every_place_is_still_taken(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=2)
    anna, *_others = registered(agenda, meeting_id, "Anna", "Bram", "Cor")
    with agenda.session() as s:
        s.get(meetings.Meeting, meeting_id).capacity = 1
    assert deregister(client, meeting_id, anna) == (
        "Anna is afgemeld en krijgt daarover een e-mail. Niemand van de wachtlijst krijgt een "
        "plaats: alle plaatsen zijn nog bezet (1 aangemeld, 1 plaats)."
    )


def untick(client, path: str, label: str):
    """Press a button without ticking the checkbox the form asks for."""
    form, _label = next(
        item for item in submissions(client.get(path).data.decode()) if item[1] == label
    )
    assert any(c.type == "checkbox" and c.required for c in form.controls), (
        f"{label}: no checkbox to tick first"
    )
    button = next(b for b in form.buttons if b.label == label)
    return client.post(form.action, data=MultiDict(form.data(button, tick=False)))


def state(agenda, meeting_id: int) -> tuple:
    with agenda.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        if meeting is None:
            return ("verwijderd",)
        overrides = [
            (o.recurrence_id, o.cancelled)
            for o in meetings.overrides_for(s, [meeting_id]).get(meeting_id, [])
        ]
        return (meeting.status, meeting.sequence, tuple(meeting.exdates), tuple(overrides))


@pytest.mark.parametrize(
    ("button", "registrants", "label", "message"),
    [
        (
            "Gaat niet door",
            1,
            "Ja, ik weet het zeker. Dan krijgt 1 aangemelde persoon meteen een e-mail.",
            "Vink aan dat je het zeker weet. Er is nog niets veranderd.",
        ),
        (
            "Weglaten",
            2,
            "Ja, ik weet het zeker. Dan krijgen 2 aangemelde mensen meteen een e-mail.",
            "Vink aan dat je het zeker weet. Er is nog niets veranderd.",
        ),
        (
            "Bijeenkomst annuleren",
            2,
            "Ja, annuleer deze bijeenkomst. Dan krijgen 2 aangemelde mensen meteen een e-mail. "
            "Dit kan niet ongedaan worden gemaakt.",
            "Vink aan dat je de bijeenkomst echt wilt annuleren. Ze is nog niet geannuleerd.",
        ),
        (
            "Bijeenkomst verwijderen",
            0,
            "Ja, verwijder deze bijeenkomst. Er is nog niemand aangemeld, dus niemand krijgt een "
            "e-mail. Dit kan niet ongedaan worden gemaakt.",
            "Vink aan dat je de bijeenkomst echt wilt verwijderen. Ze is nog niet verwijderd.",
        ),
    ],
)
def test_what_cannot_be_undone_asks_for_a_tick_first(
    auth, client, agenda, mail, button, registrants, label, message
):
    log_in(auth, client)
    meeting_id = agenda.create(repeat="weekly", repeat_count=3, capacity=5)
    registered(agenda, meeting_id, *["Anna", "Bram"][:registrants])
    agenda.deliver(mail)
    path = f"/beheer/bijeenkomsten/{meeting_id}"
    assert label in unescape(client.get(path).data.decode())
    before = state(agenda, meeting_id)
    response = untick(client, path, button)
    html = unescape(response.data.decode())
    assert response.status_code == 422
    assert message in html
    assert label in html  # the form is there again, to tick and send
    assert state(agenda, meeting_id) == before
    assert agenda.deliver(mail) == []


def test_deregistering_asks_for_a_tick_first(auth, client, agenda, mail):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=1)
    registered(agenda, meeting_id, "Anna", "Bram")
    agenda.deliver(mail)
    path = f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen"
    html = unescape(client.get(path).data.decode())
    assert (
        "Ja, meld Anna af. Anna krijgt daarover een e-mail. Komt er een plaats vrij? Dan krijgt "
        "de eerste op de wachtlijst die plaats, en ook een e-mail." in html
    )
    assert "Ja, meld Bram af. Bram krijgt daarover een e-mail." in html
    before = agenda.statuses(meeting_id)
    response = untick(client, path, "Afmelden")
    assert response.status_code == 422
    assert (
        "Vink aan dat je deze aanmelding echt wilt afmelden. Er is nog niets veranderd."
        in unescape(response.data.decode())
    )
    assert agenda.statuses(meeting_id) == before
    assert agenda.deliver(mail) == []


def header(client, meeting_id: int) -> str:
    html = client.get(f"/beheer/bijeenkomsten/{meeting_id}").data.decode()
    found = re.search(r"<h1>.*?</h1>\s*<p>(.*?)</p>", html, re.S)
    assert found, "no line under the title"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def listing(client, meeting_id: int) -> str:
    html = client.get("/beheer/bijeenkomsten/").data.decode()
    link = f'<a href="/beheer/bijeenkomsten/{meeting_id}"'
    row = re.search(rf'<tr>\s*<td data-label="Bijeenkomst">{link}.*?</tr>', html, re.S)
    assert row, "meeting not listed"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", row.group(0))).split())


def test_the_meeting_page_says_its_status_and_places_in_words(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(capacity=3)
    assert header(client, meeting_id).startswith(
        "Status: Gepland · 0 aangemeld, 3 plaatsen (3 vrij)"
    )
    registered(agenda, meeting_id, "Anna", "Bram", "Cor", "Dirk")
    assert header(client, meeting_id).startswith(
        "Status: Gepland · 3 aangemeld, 3 plaatsen (vol), 1 op de wachtlijst"
    )
    with agenda.session() as s:  # fewer places than people, as the organiser acknowledged
        meeting = s.get(meetings.Meeting, meeting_id)
        meeting.capacity, meeting.status, meeting.sequence = 1, "gewijzigd", 4
    line = header(client, meeting_id)
    assert line.startswith(
        "Status: Gewijzigd · 3 aangemeld, 1 plaats (2 te veel), 1 op de wachtlijst"
    )
    assert "versie" not in line and "gewijzigd ·" not in line
    assert "3 aangemeld, 1 plaats (2 te veel), 1 op de wachtlijst" in listing(client, meeting_id)
    unlimited = agenda.create(title="Zonder grens")
    registered(agenda, unlimited, "Eva")
    assert header(client, unlimited).startswith("Status: Gepland · 1 aangemeld ·")
    assert "1 aangemeld" in listing(client, unlimited)


def test_the_meeting_form_says_what_to_fill_in(auth, client):
    log_in(auth, client)
    (form, *_rest) = [
        f
        for f in post_forms(client.get("/beheer/bijeenkomsten/nieuw").data.decode())
        if "uitloggen" not in f.action
    ]
    data = MultiDict(form.data())
    for name in ("title", "start", "end", "region", "audience"):
        data[name] = ""
    response = client.post("/beheer/bijeenkomsten/nieuw", data=data)
    html = unescape(response.data.decode())
    assert response.status_code == 422
    summary = re.findall(r'<li><a href="#\w+">(.*?)</a></li>', html)
    assert summary == [
        "Titel: Vul een titel in.",
        "Begin: Kies de begindatum en -tijd.",
        "Einde: Kies de einddatum en -tijd.",
        "Regio: Kies een regio.",
        "Voor wie: Kies voor wie de bijeenkomst is.",
    ]
    assert "Dit veld is vereist" not in html


def test_the_other_meeting_forms_say_what_to_fill_in_too(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create()
    path = f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen"
    (message,) = [f for f in post_forms(client.get(path).data.decode()) if "/bericht" in f.action]
    data = MultiDict(message.data())
    data["subject"], data["body"] = "", ""
    html = unescape(client.post(message.action, data=data).data.decode())
    assert "Onderwerp: Vul een onderwerp in." in html and "Bericht: Schrijf je bericht." in html
    data = MultiDict(
        next(iter(post_forms(client.get("/beheer/bijeenkomsten/nieuw").data.decode()))).data()
    )
    data["organiser_mailbox"] = "geen-adres"
    html = unescape(client.post("/beheer/bijeenkomsten/nieuw", data=data).data.decode())
    assert "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl." in html
    feeds = "/beheer/bijeenkomsten/prive-agendas"
    (feed,) = [f for f in post_forms(client.get(feeds).data.decode()) if f.action in ("", feeds)]
    data = MultiDict(feed.data())
    data["name"], data["email"] = "", ""
    html = unescape(client.post(feeds, data=data).data.decode())
    assert "Naam: Vul de naam in." in html and "E-mailadres: Vul het e-mailadres in." in html
    assert "Dit veld is vereist" not in html


def test_revoking_a_private_feed_needs_the_pages_token(auth, client, agenda):
    """Withdrawing a partner's private agenda cannot be undone: a post without the page's
    token (another site's form) changes nothing; the page's own button works."""
    log_in(auth, client)
    with agenda.session() as s:
        feed, _raw = meetings.create_partner_feed(
            s,
            name="Reclassering Arnhem",
            email="rec@example.nl",
            organisation="",
            regions=["gelderland"],
            themes=[],
            audiences=["open"],
            groups=[],
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
            send_mail=False,
        )
        feed_id = feed.id
    revoke = f"/beheer/bijeenkomsten/prive-agendas/{feed_id}/intrekken"
    refused = client.post(revoke)
    assert refused.status_code == 400 and CSRF_MESSAGE in unescape(refused.data.decode())
    with agenda.session() as s:
        assert s.get(meetings.PartnerFeed, feed_id).revoked_at is None
    (button,) = [
        f
        for f in post_forms(client.get("/beheer/bijeenkomsten/prive-agendas").data.decode())
        if f.action.endswith(f"/{feed_id}/intrekken")
    ]
    assert client.post(revoke, data=MultiDict(button.data())).status_code == 302
    with agenda.session() as s:
        assert s.get(meetings.PartnerFeed, feed_id).revoked_at is not None


SAME_SITE = {"Origin": "http://localhost"}  # what a browser sends with a post from our page


def test_edits_sent_after_the_session_ended_survive_logging_in_again(auth, client, agenda):
    """A coordinator who typed for long and was logged out meanwhile loses nothing: the login
    page carries the edits, and after logging in one button sends them (with a fresh token)."""
    log_in(auth, client)
    meeting_id = agenda.create(title="Nazorgmiddag")
    path = f"/beheer/bijeenkomsten/{meeting_id}"
    edit = next(f for f in post_forms(client.get(path).data.decode()) if f.action in ("", path))
    data = MultiDict(edit.data(next(b for b in edit.buttons if b.label == "Opslaan")))
    data["title"] = "Nazorgmiddag met een lange nieuwe titel"
    data["description"] = "Een beschrijving waar lang aan is gewerkt.\n\n- punt een\n- punt twee"
    client.delete_cookie("session")  # the session ended while the person typed

    response = client.post(path, data=data, headers=SAME_SITE)
    assert response.status_code == 401
    html = response.data.decode()
    assert "Wat je had ingevuld, is bewaard" in html
    (login,) = post_forms(html)
    sent = MultiDict(login.data())
    sent["email"], sent["password"] = ADMIN, PASSWORD
    again = client.post(login.action, data=sent)
    assert again.status_code == 200, again.data.decode()
    html = again.data.decode()
    assert "Je bent weer ingelogd" in html and "nog niet opgeslagen" in html
    (resend,) = [f for f in post_forms(html) if f.action == path]
    done = client.post(path, data=MultiDict(resend.data(resend.buttons[0])))
    assert done.status_code == 302
    meeting = agenda.get(meeting_id)
    assert meeting.title == "Nazorgmiddag met een lange nieuwe titel"
    assert meeting.description.endswith("- punt twee")


def test_a_wrong_password_on_the_way_back_keeps_the_edits(auth, client, agenda):
    log_in(auth, client)
    meeting_id = agenda.create(title="Nazorgmiddag")
    path = f"/beheer/bijeenkomsten/{meeting_id}"
    client.delete_cookie("session")
    html = client.post(path, data={"title": "Bewaar mij"}, headers=SAME_SITE).data.decode()
    (login,) = post_forms(html)
    sent = MultiDict(login.data())
    sent["email"], sent["password"] = ADMIN, "fout"
    wrong = client.post(login.action, data=sent)
    assert wrong.status_code == 422
    (login,) = post_forms(wrong.data.decode())
    assert ("bewaard-title", "Bewaar mij") in list(login.data())


def test_a_post_from_another_site_is_not_carried_over_a_login(auth, client, agenda):
    meeting_id = agenda.create(title="Nazorgmiddag")
    for headers in ({"Origin": "https://aanvaller.example"}, {}):
        response = client.post(
            f"/beheer/bijeenkomsten/{meeting_id}", data={"title": "Van elders"}, headers=headers
        )
        assert response.status_code == 302 and "/beheer/inloggen" in response.headers["Location"]
        assert "Van elders" not in client.get(response.headers["Location"]).data.decode()


def test_an_administrator_goes_from_a_meeting_to_its_log(auth, client, agenda):
    """Who looked at a meeting's registrants is logged under the meeting; its page links there."""
    meeting_id = agenda.create(capacity=10)
    log_in(auth, client)
    assert client.get(f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen").status_code == 200
    page = client.get(f"/beheer/bijeenkomsten/{meeting_id}").data.decode()
    link = unescape(re.search(r'href="(/beheer/logboek/\?over=[^"]+)">Logboek<', page).group(1))
    log = " ".join(re.sub(r"<[^>]+>", " ", client.get(link).data.decode()).split())
    assert f"Alleen over: Bijeenkomst {meeting_id} ." in log
    assert re.search(rf"Aanmeldingen bekeken\s+Bijeenkomst {meeting_id}", log), log[-800:]
