"""volunteer: status_on, the current step's own date

"Sinds" in the coordinator's list, the detail page and the CSV showed ``status_at``: when the
step was recorded, as a UTC date. A coordinator who records on Friday the intake of Tuesday
saw "sinds vrijdag", and a step recorded at 00.30 showed the day before. ``status_on`` holds
the date the coordinator gave the step. Existing rows get the date of their latest step to the
current status, or the Amsterdam date of ``status_at`` when there is none.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from forms_backend.db import UTCDateTime
from forms_backend.localtime import local_date

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    volunteer = sa.table(
        "volunteer",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("status_at", UTCDateTime()),
        sa.column("status_on", sa.Date),
    )
    event = sa.table(
        "volunteer_event",
        sa.column("id", sa.Integer),
        sa.column("volunteer_id", sa.Integer),
        sa.column("to_status", sa.String),
        sa.column("step_date", sa.Date),
    )
    latest = (
        sa.select(event.c.step_date)
        .where(event.c.volunteer_id == volunteer.c.id, event.c.to_status == volunteer.c.status)
        .order_by(event.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(sa.update(volunteer).values(status_on=latest))
    missing = conn.execute(
        sa.select(volunteer.c.id, volunteer.c.status_at).where(volunteer.c.status_on.is_(None))
    ).all()
    for row_id, status_at in missing:
        conn.execute(
            sa.update(volunteer)
            .where(volunteer.c.id == row_id)
            .values(status_on=local_date(status_at))
        )
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.alter_column("status_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_column("status_on")
