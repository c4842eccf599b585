"""Public submissions of practices and werkbezoeken (/inzenden/) — issue 6."""

from flask import Blueprint

bp = Blueprint("submit", __name__)
