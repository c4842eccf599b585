"""Public agenda (/agenda/) and iCalendar feeds (/agenda.ics ...) — issue 5."""

from flask import Blueprint

bp = Blueprint("agenda", __name__)
