"""The pure iCalendar renderer: feeds (METHOD:PUBLISH) and invitations (iTIP, RFC 5546).

No Flask, no database: callers hand in plain ``FeedMeeting`` values and get a ``Calendar`` or
bytes. The rules from ``CALENDAR.md`` are written down once, here:

- UID ``meeting-<id>@<domain>``: stable for the life of a meeting, never random.
- DTSTAMP and LAST-MODIFIED are the meeting's last change, never "now"; the same data gives the
  same bytes, so an ETag (hash of the bytes) and 304 work.
- SEQUENCE comes from the meeting and only goes up; every VEVENT of a meeting carries it.
- A cancelled meeting stays in a feed with STATUS:CANCELLED for 30 days after its start.
- Timed meetings use ``TZID=Europe/Amsterdam`` with a VTIMEZONE written as yearly rules (the way
  Outlook and Google write it); all-day meetings use VALUE=DATE with an exclusive DTEND.
- Recurring meetings: RRULE, EXDATE for skipped dates, and a second VEVENT with the same UID and
  RECURRENCE-ID for a changed or cancelled occurrence.

A feed is assembled from fragments: ``calendar_head`` (properties and the VTIMEZONE), each
meeting's serialised VEVENTs (``fragment``, stored in the database on every change), and
``END:VCALENDAR``; ``assemble`` gives exactly ``build_calendar(...).to_ical()``. The bytes are
the same because icalendar serialises a component the same inside a calendar as on its own.
``fragment_key`` names what a stored fragment depends on besides the meeting (site, icalendar
version), so fragments made under another configuration are redone, not served.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import icalendar
from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vRecur,
)
from icalendar.prop import vDDDTypes

from forms_backend.localtime import TZID, ZONE
from forms_backend.sanitize import plain_text, separate_lists

PRODID = "-//Brug//Bijeenkomsten 1.0//NL"
REFRESH = "PT4H"
CANCELLED_KEPT = dt.timedelta(days=30)
PAST_KEPT = dt.timedelta(days=365)
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class FeedSite:
    """What the renderer needs to know about the site."""

    base_url: str  # "https://brug.example.nl", no trailing slash
    domain: str  # for UIDs: meeting-42@<domain>
    organiser: str  # the default role mailbox, e.g. agenda@brug.example.nl


@dataclass(frozen=True)
class FeedOccurrence:
    """A changed or cancelled single occurrence of a recurring meeting."""

    recurrence_id: dt.datetime  # the original start (aware)
    starts_at: dt.datetime
    ends_at: dt.datetime
    cancelled: bool = False
    location: str | None = None


@dataclass(frozen=True)
class FeedMeeting:
    """One meeting as the renderer sees it; all datetimes aware (any zone)."""

    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    last_modified: dt.datetime
    created_at: dt.datetime
    sequence: int = 0
    description: str = ""
    location: str = ""
    online_url: str = ""
    geo: tuple[float, float] | None = None
    all_day: bool = False
    cancelled: bool = False
    organiser: str | None = None  # a role mailbox; the site's default when empty
    organiser_name: str = "Brug agenda"
    slug: str = ""
    rrule: str | None = None  # e.g. "FREQ=WEEKLY;COUNT=6"
    exdates: tuple[dt.datetime, ...] = ()
    occurrences: tuple[FeedOccurrence, ...] = field(default=())
    last_start: dt.datetime | None = None  # start of the last occurrence (recurring)
    public: bool = True  # False for a closed group's meeting: it has no page on the site

    @property
    def cache_key(self) -> tuple[int, dt.datetime, int, bool]:
        """Every change to a meeting or its occurrences moves ``last_modified``."""
        return (self.id, self.last_modified, self.sequence, self.cancelled)


def uid(meeting_id: int, domain: str) -> str:
    return f"meeting-{meeting_id}@{domain}"


def meeting_url(meeting: FeedMeeting, site: FeedSite) -> str:
    path = f"{meeting.id}-{meeting.slug}" if meeting.slug else str(meeting.id)
    return f"{site.base_url}/agenda/{path}/"


def feed_until(meeting: FeedMeeting) -> dt.datetime:
    """When a meeting leaves the feeds: cancelled ones 30 days after their start, others a year
    after their (last) end. Stored with the fragment, so a feed query can filter on it."""
    if meeting.cancelled:
        return (meeting.starts_at + CANCELLED_KEPT).astimezone(dt.UTC)
    last_end = (meeting.last_start or meeting.starts_at) + (meeting.ends_at - meeting.starts_at)
    return (last_end + PAST_KEPT).astimezone(dt.UTC)


def in_feed(meeting: FeedMeeting, now: dt.datetime) -> bool:
    return feed_until(meeting) > now


# ---------------------------------------------------------------------------------------------
# the time zone, as rules


def vtimezone() -> Timezone:
    """Europe/Amsterdam as two yearly rules (EU summer time since 1996)."""
    tz = Timezone()
    tz.add("tzid", TZID)
    tz.add("x-lic-location", TZID)
    daylight = TimezoneDaylight()
    daylight.add("tzname", "CEST")
    daylight.add("tzoffsetfrom", dt.timedelta(hours=1))
    daylight.add("tzoffsetto", dt.timedelta(hours=2))
    daylight.add("dtstart", dt.datetime(1981, 3, 29, 2, 0))
    daylight.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    standard = TimezoneStandard()
    standard.add("tzname", "CET")
    standard.add("tzoffsetfrom", dt.timedelta(hours=2))
    standard.add("tzoffsetto", dt.timedelta(hours=1))
    standard.add("dtstart", dt.datetime(1996, 10, 27, 3, 0))
    standard.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the feed renderer")
    return value.astimezone(ZONE)


def _when(value: dt.datetime, all_day: bool) -> dt.datetime | dt.date:
    local = _local(value)
    return local.date() if all_day else local


# ---------------------------------------------------------------------------------------------
# events


def _base_event(meeting: FeedMeeting, site: FeedSite, *, cancelled: bool) -> Event:
    event = Event()
    event.add("uid", uid(meeting.id, site.domain))
    event.add("dtstamp", meeting.last_modified.astimezone(dt.UTC))
    event.add("created", meeting.created_at.astimezone(dt.UTC))
    event.add("last-modified", meeting.last_modified.astimezone(dt.UTC))
    event.add("sequence", meeting.sequence)
    event.add("summary", meeting.title)
    text = plain_text(separate_lists(meeting.description), base_url=site.base_url)
    if meeting.online_url:
        text = f"{text}\n\nOnline: {meeting.online_url}".strip()
    if meeting.public:
        url = meeting_url(meeting, site)
        event.add("description", f"{text}\n\nMeer informatie en aanmelden: {url}".strip())
        event.add("url", url)
    else:  # a closed group's meeting has no page to link to
        ask = meeting.organiser or site.organiser
        event.add("description", f"{text}\n\nVoor een besloten groep. Vragen: {ask}".strip())
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organiser = vCalAddress(f"mailto:{meeting.organiser or site.organiser}")
    organiser.params["CN"] = meeting.organiser_name
    event.add("organizer", organiser)
    return event


def _set_place(event: Event, meeting: FeedMeeting, location: str | None = None) -> None:
    place = location or meeting.location or meeting.online_url
    if place:
        event.add("location", place)
    if meeting.geo is not None and not location:
        event.add("geo", meeting.geo)


def _set_times(event: Event, start: dt.datetime, end: dt.datetime, all_day: bool) -> None:
    event.add("dtstart", _when(start, all_day))
    end_value = _when(end, all_day)
    if all_day and end_value <= _when(start, all_day):  # DTEND is exclusive: at least one day
        end_value = _when(start, all_day) + dt.timedelta(days=1)
    event.add("dtend", end_value)


def meeting_events(meeting: FeedMeeting, site: FeedSite) -> list[Event]:
    """The VEVENTs of one meeting: the master, then one per changed or cancelled occurrence."""
    master = _base_event(meeting, site, cancelled=meeting.cancelled)
    _set_times(master, meeting.starts_at, meeting.ends_at, meeting.all_day)
    _set_place(master, meeting)
    if not meeting.rrule:
        return [master]
    master.add("rrule", vRecur.from_ical(meeting.rrule))
    if meeting.exdates:
        master.add("exdate", [_when(value, meeting.all_day) for value in sorted(meeting.exdates)])
    events = [master]
    for occurrence in sorted(meeting.occurrences, key=lambda o: o.recurrence_id):
        event = _base_event(meeting, site, cancelled=meeting.cancelled or occurrence.cancelled)
        event.add("recurrence-id", _when(occurrence.recurrence_id, meeting.all_day))
        _set_times(event, occurrence.starts_at, occurrence.ends_at, meeting.all_day)
        _set_place(event, meeting, occurrence.location)
        events.append(event)
    return events


# ---------------------------------------------------------------------------------------------
# calendars


def _calendar(*, name: str, method: str, description: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if method == "PUBLISH":
        cal.add("name", name)
        cal.add("x-wr-calname", name)
        if description:
            cal.add("x-wr-caldesc", description)
        cal.add("x-wr-timezone", TZID)
        # icalendar's helper leaves out VALUE=DURATION, which the RFC 7986 property requires.
        cal.add(
            "refresh-interval", vDDDTypes(dt.timedelta(hours=4)), parameters={"VALUE": "DURATION"}
        )
        cal.add("x-published-ttl", REFRESH)
    cal.add_component(vtimezone())
    return cal


def build_calendar(
    meetings: Iterable[FeedMeeting],
    *,
    now: dt.datetime,
    site: FeedSite,
    name: str = "Brug bijeenkomsten",
    description: str | None = None,
) -> Calendar:
    """A subscription feed (METHOD:PUBLISH) of the meetings that belong in it at ``now``."""
    cal = _calendar(name=name, method="PUBLISH", description=description)
    for meeting in sorted(meetings, key=lambda m: m.id):
        if in_feed(meeting, now):
            for event in meeting_events(meeting, site):
                cal.add_component(event)
    return cal


# ---------------------------------------------------------------------------------------------
# fragments: a feed is a fixed head, the stored VEVENTs of its meetings, and END:VCALENDAR

# raise when meeting_events() changes, so stored fragments are redone (2: plain DESCRIPTION;
# 3: a list typed right under a line of text is a list; 4: no page link for a closed group)
FRAGMENT_FORMAT = 4


def fragment_key(site: FeedSite) -> str:
    """What stored fragments depend on besides the meeting: the site and the serialiser."""
    parts = (FRAGMENT_FORMAT, icalendar.__version__, site.base_url, site.domain, site.organiser)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def fragment(meeting: FeedMeeting, site: FeedSite) -> bytes:
    """The serialised VEVENTs of one meeting, exactly as they appear inside a calendar."""
    return b"".join(event.to_ical() for event in meeting_events(meeting, site))


@functools.lru_cache(maxsize=512)
def calendar_head(name: str, description: str | None = None) -> bytes:
    """Everything of a feed before its first VEVENT (properties and the VTIMEZONE)."""
    head = _calendar(name=name, method="PUBLISH", description=description).to_ical()
    assert head.endswith(_END)
    return head[: -len(_END)]


def assemble(head: bytes, fragments: Iterable[bytes | str]) -> bytes:
    """A feed from its head and its meetings' fragments (in meeting id order)."""
    body = "".join(f if isinstance(f, str) else f.decode("utf-8") for f in fragments)
    return b"".join((head, body.encode("utf-8"), _END))


class FeedRenderer:
    """Renders fragments in process for meetings whose stored fragment is missing or stale,
    and keeps them until their meeting changes. ``render`` equals
    ``build_calendar(...).to_ical()`` byte for byte."""

    def __init__(self, site: FeedSite, *, max_fragments: int = 100_000) -> None:
        self.site = site
        self.key = fragment_key(site)
        self.max_fragments = max_fragments
        self._fragments: dict[int, tuple[tuple[int, dt.datetime, int, bool], bytes]] = {}
        self.rendered = 0  # fragments serialised (for tests and the benchmark)

    def fragment(self, meeting: FeedMeeting) -> bytes:
        key = meeting.cache_key
        cached = self._fragments.get(meeting.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        data = fragment(meeting, self.site)
        if len(self._fragments) >= self.max_fragments:
            self._fragments.clear()
        self._fragments[meeting.id] = (key, data)
        self.rendered += 1
        return data

    def render(
        self,
        meetings: Iterable[FeedMeeting],
        *,
        now: dt.datetime,
        name: str = "Brug bijeenkomsten",
        description: str | None = None,
    ) -> bytes:
        kept = sorted((m for m in meetings if in_feed(m, now)), key=lambda m: m.id)
        return assemble(calendar_head(name, description), (self.fragment(m) for m in kept))


def etag(data: bytes) -> str:
    """A strong validator: the hash of the bytes."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def last_modified(meetings: Sequence[FeedMeeting], fallback: dt.datetime) -> dt.datetime:
    return max((m.last_modified for m in meetings), default=fallback)


# ---------------------------------------------------------------------------------------------
# invitations (iTIP)


def invitation(
    meeting: FeedMeeting,
    *,
    method: str,
    attendee_email: str,
    attendee_name: str,
    site: FeedSite,
    sequence: int | None = None,
) -> str:
    """A METHOD:REQUEST or METHOD:CANCEL calendar for one registrant, same UID as the feed.

    ``sequence`` lets the caller raise SEQUENCE for one person (deregistration) without
    changing the meeting for everyone.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError("method must be REQUEST or CANCEL")
    cal = _calendar(name=meeting.title, method=method)
    events = meeting_events(meeting, site)
    if method == "CANCEL":
        events = events[:1]  # the master without RECURRENCE-ID cancels the whole series
    for event in events:
        if sequence is not None:
            event["sequence"] = sequence
        if method == "CANCEL":
            event["status"] = "CANCELLED"
        attendee = vCalAddress(f"mailto:{attendee_email}")
        attendee.params["CN"] = attendee_name
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "ACCEPTED"
        attendee.params["CUTYPE"] = "INDIVIDUAL"
        event.add("attendee", attendee)
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")
