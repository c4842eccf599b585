"""The backend skeleton: factory, config, database settings, health, errors, static site."""

from __future__ import annotations

import ast
import pathlib
from pathlib import Path

import pytest
from sqlalchemy import text

from forms_backend import create_app, db

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "forms_backend"


def test_config_from_test_mapping(app):
    assert app.testing
    assert app.config["DATABASE_URL"].startswith(("sqlite", "postgresql"))


def test_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("BRUG_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="BRUG_SECRET_KEY"):
        create_app()


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("BRUG_SECRET_KEY", "from-env")
    monkeypatch.setenv("BRUG_SITE_DIR", str(tmp_path))
    monkeypatch.setenv("BRUG_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SITE_DIR"] == str(tmp_path)


def test_sqlite_connection_settings(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_write_sessions_take_the_write_lock_at_begin(tmp_path):
    """BEGIN IMMEDIATE: a second writer waits at BEGIN instead of failing mid-transaction."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with db.new_session(engine, write=True) as s:
        s.execute(text("SELECT 1"))  # only a read, but the transaction holds the write lock
        other = sqlite3.connect(tmp_path / "b.sqlite3", timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with db.new_session(engine, write=False) as s:
        s.execute(text("SELECT 1"))
        other = sqlite3.connect(tmp_path / "b.sqlite3", timeout=0.1)
        other.execute("BEGIN IMMEDIATE")  # a read session does not block writers
        other.rollback()
        other.close()


def test_health_reports_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_health_says_503_when_database_is_unreachable(app_config, tmp_path):
    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/missing-dir/none.sqlite3"
    app = create_app(app_config)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["database"] == "onbereikbaar"


def test_unknown_page_is_a_dutch_404(client):
    response = client.get("/bestaat-niet/")
    assert response.status_code == 404
    assert "niet gevonden" in response.get_data(as_text=True)


def test_static_site_is_served_with_etag(client, site_dir):
    (site_dir / "index.html").write_text("<html lang=nl>home</html>", encoding="utf-8")
    (site_dir / "praktijken").mkdir()
    (site_dir / "praktijken" / "index.html").write_text("<p>lijst</p>", encoding="utf-8")
    response = client.get("/")
    assert response.status_code == 200 and "home" in response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/html")
    etag = response.headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/praktijken").status_code == 301
    assert client.get("/praktijken/").status_code == 200


def test_static_site_blocks_traversal_and_hides_the_shell(client, site_dir):
    (site_dir / "_shell").mkdir()
    (site_dir / "_shell" / "index.html").write_text(
        "<html lang=nl><title><!--BRUG:TITLE--></title><!--BRUG:HEAD--><!--BRUG:CONTENT--></html>",
        encoding="utf-8",
    )
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/%2e%2e/pyproject.toml").status_code == 404
    assert client.get("/_shell/").status_code == 404


def test_backend_pages_render_inside_the_shell(client, site_dir):
    (site_dir / "_shell").mkdir()
    (site_dir / "_shell" / "index.html").write_text(
        "<!doctype html><html lang=nl><head><title><!--BRUG:TITLE--> - Brug</title>"
        "<script>var x = 1;</script><!--BRUG:HEAD--></head>"
        "<body><nav>SITE-NAV {{ not jinja }}</nav>"
        "<!--BRUG:CONTENT--></body></html>",
        encoding="utf-8",
    )
    response = client.get("/beheer/inloggen")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "SITE-NAV {{ not jinja }}" in html
    assert "<title>Inloggen - beheer - Brug</title>" in html
    csp = response.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp


def test_a_release_switch_changes_the_shell_of_the_next_backend_page(app, client, tmp_path):
    """Without a restart, and outside debug mode: page and CSP come from the same live shell."""
    import base64
    import hashlib
    import os

    from forms_backend import shell

    def release(name: str) -> Path:
        folder = tmp_path / "releases" / name / "_shell"
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(
            shell.FALLBACK_SHELL.replace("<header>", f"<header><script>var v='{name}'</script>"),
            encoding="utf-8",
        )
        return folder.parent

    def sha(name: str) -> str:
        digest = hashlib.sha256(f"var v='{name}'".encode()).digest()
        return "'sha256-" + base64.b64encode(digest).decode() + "'"

    live = tmp_path / "live"
    os.symlink(release("eerste"), live)
    app.config["SITE_DIR"] = str(live)
    assert not app.debug and not app.jinja_env.auto_reload
    first = client.get("/aanmelden/cosa")
    assert "var v='eerste'" in first.get_data(as_text=True)
    assert sha("eerste") in first.headers["Content-Security-Policy"]
    os.symlink(release("tweede"), tmp_path / "live.tmp")
    os.replace(tmp_path / "live.tmp", live)  # what Publisher.switch does
    second = client.get("/aanmelden/cosa")
    html = second.get_data(as_text=True)
    assert "var v='tweede'" in html and "var v='eerste'" not in html
    csp = second.headers["Content-Security-Policy"]
    assert sha("tweede") in csp and sha("eerste") not in csp


def test_security_headers_on_backend_responses(client):
    response = client.get("/beheer/inloggen")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    names = [name.lower() for name, _value in response.headers.items()]
    assert len(names) == len(set(names)), names  # each header once


def test_a_views_own_header_wins_over_the_default(app):
    def own() -> tuple[str, int, dict[str, str]]:
        # lower case on purpose: header names are case-insensitive
        return "ok", 200, {"x-frame-options": "SAMEORIGIN", "cache-control": "public, max-age=60",
                           "Content-Security-Policy": "default-src 'none'"}

    app.add_url_rule("/test/eigen-kop", "test_own_header", own)
    response = app.test_client().get("/test/eigen-kop")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == ["public, max-age=60"]
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["Referrer-Policy"] == "same-origin"  # the ones it did not set


def test_migrations_match_the_models(database_url):
    """Alembic's head is exactly the SQLModel schema: nothing forgotten in a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from forms_backend import models

    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.metadata)
    engine.dispose()
    assert diff == []


def test_domain_modules_do_not_import_flask():
    domain = [
        "content",
        "accounts",
        "audit",
        "outbox",
        "tokens",
        "volunteers",
        "meetings",
        "submissions",
        "feeds",
        "retention",
    ]
    for name in domain:
        path = PACKAGE / f"{name}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(m == "flask" or m.startswith(("flask.", "flask_")) for m in imported), name


def test_no_module_shadows_the_stdlib():
    import sys

    site_src = PACKAGE.parent / "site"
    names = {p.stem for p in PACKAGE.rglob("*.py")} | {p.stem for p in site_src.rglob("*.py")}
    assert not names & set(sys.stdlib_module_names)


def test_create_user_command_makes_an_account_that_can_log_in(runner, client):
    result = runner.invoke(
        args=["create-user", "--email", "Nieuw@Brug.example.nl", "--name", "Nieuwe coördinator",
              "--role", "coordinator", "--programme", "cosa", "--region", "gelderland",
              "--password", "een-heel-lang-wachtwoord"]
    )
    assert result.exit_code == 0, result.output
    assert "Account aangemaakt" in result.output
    response = client.post(
        "/beheer/inloggen",
        data={"email": "nieuw@brug.example.nl", "password": "een-heel-lang-wachtwoord"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/beheer/")


def test_create_user_command_refuses_a_short_password_in_dutch(runner):
    result = runner.invoke(
        args=["create-user", "--email", "a@brug.example.nl", "--name", "A", "--password", "kort"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Fout: ") and "minstens 12 tekens" in result.output
    assert "Error" not in result.output  # not click's English prefix


def test_create_user_command_refuses_unknown_programmes_and_regions(runner):
    """A typo ("cossa", "mars") would make a coordinator who sees empty lists without a hint."""
    base = ["create-user", "--email", "a@brug.example.nl", "--name", "A",
            "--password", "een-heel-lang-wachtwoord"]
    for extra, words in (
        (["--programme", "cossa"], ["programma 'cossa' bestaat niet", "cosa"]),
        (["--programme", "cosa", "--region", "mars"], ["regio 'mars' bestaat niet", "gelderland"]),
    ):
        result = runner.invoke(args=[*base, *extra])
        assert result.exit_code == 1 and result.output.startswith("Fout: "), result.output
        assert all(word in result.output for word in words), result.output
    assert runner.invoke(args=[*base, "--programme", "cosa", "--region", "utrecht"]).exit_code == 0


def test_one_line_fields_turn_line_breaks_into_spaces():
    from forms_backend.forms import clean_text

    assert clean_text("Jan\r\nBcc: x@example.nl") == "Jan Bcc: x@example.nl"
    assert clean_text("regel 1\r\nregel\x00 2", multiline=True) == "regel 1\nregel 2"


@pytest.mark.parametrize(
    ("raw", "multiline", "clean"),
    [
        ("Zoë van\u00a0Dijk", False, "Zoë van Dijk"),  # a no-break space is a space
        ("Zo\u0065\u0308", False, "Zoë"),  # NFC
        ("a\u200bb\u202ec\ufeffd", False, "abcd"),  # zero-width, bidi override, BOM: format
        ("a\x00b\x7fc\x1bd", False, "abcd"),  # NUL, DEL, ESC
        ("a\tb", False, "a b"),
        ("a\x85b\u2028c", False, "a b c"),  # line breaks outside ASCII, on one line
        ("a\u2028b\n\tc \r\n", True, "a\u2028b\n c"),
        ("\ud800x", True, "x"),  # a lone surrogate
        ("gewone tekst, 12 woorden.", True, "gewone tekst, 12 woorden."),
    ],
)
def test_clean_text_drops_control_and_format_characters_only(raw, multiline, clean):
    from forms_backend.forms import clean_text

    assert clean_text(raw, multiline=multiline) == clean


def test_templates_show_labels_not_slugs(app):
    with app.app_context():
        render = app.jinja_env.from_string(
            "{{ 'noord-holland'|regio }} / {{ ['werk-en-dagbesteding']|map('leefgebied')|join }}"
        )
        assert render.render() == "Noord-Holland / Werk en dagbesteding"
