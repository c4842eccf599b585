"""Health, errors in Dutch inside the site shell, and the built site in the embedded default."""

from __future__ import annotations

import logging
import mimetypes
import os
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from forms_backend import db

log = logging.getLogger(__name__)

bp = Blueprint("core", __name__)
site_bp = Blueprint("site", __name__)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/calendar", ".ics")

ERRORS: dict[int, tuple[str, str]] = {
    400: ("Verzoek niet begrepen", "We begrepen dit verzoek niet. Controleer het adres of het formulier en probeer het opnieuw."),
    403: ("Geen toegang", "Je hebt geen toegang tot deze pagina."),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet (meer). Misschien is het adres verkeerd getypt."),
    405: ("Dat kan hier niet", "Deze pagina werkt niet op deze manier. Ga terug en probeer het opnieuw."),
    410: ("Niet meer beschikbaar", "Deze pagina of link is ingetrokken."),
    413: ("Te veel tekst", "Wat je stuurde is te groot. Maak je tekst korter en probeer het opnieuw."),
    429: ("Even wachten", "Je hebt dit te vaak geprobeerd. Wacht een paar minuten en probeer het dan opnieuw."),
    500: ("Er ging iets mis", "Er ging bij ons iets mis. Je gegevens zijn niet verwerkt. Probeer het later opnieuw."),
    503: ("Tijdelijk niet beschikbaar", "Brug is even niet bereikbaar. Er is niets opgeslagen. Probeer het over een paar minuten opnieuw."),
}


def error_page(status: int, message: str | None = None) -> ResponseReturnValue:
    title, default = ERRORS.get(status, ERRORS[500])
    body = render_template("error.html", title=title, message=message or default)
    response = current_app.make_response((body, status))
    if status == 503:
        response.headers["Retry-After"] = "60"
    return response


@bp.get("/health")
def health() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    ok = db.ping()
    site = Path(current_app.config["SITE_DIR"], "index.html").is_file()
    body = {"status": "ok" if ok else "fout", "database": "ok" if ok else "onbereikbaar", "site": "ok" if site else "niet gebouwd"}
    return jsonify(body), 200 if ok else 503


def _site_file(path: str) -> Path | None:
    root = os.path.realpath(current_app.config["SITE_DIR"])
    candidate = safe_join(root, path) if path else root
    if candidate is None:
        return None
    target = Path(candidate)
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or target.parts[len(Path(root).parts):][:1] == ("_shell",):
        return None
    return target


@site_bp.get("/", defaults={"path": ""})
@site_bp.get("/<path:path>")
def static_site(path: str) -> ResponseReturnValue:
    """Serve the live build (resolved per request, so an atomic switch needs no restart)."""
    if not current_app.config["SERVE_SITE"]:
        abort(404)
    if path and not path.endswith("/") and (Path(current_app.config["SITE_DIR"]) / path).is_dir():
        from flask import redirect

        return redirect("/" + path + "/", code=301)
    target = _site_file(path)
    if target is None:
        not_found = Path(os.path.realpath(current_app.config["SITE_DIR"])) / "404.html"
        if not_found.is_file():
            response = send_file(not_found, mimetype="text/html", conditional=False, etag=False)
            response.status_code = 404
            return response
        return error_page(404)
    response = send_file(target, conditional=True, etag=True, max_age=0 if target.suffix == ".html" else 3600)
    if target.suffix == ".html":
        response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if request.path.endswith(".ics") or request.accept_mimetypes.best == "application/json":
            return (ERRORS.get(error.code or 500, ERRORS[500])[1], error.code or 500, {"Content-Type": "text/plain; charset=utf-8"})
        return error_page(error.code or 500)

    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> ResponseReturnValue:
        from forms_backend.forms import CSRF_MESSAGE

        return error_page(400, CSRF_MESSAGE)

    @app.errorhandler(OperationalError)
    def _db_unavailable(error: OperationalError) -> ResponseReturnValue:
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else "?")
        return error_page(503)

    @app.errorhandler(SQLAlchemyError)
    def _db_error(error: SQLAlchemyError) -> ResponseReturnValue:
        log.error("database error: %s", type(error).__name__)
        return error_page(500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500)
