"""weekly report indexes: an institution's unfinished reports (partial), its reports by
completion and by first response, so that "open at the end of the week" and "first responses
in the week" read a few thousand index entries instead of every report it ever had; the
dispositions to a unit with their report (index-only), and the leaving events per report
(partial) for the offline hours; the reports of an institution by status with their unit
(the inbox's waiting reports per unit, from the index alone)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 22:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

UNFINISHED = "completed_at IS NULL AND status <> 'archived'"
LEAVING = ("kind IN ('answered', 'sent_back', 'routed', 'not_in_authority', 'archived', "
           "'completed', 'postponed')")


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_institution_status')
        batch_op.create_index('ix_report_institution_status',
                              ['current_institution_id', 'status', 'current_unit_id'],
                              unique=False)
        batch_op.create_index('ix_report_unfinished_created',
                              ['current_institution_id', 'created_at', 'current_unit_id',
                               'due_at'], unique=False, postgresql_include=['id'],
                              postgresql_where=sa.text(UNFINISHED),
                              sqlite_where=sa.text(UNFINISHED))
        batch_op.create_index('ix_report_institution_completed',
                              ['current_institution_id', 'completed_at'], unique=False)
        batch_op.create_index('ix_report_institution_first_response',
                              ['current_institution_id', 'first_response_at'], unique=False)
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_index('ix_report_event_kind_created')
        batch_op.create_index('ix_report_event_kind_created', ['kind', 'created_at'],
                              unique=False, postgresql_include=['report_id'])
        batch_op.drop_index('ix_report_event_target_kind_created')
        batch_op.create_index('ix_report_event_target_kind_created',
                              ['target_institution_id', 'kind', 'created_at'], unique=False,
                              postgresql_include=['report_id'])
        batch_op.create_index('ix_report_event_leaving', ['report_id', 'created_at'],
                              unique=False, postgresql_where=sa.text(LEAVING),
                              sqlite_where=sa.text(LEAVING))


def downgrade():
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_index('ix_report_event_leaving')
        batch_op.drop_index('ix_report_event_kind_created')
        batch_op.create_index('ix_report_event_kind_created', ['kind', 'created_at'],
                              unique=False)
        batch_op.drop_index('ix_report_event_target_kind_created')
        batch_op.create_index('ix_report_event_target_kind_created',
                              ['target_institution_id', 'kind', 'created_at'], unique=False)
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_institution_first_response')
        batch_op.drop_index('ix_report_institution_completed')
        batch_op.drop_index('ix_report_unfinished_created')
        batch_op.drop_index('ix_report_institution_status')
        batch_op.create_index('ix_report_institution_status',
                              ['current_institution_id', 'status'], unique=False)
