"""an index on sent stages by their expiry

Revision ID: c6f2a8d4e1b7
Revises: b4e8c2a6d9f3
Create Date: 2026-12-01 03:00:00

The admin's follow-up overview asks on every view which batches closed since the distress
tallies' last look: sent stages whose expiry fell in that span. The (status, due) index gave
every sent stage of the centre, each read from the table for its expiry. With this index the
span is a narrow range.
"""
from alembic import op

revision = 'c6f2a8d4e1b7'
down_revision = 'b4e8c2a6d9f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_status_expires', ['status', 'expires_at', 'centre_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_expires')
