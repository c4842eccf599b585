"""Health, errors in Dutch inside the site shell, and the built site in the embedded default."""

from __future__ import annotations

import gzip
import logging
import mimetypes
import os
import re
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from forms_backend import db
from forms_backend.security import redact_links

log = logging.getLogger(__name__)

bp = Blueprint("core", __name__)
site_bp = Blueprint("site", __name__)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/calendar", ".ics")

ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "Verzoek niet begrepen",
        "We begrepen dit verzoek niet. Controleer het adres of het formulier en probeer het "
        "opnieuw.",
    ),
    403: ("Geen toegang", "Je hebt geen toegang tot deze pagina."),
    404: (
        "Pagina niet gevonden",
        "Deze pagina bestaat niet (meer). Misschien is het adres verkeerd getypt.",
    ),
    405: (
        "Dat kan hier niet",
        "Deze pagina werkt niet op deze manier. Ga terug en probeer het opnieuw.",
    ),
    409: (
        "Dit kan nu niet",
        "Er is intussen iets veranderd, waardoor dit niet meer kan. Kijk hoe het nu is.",
    ),
    410: ("Niet meer beschikbaar", "Deze pagina of link is ingetrokken."),
    413: (
        "Te veel tekst",
        "Wat je stuurde is te groot. Maak je tekst korter en probeer het opnieuw.",
    ),
    429: (
        "Even wachten",
        "Je hebt dit te vaak geprobeerd. Wacht een paar minuten en probeer het dan opnieuw.",
    ),
    500: (
        "Er ging iets mis",
        "Er ging bij ons iets mis. Je gegevens zijn niet verwerkt. Probeer het later opnieuw.",
    ),
    503: (
        "Tijdelijk niet beschikbaar",
        "Brug is even niet bereikbaar. Er is niets opgeslagen. Probeer het over een paar "
        "minuten opnieuw.",
    ),
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
    body = {
        "status": "ok" if ok else "fout",
        "database": "ok" if ok else "onbereikbaar",
        "site": "ok" if site else "niet gebouwd",
    }
    return jsonify(body), 200 if ok else 503


# Theme assets with a content hash in the name (main.57a0d79d.min.css): a new build names a new
# file, so browsers may keep these for a year without asking again.
HASHED_ASSET = re.compile(r"\.[0-9a-f]{8}\.min\.(?:css|js)$")
IMMUTABLE = "public, max-age=31536000, immutable"
# Backend pages under these prefixes hold a logged-in CSRF token or a personal link next to text
# a visitor can choose: compressed, their sizes would let an attacker guess the secret (BREACH).
NO_COMPRESSION_PREFIXES = ("/beheer", "/mijn/")


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0 and "Range" not in request.headers


def _send_site_file(target: Path, *, conditional: bool, max_age: int | None = None) -> Response:
    """``target`` as is, or its prebuilt ``.gz`` sibling (brug_compress hook) when the browser
    accepts gzip. The copy gets the original's Content-Type and its own ETag; Range requests
    always get the original (byte offsets refer to it)."""
    packed = target.with_name(target.name + ".gz")
    has_packed = packed.is_file()
    if has_packed and _accepts_gzip():
        mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        # The ETag is the .gz file's own (its size and path differ): never the identity one.
        response = send_file(
            packed, mimetype=mimetype, conditional=conditional, etag=conditional, max_age=max_age
        )
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(target, conditional=conditional, etag=conditional, max_age=max_age)
    if has_packed:
        response.vary.add("Accept-Encoding")
    return response


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
            response = _send_site_file(not_found, conditional=False)
            response.status_code = 404
            return response
        return error_page(404)
    response = _send_site_file(
        target, conditional=True, max_age=0 if target.suffix == ".html" else 3600
    )
    if target.suffix == ".html":
        response.headers["Cache-Control"] = "no-cache"
    elif HASHED_ASSET.search(target.name):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def _compress_html(response: Response) -> Response:
    """gzip the backend's own HTML pages (the site shell around a form: about 20 KB, 5 KB packed)
    for browsers that accept it; never files (they come prebuilt), streams or BREACH-prone pages."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.mimetype != "text/html"
        or "Content-Encoding" in response.headers
        or request.path.startswith(NO_COMPRESSION_PREFIXES)
    ):
        return response
    body = response.get_data()
    if len(body) < 1024:  # never compressed, whoever asks (a redirect): no Vary either
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(etag + "-gz", bool(weak))
    return response


# PostgreSQL error classes that mean "not now" rather than a fault in Brug: connection (08),
# insufficient resources such as a full disk (53), operator intervention such as a shutdown (57)
UNAVAILABLE_STATES = ("08", "53", "57")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_compress_html)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if request.path.endswith(".ics") or request.accept_mimetypes.best == "application/json":
            return (
                ERRORS.get(error.code or 500, ERRORS[500])[1],
                error.code or 500,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
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
        state = str(getattr(getattr(error, "orig", None), "sqlstate", "") or "")
        if state == "25006" or state[:2] in UNAVAILABLE_STATES:  # read-only, full, shut down
            log.error("database unavailable: SQLSTATE %s", state)
            return error_page(503)
        log.error("database error: %s", type(error).__name__)
        return error_page(500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("unhandled error on %s %s", request.method, redact_links(request.path))
        return error_page(500)
