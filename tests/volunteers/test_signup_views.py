"""Sign-up, double opt-in and the thank-you page, through the Flask test client."""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlmodel import select

from forms_backend import db, outbox, tokens, volunteers
from tests.volunteers.conftest import hidden, signup_data


def test_form_renders_with_programme_questions(client):
    page = client.get("/aanmelden/cosa")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "COSA-cirkels" in html
    assert 'name="q_twee_jaar"' in html  # from data/programmas.yml
    assert 'name="website"' in html  # honeypot
    assert "privacyverklaring" in html


def test_unknown_programme_is_a_dutch_404(client):
    page = client.get("/aanmelden/bestaat-niet")
    assert page.status_code == 404
    assert "kun je je hier niet aanmelden" in page.get_data(as_text=True)


def test_sign_up_stores_aangemeld_with_mail_in_outbox(app, vol, session):
    response = vol.sign_up()
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/aanmelden/cosa/bedankt")
    [volunteer] = session.exec(select(volunteers.Volunteer)).all()
    assert volunteer.status == "aangemeld"
    assert volunteer.region == "gelderland"
    assert volunteer.answers == {"twee_jaar": "ja", "zedendelict": "ja"}
    assert len(volunteer.consent_version) in (16, len("ontbreekt"))
    assert volunteer.consent_at == app.extensions["brug.clock"]()
    [message] = session.exec(select(outbox.OutboxMessage)).all()
    assert message.recipient == "jan@example.nl" and message.sent_at is None


def test_thank_you_page_says_what_happens_next(client):
    html = client.get("/aanmelden/cosa/bedankt").get_data(as_text=True)
    assert "Kijk in je mailbox" in html
    assert "Binnen twee weken" in html


def test_confirmation_link_shows_a_button_and_post_confirms(vol, client):
    vol.sign_up()
    [message] = vol.deliver()
    assert message["Subject"] == "Bevestig je aanmelding als vrijwilliger"
    link = vol.confirm_link(message)
    page = client.get(link)
    assert page.status_code == 200 and "Ja, ik bevestig" in page.get_data(as_text=True)
    assert vol.all()[0].status == "aangemeld"  # a GET (mail scanner) confirms nothing
    response = client.post(link)
    assert response.status_code == 303
    assert vol.all()[0].status == "bevestigd"
    again = client.post(link)
    assert again.status_code == 410
    assert "al gebruikt" in again.get_data(as_text=True)


def test_after_confirming_no_page_asks_to_confirm_again(vol, client):
    """The programme's next steps (data/programmas.yml) follow the confirmation: the confirmed
    page says what happens now, not "confirm first"."""
    vol.sign_up()
    [message] = vol.deliver()
    confirmed = client.get(client.post(vol.confirm_link(message)).headers["Location"])
    html = confirmed.get_data(as_text=True)
    assert confirmed.status_code == 200 and "is nu bevestigd" in html
    assert "Binnen twee weken" in html
    assert not re.search(r"\b[Bb]evestig\b", html)  # "bevestigd" yes, "Bevestig eerst" no


def test_confirmation_link_expires(vol, client, clock):
    vol.sign_up()
    link = vol.confirm_link(vol.deliver()[0])
    clock.advance(hours=73)
    response = client.get(link)
    assert response.status_code == 410
    assert "verlopen" in response.get_data(as_text=True)


def test_unknown_confirmation_link_is_404(client):
    unknown = client.get("/aanmelden/bevestigen/onzin")
    assert unknown.status_code == 404
    assert "Heb je je aanmelding nog niet bevestigd" in unknown.get_data(as_text=True)
    assert client.post("/aanmelden/bevestigen/" + "x" * 5000).status_code == 404


def test_repeat_sign_up_looks_the_same_and_sends_one_mail(vol, client):
    first = vol.sign_up()
    vol.deliver()
    vol.client.post(vol.confirm_link(vol.mail.sent[0]))
    second = vol.sign_up(name="Iemand Anders")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    [message] = vol.deliver()
    assert "al" in message.get_content() and "aangemeld" in message.get_content()
    assert "/mijn/" in message.get_content()
    assert len(vol.all()) == 1
    assert vol.all()[0].name == "Jan Jansen"  # the repeat changed nothing


def test_repeat_of_unconfirmed_sign_up_sends_a_new_confirmation(vol):
    vol.sign_up()
    vol.sign_up()
    messages = vol.deliver()
    assert [m["Subject"] for m in messages] == ["Bevestig je aanmelding als vrijwilliger"] * 2
    assert len(vol.all()) == 1


def test_who_stopped_can_sign_up_again_and_who_was_rejected_is_told(vol, client, app):
    """After "Ik stop" a new sign-up is a new one (with its own confirmation); a rejected
    sign-up stays on record, and the mail says so instead of "you were already signed up"."""
    _id, link = vol.signed_up_and_confirmed()
    assert client.post(link + "/intrekken").status_code == 303
    vol.deliver()
    assert vol.sign_up(name="Jan Terug").status_code == 303
    [message] = vol.deliver()
    assert message["Subject"] == "Bevestig je aanmelding als vrijwilliger"
    assert client.post(vol.confirm_link(message)).status_code == 303
    assert sorted((v.name, v.status) for v in vol.all()) == [
        ("Jan Jansen", "gestopt"),
        ("Jan Terug", "bevestigd"),
    ]

    rejected_id, _ = vol.signed_up_and_confirmed(email="piet@example.nl", name="Piet Proef")
    with app.app_context(), db.transaction() as s:
        s.get_one(volunteers.Volunteer, rejected_id).status = "afgewezen"
    vol.deliver()
    assert vol.sign_up(email="piet@example.nl", name="Piet Opnieuw").status_code == 303
    [message] = vol.deliver()
    body = message.get_content()
    assert "niet met je verder te gaan" in body and "niet opgeslagen" in body
    assert "Je was al aangemeld" not in body
    assert [v.name for v in vol.all() if v.email == "piet@example.nl"] == ["Piet Proef"]


def test_errors_are_dutch_and_keep_what_was_typed(vol):
    response = vol.sign_up(
        email="geen-adres",
        postcode="12",
        phone="abc",
        consent=None,
        motivation="<b>mijn motivatie</b>",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vul een geldig e-mailadres in" in html
    assert "Nederlandse postcode" in html
    assert "privacyverklaring" in html
    assert "&lt;b&gt;mijn motivatie&lt;/b&gt;" in html and "<b>mijn motivatie" not in html
    assert 'value="geen-adres"' in html
    assert vol.all() == []


def test_error_summary_names_each_field_readably(vol):
    """A question keeps its question mark, a sentence-long consent label gets a short name."""
    import re

    response = vol.sign_up(name="", q_twee_jaar=None, consent=None)
    assert response.status_code == 422
    summary = response.get_data(as_text=True).split('id="fouten"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r'<li><a href="#[^"]+">([^<]*)</a></li>', summary)
    assert items == [
        "Naam: Vul je naam in.",
        "Kun je ongeveer tweeënhalf jaar meedoen in een cirkel? Beantwoord deze vraag.",
        "Privacyverklaring: Je kunt je alleen aanmelden als je akkoord gaat met de"
        " privacyverklaring.",
    ]


def test_error_summary_follows_the_order_of_the_page(vol):
    import re

    response = vol.sign_up(name="", email="", postcode="", motivation="", availability=None,
                           q_twee_jaar=None, q_zedendelict=None, consent=None)
    html = response.get_data(as_text=True)
    summary, page = html.split('id="fouten"', 1)[1].split("</ul>", 1)
    linked = re.findall(r'<li><a href="#([^"]+)">', summary)
    shown = [i for i in re.findall(r'id="([a-z_]+)-fout"', page) if i in linked]
    assert len(linked) == 8 and linked == shown


def test_required_programme_question(vol):
    response = vol.sign_up(q_twee_jaar=None)
    assert response.status_code == 422
    assert "Beantwoord deze vraag" in response.get_data(as_text=True)


def test_phone_formats(vol):
    for ok in ("+31 6 12345678", "010-1234567", "0031 20 1234567", "+32 470 12 34 56", ""):
        assert volunteers.normalise_phone(ok) == " ".join(ok.split())
    response = vol.sign_up(phone="12345")
    assert "10 cijfers" in response.get_data(as_text=True)


def test_honeypot_and_minimum_fill_time(app, vol):
    response = vol.sign_up(website="http://spam.example")
    assert response.status_code == 422
    app.config["FORM_MIN_FILL_SECONDS"] = 3600
    response = vol.sign_up()
    assert response.status_code == 422
    assert "Je formulier is niet verstuurd" in response.get_data(as_text=True)
    assert vol.all() == []


def test_a_lost_start_stamp_is_replaced_so_the_next_try_succeeds(vol, client):
    data = {**vol.form(), **signup_data()}
    data["started"] = "onleesbaar"  # e.g. a page from before the secret key changed
    refused = client.post("/aanmelden/cosa", data=data)
    assert refused.status_code == 422
    data["started"] = hidden(refused.get_data(as_text=True), "started")
    assert data["started"] != "onleesbaar"
    assert client.post("/aanmelden/cosa", data=data).status_code == 303
    assert len(vol.all()) == 1


def test_tokens_are_stored_as_digests_only(vol, session):
    vol.sign_up()
    link = vol.confirm_link(vol.deliver()[0])
    raw = link.rsplit("/", 1)[1]
    stored = [t.digest for t in session.exec(select(tokens.Token))]
    assert raw not in stored and all(len(d) == 64 for d in stored)


def _fail_inserts_into_outbox(engine) -> None:
    """A real database error on the sign-up's last insert (a trigger), mid-transaction."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER brug_test_vol BEFORE INSERT ON outbox_message"
                " BEGIN SELECT RAISE(ABORT, 'schijf vol'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION brug_test_vol() RETURNS trigger LANGUAGE plpgsql"
                " AS $$ BEGIN RAISE EXCEPTION 'schijf vol'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER brug_test_vol BEFORE INSERT ON outbox_message"
                " FOR EACH ROW EXECUTE FUNCTION brug_test_vol()"
            )


def test_sign_up_rolls_back_together_with_its_mail(app, vol):
    """Sign-up and confirmation mail are one transaction: a failure stores neither."""
    _fail_inserts_into_outbox(db.get_engine(app))
    response = vol.sign_up()
    assert response.status_code == 500
    assert "Je gegevens zijn niet verwerkt" in response.get_data(as_text=True)
    with app.app_context(), db.transaction(write=False) as s:
        assert s.exec(select(volunteers.Volunteer)).all() == []
        assert s.exec(select(outbox.OutboxMessage)).all() == []
        assert s.exec(select(tokens.Token)).all() == []


def test_new_sign_up_holds_the_write_transaction_only_for_its_inserts(app, vol, session):
    """Mail, tokens and validation happen before the first statement: on SQLite that statement
    takes the write lock. Inside: one duplicate check and five rows, then COMMIT. The inserts run
    on the driver's cursor (db.FastInsert), so SQLite itself reports what it executed."""
    statements: list[str] = []
    engine = db.get_engine(app)

    def trace(dbapi_connection, _record):
        if engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(
                lambda sql: statements.append(" ".join(sql.split()[:3]).upper())
            )

    event.listen(engine, "connect", trace)
    engine.dispose()  # pooled connections: reconnect so the trace applies
    try:
        response = vol.sign_up()  # the GET of the form runs no SQL
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()
    assert response.status_code == 303
    if engine.dialect.name == "sqlite":
        assert statements == [
            "BEGIN IMMEDIATE",
            "SELECT VOLUNTEER.ID FROM",
            "INSERT INTO VOLUNTEER",
            "INSERT INTO VOLUNTEER_EVENT",
            "INSERT INTO TOKEN",
            "INSERT INTO TOKEN",
            "INSERT INTO OUTBOX_MESSAGE",
            "COMMIT",
        ]
    # and what was stored is complete: both links of the mail work
    [volunteer] = session.exec(select(volunteers.Volunteer)).all()
    stored = session.exec(select(tokens.Token)).all()
    assert sorted((t.purpose, t.subject, t.single_use) for t in stored) == [
        (volunteers.PURPOSE_CONFIRM, volunteer.subject, True),
        (volunteers.PURPOSE_SELF, volunteer.subject, False),
    ]
    [step] = volunteers.events_of(session, volunteer)
    assert (step.to_status, step.actor, step.step_date) == (
        "aangemeld",
        "vrijwilliger",
        volunteer.created_at.date(),
    )
    session.rollback()  # the fixture's session writes: end its transaction (lock) here
    [message] = vol.deliver()
    assert vol.client.get(vol.personal_link(message)).status_code == 200
    assert vol.client.post(vol.confirm_link(message)).status_code == 303
    assert vol.all()[0].status == "bevestigd"


def test_csrf_token_is_signed_only_when_the_form_is_shown(app):
    """A POST that succeeds redirects without showing a token: signing one there is waste."""
    from flask import g

    from forms_backend.views.volunteer import signup_form_class

    app.config["WTF_CSRF_ENABLED"] = True
    form_class = signup_form_class(volunteers.programme("cosa"))
    with app.test_request_context("/aanmelden/cosa", method="POST", data={"name": "Jan"}):
        form = form_class()
        assert form.csrf_token.current_token is None and "csrf_token" not in g
        html = str(form.csrf_token())
        assert form.csrf_token.current_token and f'value="{form.csrf_token.current_token}"' in html


def test_a_refused_sign_up_shows_a_token_that_works_for_the_next_try(app, vol, client, session):
    app.config["WTF_CSRF_ENABLED"] = True
    data = {**vol.form(), **signup_data(name="")}
    refused = client.post("/aanmelden/cosa", data=data)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Het formulier was verlopen" not in html  # the token of the first try was accepted
    data.update(name="Jan Jansen", csrf_token=hidden(html, "csrf_token"))
    assert client.post("/aanmelden/cosa", data=data).status_code == 303
    assert len(session.exec(select(volunteers.Volunteer)).all()) == 1
    data["csrf_token"] = "vervalst"
    forged = client.post("/aanmelden/cosa", data={**data, "email": "ander@example.nl"})
    assert forged.status_code == 422
    assert "Het formulier was verlopen" in forged.get_data(as_text=True)


def test_session_serializer_is_built_once_per_set_of_keys(app):
    """Cached for speed, but a new key (with the old one as fallback) still opens an old
    cookie, and without the fallback the old cookie is refused."""
    import pytest
    from itsdangerous import BadSignature

    interface = app.session_interface
    old = app.secret_key
    serializer = interface.get_signing_serializer(app)
    cookie = serializer.dumps({"csrf_token": "abc"})
    assert interface.get_signing_serializer(app) is serializer
    app.secret_key = app.config["SECRET_KEY"] = "een-nieuwe-sleutel"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    rotated = interface.get_signing_serializer(app)
    assert rotated is not serializer and rotated.loads(cookie) == {"csrf_token": "abc"}
    app.config["SECRET_KEY_FALLBACKS"] = []
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(app).loads(cookie)


def test_a_form_level_error_in_the_summary_is_text_not_a_link_to_a_hidden_field(client):
    html = client.post("/aanmelden/cosa", data={}).get_data(as_text=True)  # no start stamp
    summary = html.split('id="fouten"', 1)[1].split("</ul>", 1)[0]
    assert "<li>Je formulier is niet verstuurd." in summary
    assert 'href="#started"' not in summary
    # the heading counts the fields to check, not the form's own error
    fields = summary.count('<li><a href="#')
    assert fields > 1 and f"Controleer deze {fields} velden" in summary


def test_an_expired_form_names_no_field_and_says_what_to_do(app, vol, client):
    app.config["WTF_CSRF_ENABLED"] = True
    data = {**vol.form(), **signup_data(), "csrf_token": "verlopen"}
    html = client.post("/aanmelden/cosa", data=data).get_data(as_text=True)
    summary = html.split('id="fouten"', 1)[1].split("</ul>", 1)[0]
    assert "Je formulier is niet verstuurd</h2>" in summary  # no field to check
    assert "<li>Het formulier was verlopen" in summary and "klik nog een keer" in summary
    assert "CSRF" not in summary and "Vernieuw de pagina" not in summary


def test_a_form_opened_before_a_key_change_is_sent_again_once_with_what_was_typed(
    app, vol, client, session
):
    """The README's promise for BRUG_SECRET_KEY_FALLBACKS: a form that was open when the key
    changed is refused once, keeps what was typed, and goes through when sent again."""
    app.config["WTF_CSRF_ENABLED"] = True
    data = {**vol.form(), **signup_data()}
    old = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "een-nieuwe-sleutel"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    refused = client.post("/aanmelden/cosa", data=data)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Het formulier was verlopen" in html and 'value="Jan Jansen"' in html
    data.update(csrf_token=hidden(html, "csrf_token"), started=hidden(html, "started"))
    assert client.post("/aanmelden/cosa", data=data).status_code == 303
    assert len(session.exec(select(volunteers.Volunteer)).all()) == 1
