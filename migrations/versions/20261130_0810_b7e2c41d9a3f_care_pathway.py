"""care pathway: crisis route, supporter triage, offered conversations

Revision ID: b7e2c41d9a3f
Revises: b7e2f4a91c3d
Create Date: 2026-11-30 08:00:00

"""
from alembic import op
import sqlalchemy as sa

import simdebrief.crypto
import simdebrief.models.base


# revision identifiers, used by Alembic.
revision = 'b7e2c41d9a3f'
down_revision = 'b7e2f4a91c3d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('urgent_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('opening_hours', sa.String(length=200), nullable=False),
    sa.Column('is_emergency', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_urgent_contact_centre_id_centre'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_urgent_contact'))
    )
    with op.batch_alter_table('urgent_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_urgent_contact_centre_id'), ['centre_id'], unique=False)

    op.create_table('on_duty_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_on_duty_shift_centre_id_centre'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['user_account.id'], name=op.f('fk_on_duty_shift_supporter_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_duty_shift'))
    )
    with op.batch_alter_table('on_duty_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_on_duty_shift_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_on_duty_shift_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('centre_story',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_description', sa.String(length=200), nullable=False),
    sa.Column('consent_confirmed_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_centre_story_added_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_centre_story_centre_id_centre'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centre_story'))
    )
    with op.batch_alter_table('centre_story', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_centre_story_centre_id'), ['centre_id'], unique=False)

    op.create_table('near_peer_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('how_to_reach', sa.String(length=200), nullable=False),
    sa.Column('consent_confirmed_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_near_peer_contact_centre_id_centre'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_near_peer_contact'))
    )
    with op.batch_alter_table('near_peer_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_near_peer_contact_centre_id'), ['centre_id'], unique=False)

    op.create_table('tier1_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user_account.id'], name=op.f('fk_tier1_check_checked_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['learner_id'], ['user_account.id'], name=op.f('fk_tier1_check_learner_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sim_session.id'], name=op.f('fk_tier1_check_session_id_sim_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier1_check')),
    sa.UniqueConstraint('session_id', 'learner_id', name=op.f('uq_tier1_check_session_id_learner_id'))
    )
    with op.batch_alter_table('tier1_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier1_check_session_id'), ['session_id'], unique=False)

    # Only plain ADD COLUMNs on existing tables, with literal defaults that fill the rows
    # already there: on SQLite anything else makes batch mode copy and drop the table, and
    # with foreign keys on, dropping a table that others point at fails or cascades.
    with op.batch_alter_table('centre', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_distress_threshold', sa.Integer(), nullable=False, server_default='8'))
        batch_op.add_column(sa.Column('alert_on_self_harm_cue', sa.Boolean(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('peer_response_hours', sa.Integer(), nullable=False, server_default='48'))
        batch_op.add_column(sa.Column('professional_response_hours', sa.Integer(), nullable=False, server_default='24'))
        batch_op.add_column(sa.Column('urgent_response_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=False, server_default='DK'))
        batch_op.add_column(sa.Column('high_risk_triggers', sa.JSON(), nullable=False, server_default='["first_patient_death", "paediatric_event", "personal_connection", "patient_complaint_or_litigation"]'))
        batch_op.add_column(sa.Column('high_risk_flags', sa.JSON(), nullable=False, server_default='["death", "first_death", "paediatric", "personal_connection"]'))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supporter_available', sa.Boolean(), nullable=False, server_default='1'))

    with op.batch_alter_table('follow_up_stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offers_conversation', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('on_event', sa.String(length=20), nullable=True))

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_state', sa.String(length=20), nullable=True))

    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('origin', sa.String(length=20), nullable=False, server_default='learner'))
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('phone', simdebrief.crypto.EncryptedText('support_request.phone'), nullable=True))
        batch_op.add_column(sa.Column('good_times', simdebrief.crypto.EncryptedText('support_request.good_times'), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', simdebrief.models.base.UTCDateTime(timezone=True), nullable=True))

    op.create_table('conversation_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('followup_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['followup_id'], ['follow_up.id'], name=op.f('fk_conversation_task_followup_id_follow_up'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['support_request.id'], name=op.f('fk_conversation_task_request_id_support_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_task')),
    sa.UniqueConstraint('request_id', name=op.f('uq_conversation_task_request_id'))
    )
    with op.batch_alter_table('conversation_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_task_followup_id'), ['followup_id'], unique=False)

    # Existing plans migrate: the three-month stage now offers the closing conversation.
    stage = sa.table('follow_up_stage', sa.column('key', sa.String),
                     sa.column('offers_conversation', sa.Boolean))
    op.execute(stage.update().where(stage.c.key == 'FU4_three_months')
               .values(offers_conversation=True))
    # Complaint plans gain the branch for "a decision has come": a closing stage that offers
    # a conversation, kept back until the learner says the decision has come.
    connection = op.get_bind()
    plans = connection.execute(sa.text(
        "SELECT p.id, COALESCE(MAX(s.position), -1) FROM follow_up_plan p "
        "LEFT JOIN follow_up_stage s ON s.plan_id = p.id "
        "WHERE p.kind = 'complaint' GROUP BY p.id")).all()
    stage_rows = sa.table(
        'follow_up_stage', sa.column('plan_id', sa.Integer), sa.column('position', sa.Integer),
        sa.column('key', sa.String), sa.column('title', sa.String),
        sa.column('offset_amount', sa.Integer), sa.column('offset_unit', sa.String),
        sa.column('window_days', sa.Integer), sa.column('send_hour', sa.Integer),
        sa.column('parts', sa.JSON), sa.column('questions', sa.JSON),
        sa.column('content', sa.JSON), sa.column('reminder_after_days', sa.Integer),
        sa.column('expires_after_days', sa.Integer),
        sa.column('offers_conversation', sa.Boolean), sa.column('on_event', sa.String))
    if plans:
        op.bulk_insert(stage_rows, [{
            'plan_id': plan_id, 'position': last + 1, 'key': 'CT_after_decision',
            'title': 'After the decision', 'offset_amount': 7, 'offset_unit': 'days',
            'window_days': 7, 'send_hour': 9,
            'parts': ['distress', 'support_wanted', 'free_text'], 'questions': [],
            'content': ['looking_back', 'support_contacts'], 'reminder_after_days': 3,
            'expires_after_days': 14, 'offers_conversation': True, 'on_event': 'decision'}
            for plan_id, last in plans])
    # "The day after" is the next day at the send hour, not the first send hour 24 h later.
    timing = sa.table('follow_up_stage', sa.column('key', sa.String),
                      sa.column('offset_amount', sa.Integer),
                      sa.column('offset_unit', sa.String))
    op.execute(timing.update().where(timing.c.key == 'FU1_early',
                                     timing.c.offset_unit == 'hours',
                                     timing.c.offset_amount == 24)
               .values(offset_amount=1, offset_unit='days'))


def downgrade():
    with op.batch_alter_table('conversation_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_task_followup_id'))
    op.drop_table('conversation_task')
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        for column in ('escalated_at', 'proposed_at', 'good_times', 'phone',
                       'preferred_channel', 'origin', 'urgent'):
            batch_op.drop_column(column)
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_column('conversation_state')
    with op.batch_alter_table('follow_up_stage', schema=None) as batch_op:
        batch_op.drop_column('on_event')
        batch_op.drop_column('offers_conversation')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('supporter_available')
    with op.batch_alter_table('centre', schema=None) as batch_op:
        for column in ('high_risk_flags', 'high_risk_triggers', 'country',
                       'urgent_response_minutes', 'professional_response_hours',
                       'peer_response_hours', 'alert_on_self_harm_cue', 'urgent_distress_threshold'):
            batch_op.drop_column(column)
    with op.batch_alter_table('near_peer_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_near_peer_contact_centre_id'))
    op.drop_table('near_peer_contact')
    with op.batch_alter_table('centre_story', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_centre_story_centre_id'))
    op.drop_table('centre_story')
    with op.batch_alter_table('tier1_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier1_check_session_id'))
    op.drop_table('tier1_check')
    with op.batch_alter_table('on_duty_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_on_duty_shift_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_on_duty_shift_centre_id'))
    op.drop_table('on_duty_shift')
    with op.batch_alter_table('urgent_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_urgent_contact_centre_id'))
    op.drop_table('urgent_contact')
