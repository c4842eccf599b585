"""Feeds assembled from the VEVENT fragments stored per meeting are byte for byte what
``build_calendar`` makes of the same data, and a cold render reads fragments, not meetings."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

import pytest
from meeting_helpers import SETTINGS, SITE, ams, feed_meeting, ical_js, recorded_statements
from sqlalchemy import update

from forms_backend import db, feeds, meetings
from forms_backend.content import REGIOS
from forms_backend.views.agenda import feed_cache

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STAMP = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)


def varied() -> list[feeds.FeedMeeting]:
    """Timed, all-day, recurring with EXDATE and overrides, cancelled (kept and dropped),
    accents, emoji, CRLF and long lines."""
    weekly = ams(2026, 3, 17, 10, 0)
    return [
        feed_meeting(id=1),
        feed_meeting(
            id=2,
            title='Café "De Brug" met Zoë 🎉; komma, puntkomma',
            description="Regel één\r\nRegel twee\nBREAK:injected " + "lang " * 40,
            location="Damstraat 2, Amsterdam — achteringang 🚪",
            geo=(52.37, 4.89),
        ),
        feed_meeting(id=3, title="Regel\r\nBREAK:injected", organiser="wijk@brug.example.nl"),
        feed_meeting(id=4, all_day=True, starts_at=ams(2026, 9, 18), ends_at=ams(2026, 9, 19)),
        feed_meeting(
            id=5,
            starts_at=weekly,
            ends_at=weekly + dt.timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=6",
            last_start=weekly + dt.timedelta(weeks=5),
            exdates=(ams(2026, 3, 24, 10, 0), ams(2026, 4, 14, 10, 0)),
            occurrences=(
                feeds.FeedOccurrence(
                    ams(2026, 4, 7, 10), ams(2026, 4, 7, 13), ams(2026, 4, 7, 14), location="Bieb"
                ),
                feeds.FeedOccurrence(
                    ams(2026, 3, 31, 10), ams(2026, 3, 31, 10), ams(2026, 3, 31, 11), cancelled=True
                ),
            ),
            sequence=3,
        ),
        feed_meeting(
            id=6,
            all_day=True,
            starts_at=ams(2026, 5, 1),
            ends_at=ams(2026, 5, 2),
            rrule="FREQ=MONTHLY;BYDAY=1FR;COUNT=3",
            exdates=(ams(2026, 6, 5),),
        ),
        feed_meeting(id=7, cancelled=True, sequence=1),  # kept: started less than 30 days ago
        feed_meeting(  # dropped: cancelled and started more than 30 days ago
            id=8, cancelled=True, starts_at=ams(2026, 1, 5, 10), ends_at=ams(2026, 1, 5, 12)
        ),
        feed_meeting(  # dropped: ended more than a year ago
            id=9, starts_at=ams(2025, 1, 5, 10), ends_at=ams(2025, 1, 5, 12)
        ),
        feed_meeting(id=10, online_url="https://vergaderen.example.nl/x", location=""),
    ]


def test_fragments_assemble_to_exactly_what_build_calendar_makes():
    items = varied()
    expected = feeds.build_calendar(items, now=NOW, site=SITE).to_ical()
    kept = [m for m in items if feeds.feed_until(m) > NOW]
    assert {m.id for m in kept} == {1, 2, 3, 4, 5, 6, 7, 10}
    head = feeds.calendar_head("Brug bijeenkomsten")
    assembled = feeds.assemble(head, [feeds.fragment(m, SITE) for m in kept])
    assert assembled == expected
    raw_lines = assembled.split(b"\r\n")
    assert raw_lines[-1] == b"" and all(len(line) <= 75 for line in raw_lines)
    assert b"\n" not in assembled.replace(b"\r\n", b"")
    assert len(ical_js(assembled)["events"]) == 8 + 2  # two RECURRENCE-ID overrides


@pytest.mark.parametrize("now", [NOW, ams(2026, 4, 16, 0), ams(2027, 1, 6, 0)])
def test_feed_until_is_the_in_feed_rule(now):
    for meeting in varied():
        assert (feeds.feed_until(meeting) > now) == feeds.in_feed(meeting, now)


def _stored_fragments(agenda) -> dict[int, str | None]:
    with db.new_session(agenda.engine, write=False) as s:
        rows = s.exec(meetings.select(meetings.Meeting.id, meetings.Meeting.ical))
        return dict(rows.all())


def _expected(agenda, flt: meetings.Filter, cutoff: dt.datetime, name: str) -> bytes:
    with db.new_session(agenda.engine, write=False) as s:
        items = meetings.feed_meetings(s, flt, now=cutoff)
    return feeds.build_calendar(items, now=cutoff, site=SETTINGS.feed_site, name=name).to_ical()


def _cutoff(agenda) -> dt.datetime:
    return dt.datetime.combine(agenda.now.date(), dt.time(), tzinfo=dt.UTC)


def make_varied_meetings(agenda) -> dict[str, int]:
    ids = {
        "timed": agenda.create(),
        "accents": agenda.create(
            title='Café "De Brug" met Zoë 🎉',
            description="Regel één\r\nRegel twee 🙂\n" + "lang " * 40,
            location="Damstraat 2, Amsterdam — achteringang",
        ),
        "all_day": agenda.create(
            title="Netwerkdag",
            all_day=True,
            start=dt.datetime(2026, 9, 18),
            end=dt.datetime(2026, 9, 18),
        ),
        "weekly": agenda.create(
            title="Inloopuur",
            start=dt.datetime(2026, 3, 17, 10),
            end=dt.datetime(2026, 3, 17, 11),
            repeat="weekly",
            repeat_count=6,
        ),
        "cancelled": agenda.create(title="Gaat niet door"),
        "partners": agenda.create(title="Voor partners", audience="partners", region="utrecht"),
        "closed": agenda.create(title="Besloten", audience="closed", group="nazorg-gelderland"),
    }
    with agenda.session() as s:
        weekly = meetings.get_meeting(s, ids["weekly"])
        starts = [value.strftime("%Y%m%dT%H%M%SZ") for value in meetings.series_starts(weekly)]
        common = {"actor": "user:1", "now": agenda.now, "settings": SETTINGS}
        meetings.change_occurrence(s, ids["weekly"], starts[1], action="skip", **common)
        meetings.change_occurrence(
            s,
            ids["weekly"],
            starts[3],
            action="move",
            start=dt.datetime(2026, 4, 7, 13),
            end=dt.datetime(2026, 4, 7, 14),
            location="Bibliotheek Ede",
            **common,
        )
        meetings.change_occurrence(s, ids["weekly"], starts[4], action="cancel", **common)
        meetings.cancel_meeting(s, ids["cancelled"], **common)
    return ids


def test_served_feeds_equal_build_calendar_for_stored_fragments(agenda, client):
    ids = make_varied_meetings(agenda)
    stored = _stored_fragments(agenda)
    assert all(stored[i] for i in ids.values()), "every change stores the meeting's VEVENTs"
    cutoff = _cutoff(agenda)
    cases = [
        ("/agenda.ics", meetings.Filter(), "Brug bijeenkomsten"),
        (
            "/agenda/regio/utrecht.ics",
            meetings.Filter(regions=("utrecht",)),
            f"Brug bijeenkomsten {REGIOS['utrecht']}",
        ),
        (
            "/agenda/publiek/open.ics",
            meetings.Filter(audiences=("open",)),
            "Brug bijeenkomsten: open voor iedereen",
        ),
    ]
    for path, flt, name in cases:
        response = client.get(path)
        assert response.status_code == 200, path
        assert ical_js(response.data)["events"], path
        assert response.data == _expected(agenda, flt, cutoff, name), path
    served = client.get("/agenda.ics").data
    assert b"Besloten" not in served
    assert b"RECURRENCE-ID;TZID=Europe/Amsterdam:20260407T100000" in served
    assert b"EXDATE;TZID=Europe/Amsterdam:20260324T100000" in served


def test_a_cold_render_reads_fragment_columns_and_renders_nothing(app, agenda, client):
    make_varied_meetings(agenda)
    with recorded_statements(db.get_engine(app)) as statements:
        assert client.get("/agenda.ics").status_code == 200
    assert feed_cache(app).renderer.rendered == 0
    reads = [s for s in statements if "FROM meeting" in s]
    assert reads and all("meeting.title" not in s for s in reads), reads
    assert any("meeting.ical" in s for s in reads)


def test_stale_fragments_are_rendered_on_demand_and_stored(app, agenda, client):
    """Rows written with another site or icalendar version (or none at all) are rendered for
    the request, stored, and the bytes still equal build_calendar."""
    ids = make_varied_meetings(agenda)
    with agenda.session() as s:
        stale = "BEGIN:VEVENT\r\nSUMMARY:oud\r\nEND:VEVENT\r\n"
        s.exec(update(meetings.Meeting).values(ical_key="old", ical=stale))
        s.exec(
            update(meetings.Meeting)
            .where(meetings.Meeting.id == ids["timed"])
            .values(ical=None, ical_key="", feed_until=None)
        )
    response = client.get("/agenda.ics")
    assert response.data == _expected(
        agenda, meetings.Filter(), _cutoff(agenda), "Brug bijeenkomsten"
    )
    with db.new_session(agenda.engine, write=False) as s:
        keys = dict(s.exec(meetings.select(meetings.Meeting.id, meetings.Meeting.ical_key)).all())
    fresh = feeds.fragment_key(SETTINGS.feed_site)
    assert {i for i, key in keys.items() if key != fresh} == {ids["closed"]}  # not in this feed
    feed_cache(app).entries.clear()
    with recorded_statements(agenda.engine) as statements:
        assert client.get("/agenda.ics").data == response.data
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")], statements
    assert feed_cache(app).renderer.rendered == 0


def test_a_meeting_leaving_the_window_changes_etag_and_last_modified(agenda, client, clock):
    """No data changes, but the cancelled meeting leaves the feed 30 days after its start:
    the bytes change, so ETag and Last-Modified must too (or a client keeps a stale copy)."""
    kept = agenda.create(
        title="Blijft", start=dt.datetime(2026, 6, 1, 10), end=dt.datetime(2026, 6, 1, 12)
    )
    gone = agenda.create()  # 12 March 2026, 13:30
    with agenda.session() as s:
        meetings.cancel_meeting(s, gone, actor="user:1", now=agenda.now, settings=SETTINGS)
    clock.current = ams(2026, 4, 10, 12)
    before = client.get("/agenda.ics")
    assert f"meeting-{gone}@".encode() in before.data
    clock.current = ams(2026, 4, 12, 12)
    after = client.get(
        "/agenda.ics",
        headers={"If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert f"meeting-{gone}@".encode() not in after.data
    assert f"meeting-{kept}@".encode() in after.data
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(
        before.headers["Last-Modified"]
    )
    since = client.get(
        "/agenda.ics", headers={"If-Modified-Since": before.headers["Last-Modified"]}
    )
    assert since.status_code == 200
    again = client.get("/agenda.ics", headers={"If-None-Match": after.headers["ETag"]})
    assert again.status_code == 304


def test_refresh_command_redoes_stale_fragments(agenda, runner):
    ids = make_varied_meetings(agenda)
    with agenda.session() as s:
        before = dict(s.exec(meetings.select(meetings.Meeting.id, meetings.Meeting.ical)).all())
        s.exec(update(meetings.Meeting).values(ical_key="old", ical="stale"))
    result = runner.invoke(args=["agenda", "refresh-feeds"])
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} bijeenkomsten" in result.output
    with db.new_session(agenda.engine, write=False) as s:
        after = dict(s.exec(meetings.select(meetings.Meeting.id, meetings.Meeting.ical)).all())
    assert after == before
    assert "0 bijeenkomsten" in runner.invoke(args=["agenda", "refresh-feeds"]).output


def test_per_meeting_feed_equals_build_calendar(agenda, client):
    ids = make_varied_meetings(agenda)
    with db.new_session(agenda.engine, write=False) as s:
        weekly = meetings.get_meeting(s, ids["weekly"])
        item = meetings.meeting_feed(s, weekly)
        title = weekly.title
    expected = feeds.build_calendar(
        [item], now=_cutoff(agenda), site=SETTINGS.feed_site, name=title
    ).to_ical()
    assert client.get(f"/agenda/{ids['weekly']}.ics").data == expected
