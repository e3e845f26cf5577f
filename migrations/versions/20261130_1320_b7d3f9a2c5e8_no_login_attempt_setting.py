"""no login-attempt retention setting: failed logins live one day, for the login limits

Revision ID: b7d3f9a2c5e8
Revises: f4b8d2a6c1e3
Create Date: 2026-11-30 13:20:00

The hourly throttling clean-up deletes failed logins after 24 hours, so a centre's "keep
failed login attempts (days)" could never keep them longer; refused logins stay in the audit
log for the audit period. The setting goes.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7d3f9a2c5e8'
down_revision = 'f4b8d2a6c1e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.drop_column('retention_login_attempt_days')


def downgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_login_attempt_days', sa.Integer(),
                                      server_default='90', nullable=False))
