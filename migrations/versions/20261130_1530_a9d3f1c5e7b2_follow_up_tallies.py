"""follow-up tallies kept by triggers, for completion figures that do not grow with history

Revision ID: a9d3f1c5e7b2
Revises: f3c9e5b7d2a1
Create Date: 2026-11-30 15:30:00

The completion figures counted every follow-up the centre ever scheduled on every view (165
ms of a 300 ms admin overview at 1,000,000 stages). Triggers on follow_up now write change
rows into follow_up_tally in the same transaction as each change, the scheduler folds them,
and the figures add up a few rows per stage. The triggers are created before the existing
follow-ups are counted in, within this migration's transaction: on PostgreSQL creating them
locks follow_up against writes until the commit, so no change falls between the two.
The (plan, stage, status) and (cohort, stage, status) indexes served only those counts.
"""
import sqlalchemy as sa
from alembic import op

from simdebrief.models.followup_tallies import BACKFILL, install_triggers

revision = 'a9d3f1c5e7b2'
down_revision = 'f3c9e5b7d2a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'follow_up_tally',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=True),
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('SCHEDULED', 'CLAIMED', 'SENT', 'COMPLETED', 'EXPIRED',
                                    'PAUSED', 'STOPPED', 'SKIPPED', 'UNDELIVERABLE',
                                    name='followupstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_tally')),
    )
    with op.batch_alter_table('follow_up_tally', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_tally_plan', ['plan_id', 'stage_id', 'status'],
                              unique=False)
        batch_op.create_index('ix_follow_up_tally_cohort', ['cohort_id', 'stage_id', 'status'],
                              unique=False)
    connection = op.get_bind()
    install_triggers(connection)
    connection.exec_driver_sql(BACKFILL)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_plan_stage_status')
        batch_op.drop_index('ix_follow_up_cohort_stage_status')


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_cohort_stage_status',
                              ['cohort_id', 'stage_id', 'status'], unique=False)
        batch_op.create_index('ix_follow_up_plan_stage_status',
                              ['plan_id', 'stage_id', 'status'], unique=False)
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        connection.exec_driver_sql(
            'DROP TRIGGER follow_up_tally_insert_delete ON follow_up')
        connection.exec_driver_sql('DROP TRIGGER follow_up_tally_update ON follow_up')
        connection.exec_driver_sql('DROP FUNCTION follow_up_tally_change()')
    else:
        for name in ('insert', 'delete', 'update'):
            connection.exec_driver_sql(f'DROP TRIGGER follow_up_tally_{name}')
    op.drop_table('follow_up_tally')
