"""deadline sweep: notices sent once, the overdue event, the webhook channel

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:20:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

OLD_EVENT_KINDS = ('submitted', 'verified', 'routed', 'dispositioned', 'accepted', 'assigned',
                   'sent_back', 'follow_up', 'answered', 'postponed', 'not_in_authority',
                   'archived', 'reopened', 'completed', 'reporter_reply', 'rated', 'note',
                   'clarification_requested', 'deadline_extended')
NEW_EVENT_KINDS = OLD_EVENT_KINDS + ('overdue',)


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deadline_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('before', 'day', 'overdue', name='notice_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('sweep', sa.String(length=32), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_deadline_notice_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_notice')),
    sa.UniqueConstraint('report_id', 'kind', 'due_at', name='uq_deadline_notice_once')
    )
    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_notice_sweep'), ['sweep'], unique=False)

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=128), nullable=True))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('mail', 'webhook', name='outbox_channel', native_enum=False, create_constraint=False, length=32), nullable=False, server_default='mail'))
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_institution_id_institution'), 'institution', ['institution_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint('outbox_channel', _in_list('channel', ('mail', 'webhook')))
        batch_op.create_check_constraint(
            'webhook_has_institution', "channel <> 'webhook' OR institution_id IS NOT NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        # The default only filled the existing rows (all mail); the model sets the value.
        batch_op.alter_column('channel', server_default=None)

    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_event_event_kind'), type_='check')
        batch_op.create_check_constraint('event_kind', _in_list('kind', NEW_EVENT_KINDS))


def downgrade():
    op.execute(sa.text("DELETE FROM report_event WHERE kind = 'overdue'"))
    op.execute(sa.text("DELETE FROM outbox_message WHERE channel = 'webhook'"))
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_event_event_kind'), type_='check')
        batch_op.create_check_constraint('event_kind', _in_list('kind', OLD_EVENT_KINDS))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_message_webhook_has_institution'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_outbox_message_outbox_channel'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_institution_id_institution'), type_='foreignkey')
        batch_op.drop_column('institution_id')
        batch_op.drop_column('channel')

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')
        batch_op.drop_column('webhook_url')

    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_notice_sweep'))

    op.drop_table('deadline_notice')
