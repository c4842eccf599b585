"""submissions: submission, submission_message, site_build

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import forms_backend.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('site_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requested_at', forms_backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('started_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site_build', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_build_state'), ['state'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', forms_backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forms_backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('leefgebieden', sa.JSON(), nullable=False),
    sa.Column('regio', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('fase', sa.JSON(), nullable=False),
    sa.Column('organisatietypes', sa.JSON(), nullable=False),
    sa.Column('bronnen', sa.JSON(), nullable=False),
    sa.Column('organisatie', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('plaats', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('role_mailbox', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('consent_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('contact_erased_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('page_path', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('page_url', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('build_id', sa.Integer(), nullable=True),
    sa.Column('build_message', sa.Text(), nullable=True),
    sa.Column('published_at', forms_backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['build_id'], ['site_build.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_build_id'), ['build_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_regio'), ['regio'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_state'), ['state'], unique=False)

    op.create_table('submission_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', forms_backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('submission_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_message_submission_id'), ['submission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('submission_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_message_submission_id'))

    op.drop_table('submission_message')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_state'))
        batch_op.drop_index(batch_op.f('ix_submission_regio'))
        batch_op.drop_index(batch_op.f('ix_submission_build_id'))

    op.drop_table('submission')
    with op.batch_alter_table('site_build', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_build_state'))

    op.drop_table('site_build')
