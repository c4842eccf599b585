"""Back office: moderation of submissions (/beheer/inzendingen) — issue 6."""

from flask import Blueprint

bp = Blueprint("beheer_submissions", __name__)
