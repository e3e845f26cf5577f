"""debrief: objectives met, phase times, debriefer roles, Just Culture, suggested factors

Revision ID: c3a9d5e7f1b2
Revises: b7e2c41d9a3f
Create Date: 2026-11-30 08:40:00

"""
from alembic import op
import sqlalchemy as sa

import simdebrief.models.base


# revision identifiers, used by Alembic.
revision = 'c3a9d5e7f1b2'
down_revision = 'b7e2c41d9a3f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('debrief_instructor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debrief_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('LEAD', 'CO_DEBRIEFER', 'OBSERVER', name='debriefrole', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_debrief_instructor_debrief_id_debrief'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_debrief_instructor_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debrief_instructor')),
    sa.UniqueConstraint('debrief_id', 'user_id', name=op.f('uq_debrief_instructor_debrief_id_user_id'))
    )
    with op.batch_alter_table('debrief_instructor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debrief_instructor_user_id'), ['user_id'], unique=False)

    op.create_table('objective_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debrief_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('objective', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("outcome in ('met', 'partly', 'not_met')", name=op.f('ck_objective_outcome_outcome_known')),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_objective_outcome_debrief_id_debrief'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective_outcome')),
    sa.UniqueConstraint('debrief_id', 'position', name=op.f('uq_objective_outcome_debrief_id_position'))
    )

    op.create_table('debrief_phase_time',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debrief_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=40), nullable=False),
    sa.Column('started_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['debrief_id'], ['debrief.id'], name=op.f('fk_debrief_phase_time_debrief_id_debrief'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debrief_phase_time')),
    sa.UniqueConstraint('debrief_id', 'phase', name=op.f('uq_debrief_phase_time_debrief_id_phase'))
    )

    with op.batch_alter_table('care_problem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('just_culture', sa.String(length=20), nullable=True))

    with op.batch_alter_table('contributing_factor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('contributing_factor', schema=None) as batch_op:
        batch_op.drop_column('suggested')

    with op.batch_alter_table('care_problem', schema=None) as batch_op:
        batch_op.drop_column('just_culture')

    op.drop_table('debrief_phase_time')
    with op.batch_alter_table('debrief_instructor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debrief_instructor_user_id'))
    op.drop_table('debrief_instructor')
    op.drop_table('objective_outcome')
