"""session state index, and the centre in the due-stages index

Revision ID: d5a1c7e3b9f4
Revises: c2e6a8d4f1b9
Create Date: 2026-11-30 14:10:00

The instructor's home lists the sessions in progress whose debrief is not final. Without an
index on the state, SQLite walked every session of the centre by start time to find them.
The admin overview counts a centre's waiting stages per week: the index on (status, due)
gains the centre, so the count reads the index alone.
"""
from alembic import op

revision = 'd5a1c7e3b9f4'
down_revision = 'c2e6a8d4f1b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.create_index('ix_sim_session_centre_status_starts',
                              ['centre_id', 'status', 'starts_at'], unique=False)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_due_at')
        batch_op.create_index('ix_follow_up_status_due_at', ['status', 'due_at', 'centre_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_due_at')
        batch_op.create_index('ix_follow_up_status_due_at', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.drop_index('ix_sim_session_centre_status_starts')
