"""report_event indexes for the weekly report at national scale: the week's events by kind,
the dispositions to a unit, a staff member's actions in a period (each read a few thousand
events by index instead of scanning millions)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 19:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.create_index('ix_report_event_kind_created', ['kind', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_report_event_target_kind_created',
                              ['target_institution_id', 'kind', 'created_at'], unique=False)
        batch_op.create_index('ix_report_event_actor_created', ['actor_id', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_index('ix_report_event_actor_created')
        batch_op.drop_index('ix_report_event_target_kind_created')
        batch_op.drop_index('ix_report_event_kind_created')
