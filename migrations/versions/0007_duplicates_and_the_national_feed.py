"""duplicates and the national feed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 20:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types  # noqa: F401  (custom column types)

OLD_EVENT_KINDS = ('submitted', 'verified', 'routed', 'dispositioned', 'accepted', 'assigned',
                   'sent_back', 'follow_up', 'answered', 'postponed', 'not_in_authority',
                   'archived', 'reopened', 'completed', 'reporter_reply', 'rated', 'note',
                   'clarification_requested', 'deadline_extended', 'overdue')
NEW_EVENT_KINDS = OLD_EVENT_KINDS + ('duplicate_merged',)


def _in_list(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('api_key_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('key_hint', sa.String(length=12), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_feed_source_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_source')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_feed_source_api_key_hash')),
    sa.UniqueConstraint('code', name=op.f('uq_feed_source_code'))
    )
    op.create_table('duplicate_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('original_id', sa.Integer(), nullable=False),
    sa.Column('certainty', sa.Enum('certain', 'likely', name='certainty', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Enum('external_id', 'same_text', 'same_reporter', 'same_place', name='duplicate_reason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('state', sa.Enum('open', 'dismissed', 'confirmed', name='candidate_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name=op.f('ck_duplicate_candidate_decided_iff_closed')),
    sa.CheckConstraint('report_id <> original_id', name=op.f('ck_duplicate_candidate_not_itself')),
    sa.CheckConstraint('score >= 0 AND score <= 1', name=op.f('ck_duplicate_candidate_score_0_to_1')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_duplicate_candidate_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['original_id'], ['report.id'], name=op.f('fk_duplicate_candidate_original_id_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_duplicate_candidate_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidate')),
    sa.UniqueConstraint('report_id', 'original_id', name='uq_duplicate_candidate_pair')
    )
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_candidate_original_id'), ['original_id'], unique=False)
        batch_op.create_index('ix_duplicate_candidate_state_created', ['state', 'created_at', 'id'], unique=False)

    op.create_table('report_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('browser_hash', sa.LargeBinary(length=32), nullable=True),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (browser_hash IS NULL)', name=op.f('ck_report_support_one_supporter')),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_support_report_id_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_report_support_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_support')),
    sa.UniqueConstraint('report_id', 'browser_hash', name='uq_report_support_browser'),
    sa.UniqueConstraint('report_id', 'user_id', name='uq_report_support_user')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('text_hash', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_report_category_district_created', ['category_id', 'district_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_external_id'), ['external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_text_hash'), ['text_hash'], unique=False)
        batch_op.create_unique_constraint('uq_report_source_external', ['source_id', 'external_id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_duplicate_of_id_report'), 'report', ['duplicate_of_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_source_id_feed_source'), 'feed_source', ['source_id'], ['id'])
        # CHECK constraints, by hand (autogenerate does not see them).
        batch_op.create_check_constraint(
            'duplicate_has_original',
            "(COALESCE(archive_reason, '') = 'duplicate') = (duplicate_of_id IS NOT NULL)")
        batch_op.create_check_constraint('not_duplicate_of_itself', 'duplicate_of_id <> id')
        batch_op.create_check_constraint('external_id_has_source',
                                         '(source_id IS NULL) = (external_id IS NULL)')

    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('related_report_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_event_related_report_id_report'), 'report', ['related_report_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_report_event_event_kind'), type_='check')
        batch_op.create_check_constraint('event_kind', _in_list('kind', NEW_EVENT_KINDS))

    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_hash', sa.LargeBinary(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_reporter_identity_contact_hash'), ['contact_hash'], unique=False)



def downgrade():
    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reporter_identity_contact_hash'))
        batch_op.drop_column('contact_hash')

    op.execute(sa.text("DELETE FROM report_event WHERE " + _in_list(
        'kind', NEW_EVENT_KINDS[len(OLD_EVENT_KINDS):])))
    with op.batch_alter_table('report_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_event_event_kind'), type_='check')
        batch_op.create_check_constraint('event_kind', _in_list('kind', OLD_EVENT_KINDS))
        batch_op.drop_constraint(batch_op.f('fk_report_event_related_report_id_report'), type_='foreignkey')
        batch_op.drop_column('related_report_id')

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_external_id_has_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_not_duplicate_of_itself'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_duplicate_has_original'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_report_source_id_feed_source'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_duplicate_of_id_report'), type_='foreignkey')
        batch_op.drop_constraint('uq_report_source_external', type_='unique')
        batch_op.drop_index(batch_op.f('ix_report_text_hash'))
        batch_op.drop_index(batch_op.f('ix_report_external_id'))
        batch_op.drop_index(batch_op.f('ix_report_duplicate_of_id'))
        batch_op.drop_index('ix_report_category_district_created')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('text_hash')
        batch_op.drop_column('external_id')
        batch_op.drop_column('source_id')

    op.drop_table('report_support')
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_candidate_state_created')
        batch_op.drop_index(batch_op.f('ix_duplicate_candidate_original_id'))

    op.drop_table('duplicate_candidate')
    op.drop_table('feed_source')
