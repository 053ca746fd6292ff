"""reporter identities encrypted at rest: name, e-mail, phone and NIK become Text holding Fernet
tokens (portal/crypto.py), and the rows already there are encrypted with the first key of
IDENTITY_KEYS (downgrade decrypts them again)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 19:50:00

"""
from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = {'name': 200, 'email': 254, 'phone': 32, 'nik': 16}
BATCH = 500
identity = sa.table('reporter_identity', sa.column('id', sa.Integer),
                    *(sa.column(name, sa.Text) for name in COLUMNS))


def _cipher() -> MultiFernet:
    # The same keys as the application's (portal/config.py): Flask-Migrate runs migrations
    # inside the application context.
    return MultiFernet([Fernet(key.encode('ascii')) for key in current_app.config['IDENTITY_KEYS']])


def _convert(change) -> None:
    """Apply ``change`` to every identity field of every row, in batches by id."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(identity).where(identity.c.id > last).order_by(identity.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values = {name: change(getattr(row, name)) for name in COLUMNS
                      if getattr(row, name) is not None}
            if values:
                connection.execute(identity.update().where(identity.c.id == row.id).values(**values))
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        for name, length in COLUMNS.items():
            batch_op.alter_column(name, existing_type=sa.String(length=length), type_=sa.Text(),
                                  existing_nullable=True)
    cipher = _cipher()
    _convert(lambda plain: cipher.encrypt(plain.encode('utf-8')).decode('ascii'))


def downgrade():
    cipher = _cipher()
    _convert(lambda token: cipher.decrypt(token.encode('ascii')).decode('utf-8'))
    with op.batch_alter_table('reporter_identity', schema=None) as batch_op:
        for name, length in COLUMNS.items():
            batch_op.alter_column(name, existing_type=sa.Text(), type_=sa.String(length=length),
                                  existing_nullable=True)
