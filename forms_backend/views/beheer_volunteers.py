"""Back office: the volunteer pipeline (/beheer/vrijwilligers) — issue 4."""

from flask import Blueprint

bp = Blueprint("beheer_volunteers", __name__)
