"""The story through the backend: submit, ask, answer, approve, build, live — and failures."""

from __future__ import annotations

import datetime as dt
import os
import re
from html import unescape
from pathlib import Path

from sqlalchemy import event
from sqlmodel import select

from forms_backend import audit, db, outbox, submissions

from .conftest import CONTACT_EMAIL, CONTACT_NAME, run_builds


def _status_token(response) -> str:
    return re.search(r"/inzenden/status/([\w-]+)", response.headers["Location"]).group(1)


def _the_submission_as_admin(app, auth) -> int:
    """Log in as an administrator; the id of the one submission the test made."""
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    with app.app_context():
        return db.session().exec(select(submissions.Submission.id)).one()


def _deliver(app, mail):
    outbox.deliver_due(db.get_engine(app), mail, app.extensions["brug.clock"])
    return mail.sent


def test_submit_stores_and_confirms_with_a_status_link(app, client, submit, mail):
    response = submit()
    assert response.status_code == 303
    token = _status_token(response)
    page = client.get(f"/inzenden/status/{token}")
    assert page.status_code == 200
    assert "Ingediend" in page.get_data(as_text=True)
    assert "<dt>Ingediend op</dt>" in page.get_data(as_text=True)  # the date, not the state again
    sent = _deliver(app, mail)
    assert len(sent) == 1 and sent[0]["To"] == CONTACT_EMAIL
    assert "/inzenden/status/" in sent[0].get_content()


def test_each_kind_speaks_of_itself_in_form_and_mail(app, client, submit, mail):
    werkbezoek = client.get("/inzenden/werkbezoek").get_data(as_text=True)
    assert "Over welke fase gaat het werkbezoek?" in werkbezoek and "Heerde" not in werkbezoek
    praktijk = client.get("/inzenden/praktijk").get_data(as_text=True)
    assert "In welke fase helpt jullie aanpak?" in praktijk
    assert submit("werkbezoek").status_code == 303
    assert submit("praktijk", title="Een tweede voorbeeld").status_code == 303
    bodies = [m.get_content() for m in _deliver(app, mail)]
    assert any("Bedankt voor je aanbod voor een werkbezoek" in body for body in bodies)
    assert any("Bedankt voor je praktijkvoorbeeld" in body for body in bodies)


def test_form_errors_rerender_with_input_and_422(client, submit):
    response = submit(title="", leefgebieden=[], body="Mijn tekst blijft staan")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Geef een titel." in text and "Mijn tekst blijft staan" in text


def test_javascript_link_is_refused_with_a_dutch_message(client, submit):
    response = submit(body="Klik [hier](javascript:alert(1)) voor meer.")
    assert response.status_code == 422
    assert "is niet toegestaan" in response.get_data(as_text=True)


def test_contact_in_public_text_is_refused(client, submit):
    response = submit(body=f"Mail mij: {CONTACT_EMAIL}")
    assert response.status_code == 422
    assert "Je eigen e-mailadres staat in de openbare tekst" in response.get_data(as_text=True)


def test_preview_renders_like_the_site_and_neutralises_html(client, submit):
    response = submit(
        actie="voorbeeld",
        body="## Kopje\n\n<script>alert('x')</script>\n\n!!! note \"Let op\"\n    Tekst",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="kopje">' in text and 'class="admonition note"' in text
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text


def test_preview_shows_what_the_site_adds_to_the_page(client, submit):
    """The page template adds the werkbezoek facts, the sources and the topic chips."""
    response = submit("werkbezoek", actie="voorbeeld")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    preview = text[text.index('class="brug-preview"') :]
    facts = re.sub(r"\s+", " ", preview)
    assert "<dt>Soort</dt><dd>Aanbod voor een werkbezoek</dd>" in facts
    assert "<dt>Plaats</dt><dd>Voorbeeldstad</dd>" in facts
    assert (
        "<dt>Contact</dt><dd><a href=\"mailto:werkbezoek@voorbeeldstad.example.nl\">"
        "werkbezoek@voorbeeldstad.example.nl</a></dd>"
    ) in facts
    assert '<a href="https://voorbeeldstad.example.nl/jaarverslag" rel="noopener">' in preview
    assert "Jaarverslag buurtteam</a>, Gemeente Voorbeeldstad" in facts
    chips = re.findall(r'<span class="brug-chip[^"]*">([^<]+)</span>', preview)
    assert chips == ["Werkbezoek", "Werk en dagbesteding", "Gelderland", "Tijdens detentie",
                     "Na detentie", "Gemeente"]  # fmt: skip
    assert "Je contactgegevens staan er niet op" in preview
    assert "Kom kijken hoe (ex-)gedetineerden" in preview  # the summary, shown apart


def test_preview_of_a_refused_link_shows_the_page_and_the_problem(client, submit):
    response = submit(actie="voorbeeld", body="Zie [hier](javascript:alert(1)) en lees verder.")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "is niet toegestaan" in text
    preview = text[text.index('class="brug-preview"') :]
    assert "lees verder" in preview and '<span class="brug-chip">Wonen</span>' in preview


def test_honeypot_rejects_without_storing(app, client, submit, session):
    response = submit(website="http://spam.example")
    assert response.status_code == 422
    assert session.exec(select(submissions.Submission)).all() == []


def test_unknown_status_link_is_404(client):
    assert client.get("/inzenden/status/bestaat-niet").status_code == 404


def test_question_answer_approve_and_publish(
    app, client, auth, submit, mail, published_site, content_dir
):
    token = _status_token(submit(body="Tekst met <script>alert('xss')</script> erin."))
    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()

    assert client.post(f"/beheer/inzendingen/{sub_id}/behandelen").status_code == 303
    assert (
        client.post(
            f"/beheer/inzendingen/{sub_id}/vraag", data={"body": "Hoeveel mensen deden mee?"}
        ).status_code
        == 303
    )
    status_page = client.get(f"/inzenden/status/{token}").get_data(as_text=True)
    assert "Hoeveel mensen deden mee?" in status_page
    assert (
        client.post(f"/inzenden/status/{token}", data={"body": "Twaalf mensen."}).status_code == 303
    )
    detail = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True)
    assert "Twaalf mensen." in detail and "In behandeling" in detail

    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 303
    assert client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()["phase"] == "wachtrij"
    page_file = content_dir / "praktijken" / "buurtteam-voorbeeldstad-wonen-na-detentie.md"
    assert page_file.is_file()
    before = os.path.realpath(published_site)

    assert run_builds(app) is True
    status = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()
    assert (
        status["phase"] == "live"
        and status["page_url"] == "/praktijken/buurtteam-voorbeeldstad-wonen-na-detentie/"
    )
    assert os.path.realpath(published_site) != before
    assert Path(before).is_dir(), "the previous release is kept for rollback"
    live = client.get(status["page_url"])
    assert live.status_code == 200
    html = live.get_data(as_text=True)
    assert (
        "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
        or "&lt;script&gt;alert('xss')&lt;/script&gt;" in html
    )
    assert "<script>alert('xss')" not in html
    # the build after an approval names the backend's public address, not the developer's port
    assert f'rel="canonical" href="http://brug.test{status["page_url"]}"' in html
    wonen = client.get("/leefgebieden/wonen/").get_data(as_text=True)
    assert "buurtteam-voorbeeldstad-wonen-na-detentie" in wonen
    gelderland = client.get("/regios/gelderland/").get_data(as_text=True)
    assert "buurtteam-voorbeeldstad-wonen-na-detentie" in gelderland
    search = client.get("/search/search_index.json").get_data(as_text=True)
    assert "Buurtteam Voorbeeldstad" in search

    subjects = [m["Subject"] for m in _deliver(app, mail)]
    assert any("Vraag over je inzending" in s for s in subjects)
    assert any("staat op de site" in s for s in subjects)
    with db.new_session(db.get_engine(app), write=False) as s:
        actions = [e.action for e in audit.for_subject(s, f"submission:{sub_id}")]
    assert actions == [
        "inzending.ingediend",
        "inzending.in-behandeling",
        "inzending.vraag",
        "inzending.antwoord",
        "inzending.goedgekeurd",
        "inzending.gepubliceerd",
    ]
    # The moderator reads the log in words: who (by name), what, when (Amsterdam time).
    log = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True).split("Logboek")[1]
    assert "user:" not in log and "inzending." not in log
    assert "Ingediend door de inzender" in log
    assert "Vraag gesteld door mod" in log and "Gepubliceerd door Brug" in log
    assert "maandag 2 maart 2026, 10.00 uur" in log  # START is 09.00 UTC, 10.00 in winter


def test_a_published_page_can_be_taken_off_the_site(
    app, client, auth, submit, mail, published_site, content_dir
):
    token = _status_token(submit())
    sub_id = _the_submission_as_admin(app, auth)
    client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    assert run_builds(app) is True
    url = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()["page_url"]
    assert client.get(url).status_code == 200
    detail = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True)
    assert "Van de site halen" in detail
    _deliver(app, mail)

    # without a reason or the tick nothing happens, and the moderator is told why
    for data, message in (
        ({"reason": "Er staat een telefoonnummer in."}, "Vink aan dat je de pagina"),
        ({"sure": "y"}, "Schrijf de reden."),
    ):
        refused = client.post(f"/beheer/inzendingen/{sub_id}/offline", data=data)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert client.get(url).status_code == 200

    done = client.post(
        f"/beheer/inzendingen/{sub_id}/offline",
        data={"reason": "Er staat een telefoonnummer in.", "sure": "y"},
    )
    assert done.status_code == 303
    page_file = content_dir / "praktijken" / "buurtteam-voorbeeldstad-wonen-na-detentie.md"
    assert not page_file.exists()
    assert run_builds(app) is True
    assert client.get(url).status_code == 404
    status = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()
    assert status["phase"] == "offline" and status["page_url"] is None
    assert "buurtteam" not in client.get("/search/search_index.json").get_data(as_text=True)
    notice = _deliver(app, mail)[-1]
    assert "staat niet meer op de site" in notice["Subject"]
    assert "Er staat een telefoonnummer in." in notice.get_content()
    public = client.get(f"/inzenden/status/{token}").get_data(as_text=True)
    assert (
        "Je pagina staat niet meer op de site. De reden: Er staat een telefoonnummer in." in public
    )
    # once offline, it cannot go offline again
    again = client.post(
        f"/beheer/inzendingen/{sub_id}/offline", data={"reason": "Nog eens.", "sure": "y"}
    )
    assert again.status_code == 409


def test_an_answer_sent_twice_gets_a_409_under_its_own_heading(app, client, auth, submit):
    token = _status_token(submit())
    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()
    assert client.post(f"/beheer/inzendingen/{sub_id}/behandelen").status_code == 303
    question = client.post(f"/beheer/inzendingen/{sub_id}/vraag", data={"body": "Hoeveel?"})
    assert question.status_code == 303
    answer = {"body": "Twaalf mensen."}
    assert client.post(f"/inzenden/status/{token}", data=answer).status_code == 303
    again = client.post(f"/inzenden/status/{token}", data=answer)
    html = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "<h1>Dit kan nu niet</h1>" in html and "Er ging iets mis" not in html
    assert "Er staat geen vraag open bij deze inzending." in html


def test_failed_build_keeps_the_old_site_and_marks_mislukt(
    app, client, auth, submit, published_site, content_dir
):
    submit()
    sub_id = _the_submission_as_admin(app, auth)
    # Something else in content/ breaks the build (a page that does not fit the schema).
    (content_dir / "nieuws" / "kapot.md").write_text(
        "---\ntype: onbekend\ntitle: x\nsummary: y\n---\n\nx\n"
    )
    before = os.path.realpath(published_site)
    client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    assert run_builds(app) is False
    assert os.path.realpath(published_site) == before
    status = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()
    assert (
        status["phase"] == "mislukt"
        and "kapot.md" in status["message"]
        and "type" in status["message"]
    )
    assert not (
        content_dir / "praktijken" / "buurtteam-voorbeeldstad-wonen-na-detentie.md"
    ).exists()
    assert client.get("/").status_code == 200
    detail = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True)
    assert "Publiceren is mislukt" in detail and "kapot.md" in detail
    # Fixed, the moderator publishes again.
    (content_dir / "nieuws" / "kapot.md").unlink()
    client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    assert run_builds(app) is True
    assert client.get("/praktijken/buurtteam-voorbeeldstad-wonen-na-detentie/").status_code == 200


def test_reject_sends_the_reason(app, client, auth, submit, mail):
    submit()
    sub_id = _the_submission_as_admin(app, auth)
    assert (
        client.post(f"/beheer/inzendingen/{sub_id}/afwijzen", data={"reason": ""}).status_code
        == 422
    )
    assert (
        client.post(
            f"/beheer/inzendingen/{sub_id}/afwijzen", data={"reason": "Dit staat al op de site."}
        ).status_code
        == 303
    )
    rejected = [m for m in _deliver(app, mail) if "komt niet op de site" in m["Subject"]]
    assert len(rejected) == 1 and "Dit staat al op de site." in rejected[0].get_content()
    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 409
    status = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()
    assert (status["phase"], status["label"]) == (
        "afgewezen",
        "Afgewezen: deze inzending komt niet op de site.",
    )  # not "Nog niet goedgekeurd."


def test_coordinator_sees_only_own_region(app, client, auth, submit):
    submit(regio="limburg")
    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()
    assert "Buurtteam" not in client.get("/beheer/inzendingen/").get_data(as_text=True)
    assert client.get(f"/beheer/inzendingen/{sub_id}").status_code == 404
    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 404


def test_moderator_edits_before_approving(app, client, auth, submit):
    submit()
    sub_id = _the_submission_as_admin(app, auth)
    form = client.get(f"/beheer/inzendingen/{sub_id}/bewerken").get_data(as_text=True)
    assert (
        "Buurtteam Voorbeeldstad" in form
        and "Jaarverslag buurtteam | Gemeente Voorbeeldstad" in form
    )
    from .conftest import praktijk_form

    data = {
        k: v
        for k, v in praktijk_form(title="Buurtteam Voorbeeldstad: een kamer op tijd").items()
        if not k.startswith("contact") and k != "consent"
    }
    data["actie"] = "bewaren"
    assert client.post(f"/beheer/inzendingen/{sub_id}/bewerken", data=data).status_code == 303
    detail = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True)
    assert "een kamer op tijd" in detail and "Bewerkt door" in detail


def test_werkbezoek_page_has_the_block_and_only_a_role_mailbox(
    app, client, auth, submit, content_dir, writer
):
    assert submit("werkbezoek", role_mailbox=CONTACT_EMAIL).status_code == 422
    assert submit("werkbezoek").status_code == 303
    sub_id = _the_submission_as_admin(app, auth)
    client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    text = (
        content_dir / "werkbezoeken" / "werkbezoek-aan-het-leer-werkbedrijf-voorbeeldstad.md"
    ).read_text()
    assert (
        "werkbezoek:\n  soort: aanbod\n  plaats: Voorbeeldstad\n"
        "  organisatie: Gemeente Voorbeeldstad\n  contact: werkbezoek@voorbeeldstad.example.nl"
    ) in text
    assert CONTACT_NAME not in text and CONTACT_EMAIL not in text


def test_the_queue_pages_through_every_submission_in_scope(app, client, auth, submit):
    """More submissions than fit on a page: each is on exactly one page, the counts cover all
    of them, and a coordinator's pages hold only their own region."""
    titles = {f"Praktijk nummer {n}: wonen na detentie": "gelderland" for n in range(5)}
    titles.update({f"Praktijk nummer {n}: werk na detentie": "limburg" for n in range(5, 7)})
    for title, regio in titles.items():
        assert submit(title=title, regio=regio).status_code == 303
    app.config["PAGE_SIZE"] = 2

    def pages(query: str = "") -> tuple[list[str], str]:
        found, number, html = [], 1, ""
        while True:
            response = client.get(f"/beheer/inzendingen/?{query}&pagina={number}")
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            found += [title for title in titles if f">{title}</a>" in html]
            if 'rel="next"' not in html:
                return found, html
            next_link = unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))
            assert f"pagina={number + 1}" in next_link and query in next_link
            number += 1

    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    found, last = pages()
    assert sorted(found) == sorted(titles)  # every submission, each on one page
    assert "Inzendingen 7–7 van 7" in last and "Pagina 4 van 4" in last
    assert "Ingediend (7)" in last
    found, last = pages("status=ingediend")
    assert sorted(found) == sorted(titles)
    assert "Pagina 4 van 4" in last
    first = client.get("/beheer/inzendingen/?pagina=abc").get_data(as_text=True)
    assert "Inzendingen 1–2 van 7" in first and 'rel="prev"' not in first
    assert "Inzendingen 7–7 van 7" in client.get("/beheer/inzendingen/?pagina=99").get_data(
        as_text=True
    )

    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    found, last = pages()
    assert sorted(found) == sorted(t for t, r in titles.items() if r == "gelderland")
    assert "Inzendingen 5–5 van 5" in last and "Ingediend (5)" in last


def test_an_approval_after_midnight_dates_the_page_in_amsterdam_time(
    app, client, auth, submit, clock, content_dir
):
    submit()
    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()
    clock.current = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)  # 10 March, 00.30 there
    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 303
    page = content_dir / "praktijken" / "buurtteam-voorbeeldstad-wonen-na-detentie.md"
    assert "\ndatum: '2026-03-10'\n" in page.read_text(encoding="utf-8")


def _refuse_writes(app) -> None:
    """From now on the database takes no write (a read-only disk, a replica): real refusals of
    SQLite (query_only) and PostgreSQL (read-only transactions), not a fake."""
    engine = db.get_engine(app)

    def read_only(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    event.listen(engine, "connect", read_only)
    engine.dispose()  # pooled connections reconnect, so the refusal applies


def _pages(content_dir):
    return {p.relative_to(content_dir).as_posix(): p.read_text() for p in content_dir.rglob("*.md")}


def test_an_approval_the_database_refuses_leaves_no_page_behind(
    app, client, auth, submit, content_dir
):
    """The page is written before the database records the approval; when that fails, the
    page goes again: no build publishes it, and approving later writes it once, not twice."""
    submit()
    auth.create("mod@brug.example.nl", role="coordinator", regions=["gelderland"])
    auth.login("mod@brug.example.nl")
    with app.app_context():
        sub_id = db.session().exec(select(submissions.Submission.id)).one()
    before = _pages(content_dir)
    _refuse_writes(app)
    refused = client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren")
    assert refused.status_code == 503
    assert "Traceback" not in refused.get_data(as_text=True)
    assert _pages(content_dir) == before


def test_taking_offline_that_the_database_refuses_puts_the_page_back(
    app, client, auth, submit, content_dir, published_site
):
    submit()
    sub_id = _the_submission_as_admin(app, auth)
    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 303
    assert run_builds(app) is True
    before = _pages(content_dir)
    _refuse_writes(app)
    refused = client.post(
        f"/beheer/inzendingen/{sub_id}/offline",
        data={"reason": "Er staat een telefoonnummer in.", "sure": "y"},
    )
    assert refused.status_code == 503
    assert _pages(content_dir) == before  # still on disk, as the database still says


def test_html_in_title_or_summary_is_refused_before_it_reaches_the_site(client, submit, session):
    """Material writes title and summary into <title>, the header and <meta content="...">
    without escaping; a submitted page must not be able to run a script there."""
    for field, value in (
        ("title", 'Test <script>alert("t")</script>'),
        ("summary", 'Goed idee"><script>alert("s")</script>'),
    ):
        response = submit(**{field: value})
        assert response.status_code == 422, field
        assert "gebruik geen &lt; &gt; of &#34;" in response.get_data(as_text=True), field
    assert submit(title="Wonen na detentie: ‘samen’ en „snel”").status_code == 303
    stored = session.exec(select(submissions.Submission.title)).all()
    assert stored == ["Wonen na detentie: ‘samen’ en „snel”"]  # only the one without HTML


def _one_form(client, kind: str = "praktijk", **overrides):
    """A filled form as the browser holds it: one page load, one start stamp."""
    from .conftest import praktijk_form, werkbezoek_form

    form = praktijk_form(**overrides) if kind == "praktijk" else werkbezoek_form(**overrides)
    page = client.get(f"/inzenden/{kind}").get_data(as_text=True)
    form["started"] = re.search(r'name="started"[^>]*value="([^"]+)"', page).group(1)
    return form


def _submission_count(app) -> int:
    with db.new_session(db.get_engine(app), write=False) as s:
        return len(s.exec(select(submissions.Submission)).all())


def test_a_double_click_stores_one_submission_and_both_answers_lead_to_it(app, client, mail):
    """The browser shows the answer to the second click: it too leads to the status page."""
    form = _one_form(client)
    first = client.post("/inzenden/praktijk", data=form)
    second = client.post("/inzenden/praktijk", data=form)
    assert first.status_code == second.status_code == 303
    assert _submission_count(app) == 1
    for response in (first, second):
        page = client.get(f"/inzenden/status/{_status_token(response)}")
        assert page.status_code == 200 and form["title"] in page.get_data(as_text=True)
    assert len(_deliver(app, mail)) == 1  # one confirmation mail, not two


def test_the_same_page_sent_again_with_changes_is_a_new_submission(app, client):
    form = _one_form(client)
    assert client.post("/inzenden/praktijk", data=form).status_code == 303
    form["title"] = "Een ander voorbeeld uit Voorbeeldstad"
    assert client.post("/inzenden/praktijk", data=form).status_code == 303
    assert _submission_count(app) == 2


def test_the_same_post_much_later_makes_no_second_submission_and_gives_no_link(app, client):
    form = _one_form(client)
    assert client.post("/inzenden/praktijk", data=form).status_code == 303
    app.extensions["brug.clock"].advance(days=2)
    again = client.post("/inzenden/praktijk", data=form)
    assert again.status_code == 422 and "Location" not in again.headers
    assert "al ontvangen" in again.get_data(as_text=True)
    assert _submission_count(app) == 1


def test_concurrent_double_submit_stores_one(app):
    """Two clicks in flight at once (both databases): the unique form key decides."""
    import threading

    form = _one_form(app.test_client())
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post("/inzenden/praktijk", data=form).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [303] * 4
    assert _submission_count(app) == 1


def test_preview_loads_no_image_from_another_host(client, submit):
    """The image is refused for publication; the preview must not fetch it meanwhile either."""
    response = submit(actie="voorbeeld", body="Kijk:\n\n![Foto](https://tracker.example.com/p.png)")
    text = response.get_data(as_text=True)
    assert "gebruik alleen afbeeldingen van deze site" in text
    assert "tracker.example.com/p.png\"" not in text.replace("&#34;", '"')
    assert not re.search(r"<img[^>]+src=[\"']https?://tracker", text)


def test_an_expired_status_link_answers_410_in_dutch_and_an_unknown_one_404(app, client, submit):
    token = _status_token(submit())
    app.extensions["brug.clock"].advance(days=submissions.STATUS_TTL.days + 1)
    gone = client.get(f"/inzenden/status/{token}")
    assert gone.status_code == 410
    assert "verlopen" in gone.get_data(as_text=True)
    assert client.get("/inzenden/status/bestaat-niet").status_code == 404


def test_every_bad_source_line_is_named_at_once_and_the_lines_stay(client, submit):
    bronnen = "Alleen een titel\nRapport | Uitgever | ftp://bestanden\nGoed | Uitgever"
    response = submit(bronnen=bronnen)
    assert response.status_code == 422
    text = unescape(response.get_data(as_text=True))
    assert "Bron op regel 1: schrijf 'titel | uitgever | webadres'" in text
    assert "Bron op regel 2: het webadres begint met https://" in text
    assert "regel 3" not in text
    assert bronnen in text  # what was typed stays in the field


def test_a_werkbezoek_takes_the_real_general_mailbox_of_an_organisation(app, submit):
    """Not only example domains: a real organisation publishes its real role mailbox."""
    assert submit("werkbezoek", role_mailbox="werkbezoek@leerwerkbedrijf.test").status_code == 303
    with db.new_session(db.get_engine(app), write=False) as s:
        [stored] = s.exec(select(submissions.Submission)).all()
    assert stored.role_mailbox == "werkbezoek@leerwerkbedrijf.test"


def test_a_personal_address_as_the_werkbezoek_mailbox_is_refused(client, submit):
    response = submit("werkbezoek", role_mailbox="anna.de.vries@leerwerkbedrijf.test")
    assert response.status_code == 422
    assert "Dit lijkt een persoonlijk adres" in response.get_data(as_text=True)


def _blocks(html: str) -> list[str]:
    """The werkbezoek facts and the source list, whitespace made uniform."""
    found = re.findall(
        r'<dl class="brug-feiten">\s*<dt>Soort</dt>.*?</dl>|<ul class="brug-bronnen">.*?</ul>',
        html,
        flags=re.S,
    )
    return [re.sub(r">\s+", ">", re.sub(r"\s+", " ", block)) for block in found]


def test_the_preview_shows_facts_and_sources_as_the_built_page_does(
    app, client, auth, submit, published_site
):
    """One template renders both (forms_backend/templates/shared/page_facts.html): the preview
    cannot drift from the page the build makes."""
    preview = submit("werkbezoek", actie="voorbeeld").get_data(as_text=True)
    preview = preview[preview.index('class="brug-preview__page"') :]
    assert submit("werkbezoek").status_code == 303
    sub_id = _the_submission_as_admin(app, auth)
    assert client.post(f"/beheer/inzendingen/{sub_id}/goedkeuren").status_code == 303
    assert run_builds(app) is True
    url = client.get(f"/beheer/inzendingen/{sub_id}/status").get_json()["page_url"]
    page = client.get(url).get_data(as_text=True)
    assert len(_blocks(page)) == 2, _blocks(page)
    assert _blocks(preview) == _blocks(page)


def test_a_submission_without_log_entries_says_so_in_a_sentence_not_a_numbered_item(
    app, client, auth, submit
):
    submit()
    auth.create("mod@brug.example.nl", role="admin")
    auth.login("mod@brug.example.nl")
    with app.app_context(), db.transaction() as s:
        sub_id = s.exec(select(submissions.Submission.id)).one()
        for entry in audit.for_subject(s, f"submission:{sub_id}"):
            s.delete(entry)
    html = client.get(f"/beheer/inzendingen/{sub_id}").get_data(as_text=True)
    log = html.split("<h2>Logboek</h2>", 1)[1]
    assert log.lstrip().startswith("<p>Er staat nog niets in het logboek.</p>"), log[:200]
    assert '<ol class="brug-log">' not in log
