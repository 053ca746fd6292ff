"""calendar changes for the worker; audit entries for the deadline administration

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

OLD_AUDIT_ACTIONS = ('identity_viewed', 'role_granted', 'role_revoked', 'export',
                     'login_failed', 'login_locked')
NEW_AUDIT_ACTIONS = OLD_AUDIT_ACTIONS + ('deadline_policy_saved', 'holiday_added',
                                         'holiday_removed', 'webhook_changed')


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('added', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.Column('moved', sa.Integer(), nullable=True),
    sa.CheckConstraint('(applied_at IS NULL) = (moved IS NULL)', name=op.f('ck_calendar_change_applied_iff_moved')),
    sa.CheckConstraint('moved >= 0', name=op.f('ck_calendar_change_moved_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_calendar_change_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_calendar_change_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_change'))
    )
    with op.batch_alter_table('calendar_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_change_institution_id'), ['institution_id'], unique=False)

    # The enum's CHECK constraint lists the allowed actions: written by hand (autogenerate
    # does not see CHECK constraints), dropped and made again with the new values.
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', NEW_AUDIT_ACTIONS))


def downgrade():
    op.execute(sa.text("DELETE FROM audit_entry WHERE " + _in_list(
        'action', NEW_AUDIT_ACTIONS[len(OLD_AUDIT_ACTIONS):])))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', OLD_AUDIT_ACTIONS))

    with op.batch_alter_table('calendar_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_change_institution_id'))

    op.drop_table('calendar_change')
