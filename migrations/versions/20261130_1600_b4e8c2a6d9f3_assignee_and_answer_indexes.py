"""indexes for a supporter's own requests, and for the stage an answer belongs to

Revision ID: b4e8c2a6d9f3
Revises: a9d3f1c5e7b2
Create Date: 2026-11-30 16:00:00

The supporters' queue filtered on "status is not closed", which no index can narrow, so each
view read every request the centre ever had, closed ones included. It now names the open
statuses; the tier's unassigned requests come from the (centre, tier, status) index and the
supporter's own from this (assignee, status) index.

Deleting an answer (retention, erasure, the learner's own delete) clears the link from its
follow-up stage through the foreign key (ON DELETE SET NULL), and the database found that
stage by reading every follow-up: with 330,000 answers and 1,000,000 stages, deleting them
took longer than 20 minutes. An index on the stage's answer makes each one a lookup.
"""
from alembic import op

revision = 'b4e8c2a6d9f3'
down_revision = 'a9d3f1c5e7b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.create_index('ix_support_request_assignee', ['assignee_id', 'status'],
                              unique=False)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_checkin', ['checkin_id'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_checkin')
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.drop_index('ix_support_request_assignee')
