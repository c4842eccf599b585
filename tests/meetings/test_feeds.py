"""The pure feed renderer against every rule in CALENDAR.md, read back by real parsers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar
from meeting_helpers import SITE, ams, feed_meeting, ical_js, z

from forms_backend import feeds

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def render(*items: feeds.FeedMeeting, now: dt.datetime = NOW) -> bytes:
    return feeds.build_calendar(items, now=now, site=SITE).to_ical()


def lines(data: bytes) -> list[str]:
    """Unfolded content lines."""
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


# ---------------------------------------------------------------------------------------------
# identity and change


def test_uid_is_stable_and_derived_from_the_id_and_domain():
    first = render(feed_meeting(id=42))
    again = render(feed_meeting(id=42, title="Andere titel", sequence=3))
    assert "UID:meeting-42@brug.example.nl" in lines(first)
    assert "UID:meeting-42@brug.example.nl" in lines(again)


def test_dtstamp_is_the_last_change_never_now_and_bytes_are_identical():
    meeting = feed_meeting(last_modified=dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    one = render(meeting, now=NOW)
    later = render(meeting, now=NOW + dt.timedelta(hours=5))
    assert one == later
    assert "DTSTAMP:20260203T040506Z" in lines(one)
    assert "LAST-MODIFIED:20260203T040506Z" in lines(one)
    assert feeds.etag(one) == feeds.etag(later)


def test_sequence_is_emitted_from_the_meeting():
    assert "SEQUENCE:0" in lines(render(feed_meeting()))
    assert "SEQUENCE:4" in lines(render(feed_meeting(sequence=4)))


def test_cancelled_meeting_stays_30_days_after_start_with_status_cancelled():
    meeting = feed_meeting(
        cancelled=True, sequence=1, starts_at=ams(2026, 3, 12, 13, 30), ends_at=ams(2026, 3, 12, 17)
    )
    kept = lines(render(meeting, now=ams(2026, 4, 10, 12)))
    assert "STATUS:CANCELLED" in kept and "SEQUENCE:1" in kept
    assert "BEGIN:VEVENT" not in lines(render(meeting, now=ams(2026, 4, 12, 12)))


def test_a_live_meeting_is_confirmed():
    assert "STATUS:CONFIRMED" in lines(render(feed_meeting()))


# ---------------------------------------------------------------------------------------------
# time


def test_vtimezone_is_written_as_yearly_rules():
    text = lines(render())
    assert "TZID:Europe/Amsterdam" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "TZOFFSETFROM:+0100" in text and "TZOFFSETTO:+0200" in text
    assert not any(line.startswith("RDATE") for line in text)
    assert "X-WR-TIMEZONE:Europe/Amsterdam" in text


def test_no_floating_times_for_timed_meetings():
    data = render(
        feed_meeting(),
        feed_meeting(id=2, rrule="FREQ=WEEKLY;COUNT=3", exdates=(ams(2026, 3, 19, 13, 30),)),
    )
    in_events = data.decode().split("END:VTIMEZONE", 1)[1]
    for line in lines(in_events.encode()):
        if re.match(r"^(DTSTART|DTEND|EXDATE|RECURRENCE-ID)", line):
            assert "TZID=Europe/Amsterdam" in line, line


def test_all_day_uses_value_date_with_exclusive_end():
    meeting = feed_meeting(all_day=True, starts_at=ams(2026, 9, 18), ends_at=ams(2026, 9, 19))
    text = lines(render(meeting))
    assert "DTSTART;VALUE=DATE:20260918" in text
    assert "DTEND;VALUE=DATE:20260919" in text
    parsed = ical_js(render(meeting))["events"][0]
    assert parsed["is_date"] is True and parsed["start_local"] == "2026-09-18"


# Both sides of both DST switches in 2026 (29 March, 25 October) and 2027 (28 March).
DST_CASES = [
    (ams(2026, 3, 28, 10, 0), "2026-03-28T09:00:00.000Z"),  # CET, day before spring
    (ams(2026, 3, 29, 10, 0), "2026-03-29T08:00:00.000Z"),  # CEST, the switch day itself
    (ams(2026, 3, 30, 10, 0), "2026-03-30T08:00:00.000Z"),
    (ams(2026, 7, 14, 19, 30), "2026-07-14T17:30:00.000Z"),  # mid-summer
    (ams(2026, 10, 24, 10, 0), "2026-10-24T08:00:00.000Z"),  # CEST, day before autumn
    (ams(2026, 10, 25, 10, 0), "2026-10-25T09:00:00.000Z"),  # CET after the switch
    (ams(2026, 12, 1, 9, 0), "2026-12-01T08:00:00.000Z"),
    (ams(2027, 3, 27, 10, 0), "2027-03-27T09:00:00.000Z"),
    (ams(2027, 3, 29, 10, 0), "2027-03-29T08:00:00.000Z"),
]


def test_ical_js_reads_the_right_instant_on_both_sides_of_both_dst_changes():
    items = [
        feed_meeting(id=n + 1, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        for n, (start, _) in enumerate(DST_CASES)
    ]
    parsed = ical_js(render(*items))
    got = {int(e["uid"].split("-")[1].split("@")[0]): e for e in parsed["events"]}
    for n, (start, expected) in enumerate(DST_CASES, start=1):
        assert got[n]["start"] == expected, (start, got[n])
        assert got[n]["end"] == z(start + dt.timedelta(hours=2))
        assert got[n]["tzid"] == "Europe/Amsterdam"


def test_ical_js_expands_recurring_meetings_across_dst_with_exdate_and_changed_occurrence():
    start = ams(2026, 3, 17, 10, 0)  # Tuesdays 10:00 across the spring switch, then autumn
    weekly = feed_meeting(
        id=7,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=(ams(2026, 3, 24, 10, 0),),
        occurrences=(
            feeds.FeedOccurrence(
                ams(2026, 4, 7, 10, 0),
                ams(2026, 4, 7, 13, 0),
                ams(2026, 4, 7, 14, 0),
                location="Bibliotheek",
            ),
        ),
    )
    autumn = ams(2026, 10, 20, 19, 0)
    monthly = feed_meeting(
        id=8,
        starts_at=autumn,
        ends_at=autumn + dt.timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=2",
        occurrences=(
            feeds.FeedOccurrence(
                ams(2026, 10, 27, 19, 0),
                ams(2026, 10, 27, 19, 0),
                ams(2026, 10, 27, 21, 0),
                cancelled=True,
            ),
        ),
    )
    parsed = ical_js(render(weekly, monthly))
    masters = {e["uid"]: e for e in parsed["events"] if e["recurrence_id"] is None}
    weekly_dates = [
        (o["start"], o["status"]) for o in masters["meeting-7@brug.example.nl"]["occurrences"]
    ]
    assert weekly_dates == [
        ("2026-03-17T09:00:00.000Z", "CONFIRMED"),  # CET
        ("2026-03-31T08:00:00.000Z", "CONFIRMED"),  # CEST: still 10:00 on the wall clock
        ("2026-04-07T11:00:00.000Z", "CONFIRMED"),  # moved to 13:00
    ]
    autumn_dates = [
        (o["start"], o["status"]) for o in masters["meeting-8@brug.example.nl"]["occurrences"]
    ]
    assert autumn_dates == [
        ("2026-10-20T17:00:00.000Z", "CONFIRMED"),
        ("2026-10-27T18:00:00.000Z", "CANCELLED"),
    ]
    exceptions = [e for e in parsed["events"] if e["recurrence_id"]]
    assert {e["uid"] for e in exceptions} == {
        "meeting-7@brug.example.nl",
        "meeting-8@brug.example.nl",
    }


# ---------------------------------------------------------------------------------------------
# the calendar object


def test_calendar_properties_and_refresh_hints():
    text = lines(render())
    for expected in (
        "VERSION:2.0",
        f"PRODID:{feeds.PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:Brug bijeenkomsten",
        "X-WR-CALNAME:Brug bijeenkomsten",
        "REFRESH-INTERVAL;VALUE=DURATION:PT4H",
        "X-PUBLISHED-TTL:PT4H",
    ):
        assert expected in text


def test_empty_feed_is_a_valid_calendar_for_real_parsers():
    data = render()
    assert b"BEGIN:VEVENT" not in data
    parsed = ical_js(data)
    assert parsed["events"] == [] and parsed["calendar"]["version"] == "2.0"
    assert Calendar.from_ical(data).to_ical() == data


def test_the_description_is_plain_text_not_markdown():
    """CALENDAR.md: DESCRIPTION in plain text. A calendar shows "**wonen**" as it is."""
    meeting = feed_meeting(
        description=(
            "Wat werkt bij **wonen na detentie**?\n\n- Sprekers uit [Ede](/regios/gelderland/)\n"
            "- <b>Koffie</b> en `thee`"
        )
    )
    parsed = ical_js(render(meeting))["events"][0]
    assert parsed["description"].startswith(
        "Wat werkt bij wonen na detentie?\n\n"
        "- Sprekers uit Ede (http://brug.test/regios/gelderland/)\n- Koffie en thee\n\n"
        "Meer informatie en aanmelden: http://brug.test/agenda/"
    ), parsed["description"]


def test_event_fields_url_location_geo_description_organiser():
    meeting = feed_meeting(
        geo=(52.04, 5.66), description="Voor casemanagers.\nWelkom!", organiser=None
    )
    parsed = ical_js(render(meeting))["events"][0]
    text = lines(render(meeting))
    assert "URL:http://brug.test/agenda/1-nazorgmiddag/" in text
    assert "GEO:52.04;5.66" in text
    assert parsed["location"] == "Stationsweg 1, Ede"
    assert parsed["description"].startswith("Voor casemanagers.\nWelkom!")
    assert 'ORGANIZER;CN="Brug agenda":mailto:agenda@brug.example.nl' in text


@pytest.mark.parametrize(
    "title",
    ['Café "De Brug" met Zoë 🎉', "Regel\r\nBREAK:injected", "Tab\tand\x07bell; comma, " * 6],
)
def test_accents_emoji_and_control_characters_never_break_the_feed(title):
    data = render(feed_meeting(title=title, description=title))
    raw_lines = data.split(b"\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw_lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert not any(line.startswith(b"BREAK:") for line in raw_lines)
    parsed = ical_js(data)
    assert len(parsed["events"]) == 1
    round_trip = Calendar.from_ical(data)
    assert Calendar.from_ical(round_trip.to_ical()).to_ical() == round_trip.to_ical()
    assert str(round_trip.walk("VEVENT")[0]["SUMMARY"]).replace("\r\n", "\n") == title.replace(
        "\r\n", "\n"
    )


def test_icalendar_round_trips_a_full_feed():
    data = render(
        feed_meeting(),
        feed_meeting(id=2, rrule="FREQ=WEEKLY;COUNT=3", cancelled=True, sequence=2),
        feed_meeting(id=3, all_day=True, starts_at=ams(2026, 9, 18), ends_at=ams(2026, 9, 19)),
    )
    assert Calendar.from_ical(data).to_ical() == data


# ---------------------------------------------------------------------------------------------
# fragments


def test_renderer_output_equals_build_calendar_and_rerenders_only_what_changed():
    items = [feed_meeting(id=n, title=f"Bijeenkomst {n}") for n in range(1, 21)]
    renderer = feeds.FeedRenderer(SITE)
    assert renderer.render(items, now=NOW) == render(*items)
    assert renderer.rendered == 20
    items[4] = feed_meeting(id=5, title="Verplaatst", sequence=1, last_modified=NOW)
    assert renderer.render(items, now=NOW) == render(*items)
    assert renderer.rendered == 21


# ---------------------------------------------------------------------------------------------
# invitations


def test_itip_request_and_cancel_share_the_feed_uid():
    meeting = feed_meeting(id=9, sequence=2)
    request = feeds.invitation(
        meeting, method="REQUEST", attendee_email="zoe@example.nl", attendee_name="Zoë", site=SITE
    )
    cancel = feeds.invitation(
        meeting,
        method="CANCEL",
        attendee_email="zoe@example.nl",
        attendee_name="Zoë",
        site=SITE,
        sequence=3,
    )
    req, can = lines(request.encode()), lines(cancel.encode())
    assert "METHOD:REQUEST" in req and "METHOD:CANCEL" in can
    assert "UID:meeting-9@brug.example.nl" in req and "UID:meeting-9@brug.example.nl" in can
    assert "SEQUENCE:2" in req and "SEQUENCE:3" in can and "STATUS:CANCELLED" in can
    assert any(line.startswith("ATTENDEE") and "mailto:zoe@example.nl" in line for line in req)
    assert any(
        line.startswith("ORGANIZER") and "mailto:agenda@brug.example.nl" in line for line in req
    )
    assert ical_js(request)["events"][0]["start"] == z(ams(2026, 3, 12, 13, 30))
    with pytest.raises(ValueError):
        feeds.invitation(
            meeting, method="PUBLISH", attendee_email="a@example.nl", attendee_name="A", site=SITE
        )
