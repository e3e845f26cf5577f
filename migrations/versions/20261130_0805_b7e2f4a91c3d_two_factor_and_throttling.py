"""two-factor login and request throttling

Revision ID: b7e2f4a91c3d
Revises: b7d2e4f1a9c3
Create Date: 2026-11-30 08:00:00

"""
from alembic import op
import sqlalchemy as sa

import simdebrief.crypto
import simdebrief.models.base


# revision identifiers, used by Alembic.
revision = 'b7e2f4a91c3d'
down_revision = 'b7d2e4f1a9c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_two_factor', sa.Boolean(),
                                      server_default=sa.true(), nullable=False))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'totp_secret', simdebrief.crypto.EncryptedText('user_account.totp_secret'),
            nullable=True))
        batch_op.add_column(sa.Column(
            'totp_enabled_at', simdebrief.models.base.UTCDateTime(timezone=True),
            nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_passed', sa.Boolean(),
                                      server_default=sa.true(), nullable=False))

    op.create_table('throttle_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('account', sa.String(length=254), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_event'))
    )
    with op.batch_alter_table('throttle_event', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_event_kind_account_at', ['kind', 'account', 'at'],
                              unique=False)
        batch_op.create_index('ix_throttle_event_kind_ip_at', ['kind', 'ip_address', 'at'],
                              unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_recovery_code_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('throttle_event', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_event_kind_ip_at')
        batch_op.drop_index('ix_throttle_event_kind_account_at')
    op.drop_table('throttle_event')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('second_factor_passed')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.drop_column('require_two_factor')
