"""AVG self-service: view, download, correct, withdraw, erase, request a link."""

from __future__ import annotations

import csv
import io
import json
import re

from sqlmodel import select

from forms_backend import audit, db, outbox, tokens, volunteers
from tests.conftest import running_app


def test_personal_page_shows_all_data_escaped(vol, client):
    _, link = vol.signed_up_and_confirmed(name="<script>alert(1)</script> Jan")
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Jan" in html and "<script>alert(1)" not in html
    for shown in (
        "jan@example.nl",
        "6811 AA",
        "Gelderland",
        "Ik wil graag helpen.",
        "Bevestigd",
        "In het weekend",
    ):
        assert shown in html
    # a step's note reads as a note, not as a second label in brackets
    assert "Aangemeld (niet bevestigd). Notitie: " in html and "(niet bevestigd) (" not in html


def test_download_json_and_csv(vol, client):
    _, link = vol.signed_up_and_confirmed(motivation='=HYPERLINK("http://evil.example")')
    as_json = client.get(link + "/gegevens.json")
    assert as_json.status_code == 200
    assert "attachment" in as_json.headers["Content-Disposition"]
    data = json.loads(as_json.get_data(as_text=True))
    assert data["e-mailadres"] == "jan@example.nl"
    assert data["antwoorden"]["Kun je ongeveer tweeënhalf jaar meedoen in een cirkel?"] == "Ja"
    assert [s["naar"] for s in data["stappen"]] == ["Aangemeld (niet bevestigd)", "Bevestigd"]
    # names, not codes; moments in Amsterdam time with their offset (the clock: 09.00 UTC, winter)
    assert (data["programma"], data["regio"]) == ("COSA-cirkels", "Gelderland")
    assert data["aangemeld_op"] == "2026-03-02T10:00:00+01:00"
    assert data["stappen"][0]["moment"] == "2026-03-02T10:00:00+01:00"
    as_csv = client.get(link + "/gegevens.csv")
    rows = dict(
        csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows["naam"] == "Jan Jansen" and rows["programma"] == "COSA-cirkels"
    assert rows["motivatie"].startswith("'=HYPERLINK")
    assert client.get(link + "/gegevens.xml").status_code == 404


def test_correct_own_data(vol, client):
    _, link = vol.signed_up_and_confirmed()
    form = client.get(link + "/aanpassen").get_data(as_text=True)
    assert 'value="Jan Jansen"' in form
    bad = client.post(
        link + "/aanpassen", data={"name": "Jan", "postcode": "99", "availability": ["weekend"]}
    )
    assert bad.status_code == 422 and "Nederlandse postcode" in bad.get_data(as_text=True)
    ok = client.post(
        link + "/aanpassen",
        data={
            "name": "Jan de Vries",
            "postcode": "1011AB",
            "phone": "",
            "availability": ["weekend", "doordeweeks_avond"],
        },
    )
    assert ok.status_code == 303
    assert "Je wijzigingen zijn opgeslagen." in client.get(ok.headers["Location"]).get_data(
        as_text=True
    )
    [v] = vol.all()
    assert (v.name, v.postcode, v.region, v.phone) == (
        "Jan de Vries",
        "1011 AB",
        "noord-holland",
        "",
    )
    assert v.motivation == "Ik wil graag helpen."  # left empty: unchanged


def test_withdraw(vol, client):
    _, link = vol.signed_up_and_confirmed()
    assert client.post(link + "/intrekken").status_code == 303
    [v] = vol.all()
    assert v.status == "gestopt"
    page = client.get(link).get_data(as_text=True)
    assert "Ik stop met mijn aanmelding" not in page
    assert "Je aanmelding is gestopt." in page  # said once, after the click


def test_erase_removes_everything_and_keeps_an_anonymous_count(app, vol, client):
    _, link = vol.signed_up_and_confirmed()
    assert "Weet je het zeker" in client.get(link + "/wissen").get_data(as_text=True)
    response = client.post(link + "/wissen")
    assert response.status_code == 303 and response.headers["Location"].endswith("/mijn/gewist")
    assert vol.all() == []
    with app.app_context(), db.transaction(write=False) as s:
        assert s.exec(select(volunteers.VolunteerEvent)).all() == []
        assert (
            s.exec(
                select(outbox.OutboxMessage).where(
                    outbox.OutboxMessage.recipient == "jan@example.nl"
                )
            ).all()
            == []
        )
        assert volunteers.erasure_counts(s) == {"gewist": 1}
        [erasure] = s.exec(select(volunteers.VolunteerErasure)).all()
        assert (erasure.programme, erasure.month) == ("cosa", "2026-03")
        assert all(
            "jan" not in (e.detail + e.actor).lower() for e in s.exec(select(audit.AuditEntry))
        )
        assert all(
            t.expires_at <= app.extensions["brug.clock"]() for t in s.exec(select(tokens.Token))
        )
    assert client.get(link).status_code in (404, 410)


def test_personal_link_expires_and_is_single_purpose(vol, client, clock):
    _, link = vol.signed_up_and_confirmed()
    raw = link.rsplit("/", 1)[1]
    assert client.post(f"/aanmelden/bevestigen/{raw}").status_code == 404  # not a confirmation link
    clock.advance(days=8)
    response = client.get(link)
    assert response.status_code == 410
    assert "Vraag een nieuwe link aan" in response.get_data(as_text=True)


def test_link_request_answers_the_same_for_known_and_unknown_addresses(vol, client):
    vol.signed_up_and_confirmed()
    vol.deliver()
    known = client.post(
        "/mijn/link-aanvragen", data={**vol.guard("/mijn/"), "email": "jan@example.nl"}
    )
    unknown = client.post(
        "/mijn/link-aanvragen", data={**vol.guard("/mijn/"), "email": "niemand@example.nl"}
    )
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert client.get(known.headers["Location"]).get_data(as_text=True) == client.get(
        unknown.headers["Location"]
    ).get_data(as_text=True)
    [message] = vol.deliver()
    assert message["To"] == "jan@example.nl"
    assert client.get(vol.personal_link(message)).status_code == 200


def test_mijn_landing_page_is_the_link_form(client):
    page = client.get("/mijn/")
    assert page.status_code == 200 and "Stuur mij een link" in page.get_data(as_text=True)


def test_an_unconfirmed_sign_up_can_still_be_confirmed_after_its_link_expired(
    vol, client, clock, app
):
    """A new link for an unconfirmed sign-up is a fresh confirmation mail; and the personal
    page, whose link went to the same address, has its own confirm button (CSRF-checked)."""
    vol.sign_up()
    [first] = vol.deliver()
    clock.advance(hours=80)  # the first confirmation link has expired
    assert client.get(vol.confirm_link(first)).status_code == 410
    client.post("/mijn/link-aanvragen", data={**vol.guard("/mijn/"), "email": "jan@example.nl"})
    [fresh] = vol.deliver()
    assert fresh["Subject"] == "Bevestig je aanmelding als vrijwilliger"
    link = vol.personal_link(fresh)
    page = client.get(link).get_data(as_text=True)
    assert "Je aanmelding is nog niet bevestigd" in page

    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(link + "/bevestigen")  # no token: nothing changes
    assert refused.status_code == 400 and vol.all()[0].status == "aangemeld"
    page = refused.get_data(as_text=True)  # the personal page again, saying why, new token
    assert "Het formulier was verlopen" in page and "Ja, ik bevestig mijn aanmelding" in page
    assert client.post(link + "/intrekken").status_code == 400
    assert vol.all()[0].status == "aangemeld"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    done = client.post(link + "/bevestigen", data={"csrf_token": token.group(1)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/cosa/bevestigd")
    assert vol.all()[0].status == "bevestigd"
    assert "nog niet bevestigd" not in client.get(link).get_data(as_text=True)


def test_the_page_after_a_link_request_says_how_long_the_link_works(app_config):
    """In days when the term is whole days, in hours otherwise (12 hours read "0 dagen")."""
    for hours, says in ((168, "De link werkt 7 dagen."), (12, "De link werkt 12 uur.")):
        with running_app({**app_config, "VOLUNTEER_LINK_TTL_HOURS": hours}) as application:
            page = application.test_client().get("/mijn/link-aangevraagd")
        assert page.status_code == 200 and says in " ".join(page.get_data(as_text=True).split())


def test_the_thank_you_page_says_how_long_the_confirmation_link_works(app_config):
    """The same words as the mail: "3 dagen" for 72 hours, minutes below an hour (not "0 uur")."""
    for hours, says in ((72, "De link werkt 3 dagen."), (0.5, "De link werkt 30 minuten.")):
        with running_app({**app_config, "VOLUNTEER_CONFIRM_TTL_HOURS": hours}) as application:
            page = application.test_client().get("/aanmelden/cosa/bedankt")
        assert page.status_code == 200 and says in " ".join(page.get_data(as_text=True).split())
