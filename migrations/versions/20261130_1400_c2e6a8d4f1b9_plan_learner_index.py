"""plan-learner index: the admin overview counts learners per plan version from an index

Revision ID: c2e6a8d4f1b9
Revises: b7d3f9a2c5e8
Create Date: 2026-11-30 14:00:00

The overview's completion figures count, per plan version, the stages by stage and status
and the learners who have any. (plan, stage, status) already serves the first; (plan,
learner) now serves the second and replaces the index on the plan alone.
"""
from alembic import op

revision = 'c2e6a8d4f1b9'
down_revision = 'b7d3f9a2c5e8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_plan_id')
        batch_op.create_index('ix_follow_up_plan_user', ['plan_id', 'user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_plan_user')
        batch_op.create_index('ix_follow_up_plan_id', ['plan_id'], unique=False)
