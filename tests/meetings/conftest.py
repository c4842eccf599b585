"""Fixtures for the meetings tests; helpers live in meeting_helpers.py."""

from __future__ import annotations

import pytest
from flask import Flask
from meeting_helpers import Agenda


@pytest.fixture
def agenda(app: Flask) -> Agenda:
    return Agenda(app)
