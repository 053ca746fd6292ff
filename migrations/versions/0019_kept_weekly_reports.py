"""kept weekly reports: the figures of a finished week per institution, computed once by the
Monday job and read by the weekly report page

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 22:50:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kept_weekly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('computed_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_kept_weekly_report_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_weekly_report')),
    sa.UniqueConstraint('institution_id', 'week', name='uq_kept_weekly_report_week')
    )


def downgrade():
    op.drop_table('kept_weekly_report')
