"""indexes for the cohort figures and for a session's learners

Revision ID: e8b4d2f6a3c7
Revises: d5a1c7e3b9f4
Create Date: 2026-11-30 14:20:00

The per-cohort completion figures found the cohorts with follow-ups by reading every
follow-up's cohort, then counted each cohort's stages the same way. An index on (cohort,
stage, status) answers both for all of the centre's cohorts in one grouped pass.
A session's learners had no index by session: every session page, and every list of
sessions, read the whole participant table (400,000 rows at 100,000 sessions).
"""
from alembic import op

revision = 'e8b4d2f6a3c7'
down_revision = 'd5a1c7e3b9f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_participant', schema=None) as batch_op:
        batch_op.create_index('ix_session_participant_session', ['session_id'], unique=False)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_cohort_stage_status',
                              ['cohort_id', 'stage_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_cohort_stage_status')
    with op.batch_alter_table('session_participant', schema=None) as batch_op:
        batch_op.drop_index('ix_session_participant_session')
