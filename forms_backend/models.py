"""Imports every table module so that ``SQLModel.metadata`` knows the whole schema.

Alembic's env and the schema test use this; application code imports the domain modules.
"""

from sqlmodel import SQLModel

from forms_backend import accounts, audit, meetings, outbox, submissions, tokens, volunteers

metadata = SQLModel.metadata

__all__ = [
    "accounts",
    "audit",
    "meetings",
    "metadata",
    "outbox",
    "submissions",
    "tokens",
    "volunteers",
]
