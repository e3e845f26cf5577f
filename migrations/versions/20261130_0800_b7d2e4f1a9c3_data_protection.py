"""data protection: retention settings, erasure, values bound to their row

Adds the centre's retention periods, the account's erasure and retention-notice times, and
re-encrypts every stored emotional value so that its associated data names its row
(``<table>.<column>#<id>``) instead of only its column. The re-encryption needs the key ring
the app was started with (``SIMDEBRIEF_CHECKIN_KEYS``); it decrypts with the old associated
data and encrypts with the current key.

Revision ID: b7d2e4f1a9c3
Revises: b3d1f0a2c9e4
Create Date: 2026-11-30 08:00:00

"""
from alembic import op
import sqlalchemy as sa

from simdebrief import crypto
import simdebrief.models.base


revision = 'b7d2e4f1a9c3'
down_revision = 'b3d1f0a2c9e4'
branch_labels = None
depends_on = None

SEALED_COLUMNS = (("check_in", "payload"), ("support_request", "message"),
                  ("support_request_event", "note"))
RETENTION = (("retention_emotional_months", "6"), ("retention_support_months", "12"),
             ("retention_outbox_days", "30"), ("retention_login_attempt_days", "90"),
             ("retention_audit_years", "5"))


def _reencrypt(old_aad, new_aad) -> None:
    connection = op.get_bind()
    for table_name, column_name in SEALED_COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name, sa.Text))
        column = table.c[column_name]
        rows = connection.execute(sa.select(table.c.id, column).where(column.isnot(None))).all()
        if not rows:
            continue
        keyring = crypto.current_keyring()
        for row_id, token in rows:
            plaintext = keyring.decrypt(token, old_aad(table_name, column_name, row_id))
            connection.execute(
                sa.update(table).where(table.c.id == row_id)
                .values({column_name: keyring.encrypt(
                    plaintext, new_aad(table_name, column_name, row_id))}))


def upgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        for name, default in RETENTION:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                          server_default=default))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        for name in ('erasure_requested_at', 'erased_at', 'retention_notice_for'):
            batch_op.add_column(sa.Column(
                name, simdebrief.models.base.UTCDateTime(timezone=True), nullable=True))
    _reencrypt(lambda table, column, _id: crypto.legacy_aad(table, column), crypto.row_aad)


def downgrade():
    _reencrypt(crypto.row_aad, lambda table, column, _id: crypto.legacy_aad(table, column))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        for name in ('retention_notice_for', 'erased_at', 'erasure_requested_at'):
            batch_op.drop_column(name)
    with op.batch_alter_table('centre', schema=None) as batch_op:
        for name, _default in reversed(RETENTION):
            batch_op.drop_column(name)
