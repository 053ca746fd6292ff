"""audit entries for the feed sources (added, new key, disabled, enabled)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 12:00:00

"""
from alembic import op
import sqlalchemy as sa

OLD_AUDIT_ACTIONS = ('identity_viewed', 'role_granted', 'role_revoked', 'export',
                     'login_failed', 'login_locked', 'deadline_policy_saved', 'holiday_added',
                     'holiday_removed', 'webhook_changed')
NEW_AUDIT_ACTIONS = OLD_AUDIT_ACTIONS + ('feed_source_changed',)


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # The enum's CHECK constraint lists the allowed actions: dropped and made again.
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', NEW_AUDIT_ACTIONS))


def downgrade():
    op.execute(sa.text("DELETE FROM audit_entry WHERE " + _in_list(
        'action', NEW_AUDIT_ACTIONS[len(OLD_AUDIT_ACTIONS):])))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_entry_audit_action'), type_='check')
        batch_op.create_check_constraint('audit_action', _in_list('action', OLD_AUDIT_ACTIONS))
