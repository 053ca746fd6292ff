"""public feed: support counts kept on the report, the masked search document, partial
indexes for keyset paging of public reports

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PUBLIC = "NOT is_confidential AND status NOT IN ('submitted', 'archived')"


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('search_document', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True))
        batch_op.create_check_constraint('support_count_not_negative', 'support_count >= 0')
        batch_op.create_index('ix_report_public_created', ['created_at', 'id'], unique=False,
                              postgresql_where=sa.text(PUBLIC), sqlite_where=sa.text(PUBLIC))
        batch_op.create_index('ix_report_public_support', ['support_count', 'id'], unique=False,
                              postgresql_where=sa.text(PUBLIC), sqlite_where=sa.text(PUBLIC))
        batch_op.create_index('ix_report_public_status_created', ['status', 'created_at', 'id'],
                              unique=False, postgresql_where=sa.text(PUBLIC),
                              sqlite_where=sa.text(PUBLIC))
        batch_op.create_index('ix_report_search_document', ['search_document'], unique=False,
                              postgresql_using='gin')
    op.execute(sa.text(
        "UPDATE report SET support_count = (SELECT count(*) FROM report_support"
        " WHERE report_support.report_id = report.id)"
        " WHERE id IN (SELECT report_id FROM report_support)"))


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_search_document', postgresql_using='gin')
        batch_op.drop_index('ix_report_public_status_created')
        batch_op.drop_index('ix_report_public_support')
        batch_op.drop_index('ix_report_public_created')
        batch_op.drop_constraint(batch_op.f('ck_report_support_count_not_negative'), type_='check')
        batch_op.drop_column('search_document')
        batch_op.drop_column('support_count')
