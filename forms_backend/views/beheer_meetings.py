"""Back office: meetings and registrations (/beheer/bijeenkomsten) — issue 5."""

from flask import Blueprint

bp = Blueprint("beheer_meetings", __name__)
