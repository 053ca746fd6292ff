"""kept national statistics: the whole portal's figures of the default period (the last 12
months) kept on the summary's state row by every refresh, so that the public and the national
admin's statistics pages read one row instead of merging every institution's monthly
histograms; on PostgreSQL, autovacuum of the summary, report and report_event tables after a
fixed number of changed rows (the pages' index-only scans)

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

# Autovacuum after a fixed number of changed rows instead of 20 % of the table: the pages read
# covering and partial indexes with index-only scans, which go to the table for every page
# changed since the last vacuum. Each statistics refresh rewrites the current month's summary
# rows (about 50,000 at 1,000,000 reports): with 20 % autovacuum waited for seven refreshes and
# the busiest institution's statistics page read its histograms in 8.3 and 6.3 ms instead of
# 1.5 and 1.0 (the page 52 instead of 37 ms). 5,000 reports updated (half a day's work at
# 1,000,000) took the busiest institution's inbox from 38 to 53 ms, and 20 % of a million rows
# is weeks of work; the report_event table only grows, and its new rows were never vacuumed.
# The number of changed rows after which each table is vacuumed (updates and deletes, and
# inserts):
AUTOVACUUM_AFTER = {"stat_month_summary": 1000, "stat_month_duration": 1000, "report": 2000,
                    "report_event": 10000}
AUTOVACUUM = ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_threshold",
              "autovacuum_vacuum_insert_scale_factor", "autovacuum_vacuum_insert_threshold")


def upgrade():
    with op.batch_alter_table('stat_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_first', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('kept_last', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('kept_figures', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        for table, rows in AUTOVACUUM_AFTER.items():
            op.execute(f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0, "
                       f"autovacuum_vacuum_threshold = {rows}, "
                       "autovacuum_vacuum_insert_scale_factor = 0, "
                       f"autovacuum_vacuum_insert_threshold = {rows})")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in AUTOVACUUM_AFTER:
            op.execute(f"ALTER TABLE {table} RESET ({', '.join(AUTOVACUUM)})")
    with op.batch_alter_table('stat_state', schema=None) as batch_op:
        batch_op.drop_column('kept_figures')
        batch_op.drop_column('kept_last')
        batch_op.drop_column('kept_first')
