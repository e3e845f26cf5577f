"""follow-up tallies and distress batch marks kept by triggers: figures that do not read
the centre's whole history on every view

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

The distress figure asked on every view which of the centre's answered batches had changed,
grouping every answered stage (700-880 ms at 100,000 sessions with a third of the stages
answered). Triggers now mark each batch a change touches; the view asks only about those and
about stages whose window closed since its last look. Without a record of that last look
(distress_tally_state starts empty) the first view asks about every batch once.
"""
import sqlalchemy as sa
from alembic import op

from simdebrief.models.base import UTCDateTime
from simdebrief.models.distress_tallies import install_mark_triggers
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
    op.create_table(
        'distress_batch_mark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_distress_batch_mark')),
    )
    with op.batch_alter_table('distress_batch_mark', schema=None) as batch_op:
        batch_op.create_index('ix_distress_batch_mark_centre', ['centre_id'], unique=False)
    op.create_table(
        'distress_tally_state',
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('checked_until', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['centre_id'], ['centre.id'],
                                name=op.f('fk_distress_tally_state_centre_id_centre'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('centre_id', name=op.f('pk_distress_tally_state')),
    )
    connection = op.get_bind()
    install_triggers(connection)
    connection.exec_driver_sql(BACKFILL)
    install_mark_triggers(connection)
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
        for trigger, table in (('follow_up_tally_insert_delete', 'follow_up'),
                               ('follow_up_tally_update', 'follow_up'),
                               ('distress_mark_insert_delete', 'follow_up'),
                               ('distress_mark_update', 'follow_up'),
                               ('distress_mark_answer_delete', 'check_in')):
            connection.exec_driver_sql(f'DROP TRIGGER {trigger} ON {table}')
        for function in ('follow_up_tally_change', 'distress_mark_follow_up',
                         'distress_mark_answer'):
            connection.exec_driver_sql(f'DROP FUNCTION {function}()')
    else:
        for trigger in ('follow_up_tally_insert', 'follow_up_tally_delete',
                        'follow_up_tally_update', 'distress_mark_insert', 'distress_mark_delete',
                        'distress_mark_update', 'distress_mark_answer_delete'):
            connection.exec_driver_sql(f'DROP TRIGGER {trigger}')
    op.drop_table('distress_tally_state')
    op.drop_table('distress_batch_mark')
    op.drop_table('follow_up_tally')
