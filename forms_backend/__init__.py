"""Brug's backend: volunteer sign-ups, meeting calendars and submissions.

Importing this package does no work; ``create_app`` builds a configured application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported in create_app: the site build imports forms_backend.content
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

# Paths the backend answers; everything else is the static site. nginx proxies exactly these,
# and a test checks that every backend link in the built site exists in the URL map.
BACKEND_PREFIXES = ("/aanmelden/", "/mijn/", "/agenda", "/inzenden/", "/beheer", "/health")


def default_config() -> dict[str, Any]:
    """Defaults in code; environment (BRUG_*) or a test mapping overrides them."""
    return {
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{ROOT / 'instance' / 'brug.sqlite3'}",
        "SITE_DIR": str(ROOT / "build" / "site"),
        "CONTENT_DIR": str(ROOT / "content"),
        "SITE_NAME": "Brug",
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "MAIL_DOMAIN": "brug.example.nl",
        "MAIL_FROM": "Brug <noreply@brug.example.nl>",
        "MAIL_TRANSPORT": "console",  # smtp | console | recording
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 25,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 10,
        "RATELIMIT_STORAGE_URL": "memory://",
        "RATELIMIT_ENABLED": True,
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "FORM_MIN_FILL_SECONDS": 3,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": True,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_I18N_ENABLED": False,
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
        "SERVE_SITE": True,  # the embedded default serves build/site itself
        "TRUSTED_PROXIES": 0,  # proxies in front (nginx: 1) whose X-Forwarded-For/-Proto count
    }


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application: config, database, security, blueprints, CLI."""
    from flask import Flask

    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.from_mapping(default_config())
    if test_config is None:
        app.config.from_prefixed_env("BRUG")
    else:
        app.config.from_mapping(test_config)

    from forms_backend.config import ConfigError, fallback_keys, number

    if not (app.debug or app.testing):
        if not app.config["SECRET_KEY"]:
            raise ConfigError(
                "BRUG_SECRET_KEY ontbreekt: zet een lange willekeurige waarde, "
                "bijvoorbeeld met: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
    elif not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = "dev-only-not-secret"  # noqa: S105 - debug/tests only, public
    fallback_keys(app.config)
    if app.debug or app.testing:
        app.config["SESSION_COOKIE_SECURE"] = bool(
            test_config and test_config.get("SESSION_COOKIE_SECURE")
        )
    if app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"] == "session":
        # Secure, host-only, path /: no other (sub)domain or plain-http page can plant this cookie.
        app.config["SESSION_COOKIE_NAME"] = "__Host-brug"
    if number(app.config, "TRUSTED_PROXIES", whole=True):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if str(app.config["DATABASE_URL"]).startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    from forms_backend import clock, db, mailer, security, shell, views

    clock.init_app(app)
    db.init_app(app)
    mailer.init_app(app)
    security.init_app(app)
    shell.init_app(app)
    views.init_app(app)

    from forms_backend import cli

    cli.init_app(app)
    return app
