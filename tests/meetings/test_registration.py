"""Registration: double opt-in, capacity, waitlist promotion, iTIP mail, never overbooking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from meeting_helpers import SETTINGS, body_of, ical_of, link_in, meeting_input
from sqlmodel import select

from forms_backend import db, meetings, tokens


def test_first_time_address_confirms_by_mail_then_gets_a_request_invitation(agenda, client, mail):
    meeting_id = agenda.create(capacity=10)
    result = agenda.register(meeting_id, "zoe@example.nl")
    assert result.status == "bevestigen"
    assert agenda.statuses(meeting_id)["aangemeld"] == 0
    [confirm_mail] = agenda.deliver(mail)
    assert ical_of(confirm_mail) is None
    path = link_in(confirm_mail, "/agenda/aanmelding/")
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert agenda.statuses(meeting_id)["aangemeld"] == 1
    [invite] = agenda.deliver(mail)
    method, text = ical_of(invite)
    assert method == "REQUEST"
    assert f"UID:meeting-{meeting_id}@brug.example.nl" in text
    assert "mailto:zoe@example.nl" in text.replace("\r\n ", "")
    again = client.post(path)  # the confirmation link is single-use: it says so, changes nothing
    assert again.status_code == 200 and "Je bent al aangemeld" in again.get_data(as_text=True)
    assert agenda.statuses(meeting_id)["aangemeld"] == 1 and agenda.deliver(mail) == []


def test_known_address_is_placed_at_once(agenda, mail):
    agenda.known("piet@example.nl")
    meeting_id = agenda.create(capacity=1)
    assert agenda.register(meeting_id, "Piet@Example.nl").status == "aangemeld"
    [invite] = agenda.deliver(mail)
    assert ical_of(invite)[0] == "REQUEST"


def test_registering_twice_changes_nothing_and_says_so_by_mail(agenda, mail):
    agenda.known("piet@example.nl")
    meeting_id = agenda.create(capacity=5)
    agenda.register(meeting_id, "piet@example.nl")
    agenda.register(meeting_id, "piet@example.nl")
    assert agenda.statuses(meeting_id)["aangemeld"] == 1
    sent = agenda.deliver(mail)
    assert [m["Subject"].split(":")[0] for m in sent] == [
        "Je bent aangemeld",
        "Je bent al aangemeld",
    ]


def test_full_meeting_waitlists_and_cancel_promotes_the_first_waiting(agenda, client, mail):
    meeting_id = agenda.create(capacity=2)
    for person in ("a", "b", "c", "d"):
        agenda.known(f"{person}@example.nl")
        agenda.register(meeting_id, f"{person}@example.nl")
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 2,
        "wachtlijst": 2,
        "afgemeld": 0,
    }
    sent = agenda.deliver(mail)
    waitlisted = next(m for m in sent if m["To"] == "c@example.nl")
    assert ical_of(waitlisted) is None and "wachtlijst, op plek 1" in body_of(waitlisted)

    first = next(m for m in sent if m["To"] == "a@example.nl")
    cancel_path = link_in(first, "/agenda/afmelden/")
    assert client.get(cancel_path).status_code == 200
    assert client.post(cancel_path).status_code == 302
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 2,
        "wachtlijst": 1,
        "afgemeld": 1,
    }
    after = {m["To"]: m for m in agenda.deliver(mail)}
    method, text = ical_of(after["a@example.nl"])
    assert method == "CANCEL" and "STATUS:CANCELLED" in text and "SEQUENCE:1" in text
    assert ical_of(after["c@example.nl"])[0] == "REQUEST"
    assert "er kwam een plek vrij" in body_of(after["c@example.nl"])
    assert client.post(cancel_path).status_code == 302  # a second click changes nothing
    assert agenda.statuses(meeting_id)["aangemeld"] == 2


def _sequences(agenda, mail) -> list[tuple[str, int]]:
    sent = [ical_of(m) for m in agenda.deliver(mail)]
    return [
        (method, int(text.split("SEQUENCE:")[1].split("\r\n")[0]))
        for method, text in (found for found in sent if found is not None)
    ]


def test_reregistering_after_cancel_sends_a_request_that_outranks_the_cancel(agenda, mail):
    """Clients ignore an update whose SEQUENCE did not rise (CALENDAR.md): a REQUEST after the
    person's own CANCEL must carry a higher SEQUENCE, or the event stays cancelled for them."""
    agenda.known("a@example.nl")
    meeting_id = agenda.create(capacity=2)
    for _ in range(2):
        registration_id = agenda.register(meeting_id, "a@example.nl").registration_id
        with agenda.session() as s:
            meetings.cancel_registration(
                s, None, registration_id=registration_id, now=agenda.now, settings=SETTINGS
            )
    agenda.register(meeting_id, "a@example.nl")
    assert _sequences(agenda, mail) == [
        ("REQUEST", 0),
        ("CANCEL", 1),
        ("REQUEST", 2),
        ("CANCEL", 3),
        ("REQUEST", 4),
    ]


def test_reregistered_person_promoted_from_the_waitlist_outranks_their_cancel(agenda, mail):
    for person in ("a", "b"):
        agenda.known(f"{person}@example.nl")
    meeting_id = agenda.create(capacity=1)
    first = agenda.register(meeting_id, "a@example.nl").registration_id
    with agenda.session() as s:
        meetings.cancel_registration(
            s, None, registration_id=first, now=agenda.now, settings=SETTINGS
        )
    holder = agenda.register(meeting_id, "b@example.nl").registration_id
    assert agenda.register(meeting_id, "a@example.nl").status == "wachtlijst"
    with agenda.session() as s:
        meetings.cancel_registration(
            s, None, registration_id=holder, now=agenda.now, settings=SETTINGS
        )
    to_a = [m for m in agenda.deliver(mail) if m["To"] == "a@example.nl" and ical_of(m)]
    assert [(ical_of(m)[0], m["Subject"].split(":")[0]) for m in to_a][-1][0] == "REQUEST"
    sequences = [int(ical_of(m)[1].split("SEQUENCE:")[1].split("\r\n")[0]) for m in to_a]
    assert sequences == [0, 1, 2]  # REQUEST, CANCEL, REQUEST on promotion


def test_change_raises_sequence_and_reinvites_registrants(agenda, mail):
    agenda.known("a@example.nl")
    meeting_id = agenda.create(capacity=5)
    agenda.register(meeting_id, "a@example.nl")
    agenda.deliver(mail)
    with agenda.session() as s:
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(capacity=5, start=dt.datetime(2026, 3, 12, 14, 0)),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    meeting = agenda.get(meeting_id)
    assert meeting.sequence == 1 and meeting.status == "gewijzigd"
    [update] = agenda.deliver(mail)
    method, text = ical_of(update)
    assert (
        method == "REQUEST"
        and "SEQUENCE:1" in text
        and "DTSTART;TZID=Europe/Amsterdam:20260312T140000" in text
    )


def test_mail_about_a_meeting_that_became_closed_links_to_no_missing_page(agenda, mail):
    agenda.known("a@example.nl")
    meeting_id = agenda.create(capacity=5)
    agenda.register(meeting_id, "a@example.nl")
    with agenda.session() as s:
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(
                capacity=5,
                start=dt.datetime(2026, 3, 12, 14, 0),
                audience="closed",
                group="nazorg-gelderland",
            ),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    first, update = agenda.deliver(mail)
    assert f"/agenda/{meeting_id}-" in body_of(first)  # while open: its page
    body = body_of(update)
    assert f"/agenda/{meeting_id}-" not in body and "Meer informatie" not in body
    assert "/agenda/afmelden/" in body  # the way out stays
    assert "\n\n\n" not in body


def test_description_only_change_does_not_raise_sequence(agenda):
    meeting_id = agenda.create()
    with agenda.session() as s:
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(description="Nieuwe tekst"),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    assert agenda.get(meeting_id).sequence == 0
    assert agenda.get(meeting_id).last_modified > agenda.get(meeting_id).created_at


def test_cancelling_a_meeting_sends_cancel_to_registrants(agenda, mail):
    agenda.known("a@example.nl")
    agenda.known("b@example.nl")
    meeting_id = agenda.create(capacity=1)
    agenda.register(meeting_id, "a@example.nl")
    agenda.register(meeting_id, "b@example.nl")
    agenda.deliver(mail)
    with agenda.session() as s:
        meetings.cancel_meeting(
            s,
            meeting_id,
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
            reason="Zaal is dicht.",
        )
    sent = {m["To"]: m for m in agenda.deliver(mail)}
    assert ical_of(sent["a@example.nl"])[0] == "CANCEL"
    assert ical_of(sent["b@example.nl"]) is None and "wachtlijst" in body_of(sent["b@example.nl"])
    assert "Zaal is dicht." in body_of(sent["a@example.nl"])
    assert agenda.get(meeting_id).sequence == 1


def test_lowering_capacity_below_registrations_needs_confirmation_and_raising_promotes(
    agenda, mail
):
    meeting_id = agenda.create(capacity=2)
    for person in "abc":
        agenda.known(f"{person}@example.nl")
        agenda.register(meeting_id, f"{person}@example.nl")
    with (
        agenda.session() as s,
        pytest.raises(meetings.MeetingError, match="al 2 aanmeldingen, meer dan 1 plaats\\."),
    ):
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(capacity=1),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    with agenda.session() as s:
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(capacity=1),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
            allow_overbooked=True,
        )
    assert agenda.statuses(meeting_id)["aangemeld"] == 2
    with agenda.session() as s:  # a later edit keeps the capacity: no need to tick again
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(capacity=1, location="Stationsweg 3, Ede"),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    assert agenda.get(meeting_id).location == "Stationsweg 3, Ede"
    with agenda.session() as s:
        meetings.update_meeting(
            s,
            meeting_id,
            meeting_input(capacity=3),
            actor="user:1",
            now=agenda.now,
            settings=SETTINGS,
        )
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 3,
        "wachtlijst": 0,
        "afgemeld": 0,
    }


def test_registration_closes_after_deadline_and_for_cancelled_meetings(agenda, clock):
    meeting_id = agenda.create(registration_deadline=dt.datetime(2026, 3, 5, 17, 0))
    clock.advance(days=4)
    with pytest.raises(meetings.MeetingError, match="aanmeldtermijn is voorbij"):
        agenda.register(meeting_id, "a@example.nl")


def test_closed_meetings_cannot_be_registered_for_publicly(agenda):
    meeting_id = agenda.create(audience="closed", group="nazorg-gelderland")
    with pytest.raises(meetings.MeetingError, match="bestaat niet"):
        agenda.register(meeting_id, "a@example.nl")


def test_bad_registration_input_gives_dutch_messages(agenda):
    meeting_id = agenda.create()
    with pytest.raises(meetings.MeetingError, match="geldig e-mailadres"):
        agenda.register(meeting_id, "geen-adres")
    with pytest.raises(meetings.MeetingError, match="naam"):
        agenda.register(meeting_id, "a@example.nl", name="  ")


def test_csv_export_is_formula_safe():
    meeting = meetings.Meeting(
        id=1,
        title="x",
        starts_at=dt.datetime.now(dt.UTC),
        ends_at=dt.datetime.now(dt.UTC),
        last_start=dt.datetime.now(dt.UTC),
        region="gelderland",
        created_at=dt.datetime.now(dt.UTC),
        last_modified=dt.datetime.now(dt.UTC),
    )
    row = meetings.Registration(
        meeting_id=1,
        name='=HYPERLINK("http://x")',
        email="a@example.nl",
        email_key="a@example.nl",
        organisation="+31 @evil -1",
        status="aangemeld",
        created_at=dt.datetime.now(dt.UTC),
    )
    text = meetings.export_csv(meeting, [row])
    assert "'=HYPERLINK" in text and "'+31 @evil -1" in text
    assert "\n=" not in text and ";=" not in text


def _confirm_links(agenda, mail, meeting_id, count):
    """``count`` first-time registrations waiting for their confirmation click."""
    for n in range(count):
        agenda.register(meeting_id, f"persoon{n}@example.nl", name=f"Persoon {n}")
    return [link_in(m, "/agenda/aanmelding/") for m in agenda.deliver(mail)]


def test_fifty_concurrent_confirmations_for_ten_seats_never_overbook(app, agenda, mail):
    """50 people click their confirmation link at the same moment: exactly 10 get a seat."""
    meeting_id = agenda.create(capacity=10)
    links = _confirm_links(agenda, mail, meeting_id, 50)
    barrier = threading.Barrier(len(links))
    statuses: list[int] = []

    def click(path: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(path).status_code)

    threads = [threading.Thread(target=click, args=(path,)) for path in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 50
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 10,
        "wachtlijst": 40,
        "afgemeld": 0,
    }
    invites = [m for m in agenda.deliver(mail) if ical_of(m)]
    assert len(invites) == 10


def test_fifty_concurrent_registrations_of_known_addresses_never_overbook(app, agenda):
    meeting_id = agenda.create(capacity=10)
    for n in range(50):
        agenda.known(f"bekend{n}@example.nl")
    barrier = threading.Barrier(50)
    errors: list[BaseException] = []

    def register(n: int) -> None:
        try:
            barrier.wait()
            with db.transaction(db.get_engine(app)) as s:
                meetings.register(
                    s,
                    meeting_id,
                    name=f"Bekend {n}",
                    email=f"bekend{n}@example.nl",
                    organisation="",
                    now=agenda.now,
                    settings=SETTINGS,
                )
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 10,
        "wachtlijst": 40,
        "afgemeld": 0,
    }


def test_concurrent_cancellations_promote_exactly_as_many_as_left(app, agenda, mail):
    meeting_id = agenda.create(capacity=5)
    for n in range(15):
        agenda.known(f"p{n}@example.nl")
        agenda.register(meeting_id, f"p{n}@example.nl")
    with db.new_session(db.get_engine(app), write=False) as s:
        seated = [
            r.id
            for r in s.exec(
                select(meetings.Registration).where(
                    meetings.Registration.meeting_id == meeting_id,
                    meetings.Registration.status == "aangemeld",
                )
            )
        ]
    barrier = threading.Barrier(len(seated))

    def leave(registration_id: int) -> None:
        barrier.wait()
        with db.transaction(db.get_engine(app)) as s:
            meetings.cancel_registration(
                s, None, registration_id=registration_id, now=agenda.now, settings=SETTINGS
            )

    threads = [threading.Thread(target=leave, args=(rid,)) for rid in seated]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert agenda.statuses(meeting_id) == {
        "bevestigen": 0,
        "aangemeld": 5,
        "wachtlijst": 5,
        "afgemeld": 5,
    }


def test_cancel_link_of_another_purpose_does_not_work(agenda, client, mail):
    agenda.known("a@example.nl")
    meeting_id = agenda.create()
    registration_id = agenda.register(meeting_id, "a@example.nl").registration_id
    with agenda.session() as s:
        raw = tokens.issue(
            s,
            purpose="vrijwilliger.mijn",
            subject=f"registration:{registration_id}",
            now=agenda.now,
            ttl=dt.timedelta(days=1),
        )
    assert client.post(f"/agenda/afmelden/{raw}").status_code == 404
    assert client.get("/agenda/afmelden/onzin").status_code == 404
    assert agenda.statuses(meeting_id)["aangemeld"] == 1


def test_retention_removes_registrations_90_days_after_the_meeting(agenda, clock):
    from forms_backend import retention

    agenda.known("a@example.nl")
    meeting_id = agenda.create()  # 12 March 2026
    agenda.register(meeting_id, "a@example.nl")
    clock.current = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    with agenda.session() as s:
        retention.purge(s, now=agenda.now)
    assert agenda.statuses(meeting_id)["aangemeld"] == 1
    clock.current = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    with agenda.session() as s:
        report = retention.purge(s, now=agenda.now)
    assert agenda.statuses(meeting_id)["aangemeld"] == 0
    assert sum(v for k, v in report.items() if "bijeenkomsten" in k) >= 1
