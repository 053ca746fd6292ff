"""anonymous reports keep no plain link to the citizen account in the database: the account is
found by the keyed contact hash (HMAC of the account id, key from SECRET_KEY) instead of
reporter_identity.user_id, and kept encrypted in reporter_identity.account_ref for the national
admin's identity view; the account holder's name is kept (encrypted) for masking it in public
texts. The downgrade puts the plain links back

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 20:00:00

"""
import hashlib
import hmac

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

identity = sa.table('reporter_identity', sa.column('id', sa.Integer),
                    sa.column('report_id', sa.Integer), sa.column('user_id', sa.Integer),
                    sa.column('name', sa.Text), sa.column('contact_hash', sa.LargeBinary),
                    sa.column('account_ref', sa.Text))
report = sa.table('report', sa.column('id', sa.Integer), sa.column('is_anonymous', sa.Boolean))
account = sa.table('user_account', sa.column('id', sa.Integer), sa.column('name', sa.String))


def _account_hash(user_id: int) -> bytes:
    # As portal/domain/duplicates.py contact_hash(user_id=...), at the time of this migration.
    secret = current_app.config['SECRET_KEY']
    secret = secret.encode('utf-8') if isinstance(secret, str) else secret
    key = hmac.new(secret, b'lapor:duplicates:contact', hashlib.sha256).digest()
    return hmac.new(key, f'account:{user_id}'.encode('utf-8'), hashlib.sha256).digest()


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(key.encode('ascii')) for key in current_app.config['IDENTITY_KEYS']])


def upgrade():
    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_ref', sa.Text(), nullable=True))
    cipher = _cipher()
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(identity.c.id, identity.c.user_id, identity.c.name, account.c.name)
        .join(report, report.c.id == identity.c.report_id)
        .join(account, account.c.id == identity.c.user_id)
        .where(report.c.is_anonymous.is_(True), identity.c.user_id.is_not(None))).all()
    for row_id, user_id, name, account_name in rows:
        values = {'user_id': None, 'contact_hash': _account_hash(user_id),
                  'account_ref': cipher.encrypt(str(user_id).encode('ascii')).decode('ascii')}
        if name is None and account_name:
            values['name'] = cipher.encrypt(account_name.encode('utf-8')).decode('ascii')
        connection.execute(identity.update().where(identity.c.id == row_id).values(**values))


def downgrade():
    cipher = _cipher()
    connection = op.get_bind()
    rows = connection.execute(sa.select(identity.c.id, identity.c.account_ref)
                              .where(identity.c.account_ref.is_not(None))).all()
    for row_id, token in rows:
        user_id = int(cipher.decrypt(token.encode('ascii')).decode('ascii'))
        connection.execute(identity.update().where(identity.c.id == row_id)
                           .values(user_id=user_id))
    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        batch_op.drop_column('account_ref')
