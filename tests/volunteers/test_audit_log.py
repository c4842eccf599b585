"""The administrators' audit log page (/beheer/logboek): who viewed, exported or changed what."""

from __future__ import annotations

import ast
import re
from html import unescape
from pathlib import Path

import pytest

from forms_backend import audit, db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_volunteers(vol):
    first, _ = vol.signed_up_and_confirmed(email="a@example.nl", name="Anna Gelderland")
    second, _ = vol.signed_up_and_confirmed(email="b@example.nl", name="Bert Gelderland")
    vol.deliver()
    return first, second


def rows(html: str) -> list[list[str]]:
    """The log table's rows as the cells' text, top to bottom."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [" ".join(unescape(re.sub(r"<[^>]+>", "", cell)).split()) for cell in row]
        for row in (re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in body.split("</tr>"))
        if row
    ]


def test_an_administrator_sees_who_viewed_and_changed_a_volunteer_newest_first(
    auth, client, two_volunteers, clock
):
    first, second = two_volunteers
    auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.create("admin@brug.example.nl", role="admin")
    auth.login()  # the coordinator views one volunteer, moves them on, exports the list
    assert client.get(f"/beheer/vrijwilligers/{first}").status_code == 200
    clock.advance(minutes=5)
    client.post(
        f"/beheer/vrijwilligers/{first}/stap",
        data={"status": "intake_gepland", "step_date": "2026-03-02"},
    )
    clock.advance(minutes=5)
    assert client.get("/beheer/vrijwilligers/export.csv").status_code == 200
    auth.logout()
    auth.login("admin@brug.example.nl")

    html = client.get("/beheer/logboek/").get_data(as_text=True)
    nav = html.split('class="brug-beheer-nav"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="([^"]+)"', nav)[-1] == "/beheer/logboek/"  # last in the menu
    table = rows(html)
    assert table[0][1:] == ["admin", "Ingelogd", "-", "-"]
    export = ["coord", "Lijst gedownload (CSV)", "De lijst van vrijwilligers", "2 rijen"]
    assert table[1][1:] == export
    assert table[2][1:] == ["coord", "Nieuwe stap", f"Vrijwilliger {first}", "Intake gepland"]
    assert table[3][1:4] == ["coord", "Gegevens bekeken", f"Vrijwilliger {first}"]
    assert f'href="/beheer/vrijwilligers/{first}"' in html
    assert "Anna" not in html and "a@example.nl" not in html  # the log names records by id

    # From the volunteer's page to the log about them alone.
    page = client.get(f"/beheer/vrijwilligers/{first}").get_data(as_text=True)
    link = unescape(re.search(r'href="(/beheer/logboek/\?over=[^"]+)"', page).group(1))
    only = client.get(link).get_data(as_text=True)
    assert f'Alleen over: <strong><a href="/beheer/vrijwilligers/{first}">' in only
    about = {row[3] for row in rows(only)}
    assert about == {f"Vrijwilliger {first}"}
    assert [row[2] for row in rows(only)][:3] == [
        "Gegevens bekeken",  # the administrator's own view, just now
        "Nieuwe stap",
        "Gegevens bekeken",
    ]
    assert f"Vrijwilliger {second}" not in only


def test_the_log_filters_by_kind_and_pages(app, auth, client, vol):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    with app.app_context(), db.transaction() as session:
        now = app.extensions["brug.clock"]()
        for n in range(app.config["PAGE_SIZE"] + 1):
            audit.record(
                session,
                actor="systeem",
                action="vrijwilliger.onbevestigd",
                subject=f"volunteer:{n + 100}",
                now=now,
            )
    html = client.get("/beheer/logboek/?soort=vrijwilliger").get_data(as_text=True)
    assert {row[2] for row in rows(html)} == {"Gewist: niet bevestigd"}  # no login rows
    assert "Pagina 1 van 2" in html and 'rel="next"' in html
    nxt = unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))
    assert "soort=vrijwilliger" in nxt and "pagina=2" in nxt
    assert len(rows(client.get(nxt).get_data(as_text=True))) == 1
    logins = rows(client.get("/beheer/logboek/?soort=account").get_data(as_text=True))
    assert [row[2] for row in logins] == ["Ingelogd"]


@pytest.mark.parametrize(
    "query",
    ["soort=bestaat-niet", "over=volunteer:1%27%3B--", "over=" + "x" * 200],
)
def test_a_bad_filter_answers_400_in_dutch(auth, client, query):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    response = client.get(f"/beheer/logboek/?{query}")
    assert response.status_code == 400
    assert "Dit filter van het logboek klopt niet" in response.get_data(as_text=True)


def test_coordinators_neither_see_nor_open_the_log(auth, client, two_volunteers):
    first, _ = two_volunteers
    auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.login()
    assert client.get("/beheer/logboek/").status_code == 403
    for path in ("/beheer/", f"/beheer/vrijwilligers/{first}"):
        assert "/beheer/logboek" not in client.get(path).get_data(as_text=True), path
    auth.logout()
    assert "/beheer/inloggen" in client.get("/beheer/logboek/").headers["Location"]


def _recorded_actions() -> set[str]:
    """Every action code the code base records: the literals passed as ``action=`` (or to a
    helper that records one), and the dynamic ones expanded from their known values."""
    found: set[str] = set()
    for path in (ROOT / "forms_backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            values = [k.value for k in node.keywords if k.arg == "action"]
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "_record_access":
                values.append(node.args[1])
            for value in values:
                if isinstance(value, ast.JoinedStr):
                    continue  # an f-string: expanded below
                found |= {
                    const.value
                    for const in ast.walk(value)
                    if isinstance(const, ast.Constant)
                    and isinstance(const.value, str)
                    and re.fullmatch(r"[a-z-]+\.[a-z.-]+", const.value)
                }
    found |= {f"vrijwilliger.{r}" for r in ("gewist", "onbevestigd", "bewaartermijn")}
    found |= {f"bijeenkomst.datum.{a}" for a in ("skip", "restore", "cancel", "move")}
    return found


def test_every_action_the_code_records_has_words_on_the_log_page():
    recorded = _recorded_actions()
    assert {"vrijwilliger.bekeken", "aanmeldingen.export", "inzending.vraag"} <= recorded
    assert sorted(recorded - set(audit.ACTIONS)) == []
    assert all(audit.kind_of(a) in audit.KINDS for a in recorded)


def test_the_log_shows_what_one_account_did_and_when_by_amsterdam_dates(
    app, auth, client, clock, two_volunteers
):
    """The question an administrator brings to a log: what did this account look at, and in
    which days. Days are Amsterdam days: 23.30 UTC on 4 March is 5 March here."""
    first, second = two_volunteers
    coord = auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.create("admin@brug.example.nl", role="admin")
    auth.login()
    assert client.get(f"/beheer/vrijwilligers/{first}").status_code == 200  # 2 March, 10.00
    clock.advance(days=2, hours=14, minutes=30)  # 4 March 23.30 UTC: 5 March 00.30 here
    assert client.get(f"/beheer/vrijwilligers/{second}").status_code == 200
    auth.logout()
    auth.login("admin@brug.example.nl")

    everything = client.get("/beheer/logboek/").get_data(as_text=True)
    assert f'<option data-name="" value="user:{coord}">coord</option>' in everything
    assert f'href="/beheer/logboek/?wie=user:{coord}">coord</a>' in everything

    def table(query: str) -> list[tuple[str, str]]:
        response = client.get(f"/beheer/logboek/?{query}")
        assert response.status_code == 200, query
        table = rows(response.get_data(as_text=True))
        return [(r[1], r[2] if r[3] == "-" else r[3]) for r in table]

    seen = [f"Vrijwilliger {second}", f"Vrijwilliger {first}", "Ingelogd"]
    assert table(f"wie=user:{coord}") == [("coord", what) for what in seen]
    assert table(f"wie=user:{coord}&tot=2026-03-04") == [("coord", what) for what in seen[1:]]
    assert table(f"wie=user:{coord}&van=2026-03-05") == [("coord", seen[0])]
    assert table("van=2026-03-05&tot=2026-03-05&soort=account") == [("admin", "Ingelogd")]
    page = client.get(f"/beheer/logboek/?wie=user:{coord}").get_data(as_text=True)
    assert f'<option data-name="" selected value="user:{coord}">coord</option>' in page


def test_a_period_that_ends_before_it_begins_is_refused_on_the_page(auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    response = client.get("/beheer/logboek/?van=2026-03-05&tot=2026-03-02")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Kies een einddatum op of na de begindatum." in html
    assert 'value="2026-03-05"' in html and 'value="2026-03-02"' in html  # kept as typed
    assert "<tbody>" not in html


def test_every_actor_the_code_names_has_words_and_a_filter():
    """A fixed actor (not an account) shows in words in the log and can be chosen under "Wie":
    an actor without words would show as its code, and its link would be refused as a bad
    filter."""
    from forms_backend import accounts

    named: set[str] = set()
    for path in (ROOT / "forms_backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal = isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant)
            if literal and node.arg == "actor" and isinstance(node.value.value, str):
                named.add(node.value.value)
    assert {"systeem", "inzender", "vrijwilliger"} <= named  # the scan finds them
    assert named - set(accounts.ACTOR_WORDS) == set()


def test_an_actors_link_in_the_log_opens_their_entries(app, auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    with app.app_context(), db.transaction() as session:
        now = app.extensions["brug.clock"]()
        for actor in ("systeem", "demo", "user:9999"):  # the last: an account no longer there
            audit.record(session, actor=actor, action="bijeenkomst.aangemaakt", now=now)
    html = client.get("/beheer/logboek/").get_data(as_text=True)
    assert "wie=user:9999" not in html and "(account verwijderd)" in html  # no link to a 400
    for actor, words in (("systeem", "Brug"), ("demo", "demodata")):
        assert f'href="/beheer/logboek/?wie={actor}">{words}</a>' in html
        only = client.get(f"/beheer/logboek/?wie={actor}")
        assert only.status_code == 200
        assert {row[1] for row in rows(only.get_data(as_text=True))} == {words}


def test_a_date_of_a_series_is_named_in_amsterdam_time_not_by_its_key(app, auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    with app.app_context(), db.transaction() as session:
        now = app.extensions["brug.clock"]()
        audit.record(  # what change_occurrence writes: the date's key, its first start in UTC
            session,
            actor="systeem",
            action="bijeenkomst.datum.cancel",
            subject="meeting:3",
            detail="20270413T080000Z",
            now=now,
        )
    table = rows(client.get("/beheer/logboek/?soort=bijeenkomst").get_data(as_text=True))
    assert table[0][2:] == [
        "Eén datum geannuleerd",
        "Bijeenkomst 3",
        "De datum van dinsdag 13 april 2027, 10.00 uur",
    ]


def test_the_log_as_filtered_downloads_as_csv_and_the_download_is_logged(
    app, auth, client, clock, two_volunteers
):
    """What a privacy officer asks for ("who looked at this volunteer's data?") goes into a
    spreadsheet: the same filters as the page, every row (no pages), in words."""
    import csv
    import io

    first, second = two_volunteers
    auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.create("admin@brug.example.nl", role="admin")
    auth.login()
    client.get(f"/beheer/vrijwilligers/{first}")
    clock.advance(minutes=5)
    client.get(f"/beheer/vrijwilligers/{second}")
    auth.logout()
    auth.login("admin@brug.example.nl")

    page = client.get(f"/beheer/logboek/?over=volunteer:{first}").get_data(as_text=True)
    link = unescape(re.search(r'href="(/beheer/logboek/export\.csv\?[^"]*)"', page).group(1))
    assert f"over=volunteer:{first}" in link
    response = client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["Wanneer", "Wie", "Wat", "Over", "Toelichting"]
    assert [row[1:4] for row in table[1:]] == [
        ["coord", "Gegevens bekeken", f"Vrijwilliger {first}"]
    ]
    assert table[1][0] == "02-03-2026 10.00"  # Amsterdam time

    # the download itself is in the log: about the record it was about, with its other filters
    latest = rows(client.get("/beheer/logboek/").get_data(as_text=True))[0]
    assert latest[1:] == ["admin", "Logboek gedownload (CSV)", f"Vrijwilliger {first}", "1 rij"]
    client.get("/beheer/logboek/export.csv?soort=account&van=2026-03-01")
    latest = rows(client.get("/beheer/logboek/").get_data(as_text=True))[0]
    assert latest[3:] == ["-", "2 rijen; soort=account, van=2026-03-01"]


def test_a_log_download_with_a_bad_filter_is_refused_in_dutch(auth, client):
    auth.create("admin@brug.example.nl", role="admin")
    auth.login("admin@brug.example.nl")
    for query in ("soort=bestaat-niet", "van=2026-03-05&tot=2026-03-02"):
        response = client.get(f"/beheer/logboek/export.csv?{query}")
        assert response.status_code == 400, query
        assert "Dit filter van het logboek klopt niet" in response.get_data(as_text=True)


def test_coordinators_cannot_download_the_log(auth, client):
    auth.create(programmes=["cosa"], regions=["gelderland"])
    auth.login()
    assert client.get("/beheer/logboek/export.csv").status_code == 403
