"""The public agenda, the feeds over HTTP (headers, ETag/304, cost of a poll), private feeds,
the back office, and bad input."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from meeting_helpers import SETTINGS, ams, ical_js, link_in, recorded_statements, z
from sqlmodel import select

from forms_backend import db, meetings
from forms_backend.outbox import OutboxMessage
from forms_backend.views.agenda import feed_cache


def started(client, path):
    """The signed start time a real browser gets with the form (spam guard)."""
    found = re.search(
        r'name="started" type="hidden" value="([^"]+)"|value="([^"]+)"[^>]*name="started"',
        client.get(path).data.decode(),
    )
    assert found, "no started field"
    return found.group(1) or found.group(2)


# ---------------------------------------------------------------------------------------------
# feeds over HTTP


def test_public_feed_headers_etag_and_304(agenda, client):
    agenda.create()
    response = client.get("/agenda.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=900"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert response.headers["Last-Modified"]
    etag = response.headers["ETag"]
    again = client.get("/agenda.ics")
    assert again.data == response.data and again.headers["ETag"] == etag
    conditional = client.get("/agenda.ics", headers={"If-None-Match": etag})
    assert conditional.status_code == 304 and conditional.data == b""
    assert conditional.headers["ETag"] == etag
    since = client.get(
        "/agenda.ics", headers={"If-Modified-Since": response.headers["Last-Modified"]}
    )
    assert since.status_code == 304


def test_a_304_costs_one_version_lookup_and_no_rendering(app, agenda, client):
    for n in range(5):
        agenda.create(title=f"Bijeenkomst {n}")
    etag = client.get("/agenda.ics").headers["ETag"]
    renderer = feed_cache(app).renderer
    rendered = renderer.rendered
    with recorded_statements(db.get_engine(app)) as statements:
        assert client.get("/agenda.ics", headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/agenda.ics").status_code == 200
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2 and all("calendar_version" in q for q in queries), queries
    assert renderer.rendered == rendered


def _fragments(agenda) -> dict[int, str]:
    with db.new_session(agenda.engine, write=False) as s:
        return dict(s.exec(meetings.select(meetings.Meeting.id, meetings.Meeting.ical)).all())


def test_one_change_changes_the_etag_and_rerenders_one_meeting(app, agenda, client, clock):
    ids = [agenda.create(title=f"Bijeenkomst {n}") for n in range(6)]
    first = client.get("/agenda.ics")
    stored = _fragments(agenda)
    clock.advance(minutes=5)
    with agenda.session() as s:
        meetings.cancel_meeting(s, ids[2], actor="user:1", now=agenda.now, settings=SETTINGS)
    changed = {i for i, text in _fragments(agenda).items() if text != stored[i]}
    assert changed == {ids[2]}  # the change stored one meeting's VEVENTs again
    second = client.get("/agenda.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert feed_cache(app).renderer.rendered == 0  # the feed only assembled stored fragments
    uid = f"meeting-{ids[2]}@brug.example.nl"
    cancelled = next(e for e in ical_js(second.data)["events"] if e["uid"] == uid)
    assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 1
    assert cancelled["dtstamp"] == z(agenda.now)


def test_cancelled_meeting_leaves_the_feed_30_days_after_its_start(agenda, client, clock):
    meeting_id = agenda.create()  # 12 March 2026
    with agenda.session() as s:
        meetings.cancel_meeting(s, meeting_id, actor="user:1", now=agenda.now, settings=SETTINGS)
    clock.current = ams(2026, 4, 10, 12)
    assert b"STATUS:CANCELLED" in client.get("/agenda.ics").data
    clock.current = ams(2026, 4, 12, 12)
    assert b"BEGIN:VEVENT" not in client.get("/agenda.ics").data


def test_filtered_feeds_have_short_stable_urls(agenda, client):
    agenda.create(title="Gelders", region="gelderland", theme="wonen", audience="open")
    agenda.create(title="Hollands", region="noord-holland", theme="schulden", audience="partners")
    agenda.create(
        title="Besloten", region="gelderland", audience="closed", group="nazorg-gelderland"
    )

    def titles(path):
        response = client.get(path)
        assert response.status_code == 200, path
        return sorted(e["summary"] for e in ical_js(response.data)["events"])

    assert titles("/agenda.ics") == ["Gelders", "Hollands"]
    assert titles("/agenda/regio/gelderland.ics") == ["Gelders"]
    assert titles("/agenda/thema/schulden.ics") == ["Hollands"]
    assert titles("/agenda/publiek/partners.ics") == ["Hollands"]
    assert titles("/agenda/publiek/open.ics") == ["Gelders"]
    assert titles("/agenda.ics?regio=gelderland&thema=wonen") == ["Gelders"]
    for bad in ("/agenda/regio/atlantis.ics", "/agenda/thema/x.ics", "/agenda/publiek/closed.ics"):
        assert client.get(bad).status_code == 404
    assert client.get("/agenda.ics?regio=atlantis").status_code == 400


def test_per_meeting_feed_and_closed_meetings_stay_hidden(agenda, client):
    open_id = agenda.create(title="Open")
    closed_id = agenda.create(title="Besloten", audience="closed", group="nazorg-gelderland")
    parsed = ical_js(client.get(f"/agenda/{open_id}.ics").data)
    assert [e["uid"] for e in parsed["events"]] == [f"meeting-{open_id}@brug.example.nl"]
    assert client.get(f"/agenda/{closed_id}.ics").status_code == 404
    assert client.get(f"/agenda/{closed_id}/").status_code == 404
    assert b"Besloten" not in client.get("/agenda/").data


def test_served_feed_gives_right_instants_for_a_recurring_meeting_across_dst(agenda, client):
    meeting_id = agenda.create(
        title="Inloop",
        start=dt.datetime(2026, 3, 24, 10, 0),
        end=dt.datetime(2026, 3, 24, 11, 0),
        repeat="weekly",
        repeat_count=3,
    )
    with agenda.session() as s:
        meetings.change_occurrence(
            s,
            meeting_id,
            "20260331T080000Z",
            action="move",
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
            start=dt.datetime(2026, 3, 31, 15, 0),
            end=dt.datetime(2026, 3, 31, 16, 0),
        )
        meetings.change_occurrence(
            s,
            meeting_id,
            "20260407T080000Z",
            action="skip",
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    [master] = [
        e for e in ical_js(client.get("/agenda.ics").data)["events"] if e["recurrence_id"] is None
    ]
    assert [o["start"] for o in master["occurrences"]] == [
        "2026-03-24T09:00:00.000Z",
        "2026-03-31T13:00:00.000Z",
    ]
    assert master["sequence"] == 2


# ---------------------------------------------------------------------------------------------
# private feeds


def _private_feed(agenda, **overrides):
    values = {
        "name": "Partner",
        "email": "partner@example.nl",
        "organisation": "Reclassering",
        "regions": ["gelderland"],
        "themes": [],
        "audiences": ["open", "partners"],
        "groups": ["nazorg-gelderland"],
        "actor": "user:1",
    }
    values.update(overrides)
    with agenda.session() as s:
        feed, raw = meetings.create_partner_feed(s, now=agenda.now, settings=SETTINGS, **values)
        s.flush()
        return feed.id, raw


def test_private_feed_carries_its_closed_group_and_shows_last_fetch(agenda, client):
    agenda.create(title="Open Gelderland")
    agenda.create(title="Besloten Gelderland", audience="closed", group="nazorg-gelderland")
    agenda.create(title="Andere groep", audience="closed", group="cosa-utrecht")
    agenda.create(title="Holland", region="noord-holland")
    _feed_id, raw = _private_feed(agenda)
    page = client.get(f"/agenda/prive/{raw}/")
    assert "Nog niet" in page.data.decode()
    response = client.get(f"/agenda/prive/{raw}.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=900"
    assert sorted(e["summary"] for e in ical_js(response.data)["events"]) == [
        "Besloten Gelderland",
        "Open Gelderland",
    ]
    assert "Laatst opgehaald" in client.get(f"/agenda/prive/{raw}/").data.decode()
    assert "02-03-2026 om 10.00 uur" in client.get(f"/agenda/prive/{raw}/").data.decode()


def test_every_link_in_a_private_feed_opens_a_page(agenda, client):
    """A closed group's meeting has no public page: its event links to none (a 404 is a dead
    end), and says whom to ask instead; a public meeting keeps its page link."""
    agenda.create(title="Open Gelderland")
    agenda.create(title="Besloten Gelderland", audience="closed", group="nazorg-gelderland")
    _feed_id, raw = _private_feed(agenda)
    parsed = ical_js(client.get(f"/agenda/prive/{raw}.ics").data)
    events = {e["summary"]: e for e in parsed["events"]}
    for event in events.values():
        links = [*re.findall(r"https?://\S+", event["description"]), event["url"] or ""]
        for link in filter(None, links):
            path = link.removeprefix("http://brug.test")
            assert client.get(path, follow_redirects=True).status_code == 200, (event, link)
    closed = events["Besloten Gelderland"]
    assert closed["url"] is None and "/agenda/" not in closed["description"]
    assert "besloten groep" in closed["description"]
    assert "agenda@brug.example.nl" in closed["description"]
    assert events["Open Gelderland"]["url"].startswith("http://brug.test/agenda/")


def test_revoked_and_unknown_tokens_answer_404_without_data(agenda, client):
    agenda.create(title="Besloten", audience="closed", group="nazorg-gelderland")
    _feed_id, raw = _private_feed(agenda)
    assert client.get(f"/agenda/prive/{raw}.ics").status_code == 200
    assert client.post(f"/agenda/prive/{raw}/intrekken").status_code == 302
    for token in (raw, "bestaat-niet", "x" * 500, "%00"):
        response = client.get(f"/agenda/prive/{token}.ics")
        assert response.status_code == 404
        assert b"Besloten" not in response.data and b"VCALENDAR" not in response.data


def test_partner_requests_a_private_feed_with_double_opt_in(agenda, client, mail):
    agenda.create(title="Open Gelderland")
    response = client.post(
        "/agenda/prive/",
        data={
            "started": started(client, "/agenda/prive/"),
            "name": "Sanne",
            "email": "sanne@example.nl",
            "organisation": "PI",
            "regions": ["gelderland"],
            "audiences": ["open", "partners"],
        },
    )
    assert response.status_code == 302
    [confirm] = agenda.deliver(mail)
    path = link_in(confirm, "/agenda/prive/bevestigen/")
    assert client.get(path).status_code == 200
    activated = client.post(path)
    assert activated.status_code == 302
    manage = unquote(activated.headers["Location"])
    assert client.get(manage).status_code == 200
    [link_mail] = agenda.deliver(mail)
    feed_path = next(
        p for p in re.findall(r"/agenda/prive/\S+\.ics", link_mail.get_body().get_content())
    )
    assert client.get(feed_path).status_code == 200


# ---------------------------------------------------------------------------------------------
# pages


def test_agenda_page_lists_meetings_with_plain_link_filters(agenda, client):
    agenda.create(title="Gelderse middag", region="gelderland")
    agenda.create(
        title="Hollandse avond",
        region="noord-holland",
        start=dt.datetime(2026, 4, 2, 19),
        end=dt.datetime(2026, 4, 2, 21),
    )
    html = client.get("/agenda/").data.decode()
    assert "Gelderse middag" in html and "Hollandse avond" in html
    assert 'href="/agenda/?regio=gelderland"' in html
    assert "Maart 2026" in html and "April 2026" in html
    # each filter row starts with "Alle" (no filter), not "Iedereen" beside "Open voor iedereen"
    rows = re.findall(r"<strong>(Regio|Leefgebied|Voor wie):</strong>\s*<a [^>]*>([^<]+)</a>", html)
    assert rows == [("Regio", "Alle"), ("Leefgebied", "Alle"), ("Voor wie", "Alle")]
    filtered = client.get("/agenda/?regio=gelderland").data.decode()
    assert "Gelderse middag" in filtered and "Hollandse avond" not in filtered
    assert "/agenda/regio/gelderland.ics" in filtered  # subscribe to what you see
    response = client.get("/agenda/?regio=atlantis")
    assert response.status_code == 400 and "regio kennen we niet" in response.data.decode()


def test_meeting_page_has_register_and_subscribe_links(agenda, client):
    meeting_id = agenda.create(
        title="Nazorgmiddag", description="Met **vet** en <script>alert(1)</script>", capacity=10
    )
    response = client.get(f"/agenda/{meeting_id}/")
    assert response.status_code == 301
    html = client.get(response.headers["Location"]).data.decode()
    assert f"/agenda/{meeting_id}/aanmelden" in html
    assert f"webcal://brug.test/agenda/{meeting_id}.ics" in html
    assert "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fbrug.test" in html
    assert "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2Fbrug.test" in html
    assert "<strong>vet</strong>" in html and "<script>alert" not in html
    assert "Nog 10 plaatsen vrij (van de 10)" in html
    assert client.get(f"/agenda/{meeting_id}-verkeerde-slug/").status_code == 301
    assert client.get("/agenda/99999/").status_code == 404


def test_a_meeting_with_one_place_says_plaats_not_plaatsen(agenda, client):
    """"Nog 1 van de 1 plaatsen vrij" (seen on 2026-12-06) reads wrong: one place is "plaats"."""
    meeting_id = agenda.create(title="Intervisie", capacity=1)
    html = client.get(f"/agenda/{meeting_id}/", follow_redirects=True).data.decode()
    assert "Nog 1 plaats vrij (van de 1)" in html
    assert "plaatsen vrij" not in html


def test_a_list_typed_straight_after_a_line_of_text_is_a_list_on_the_page_and_in_the_feed(
    agenda, client
):
    """Organisers type "Programma:" and the items below it, without the blank line Markdown
    wants; the page and the feed must still show a list, numbered lists too."""
    meeting_id = agenda.create(
        title="Nazorgmiddag",
        description=(
            "Programma:\n- Welkom\n- Lezing over wonen\n\nDaarna:\n1. Borrel\n2. Afsluiting"
        ),
    )
    page = client.get(client.get(f"/agenda/{meeting_id}/").headers["Location"]).data.decode()
    assert re.search(r"<ul>\s*<li>Welkom</li>\s*<li>Lezing over wonen</li>\s*</ul>", page)
    assert re.search(r"<ol>\s*<li>Borrel</li>\s*<li>Afsluiting</li>\s*</ol>", page)
    [event] = ical_js(client.get(f"/agenda/{meeting_id}.ics").data)["events"]
    assert "Programma:\n\n- Welkom\n- Lezing over wonen\n\nDaarna:" in event["description"]
    assert "Daarna:\n\n1. Borrel\n2. Afsluiting" in event["description"]


def test_registration_form_round_trip_and_errors_keep_input(agenda, client, mail):
    meeting_id = agenda.create(capacity=1)
    stamp = started(client, f"/agenda/{meeting_id}/aanmelden")
    bad = client.post(
        f"/agenda/{meeting_id}/aanmelden",
        data={"started": stamp, "name": "Zoë", "email": "geen-adres", "organisation": "PI"},
    )
    assert bad.status_code == 422
    assert 'value="Zoë"' in bad.data.decode()
    good = client.post(
        f"/agenda/{meeting_id}/aanmelden",
        data={"started": stamp, "name": "Zoë", "email": "zoe@example.nl", "organisation": "PI"},
    )
    assert good.status_code == 302 and good.headers["Location"].endswith(
        f"/agenda/{meeting_id}/aangemeld"
    )
    assert "Kijk in je mail" in client.get(good.headers["Location"]).data.decode()
    [confirm] = agenda.deliver(mail)
    assert client.post(link_in(confirm, "/agenda/aanmelding/")).status_code == 302
    assert agenda.statuses(meeting_id)["aangemeld"] == 1


def test_site_links_to_the_agenda():
    from pathlib import Path

    index = Path(__file__).resolve().parents[2] / "content" / "index.md"
    if index.exists():
        assert "/agenda/" in index.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# back office


def _form(**overrides):
    values = {
        "title": "Werkbezoek",
        "start": "2026-04-02T10:00",
        "end": "2026-04-02T12:00",
        "region": "gelderland",
        "theme": "wonen",
        "audience": "open",
        "location": "PI Arnhem",
        "repeat": "",
        "repeat_count": "1",
        "organiser_mailbox": "agenda@brug.example.nl",
        "organiser_name": "Brug agenda",
    }
    values.update(overrides)
    return values


def test_organiser_creates_edits_and_cancels_a_meeting(auth, client, agenda):
    auth.create(regions=["gelderland"])
    auth.login()
    assert client.get("/beheer/bijeenkomsten/").status_code == 200
    response = client.post("/beheer/bijeenkomsten/nieuw", data=_form())
    assert response.status_code == 302
    meeting_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert (
        client.post(
            f"/beheer/bijeenkomsten/{meeting_id}", data=_form(location="PI Zutphen")
        ).status_code
        == 302
    )
    assert agenda.get(meeting_id).sequence == 1
    unsure = client.post(f"/beheer/bijeenkomsten/{meeting_id}/annuleren")
    assert unsure.status_code == 422 and "Ze is nog niet geannuleerd" in unsure.data.decode()
    assert agenda.get(meeting_id).status != "geannuleerd"
    cancel = client.post(
        f"/beheer/bijeenkomsten/{meeting_id}/annuleren", data={"annuleren-zeker": "y"}
    )
    assert cancel.status_code == 302
    assert agenda.get(meeting_id).status == "geannuleerd"


def test_each_date_of_a_series_has_its_own_move_form(auth, client, agenda):
    auth.create(role="admin")
    auth.login()
    response = client.post(
        "/beheer/bijeenkomsten/nieuw", data=_form(repeat="weekly", repeat_count="3")
    )
    meeting_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    html = client.get(f"/beheer/bijeenkomsten/{meeting_id}").data.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id once: a label must lead to its own field"
    with agenda.session() as s:
        second = meetings.series_starts(meetings.get_meeting(s, meeting_id))[1]
    key = meetings.occurrence_key(second)
    # the move form shows the date as it is, and names no optional field that is required
    assert f'id="d{key}-start"' in html and 'value="2026-04-09T10:00"' in html
    assert "(niet verplicht) (niet verplicht)" not in html
    url = f"/beheer/bijeenkomsten/{meeting_id}/datum/{key}"
    empty = client.post(url, data={"action": "move"})
    assert empty.status_code == 422 and "Geef een nieuwe begintijd." in empty.data.decode()
    moved = client.post(
        url,
        data={
            "action": "move",
            f"d{key}-start": "2026-04-09T14:00",
            f"d{key}-end": "2026-04-09T15:30",
            f"d{key}-location": "PI Zutphen",
        },
        follow_redirects=True,
    ).data.decode()
    assert "De datum is bijgewerkt." in moved
    assert "donderdag 9 april 2026, 14.00–15.30 uur (gewijzigd: PI Zutphen)" in moved
    third = meetings.occurrence_key(second + dt.timedelta(days=7))
    client.post(url.replace(key, third), data={"action": "skip", f"o{third}-zeker": "y"})
    page = client.get(f"/beheer/bijeenkomsten/{meeting_id}").data.decode()
    assert "donderdag 16 april 2026, 10.00–12.00 uur (weggelaten)" in page


def test_a_meeting_made_by_mistake_can_be_deleted_in_its_first_hour(auth, client, agenda, clock):
    auth.create(role="admin")
    auth.login()
    response = client.post("/beheer/bijeenkomsten/nieuw", data=_form())
    meeting_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert (
        "Bijeenkomst verwijderen" in client.get(f"/beheer/bijeenkomsten/{meeting_id}").data.decode()
    )
    later = client.post("/beheer/bijeenkomsten/nieuw", data=_form(title="Tweede"))
    later_id = int(later.headers["Location"].rstrip("/").split("/")[-1])

    deleted = client.post(
        f"/beheer/bijeenkomsten/{meeting_id}/verwijderen",
        data={"verwijderen-zeker": "y"},
        follow_redirects=True,
    )
    assert "De bijeenkomst is verwijderd." in deleted.data.decode()
    assert client.get(f"/beheer/bijeenkomsten/{meeting_id}").status_code == 404

    clock.advance(hours=2)  # feeds may have it now: only cancelling is offered
    page = client.get(f"/beheer/bijeenkomsten/{later_id}").data.decode()
    assert "Bijeenkomst verwijderen" not in page and "Bijeenkomst annuleren" in page


def test_shortening_a_series_tells_the_organiser_which_changed_dates_lapse(auth, client, agenda):
    auth.create(role="admin")
    auth.login()
    weekly = {"repeat": "weekly", "repeat_count": "4"}
    response = client.post("/beheer/bijeenkomsten/nieuw", data=_form(**weekly))
    meeting_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with agenda.session() as s:
        last = meetings.series_starts(meetings.get_meeting(s, meeting_id))[-1]
        meetings.change_occurrence(
            s,
            meeting_id,
            meetings.occurrence_key(last),
            action="cancel",
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    response = client.post(
        f"/beheer/bijeenkomsten/{meeting_id}",
        data=_form(repeat="weekly", repeat_count="3"),
        follow_redirects=True,
    )
    html = response.data.decode()
    assert "De wijziging is opgeslagen" in html
    assert "geen bijeenkomst meer op donderdag 23 april 2026" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": "morgen om tien"}, "Begin"),
        ({"end": "2026-04-02T09:00"}, "eindigen na het begin"),
        ({"registration_deadline": "2026-04-03T10:00"}, "vóór het begin"),
        ({"capacity": "1000000"}, "tussen 1 en 5000"),
        ({"capacity": "-3"}, "tussen 1 en 5000"),
        ({"repeat": "weekly", "repeat_count": "100000"}, "hoogstens 52"),
        ({"region": "atlantis"}, "Regio"),
        (
            {"start": "2026-03-29T02:30", "end": "2026-03-29T04:00"},
            "klok gaat die nacht een uur vooruit",
        ),
        (
            {"start": "2026-10-25T02:30", "end": "2026-10-25T04:00"},
            "komt die nacht twee keer voor",
        ),
        ({"audience": "closed", "group": ""}, "besloten groep"),
        ({"online_url": "javascript:alert(1)"}, "https://"),
        ({"organiser_mailbox": "piet.pietersen@gemeente.test"}, "persoonlijk adres"),
        ({"organiser_mailbox": "agenda@gmail.com"}, "gratis maildienst"),
        ({"geo_lat": "abc", "geo_lon": "5"}, "Vul een getal in, bijvoorbeeld 52,37."),
        ({"geo_lat": "nan", "geo_lon": "5"}, "Vul een getal in"),
        ({"geo_lat": "100", "geo_lon": "5"}, "tussen -90 en 90"),
        ({"geo_lat": "52", "geo_lon": "200"}, "tussen -180 en 180"),
    ],
)
def test_back_office_rejects_bad_input_in_dutch(auth, client, overrides, message):
    auth.create(role="admin")
    auth.login()
    response = client.post("/beheer/bijeenkomsten/nieuw", data=_form(**overrides))
    assert response.status_code == 422
    html = response.data.decode()
    assert message in html
    assert 'value="Werkbezoek"' in html


def test_back_office_shows_every_mistake_at_once_at_its_field(auth, client):
    """One round trip per mistake wears an organiser out: all of them, each at its field."""
    auth.create(role="admin")
    auth.login()
    response = client.post(
        "/beheer/bijeenkomsten/nieuw",
        data=_form(
            title="",
            capacity="0",
            online_url="http://niet-veilig.example.nl",
            geo_lat="100",
            geo_lon="5",
            audience="closed",
            group="",
        ),
    )
    assert response.status_code == 422
    html = response.data.decode()
    for field, message in (
        ("title", "Vul een titel in."),  # the form's own check, beside the meeting's checks
        ("capacity", "tussen 1 en 5000"),
        ("online_url", "begint met https://"),
        ("geo_lat", "tussen -90 en 90"),
        ("group", "besloten groep"),
    ):
        assert re.search(rf'id="{field}-fout">[^<]*{re.escape(message)}', html), field
    assert "Controleer deze 5 velden" in html  # the summary at the top lists them all


def test_coordinates_take_a_decimal_comma(auth, client, agenda):
    auth.create(role="admin")
    auth.login()
    response = client.post(
        "/beheer/bijeenkomsten/nieuw", data=_form(geo_lat="52,3702", geo_lon=" 4.8952 ")
    )
    assert response.status_code == 302
    meeting = agenda.get(int(response.headers["Location"].rstrip("/").split("/")[-1]))
    assert (meeting.geo_lat, meeting.geo_lon) == (52.3702, 4.8952)


def test_crlf_in_a_title_is_refused_by_the_form_and_escaped_by_the_feed(auth, client, agenda):
    auth.create(role="admin")
    auth.login()
    assert (
        client.post(
            "/beheer/bijeenkomsten/nieuw", data=_form(title="Kop\r\nBEGIN:VEVENT")
        ).status_code
        == 422
    )
    agenda.create(title="Kop\r\nEND:VCALENDAR\x07")  # straight into the domain: still a sound feed
    data = client.get("/agenda.ics").data
    assert data.split(b"\r\n").count(b"END:VCALENDAR") == 1
    assert b"\x07" not in data
    assert [e["summary"] for e in ical_js(data)["events"]] == ["Kop END:VCALENDAR"]


def test_coordinator_sees_only_meetings_in_their_regions(auth, client, agenda):
    mine = agenda.create(title="Gelders", region="gelderland")
    other = agenda.create(title="Limburgs", region="limburg")
    auth.create(regions=["gelderland"])
    auth.login()
    listing = client.get("/beheer/bijeenkomsten/").data.decode()
    assert "Gelders" in listing and "Limburgs" not in listing
    assert client.get(f"/beheer/bijeenkomsten/{mine}").status_code == 200
    assert client.get(f"/beheer/bijeenkomsten/{other}").status_code == 404
    assert client.get(f"/beheer/bijeenkomsten/{other}/aanmeldingen.csv").status_code == 404
    assert (
        client.post("/beheer/bijeenkomsten/nieuw", data=_form(region="limburg")).status_code == 422
    )
    assert client.get("/beheer/bijeenkomsten/prive-agendas").status_code == 403


def test_registrations_list_csv_message_and_deregister(auth, client, agenda, mail):
    meeting_id = agenda.create(capacity=1)
    for person in ("a", "b"):
        agenda.known(f"{person}@example.nl")
        agenda.register(meeting_id, f"{person}@example.nl", name=f"=Persoon {person}")
    agenda.deliver(mail)
    auth.create(role="admin")
    auth.login()
    assert (
        "=Persoon a" in client.get(f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen").data.decode()
    )
    csv_text = client.get(f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen.csv").data.decode(
        "utf-8-sig"
    )
    assert "'=Persoon a" in csv_text and "\r\n=" not in csv_text
    sent = client.post(
        f"/beheer/bijeenkomsten/{meeting_id}/bericht",
        data={
            "subject": "Parkeren",
            "body": "Parkeer achter.",
            "statuses": ["aangemeld", "wachtlijst"],
        },
    )
    assert sent.status_code == 302
    assert sorted(m["To"] for m in agenda.deliver(mail)) == ["a@example.nl", "b@example.nl"]
    nobody = client.post(
        f"/beheer/bijeenkomsten/{meeting_id}/bericht",
        data={"subject": "Parkeren", "body": "Parkeer achter."},
    ).data.decode()
    assert "Kies wie het bericht krijgt." in nobody and "(niet verplicht)" not in nobody
    with db.new_session(agenda.engine, write=False) as s:
        first = next(r for r in meetings.registrations(s, meeting_id) if r.status == "aangemeld")
    assert (
        client.post(
            f"/beheer/bijeenkomsten/{meeting_id}/aanmeldingen/{first.id}/afmelden",
            data={f"r{first.id}-zeker": "y"},
        ).status_code
        == 302
    )
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 1,
        "wachtlijst": 0,
        "afgemeld": 1,
    }


def test_admin_creates_and_revokes_a_private_feed(auth, client, agenda):
    auth.create(role="admin")
    auth.login()
    response = client.post(
        "/beheer/bijeenkomsten/prive-agendas",
        data={
            "name": "Reclassering Arnhem",
            "email": "rec@example.nl",
            "audiences": ["open", "partners"],
            "groups": "nazorg-gelderland",
            "regions": ["gelderland"],
        },
    )
    assert response.status_code == 200
    url = re.search(r"http://brug.test(/agenda/prive/[^<\s]+\.ics)", response.data.decode()).group(
        1
    )
    assert client.get(url).status_code == 200
    with db.new_session(agenda.engine, write=False) as s:
        feed_id = meetings.partner_feeds(s)[0].id
    assert (
        client.post(f"/beheer/bijeenkomsten/prive-agendas/{feed_id}/intrekken").status_code == 302
    )
    assert client.get(url).status_code == 404


def test_demo_data_seeds_a_year_of_meetings_that_parse(app, client):
    with app.app_context(), db.transaction() as s:
        lines = meetings.seed_demo(s, app.extensions["brug.clock"]())
    assert any("/agenda/prive/" in line for line in lines)
    parsed = ical_js(client.get("/agenda.ics").data)
    titles = {e["summary"] for e in parsed["events"]}
    assert all("(demo" in t for t in titles)
    assert any(e["status"] == "CANCELLED" for e in parsed["events"])
    assert any(e["recurrence_id"] for e in parsed["events"])
    private = re.search(r"/agenda/prive/\S+\.ics", "\n".join(lines)).group(0)
    assert any("Intervisie" in e["summary"] for e in ical_js(client.get(private).data)["events"])


@pytest.mark.parametrize("offset", range(7))
def test_demo_meetings_fall_on_working_days(session, offset):
    """Whatever day `make serve` first runs, no demo meeting (a professionals' afternoon, a
    work visit, an intervision) starts on a Saturday or a Sunday, and every registration
    deadline lies before its meeting and after now."""
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=offset)
    meetings.seed_demo(session, now)
    seeded = session.exec(select(meetings.Meeting)).all()
    assert len(seeded) >= 9
    for meeting in seeded:
        first = meetings.series_starts(meeting)[0]
        assert meetings.local(first).weekday() < 5, (meeting.title, meetings.local(first))
        if meeting.registration_deadline is not None:
            assert now < meeting.registration_deadline < meeting.starts_at, meeting.title


def test_demo_invitations_match_the_feed_and_link_to_this_site(app, client):
    """The demo's iTIP mails carry the same UIDs as the app's feed (a client that subscribed and
    was invited sees one event), and every link in a demo mail points at PUBLIC_URL."""
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    feed_uids = {e["uid"] for e in ical_js(client.get("/agenda.ics").data)["events"]}
    with db.new_session(db.get_engine(app), write=False) as s:
        sent = s.exec(select(OutboxMessage)).all()
    invitations = [m for m in sent if m.ical]
    assert invitations
    for message in invitations:
        uid = re.search(r"^UID:(\S+)", message.ical, re.M).group(1)
        assert uid in feed_uids, uid
    links = [link for m in sent for link in re.findall(r"https?://[^\s>]+", m.body)]
    assert links and all(link.startswith("http://brug.test/") for link in links), links


def test_version_is_read_at_most_once_per_ttl_under_a_storm_of_polls():
    from forms_backend.views.agenda import FeedCache

    calls = []

    def lookup():
        calls.append(1)
        return len(calls), None

    cache = FeedCache(SETTINGS.feed_site, version_ttl=60)
    assert [cache.version(lookup)[0] for _ in range(100)] == [1] * 100
    assert len(calls) == 1
    fresh = FeedCache(SETTINGS.feed_site, version_ttl=0)
    assert [fresh.version(lookup)[0] for _ in range(3)] == [2, 3, 4]


@pytest.mark.parametrize("path", ["/agenda/{id}/aanmelden", "/agenda/prive/"])
def test_public_agenda_forms_say_what_to_fill_in(agenda, client, path):
    """The same messages as the volunteer sign-up, not WTForms' generic "Dit veld is vereist"."""
    path = path.format(id=agenda.create())
    empty = client.post(path, data={"started": started(client, path)})
    assert empty.status_code == 422
    html = empty.data.decode()
    assert "Vul je naam in." in html and "Vul je e-mailadres in." in html
    assert "Dit veld is vereist" not in html
    bad = client.post(path, data={"started": started(client, path), "email": "geen-adres"})
    html = bad.data.decode()
    assert "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl." in html
    assert "Ongeldig e-mailadres" not in html and 'value="geen-adres"' in html
