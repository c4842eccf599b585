"""volunteer: one index on (email, programme) for the sign-up's duplicate check

Replaces the single-column index on email, which the new index covers (email leads).
SQLite answered ``WHERE email = ? AND programme = ?`` through the programme index and scanned
every sign-up of the programme, under the write lock (bench/results/signup.md).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.create_index("ix_volunteer_email_programme", ["email", "programme"], unique=False)
        batch_op.drop_index("ix_volunteer_email")


def downgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.create_index("ix_volunteer_email", ["email"], unique=False)
        batch_op.drop_index("ix_volunteer_email_programme")
