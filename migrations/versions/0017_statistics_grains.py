"""statistics summary at three grains (a unit, an institution, the whole portal) so that the
pages read the coarsest rows that answer them; kecamatan counted per region (the regency or
city they lie in) and, per institution, its own kecamatan. The summary is derived data: the
tables are recreated empty and the worker's next refresh rebuilds them (no refresh state)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 22:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OLD_DIMENSIONS = ('all', 'kind', 'category', 'district', 'channel')
NEW_DIMENSIONS = ('all', 'kind', 'category', 'region', 'district', 'channel')
GRAINS = ('unit', 'institution', 'national')
MEASURES = ('response', 'completion')


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _drop_tables():
    op.drop_table('stat_month_duration')
    op.drop_table('stat_month_summary')


def _create_tables(dimensions, with_grain):
    grain = [sa.Column('grain', _enum(GRAINS, 'stat_grain'), nullable=False)] \
        if with_grain else []
    op.create_table('stat_month_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *grain,
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('dimension', _enum(dimensions, 'stat_dimension'), nullable=False),
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
    grain = [sa.Column('grain', _enum(GRAINS, 'stat_grain'), nullable=False)] \
        if with_grain else []
    op.create_table('stat_month_duration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *grain,
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('measure', _enum(MEASURES, 'stat_measure'), nullable=False),
    sa.Column('bucket_hours', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_stat_month_duration_institution_id_institution')),
    sa.ForeignKeyConstraint(['unit_id'], ['institution.id'], name=op.f('fk_stat_month_duration_unit_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_month_duration'))
    )


def upgrade():
    _drop_tables()
    _create_tables(NEW_DIMENSIONS, with_grain=True)
    # Covering on PostgreSQL: the pages read their sums from the index alone.
    op.create_index('ix_stat_month_summary_lookup', 'stat_month_summary',
                    ['grain', 'dimension', 'institution_id', 'month'], unique=False,
                    postgresql_include=['unit_id', 'value', 'received', 'handled',
                                        'followed_up', 'completed', 'rating_count',
                                        'rating_sum'])
    op.create_index('ix_stat_month_duration_lookup', 'stat_month_duration',
                    ['grain', 'measure', 'institution_id', 'month'], unique=False,
                    postgresql_include=['unit_id', 'bucket_hours', 'reports'])
    op.execute(sa.text("DELETE FROM stat_state"))


def downgrade():
    _drop_tables()
    _create_tables(OLD_DIMENSIONS, with_grain=False)
    op.create_index('ix_stat_month_summary_dimension_month', 'stat_month_summary',
                    ['dimension', 'month'], unique=False)
    op.create_index('ix_stat_month_duration_measure_month', 'stat_month_duration',
                    ['measure', 'month'], unique=False)
    op.execute(sa.text("DELETE FROM stat_state"))
