"""Public volunteer sign-up (/aanmelden/) and self-service (/mijn/) — issue 4."""

from flask import Blueprint

bp = Blueprint("volunteer", __name__)
