"""Editing a series keeps what was changed on single dates: skipped, cancelled, moved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from meeting_helpers import SETTINGS, ams, body_of, ical_js, meeting_input, z

from forms_backend import meetings

COMMON: dict[str, Any] = {"actor": "user:1", "settings": SETTINGS}
LATER_END = dt.datetime(2026, 3, 17, 11, 30)  # half an hour later, the same length


def _weekly_with_exceptions(agenda: Any) -> tuple[int, list[dt.datetime]]:
    """Six Tuesdays from 17 March 2026, across the clock change of 29 March: the second date
    skipped, the fourth moved to 13.00 elsewhere, the fifth cancelled."""
    meeting_id = agenda.create(
        title="Inloopuur",
        start=dt.datetime(2026, 3, 17, 10),
        end=dt.datetime(2026, 3, 17, 11),
        repeat="weekly",
        repeat_count=6,
    )
    with agenda.session() as s:
        starts = meetings.series_starts(meetings.get_meeting(s, meeting_id))
        key = [meetings.occurrence_key(start) for start in starts]
        now = agenda.now
        meetings.change_occurrence(s, meeting_id, key[1], action="skip", now=now, **COMMON)
        meetings.change_occurrence(
            s,
            meeting_id,
            key[3],
            action="move",
            start=dt.datetime(2026, 4, 7, 13),
            end=dt.datetime(2026, 4, 7, 14),
            location="Bibliotheek Ede",
            now=now,
            **COMMON,
        )
        meetings.change_occurrence(s, meeting_id, key[4], action="cancel", now=now, **COMMON)
    return meeting_id, starts


def _edit(agenda: Any, meeting_id: int, **changes: Any) -> meetings.MeetingUpdate:
    values: dict[str, Any] = {
        "title": "Inloopuur",
        "start": dt.datetime(2026, 3, 17, 10),
        "end": dt.datetime(2026, 3, 17, 11),
        "repeat": "weekly",
        "repeat_count": 6,
        **changes,
    }
    with agenda.session() as s:
        return meetings.update_meeting(
            s, meeting_id, meeting_input(**values), now=agenda.now, **COMMON
        )


def _dates(agenda: Any, meeting_id: int) -> dict[dt.date, tuple[str, str, bool, str]]:
    """Local date -> (start, end, cancelled, location) as the agenda shows them."""
    with agenda.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        found = meetings.occurrences(
            meeting, meetings.overrides_for(s, [meeting_id]).get(meeting_id, [])
        )
    return {
        meetings.local(o.recurrence_id).date(): (
            f"{meetings.local(o.starts_at):%H:%M}",
            f"{meetings.local(o.ends_at):%H:%M}",
            o.cancelled,
            o.location,
        )
        for o in found
    }


def test_a_new_start_time_keeps_skipped_cancelled_and_moved_dates(agenda):
    meeting_id, _starts = _weekly_with_exceptions(agenda)
    result = _edit(agenda, meeting_id, start=dt.datetime(2026, 3, 17, 10, 30), end=LATER_END)
    assert result.lapsed == ()
    dates = _dates(agenda, meeting_id)
    place = "Stationsweg 1, Ede"
    assert dates == {
        dt.date(2026, 3, 17): ("10:30", "11:30", False, place),
        # 24 March stays skipped
        dt.date(2026, 3, 31): ("10:30", "11:30", False, place),  # summer time: still 10.30
        dt.date(2026, 4, 7): ("13:00", "14:00", False, "Bibliotheek Ede"),  # the move stays
        dt.date(2026, 4, 14): ("10:30", "11:30", True, place),  # cancelled, at the new time
        dt.date(2026, 4, 21): ("10:30", "11:30", False, place),
    }


def test_the_feed_names_the_new_instances_across_the_clock_change(agenda, client):
    meeting_id, _starts = _weekly_with_exceptions(agenda)
    _edit(agenda, meeting_id, start=dt.datetime(2026, 3, 17, 10, 30), end=LATER_END)
    feed = ical_js(client.get("/agenda.ics").data)
    [master] = [e for e in feed["events"] if e["summary"] == "Inloopuur" and not e["recurrence_id"]]
    seen = [(o["recurrence_id"], o["start"], o["status"]) for o in master["occurrences"]]
    # RECURRENCE-IDs are the new series' instances: 10.30 in winter (09.30 UTC) and in
    # summer time (08.30 UTC); 24 March stays out (EXDATE), 7 April moved, 14 April cancelled
    assert seen == [
        (z(ams(2026, 3, 17, 10, 30)), z(ams(2026, 3, 17, 10, 30)), "CONFIRMED"),
        (z(ams(2026, 3, 31, 10, 30)), z(ams(2026, 3, 31, 10, 30)), "CONFIRMED"),
        (z(ams(2026, 4, 7, 10, 30)), z(ams(2026, 4, 7, 13)), "CONFIRMED"),
        (z(ams(2026, 4, 14, 10, 30)), z(ams(2026, 4, 14, 10, 30)), "CANCELLED"),
        (z(ams(2026, 4, 21, 10, 30)), z(ams(2026, 4, 21, 10, 30)), "CONFIRMED"),
    ]


def test_a_shorter_series_says_which_changed_dates_lapse(agenda, mail):
    meeting_id, _starts = _weekly_with_exceptions(agenda)
    agenda.known("piet@example.nl")
    agenda.register(meeting_id, "piet@example.nl")
    agenda.deliver(mail)
    result = _edit(agenda, meeting_id, repeat_count=4)
    # the cancelled fifth date is gone with the series' end; the skip and the move remain
    assert result.lapsed == (dt.date(2026, 4, 14),)
    dates = _dates(agenda, meeting_id)
    assert sorted(dates) == [dt.date(2026, 3, 17), dt.date(2026, 3, 31), dt.date(2026, 4, 7)]
    assert dates[dt.date(2026, 4, 7)][3] == "Bibliotheek Ede"
    [changed] = agenda.deliver(mail)
    body = body_of(changed)
    # the mail names what is different on single dates, not only the series
    assert "dinsdag 24 maart 2026: gaat niet door" in body
    assert "dinsdag 7 april 2026: 13.00–14.00 uur, Bibliotheek Ede" in body
    assert "14 april" not in body


def test_a_series_that_keeps_its_dates_changes_nothing_on_single_dates(agenda):
    meeting_id, _starts = _weekly_with_exceptions(agenda)
    before = _dates(agenda, meeting_id)
    result = _edit(agenda, meeting_id, location="Stationsweg 3, Ede")
    assert result.lapsed == ()
    after = _dates(agenda, meeting_id)
    assert after[dt.date(2026, 4, 7)] == before[dt.date(2026, 4, 7)]
    assert after[dt.date(2026, 4, 14)][2] is True
    assert dt.date(2026, 3, 24) not in after


def test_a_time_on_the_night_the_clocks_go_back_names_summer_and_winter_time():
    """02.30 summer time + 45 minutes is 02.15 winter time: without a word it reads as an
    end before the start."""
    start = ams(2027, 10, 31, 2, 30).astimezone(dt.UTC)  # fold=0: the first 02.30, summer time
    text = meetings.describe_span(start, start + dt.timedelta(minutes=45), False)
    assert text == "zondag 31 oktober 2027, 02.30 uur (zomertijd) tot 02.15 uur (wintertijd)"
    usual = meetings.describe_span(ams(2027, 10, 31, 10), ams(2027, 10, 31, 11), False)
    assert usual == "zondag 31 oktober 2027, 10.00–11.00 uur"


def test_when_names_the_first_date_that_takes_place_and_counts_the_dates_that_do(agenda):
    meeting_id, starts = _weekly_with_exceptions(agenda)
    with agenda.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        # skipped 24 March, cancelled 14 April: four of six dates take place
        assert meetings.when_of(s, meeting) == (
            "dinsdag 17 maart 2026, 10.00–11.00 uur (elke week, 4 keer; 2 data vervallen)"
        )
        key = meetings.occurrence_key(starts[0])
        meetings.change_occurrence(s, meeting_id, key, action="skip", now=agenda.now, **COMMON)
    with agenda.session() as s:
        meeting = meetings.get_meeting(s, meeting_id)
        # the first date skipped too: "when" is the first Tuesday that is left (31 March)
        assert meetings.when_of(s, meeting) == (
            "dinsdag 31 maart 2026, 10.00–11.00 uur (elke week, 3 keer; 3 data vervallen)"
        )
