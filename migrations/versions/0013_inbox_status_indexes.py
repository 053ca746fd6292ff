"""inbox status indexes: the reports of an institution or unit by status, for the inbox's
counts per status and the offline units' waiting reports (an index-only count instead of
reading every report of a big institution)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 19:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_institution_status',
                              ['current_institution_id', 'status'], unique=False)
        batch_op.create_index('ix_report_unit_status', ['current_unit_id', 'status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_unit_status')
        batch_op.drop_index('ix_report_institution_status')
