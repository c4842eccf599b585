"""submission: form_key, so the same form page sent twice makes one submission

A double click on "Versturen" stored two submissions and sent two mails. ``form_key`` is a
digest of the form page's start stamp and everything sent from it; it is unique, so a second
click finds the first submission. Existing rows keep NULL (NULLs do not collide).

A unique index, not a constraint: on SQLite a new constraint rebuilds the table, and dropping
the old submission table fails while submission_message rows point to it.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_submission_form_key"), ["form_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_form_key"))
        batch_op.drop_column("form_key")
