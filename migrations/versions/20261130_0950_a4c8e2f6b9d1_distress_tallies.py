"""distress tallies

Revision ID: a4c8e2f6b9d1
Revises: e5a7c3d9b1f2
Create Date: 2026-11-30 09:50:00

The staff's distress-per-stage figure reads encrypted tallies instead of decrypting every
answer on every view. The tables start empty: the first view of a centre's figures counts its
closed batches once (the app's key ring is at hand there, not in a migration), and every
later view counts only batches that changed. An index serves the learner's last follow-up
(the retention clock the learner's home page shows).
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c8e2f6b9d1'
down_revision = 'e5a7c3d9b1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'distress_batch_tally',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('batch', sa.String(length=40), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('plan_kind', sa.String(length=20), nullable=False),
        sa.Column('stage_key', sa.String(length=40), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('checkin_ids', sa.BigInteger(), nullable=False),
        sa.Column('counts', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['centre_id'], ['centre.id'],
                                name=op.f('fk_distress_batch_tally_centre_id_centre'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_distress_batch_tally')),
        sa.UniqueConstraint('centre_id', 'batch',
                            name=op.f('uq_distress_batch_tally_centre_id_batch')),
    )
    op.create_table(
        'distress_pool_tally',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('plan_kind', sa.String(length=20), nullable=False),
        sa.Column('stage_key', sa.String(length=40), nullable=False),
        sa.Column('k', sa.Integer(), nullable=False),
        sa.Column('counts', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['centre_id'], ['centre.id'],
                                name=op.f('fk_distress_pool_tally_centre_id_centre'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_distress_pool_tally')),
        sa.UniqueConstraint('centre_id', 'plan_kind', 'stage_key',
                            name=op.f('uq_distress_pool_tally_centre_id_plan_kind_stage_key')),
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_user_expires', ['user_id', 'expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_user_expires')
    op.drop_table('distress_pool_tally')
    op.drop_table('distress_batch_tally')
