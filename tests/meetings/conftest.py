"""Fixtures for the meetings tests; helpers live in meeting_helpers.py."""

from __future__ import annotations

import pytest
from flask import Flask
from meeting_helpers import Agenda


@pytest.fixture
def agenda(app: Flask) -> Agenda:
    return Agenda(app)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Feeds re-read the calendar version on every poll in tests (production: at most 1/s)."""
    return {**app_config, "FEED_VERSION_TTL": 0}
