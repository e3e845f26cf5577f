"""languages: a centre's default language; erased names shown in the reader's language

Revision ID: f4b8d2a6c1e3
Revises: a4c8e2f6b9d1
Create Date: 2026-11-30 09:50:00

Users who have not chosen a language read their centre's default (new users start with it).
Erased accounts stored the English words "Former participant" as their name; the name is now
empty and the words are rendered through gettext when shown.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f4b8d2a6c1e3'
down_revision = 'a4c8e2f6b9d1'
branch_labels = None
depends_on = None

user_account = sa.table('user_account', sa.column('name', sa.String),
                        sa.column('erased_at', sa.DateTime))


def upgrade():
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_locale', sa.String(length=10),
                                      server_default='en', nullable=False))
    op.execute(user_account.update().where(user_account.c.erased_at.is_not(None))
               .values(name=''))


def downgrade():
    op.execute(user_account.update().where(user_account.c.erased_at.is_not(None))
               .values(name='Former participant'))
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.drop_column('default_locale')
