"""indexes behind the lists

Revision ID: e5a7c3d9b1f2
Revises: c3a9d5e7f1b2
Create Date: 2026-11-30 08:30:00

Each list a page shows is paged in SQL; these indexes serve their filter and order: the
sessions list ("upcoming" filters on the end per centre), the learner's follow-up timeline,
the admin's outgoing email by status, and the follow-up completion counts per plan and stage.
"""
from alembic import op

revision = 'e5a7c3d9b1f2'
down_revision = 'c3a9d5e7f1b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.create_index('ix_sim_session_centre_ends', ['centre_id', 'ends_at'],
                              unique=False)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_user_anchor', ['user_id', 'anchor_at'],
                              unique=False)
        batch_op.create_index('ix_follow_up_plan_stage_status',
                              ['plan_id', 'stage_id', 'status'], unique=False)
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_email_centre_status_id',
                              ['centre_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_centre_status_id')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_plan_stage_status')
        batch_op.drop_index('ix_follow_up_user_anchor')
    with op.batch_alter_table('sim_session', schema=None) as batch_op:
        batch_op.drop_index('ix_sim_session_centre_ends')
