"""audit_entry: an index on (actor, at), for the log's page filtered by account

The administrators' log (/beheer/logboek) can show what one account did, newest first. Without
an index that reads the whole log, which grows with every view of a volunteer's page.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_entry_actor_at", "audit_entry", ["actor", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_actor_at", table_name="audit_entry")
