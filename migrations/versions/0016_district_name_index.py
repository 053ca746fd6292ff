"""district: an index on lower(name), so that a kecamatan typed as text in the filing, intake
and public feed forms is found by one index lookup at national scale (3,545 kecamatan)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 20:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_district_name_lower', 'district', [sa.text('lower(name)')],
                    unique=False)


def downgrade():
    op.drop_index('ix_district_name_lower', table_name='district')
