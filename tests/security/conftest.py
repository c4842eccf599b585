"""Fixtures for the security suite; the world and its helpers live in brug_world.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "production"))
