"""The coordinator workspace: scope, pipeline, mails, CSV export and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from forms_backend import audit, db


@pytest.fixture
def confirmed(vol):
    """Three confirmed volunteers: COSA Gelderland, COSA Utrecht, PI-visitor Gelderland."""
    ids = {}
    ids["cosa-gld"], _ = vol.signed_up_and_confirmed(email="a@example.nl", name="Anna Gelderland")
    ids["cosa-utr"], _ = vol.signed_up_and_confirmed(
        email="b@example.nl", name="Bert Utrecht", postcode="3511 AB"
    )
    ids["pi-gld"], _ = vol.signed_up_and_confirmed(
        programme="bezoekvrijwilliger", email="c@example.nl", name="Cor Bezoek"
    )
    vol.sign_up(email="d@example.nl", name="Dirk Onbevestigd")
    vol.deliver()
    return ids


@pytest.fixture
def coordinator(auth):
    auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.login()
    return auth


def test_login_required(client):
    response = client.get("/beheer/vrijwilligers/")
    assert response.status_code == 302 and "/beheer/inloggen" in response.headers["Location"]
    assert client.get("/beheer/vrijwilligers/export.csv").status_code == 302


def test_coordinator_sees_only_own_programme_and_region(confirmed, coordinator, client):
    html = client.get("/beheer/vrijwilligers/").get_data(as_text=True)
    assert "Anna Gelderland" in html
    assert '<td data-label="Programma">COSA-cirkels</td>' in html  # the title, not the slug
    assert "Bert Utrecht" not in html and "Cor Bezoek" not in html
    assert "Dirk Onbevestigd" not in html  # never confirmed
    assert client.get(f"/beheer/vrijwilligers/{confirmed['cosa-gld']}").status_code == 200
    for other in ("cosa-utr", "pi-gld"):
        assert client.get(f"/beheer/vrijwilligers/{confirmed[other]}").status_code == 404
        assert (
            client.post(
                f"/beheer/vrijwilligers/{confirmed[other]}/stap",
                data={"status": "actief", "step_date": "2026-03-02"},
            ).status_code
            == 404
        )
    assert client.get("/beheer/vrijwilligers/99999999999999999999").status_code == 404


def test_admin_sees_all_confirmed(confirmed, auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    html = client.get("/beheer/vrijwilligers/").get_data(as_text=True)
    assert all(name in html for name in ("Anna Gelderland", "Bert Utrecht", "Cor Bezoek"))
    assert "Dirk Onbevestigd" not in html
    filtered = client.get("/beheer/vrijwilligers/?programme=bezoekvrijwilliger").get_data(
        as_text=True
    )
    assert "Cor Bezoek" in filtered and "Anna Gelderland" not in filtered
    searched = client.get("/beheer/vrijwilligers/?zoek=bert").get_data(as_text=True)
    assert "Bert Utrecht" in searched and "Anna" not in searched
    # ?q= would open the site's own search box over the list (Material reads it on every page)
    assert 'name="q"' not in searched and 'name="zoek"' in searched
    assert client.get("/beheer/vrijwilligers/?status=onzin&programme=%00").status_code == 200


def test_an_invalid_filter_drops_only_itself_and_refuses_the_export(confirmed, auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    query = "programme=bezoekvrijwilliger&status=onzin"
    html = client.get(f"/beheer/vrijwilligers/?{query}").get_data(as_text=True)
    assert "Cor Bezoek" in html and "Anna Gelderland" not in html  # the valid filter holds
    assert "Ongeldige keuze" in html or "Kies" in html
    export = client.get(f"/beheer/vrijwilligers/export.csv?{query}")
    assert export.status_code == 400
    assert "Een van de filters klopt niet" in export.get_data(as_text=True)
    good = client.get("/beheer/vrijwilligers/export.csv?programme=bezoekvrijwilliger")
    assert good.status_code == 200
    assert "Cor Bezoek" in good.get_data(as_text=True)
    assert "Anna Gelderland" not in good.get_data(as_text=True)


def test_pipeline_steps_with_dates_notes_and_mail(app, confirmed, coordinator, vol, client):
    url = f"/beheer/vrijwilligers/{confirmed['cosa-gld']}"
    steps = [
        ("intake_gepland", "2026-03-10", "Gesprek op kantoor", True),
        ("intake_gehad", "2026-03-10", "", False),
        ("vog_aangevraagd", "2026-03-11", "", True),
        ("vog_ontvangen", "2026-03-25", "VOG gezien", False),
        ("training", "2026-04-01", "", False),
        ("actief", "2026-05-01", "", True),
    ]
    for status, on, note, mail in steps:
        data = {"status": status, "step_date": on, "note": note}
        if mail:
            data["send_mail"] = "y"
        response = client.post(url + "/stap", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)
    [v] = [v for v in vol.all() if v.id == confirmed["cosa-gld"]]
    assert v.status == "actief"
    sent = vol.deliver()
    # the note goes along in the mail: the volunteer may read every note anyway
    assert "Bericht van de coördinator:\nGesprek op kantoor" in sent[0].get_content()
    assert "Bericht van de coördinator" not in sent[1].get_content()  # a step without a note
    subjects = [m["Subject"] for m in sent]
    assert subjects == [
        "Je kennismakingsgesprek",
        "Je VOG is aangevraagd",
        "Welkom als vrijwilliger",
    ]
    html = client.get(url).get_data(as_text=True)
    assert "25-03-2026" in html and "VOG gezien" in html and "Gesprek op kantoor" in html
    counts = client.get("/beheer/vrijwilligers/").get_data(as_text=True)
    assert "Actief (1)" in counts


def test_note_only_and_invalid_steps(confirmed, coordinator, client):
    url = f"/beheer/vrijwilligers/{confirmed['cosa-gld']}"
    assert (
        client.post(
            url + "/stap", data={"step_date": "2026-03-02", "note": "Gebeld, geen gehoor"}
        ).status_code
        == 303
    )
    assert "Gebeld, geen gehoor" in client.get(url).get_data(as_text=True)
    for bad in (
        {"status": "aangemeld", "step_date": "2026-03-02"},
        {"status": "bevestigd", "step_date": "2026-03-02"},
        {"status": "actief", "step_date": "gisteren"},
        {"step_date": "2026-03-02"},
    ):
        response = client.post(url + "/stap", data=bad)
        assert response.status_code == 422, bad
    # the clock stands at 2 March 2026, the sign-up was that day
    for on, message in (
        ("0001-01-01", "Deze datum ligt vóór de aanmelding (02-03-2026)"),
        ("2026-03-01", "Deze datum ligt vóór de aanmelding"),
        ("2027-03-04", "hoogstens een jaar vooruit"),
    ):
        response = client.post(url + "/stap", data={"status": "intake_gepland", "step_date": on})
        assert response.status_code == 422 and message in response.get_data(as_text=True), on
    planned = client.post(
        url + "/stap", data={"status": "intake_gepland", "step_date": "2026-04-01"}
    )
    assert planned.status_code == 303  # a planned intake may lie ahead


def test_detail_views_and_exports_are_audited(app, confirmed, coordinator, client):
    volunteer_id = confirmed["cosa-gld"]
    client.get(f"/beheer/vrijwilligers/{volunteer_id}")
    client.get(f"/beheer/vrijwilligers/{volunteer_id}")
    client.get("/beheer/vrijwilligers/export.csv?status=bevestigd")
    client.get("/beheer/vrijwilligers/export.csv?zoek=Anna")  # a name searched for
    with app.app_context(), db.transaction(write=False) as s:
        views = audit.for_subject(s, f"volunteer:{volunteer_id}")
        assert [e.action for e in views].count("vrijwilliger.bekeken") == 2
        exports = s.exec(
            select(audit.AuditEntry).where(audit.AuditEntry.action == "vrijwilligers.export")
        ).all()
        assert [e.detail for e in exports] == ["1 rij; status=bevestigd", "1 rij; zoekterm"]
        details = [e.detail for e in s.exec(select(audit.AuditEntry))]
        assert all("@" not in d and "Anna" not in d for d in details)  # no personal data


def test_audited_views_write_even_when_another_writer_commits_meanwhile(
    app, confirmed, coordinator, client, database_url
):
    """The CI failure of the browser story: the detail page read in a plain (deferred) SQLite
    transaction, the mail worker committed, and the audit entry could then no longer upgrade
    that transaction to a write: SQLite answers "database is locked" at once, without waiting,
    and the coordinator got the 503 page. Views that write on GET declare it (``db.writes``)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a stale read snapshot that cannot become a write is SQLite's (WAL)")
    import sqlite3

    from sqlalchemy import event

    path = database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    other.execute("CREATE TABLE IF NOT EXISTS poke (n INTEGER)")
    pokes: list[str] = []

    def commit_elsewhere(conn, cursor, statement, *args):
        # Right after the page's first read: another connection commits (the mail worker did).
        if not pokes and statement.lstrip().upper().startswith("SELECT"):
            try:
                other.execute("INSERT INTO poke VALUES (1)")
                pokes.append("committed")
            except sqlite3.OperationalError:  # the page holds the write lock: it waits its turn
                pokes.append("waited")

    engine = db.get_engine(app)
    event.listen(engine, "after_cursor_execute", commit_elsewhere)
    try:
        for url in (
            f"/beheer/vrijwilligers/{confirmed['cosa-gld']}",
            "/beheer/vrijwilligers/export.csv",
        ):
            pokes.clear()
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert pokes, "the injection did not run"
    finally:
        event.remove(engine, "after_cursor_execute", commit_elsewhere)
        other.close()


def test_csv_export_neutralises_formulas(vol, auth, client):
    vol.signed_up_and_confirmed(name="=cmd|' /C calc'!A0", phone="+31 6 12345678")
    vol.signed_up_and_confirmed(email="x@example.nl", name="@SUM(1+1)")
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    response = client.get("/beheer/vrijwilligers/export.csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffid;programma;regio;status;sinds;naam;")  # ';' for Dutch Excel
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert {row[1] for row in rows[1:]} == {"COSA-cirkels"}  # names, not slugs
    assert all(re.fullmatch(r"\d\d-\d\d-\d{4}", row[4]) for row in rows[1:])
    names = {row[5] for row in rows[1:]}
    assert names == {"'=cmd|' /C calc'!A0", "'@SUM(1+1)"}
    assert "'+31 6 12345678" in {row[7] for row in rows[1:]}
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_status_change_needs_csrf_when_enabled(app, confirmed, coordinator, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        f"/beheer/vrijwilligers/{confirmed['cosa-gld']}/stap",
        data={"status": "actief", "step_date": "2026-03-02"},
    )
    assert response.status_code == 422
    assert "Het formulier was verlopen" in response.get_data(as_text=True)


def test_the_list_pages_through_every_volunteer_and_keeps_the_filters(vol, auth, client, app):
    """A coordinator with more volunteers than fit on one page can reach each of them."""
    names = [f"Vrijwilliger {n}" for n in range(5)]
    for n, name in enumerate(names):
        vol.signed_up_and_confirmed(email=f"v{n}@example.nl", name=name)
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    app.config["PAGE_SIZE"] = 2

    def page(query: str) -> str:
        response = client.get(f"/beheer/vrijwilligers/?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    seen = []
    for number, expected in ((1, "1–2 van 5"), (2, "3–4 van 5"), (3, "5–5 van 5")):
        html = page(f"zoek=vrijwilliger&pagina={number}")
        assert f"Vrijwilligers {expected}" in html
        seen += [name for name in names if f">{name}</a>" in html]
        nav = html[html.index('aria-label="Pagina\'s"') :]
        links = {
            label: parse_qs(urlsplit(unescape(href)).query)
            for href, label in re.findall(r'<a rel="\w+" href="([^"]+)">(\w+)</a>', nav)
        }
        expected_links = {}
        if number < 3:
            expected_links["Volgende"] = {"zoek": ["vrijwilliger"], "pagina": [str(number + 1)]}
        if number > 1:
            expected_links["Vorige"] = {"zoek": ["vrijwilliger"], "pagina": [str(number - 1)]}
        assert links == expected_links
        assert f"Pagina {number} van 3" in nav
    assert sorted(seen) == names  # each volunteer on exactly one page
    assert len(seen) == 5
    assert "Vrijwilligers 5–5 van 5" in page("zoek=vrijwilliger&pagina=99")  # past the end: last
    for bad in ("abc", "0", "-1", "%00", "9" * 40):
        assert "Vrijwilligers 1–2 van 5" in page(f"pagina={bad}")
    # a status link starts again at page 1
    html = page("pagina=2")
    start = html.index('aria-label="Aantal per status"')
    statuses = html[start : html.index("</nav>", start)]
    assert "?status=" in statuses and "pagina=" not in statuses
    assert 'aria-label="Pagina\'s"' not in page("zoek=vrijwilliger+3")  # one page: no page links


def test_filter_fields_are_not_marked_optional_but_form_fields_are(confirmed, coordinator, client):
    """Every filter is optional, so "(niet verplicht)" after each of them says nothing; on a
    form that people fill in, it marks the fields they may leave empty."""
    listing = client.get("/beheer/vrijwilligers/").get_data(as_text=True)
    start = listing.index('role="search"')
    form = listing[start : listing.index("</form>", start)]
    assert 'for="status"' in form and 'for="zoek"' in form
    assert "niet verplicht" not in form
    assert 'class="brug-filter-actions"' in form
    signup = client.get("/aanmelden/cosa").get_data(as_text=True)
    phone = signup[signup.index('for="phone"') :]
    assert phone.index("(niet verplicht)") < phone.index("<input")  # phone is optional
    name = signup[signup.index('for="name"') :]
    assert name.index("<input") < name.index("(niet verplicht)")  # name is required


def test_the_dashboard_names_a_coordinators_scope_in_words(coordinator, client):
    html = " ".join(client.get("/beheer/").get_data(as_text=True).split())
    assert (
        "Vrijwilligers: je ziet de aanmeldingen voor COSA-cirkels in de regio Gelderland."
        " Bijeenkomsten en inzendingen: je ziet die in de regio Gelderland." in html
    )
    assert "cosa" not in html.split("<h1>", 1)[1].split("</p>", 1)[0]


def test_the_login_page_sends_someone_logged_in_on(coordinator, client):
    response = client.get("/beheer/inloggen")
    assert response.status_code == 302 and response.headers["Location"].endswith("/beheer/")
    onward = client.get("/beheer/inloggen?next=/beheer/vrijwilligers/")
    assert onward.headers["Location"].endswith("/beheer/vrijwilligers/")
    elsewhere = client.get("/beheer/inloggen?next=//evil.example/")
    assert elsewhere.headers["Location"].endswith("/beheer/")  # still only back-office paths


def test_sinds_is_the_steps_own_date_in_amsterdam_time(app, vol, auth, client, clock):
    """A step recorded days later shows the date the coordinator gave it, in the list, on the
    detail page and in the CSV; a sign-up at 00.30 in Amsterdam (23.30 UTC) is of that day."""
    clock.current = dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC)  # 10 March, 00.30 there
    volunteer_id, _ = vol.signed_up_and_confirmed(email="late@example.nl", name="Lotte Laat")
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    listing = client.get("/beheer/vrijwilligers/").get_data(as_text=True)
    assert 'data-label="Sinds">10-03-2026<' in listing
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/beheer/vrijwilligers/export.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            ),
            delimiter=";",
        )
    )
    header = rows[0]
    [row] = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert (row["sinds"], row["aangemeld op"], row["bevestigd op"]) == ("10-03-2026",) * 3
    detail = client.get(f"/beheer/vrijwilligers/{volunteer_id}").get_data(as_text=True)
    assert "<dd>10-03-2026, bevestigd 10-03-2026</dd>" in detail
    export = client.get("/beheer/vrijwilligers/export.csv")
    assert "vrijwilligers-20260310.csv" in export.headers["Content-Disposition"]

    clock.current = dt.datetime(2026, 3, 13, 15, 0, tzinfo=dt.UTC)  # recorded on Friday
    url = f"/beheer/vrijwilligers/{volunteer_id}"
    response = client.post(
        url + "/stap", data={"status": "intake_gepland", "step_date": "2026-03-11"}
    )
    assert response.status_code == 303
    assert 'data-label="Sinds">11-03-2026<' in client.get("/beheer/vrijwilligers/").get_data(
        as_text=True
    )
    assert "sinds 11-03-2026" in client.get(url).get_data(as_text=True)
    export = client.get("/beheer/vrijwilligers/export.csv").get_data(as_text=True)
    assert ";11-03-2026;Lotte Laat;" in export


def test_a_back_office_refusal_says_why_and_leads_back_to_the_back_office(coordinator, client):
    refused = client.get("/beheer/bijeenkomsten/prive-agendas")  # for administrators only
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "alleen voor beheerders" in html
    assert '<a href="/beheer/">Terug naar het beheer</a>' in html
    missing = client.get("/beheer/vrijwilligers/999999")
    assert missing.status_code == 404 and "Terug naar het beheer" in missing.get_data(as_text=True)
    assert "Terug naar het beheer" not in client.get("/bestaat-niet").get_data(as_text=True)
