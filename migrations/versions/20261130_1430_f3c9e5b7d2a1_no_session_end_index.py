"""no (centre, end) session index: every time filter also bounds the start

Revision ID: f3c9e5b7d2a1
Revises: e8b4d2f6a3c7
Create Date: 2026-11-30 14:30:00

Sessions "not over", "over" and "overlapping" a period bound the start time as well (no
session runs past 12 hours), so the (centre, start) index serves them in order. Without
statistics SQLite still chose the (centre, end) index for "ended after X", which holds every
session still to come: at 100,000 sessions the instructor's home read 50,000 of them.
"""
from alembic import op

revision = 'f3c9e5b7d2a1'
down_revision = 'e8b4d2f6a3c7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.drop_index('ix_sim_session_centre_ends')


def downgrade():
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.create_index('ix_sim_session_centre_ends', ['centre_id', 'ends_at'],
                              unique=False)
