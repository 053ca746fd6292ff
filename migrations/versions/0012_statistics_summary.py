"""statistics summary: report figures per month of filing, institution, unit and one dimension;
histograms of the times to first response and to completion; the refresh state

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 18:55:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

DIMENSIONS = ('all', 'kind', 'category', 'district', 'channel')
MEASURES = ('response', 'completion')


def upgrade():
    op.create_table('stat_month_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('dimension', sa.Enum(*DIMENSIONS, name='stat_dimension', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('value', sa.String(length=32), nullable=True),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('handled', sa.Integer(), nullable=False),
    sa.Column('followed_up', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_stat_month_summary_institution_id_institution')),
    sa.ForeignKeyConstraint(['unit_id'], ['institution.id'], name=op.f('fk_stat_month_summary_unit_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_month_summary'))
    )
    with op.batch_alter_table('stat_month_summary', schema=None) as batch_op:
        batch_op.create_index('ix_stat_month_summary_dimension_month', ['dimension', 'month'], unique=False)

    op.create_table('stat_month_duration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('measure', sa.Enum(*MEASURES, name='stat_measure', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('bucket_hours', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_stat_month_duration_institution_id_institution')),
    sa.ForeignKeyConstraint(['unit_id'], ['institution.id'], name=op.f('fk_stat_month_duration_unit_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_month_duration'))
    )
    with op.batch_alter_table('stat_month_duration', schema=None) as batch_op:
        batch_op.create_index('ix_stat_month_duration_measure_month', ['measure', 'month'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_due_scope', ['due_at', 'current_institution_id', 'current_unit_id'], unique=False)

    op.create_table('stat_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('rebuilt_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_state'))
    )


def downgrade():
    op.drop_table('stat_state')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_due_scope')
    with op.batch_alter_table('stat_month_duration', schema=None) as batch_op:
        batch_op.drop_index('ix_stat_month_duration_measure_month')
    op.drop_table('stat_month_duration')
    with op.batch_alter_table('stat_month_summary', schema=None) as batch_op:
        batch_op.drop_index('ix_stat_month_summary_dimension_month')
    op.drop_table('stat_month_summary')
