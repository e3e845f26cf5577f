"""outbox: links built at send time, purged bodies

Revision ID: b7d1e2a4c9f0
Revises: 6c95e98a30c5
Create Date: 2026-11-30 07:30:00

"""
from alembic import op
import sqlalchemy as sa

import simdebrief.models.base


# revision identifiers, used by Alembic.
revision = 'b7d1e2a4c9f0'
down_revision = '6c95e98a30c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_ref', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('body_purged_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_email_link_ref'), ['link_ref'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_email_link_ref'))
        batch_op.drop_column('body_purged_at')
        batch_op.drop_column('link_ref')
