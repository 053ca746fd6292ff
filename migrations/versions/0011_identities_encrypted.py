"""reporter identities encrypted at rest: name, e-mail, phone and NIK become Text holding Fernet
tokens (portal/crypto.py), and so do the outbox's recipient and bodies; the rows already there
are encrypted with the first key of IDENTITY_KEYS (downgrade decrypts them again)

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

# table -> {column: its type before this migration}
ENCRYPTED = {
    'reporter_identity': {'name': sa.String(length=200), 'email': sa.String(length=254),
                          'phone': sa.String(length=32), 'nik': sa.String(length=16)},
    'outbox_message': {'recipient': sa.String(length=254), 'body_text': sa.Text(),
                       'body_html': sa.Text()},
}
BATCH = 500


def _cipher() -> MultiFernet:
    # The same keys as the application's (portal/config.py): Flask-Migrate runs migrations
    # inside the application context.
    return MultiFernet([Fernet(key.encode('ascii')) for key in current_app.config['IDENTITY_KEYS']])


def _convert(change) -> None:
    """Apply ``change`` to every encrypted column of every row, in batches by id."""
    connection = op.get_bind()
    for name, columns in ENCRYPTED.items():
        table = sa.table(name, sa.column('id', sa.Integer),
                         *(sa.column(column, sa.Text) for column in columns))
        last = 0
        while True:
            rows = connection.execute(
                sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for row in rows:
                values = {column: change(getattr(row, column)) for column in columns
                          if getattr(row, column) is not None}
                if values:
                    connection.execute(table.update().where(table.c.id == row.id).values(**values))
            last = rows[-1].id


def upgrade():
    for name, columns in ENCRYPTED.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            for column, old_type in columns.items():
                if not isinstance(old_type, sa.Text):
                    batch_op.alter_column(column, existing_type=old_type, type_=sa.Text(),
                                          existing_nullable=True)
    cipher = _cipher()
    _convert(lambda plain: cipher.encrypt(plain.encode('utf-8')).decode('ascii'))


def downgrade():
    cipher = _cipher()
    _convert(lambda token: cipher.decrypt(token.encode('ascii')).decode('utf-8'))
    for name, columns in ENCRYPTED.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            for column, old_type in columns.items():
                if not isinstance(old_type, sa.Text):
                    batch_op.alter_column(column, existing_type=sa.Text(), type_=old_type,
                                          existing_nullable=True)
