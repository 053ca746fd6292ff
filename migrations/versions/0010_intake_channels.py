"""intake from every channel: WhatsApp, e-mail and mobile app channels, the staff member who
logged a report and the social-media post's link, API keys for Open311 clients, their audit

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:05:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

OLD_CHANNELS = ('web', 'national_feed', 'sms', 'social_media', 'phone', 'walk_in')
NEW_CHANNELS = OLD_CHANNELS + ('whatsapp', 'email', 'mobile_app')
OLD_AUDIT_ACTIONS = ('identity_viewed', 'role_granted', 'role_revoked', 'export',
                     'login_failed', 'login_locked', 'deadline_policy_saved', 'holiday_added',
                     'holiday_removed', 'webhook_changed', 'feed_source_changed')
NEW_AUDIT_ACTIONS = OLD_AUDIT_ACTIONS + ('api_client_changed',)


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum(*NEW_CHANNELS, name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('api_key_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('key_hint', sa.String(length=12), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_api_client_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_api_client_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_api_client_api_key_hash'))
    )
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_client_institution_id'), ['institution_id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('channel_link', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_logged_by_id_user_account'), 'user_account', ['logged_by_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_report_channel'), type_='check')
        batch_op.create_check_constraint('channel', _in_list('channel', NEW_CHANNELS))

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', NEW_AUDIT_ACTIONS))


def downgrade():
    op.execute(sa.text("DELETE FROM audit_entry WHERE " + _in_list(
        'action', NEW_AUDIT_ACTIONS[len(OLD_AUDIT_ACTIONS):])))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', OLD_AUDIT_ACTIONS))

    op.execute(sa.text("UPDATE report SET channel = 'web' WHERE " + _in_list(
        'channel', NEW_CHANNELS[len(OLD_CHANNELS):])))
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_channel'), type_='check')
        batch_op.create_check_constraint('channel', _in_list('channel', OLD_CHANNELS))
        batch_op.drop_constraint(batch_op.f('fk_report_logged_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('channel_link')
        batch_op.drop_column('logged_by_id')

    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_client_institution_id'))

    op.drop_table('api_client')
