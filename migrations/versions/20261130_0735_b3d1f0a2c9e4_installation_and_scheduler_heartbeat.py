"""installation id and scheduler heartbeat

Revision ID: b3d1f0a2c9e4
Revises: b7d1e2a4c9f0
Create Date: 2026-11-30 07:35:00

The installation's random id is made here, once, so that two databases never send the same
Message-ID; the heartbeat table lets /healthz tell whether a scheduler is running.
"""
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import simdebrief.models.base

revision = 'b3d1f0a2c9e4'
down_revision = 'b7d1e2a4c9f0'
branch_labels = None
depends_on = None


def upgrade():
    installation = op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', simdebrief.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_installation')),
    )
    op.bulk_insert(installation, [{'id': 1, 'instance_id': secrets.token_hex(16),
                                   'created_at': datetime.now(UTC)}])
    op.create_table(
        'scheduler_heartbeat',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('beat_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', simdebrief.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('ticks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_heartbeat')),
    )
    with op.batch_alter_table('scheduler_heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_heartbeat_beat_at'), ['beat_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('scheduler_heartbeat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_heartbeat_beat_at'))
    op.drop_table('scheduler_heartbeat')
    op.drop_table('installation')
