"""kept national statistics: the whole portal's figures of the default period (the last 12
months) kept on the summary's state row by every refresh, so that the public and the national
admin's statistics pages read one row instead of merging every institution's monthly
histograms

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 00:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stat_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_first', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('kept_last', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('kept_figures', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('stat_state', schema=None) as batch_op:
        batch_op.drop_column('kept_figures')
        batch_op.drop_column('kept_last')
        batch_op.drop_column('kept_first')
