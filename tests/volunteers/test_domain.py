"""Domain functions with an injected clock, without Flask; configuration checks."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from forms_backend import db, outbox, spreadsheet, volunteers
from forms_backend.accounts import User
from forms_backend.content import REGIOS

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SETTINGS = volunteers.Settings(base_url="http://brug.test")


def test_domain_module_does_not_import_flask():
    tree = ast.parse((ROOT / "forms_backend" / "volunteers.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] in ("flask", "flask_wtf", "werkzeug") for name in imported)
    assert "forms_backend.forms" not in imported and not any(
        n.startswith("forms_backend.views") for n in imported
    )


def test_every_signup_programme_page_has_configuration_and_vice_versa():
    pages = {}
    for path in sorted((ROOT / "content" / "programmas").glob("*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if meta.get("aanmelden"):
            pages[meta["slug"]] = path.name
    assert pages, "no programme page with aanmelden: true"
    assert set(pages) == set(volunteers.programmes())


def test_postcode_table_covers_every_number_once():
    ranges = volunteers.postcode_ranges()
    covered = [n for low, high, _ in ranges for n in range(low, high + 1)]
    assert sorted(covered) == list(range(1000, 10000))
    assert {region for *_, region in ranges} == set(REGIOS) - {"landelijk"}


@pytest.mark.parametrize(
    ("postcode", "region"),
    [
        ("1011 AB", "noord-holland"),
        ("3511AB", "utrecht"),
        ("2511 cv", "zuid-holland"),
        ("6211 AA", "limburg"),
        ("9711 AA", "groningen"),
        ("8911 AA", "friesland"),
        ("9401 AA", "drenthe"),
        ("7511 AA", "overijssel"),
        ("1315 AA", "flevoland"),
        ("4331 AA", "zeeland"),
        ("5611 AA", "noord-brabant"),
        ("6811 AA", "gelderland"),
    ],
)
def test_region_for_postcode(postcode, region):
    assert volunteers.region_for_postcode(postcode) == region


@pytest.mark.parametrize(
    "bad", ["", "0123 AB", "12345", "1234 A", "1234 ABC", "B-1000", "1234\nAB"]
)
def test_bad_postcodes(bad):
    with pytest.raises(volunteers.VolunteerError):
        volunteers.region_for_postcode(bad)


def test_bad_programme_configuration_names_the_key():
    with pytest.raises(ValueError, match="cosa"):
        volunteers.parse_programmes({"cosa": {"title": "x"}})
    with pytest.raises(ValueError, match="vraag"):
        volunteers.parse_programmes(
            {"x": {"title": "x", "next_steps": "y", "questions": [{"id": "Bad Id", "label": "l"}]}}
        )


@pytest.mark.parametrize("cell", ["=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_csv_safe(cell):
    assert spreadsheet.csv_safe(cell) == "'" + cell
    assert spreadsheet.csv_safe("a" + cell) == "a" + cell  # only the start can run a formula


def _input(**overrides):
    data = {
        "programme": "cosa",
        "name": "Jan",
        "email": "Jan@Example.nl",
        "postcode": "6811AA",
        "motivation": "m",
        "availability": ["weekend"],
        "answers": {"twee_jaar": "ja", "zedendelict": "nee"},
        "consent_version": "abc",
    }
    return volunteers.SignupInput.model_validate({**data, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "a@b.nl\r\nBcc: x@y.nl"},
        {"name": "a\x00b"},
        {"name": "x" * 121},
        {"availability": ["altijd"]},
    ],
)
def test_signup_input_refuses_bad_values(overrides):
    with pytest.raises(ValueError):
        _input(**overrides)


def _sign_up(session, now=T0, **overrides):
    result = volunteers.sign_up(session, _input(**overrides), now=now, settings=SETTINGS)
    return session.get(volunteers.Volunteer, result.volunteer_id)


def _confirm(session, volunteer, now):
    [message] = [
        m
        for m in session.exec(select(outbox.OutboxMessage))
        if m.kind == "vrijwilliger.bevestigen" and m.recipient == volunteer.email
    ][-1:]
    raw = re.search(r"/aanmelden/bevestigen/(\S+)", message.body).group(1)
    return volunteers.confirm(session, raw, now=now)


def _end(session, volunteer, now, status="gestopt"):
    admin = User(id=1, email="a@x", name="a", password_hash="x", role="admin", created_at=now)
    volunteers.change_status(
        session,
        admin,
        volunteer.id,
        status=status,
        on=now.date(),
        note="",
        send_mail=False,
        now=now,
        settings=SETTINGS,
    )


def test_sign_up_normalises_and_rejects_bad_answers(session):
    volunteer = _sign_up(session)
    assert (volunteer.email, volunteer.postcode, volunteer.region) == (
        "jan@example.nl",
        "6811 AA",
        "gelderland",
    )
    with pytest.raises(volunteers.VolunteerError, match="Kies een van"):
        _sign_up(
            session, email="x@example.nl", answers={"twee_jaar": "misschien", "zedendelict": "ja"}
        )
    with pytest.raises(volunteers.NotFound):
        _sign_up(session, programme="bestaat-niet")


@pytest.mark.parametrize(
    ("link_ttl", "says"),
    [
        (dt.timedelta(days=7), "werkt 7 dagen:"),
        (dt.timedelta(hours=24), "werkt 1 dag:"),
        (dt.timedelta(hours=36), "werkt 36 uur:"),  # not "1 dag": that would be too short
        (dt.timedelta(hours=12), "werkt 12 uur:"),  # not "0 dagen"
    ],
)
def test_the_mail_says_how_long_the_personal_link_works(session, link_ttl, says):
    settings = volunteers.Settings(base_url="http://brug.test", link_ttl=link_ttl)
    volunteers.sign_up(session, _input(), now=T0, settings=settings)
    [message] = session.exec(select(outbox.OutboxMessage)).all()
    assert says in " ".join(message.body.split())


@pytest.mark.parametrize(
    ("confirm_ttl", "says"),
    [
        (dt.timedelta(hours=72), "werkt 3 dagen:"),
        (dt.timedelta(hours=1), "werkt 1 uur:"),
        (dt.timedelta(minutes=30), "werkt 30 minuten:"),  # not "0 uur"
    ],
)
def test_the_mail_says_how_long_the_confirmation_link_works(session, confirm_ttl, says):
    settings = volunteers.Settings(base_url="http://brug.test", confirm_ttl=confirm_ttl)
    volunteers.sign_up(session, _input(), now=T0, settings=settings)
    [message] = session.exec(select(outbox.OutboxMessage)).all()
    assert f"Bevestig je aanmelding met deze link. De link {says}" in " ".join(message.body.split())


def test_retention_with_injected_clock(session):
    terms = volunteers.RetentionTerms(
        unconfirmed=dt.timedelta(days=30),
        motivation_after_end=dt.timedelta(days=365),
        all_after_end=dt.timedelta(days=730),
    )
    unconfirmed = _sign_up(session, email="u@example.nl")
    stopped = _sign_up(session, email="s@example.nl")
    _confirm(session, stopped, T0)
    active = _sign_up(session, email="a@example.nl")
    _confirm(session, active, T0)
    _end(session, stopped, T0 + dt.timedelta(days=1))

    day = dt.timedelta(days=1)
    assert (
        volunteers.purge_unconfirmed(session, T0 + 30 * day - dt.timedelta(seconds=1), terms) == 0
    )
    assert (
        volunteers.purge_unconfirmed(session, T0 + 30 * day + dt.timedelta(seconds=1), terms) == 1
    )
    session.commit()
    assert session.get(volunteers.Volunteer, unconfirmed.id) is None

    assert volunteers.purge_motivation(session, T0 + 365 * day, terms) == 0
    assert volunteers.purge_motivation(session, T0 + 367 * day, terms) == 1
    session.commit()
    session.refresh(stopped)
    assert stopped.motivation is None and stopped.answers is None and stopped.name == "Jan"
    assert volunteers.purge_motivation(session, T0 + 368 * day, terms) == 0  # nothing left to purge

    assert volunteers.purge_ended(session, T0 + 731 * day, terms) == 0
    assert volunteers.purge_ended(session, T0 + 732 * day, terms) == 1
    session.commit()
    assert session.get(volunteers.Volunteer, stopped.id) is None
    session.refresh(active)
    assert active.motivation == "m"  # an active volunteer keeps everything
    assert volunteers.erasure_counts(session) == {"onbevestigd": 1, "bewaartermijn": 1}


def test_purge_command_uses_configured_terms(app, runner, clock, session):
    _sign_up(session, now=clock())
    session.close()  # release SQLite's write lock before the command runs
    clock.advance(days=31)
    with app.app_context():  # `flask` pushes one itself; the test runner does not
        result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "onbevestigde aanmeldingen (alle gegevens): 1 verwijderd" in result.output


def test_purge_terms_come_from_config(app_config, clock):
    from forms_backend import create_app

    app_config["VOLUNTEER_UNCONFIRMED_DAYS"] = 2
    app = create_app(app_config)
    with app.app_context(), db.transaction() as s:
        _sign_up(s, now=clock())
    clock.advance(days=3)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["purge"])
    assert "onbevestigde aanmeldingen (alle gegevens): 1 verwijderd" in result.output
    db.get_engine(app).dispose()


def test_demo_data(app, runner, session):
    with app.app_context():
        result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    demo = session.exec(select(volunteers.Volunteer)).all()
    assert len(demo) >= 5
    assert all(
        v.email.endswith("@demo.brug.example.nl") and v.name.startswith("Demo Vrijwilliger")
        for v in demo
    )
    assert {"bevestigd", "actief", "aangemeld"} <= {v.status for v in demo}
    for v in demo:  # the demo tells one story: confirmed when its "Bevestigd" step says so
        steps = {e.to_status: e for e in volunteers.events_of(session, v)}
        if "bevestigd" in steps:
            assert v.confirmed_at == steps["bevestigd"].at, v.name
        else:
            assert v.confirmed_at is None, v.name


def test_the_duplicate_check_finds_the_address_through_its_index(tmp_path):
    """The check runs under the write lock for every sign-up. SQLite once answered it through
    the programme index (every row of a programme matches), scanning all sign-ups of COSA:
    13 ms at 29,000 rows (bench/results/signup.md). It must seek the address instead."""
    url = f"sqlite:///{tmp_path / 'plan.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:
        sql = str(volunteers._SELECT_EXISTING.statement.compile(dialect=engine.dialect))
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, ("iemand@example.nl", "cosa", 1, 0)
        ).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_volunteer_email_programme" in details, details
    assert "TEMP B-TREE" not in details  # newest first straight from the index, no sort
