"""Reporter identities encrypted at rest.

Every name, e-mail address, phone number and NIK in ``reporter_identity`` is stored as a Fernet
token (AES-128-CBC with HMAC-SHA256, from ``cryptography``), named and anonymous reporters alike:
a database dump or backup alone names nobody. The keys come from the environment
(``IDENTITY_KEYS``, a comma-separated list): the first key encrypts, every key decrypts
(``MultiFernet``), so a new key is put first, ``flask keys rotate-identities`` re-encrypts every
row with it, and the old key is removed afterwards.

The column type decrypts on read, so the code that needs an identity (the national admin's
identity view, the system's own mail to the reporter, the duplicate check's contact hash at
filing) reads plain text, and nothing else in the database does. A token that does not decrypt
with any key is an error (a wrong or missing key), never shown as if it were the identity.
"""
import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

# Development and tests only: production refuses to start without IDENTITY_KEYS.
_DEVELOPMENT_SEED = b"lapor-portal development identity key; never used in production"
DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(_DEVELOPMENT_SEED).digest()).decode()
EXTENSION = "portal.identity_cipher"


def parse_keys(raw: str | None) -> list[str]:
    """The keys of a comma-separated ``IDENTITY_KEYS`` value, checked; ValueError if one is not
    a Fernet key (32 bytes, URL-safe base64)."""
    keys = [part.strip() for part in (raw or "").split(",") if part.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise ValueError(f"IDENTITY_KEYS: key {number} is not a Fernet key "
                             "(generate one with `flask keys new`)") from error
    return keys


def keys_from_environment(production: bool) -> list[str]:
    keys = parse_keys(os.environ.get("IDENTITY_KEYS"))
    if keys:
        return keys
    if production:
        raise RuntimeError("IDENTITY_KEYS must be set when PORTAL_ENV=production")
    return [DEVELOPMENT_KEY]


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def cipher_for(keys: list[str]) -> MultiFernet:
    if not keys:
        raise RuntimeError("no identity key configured (IDENTITY_KEYS)")
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def identity_cipher() -> MultiFernet:
    """The application's cipher, built once per application from ``IDENTITY_KEYS``."""
    app = current_app._get_current_object()
    keys = tuple(app.config["IDENTITY_KEYS"])
    cached = app.extensions.get(EXTENSION)
    if cached is None or cached[0] != keys:
        cached = app.extensions[EXTENSION] = (keys, cipher_for(list(keys)))
    return cached[1]


def encrypt(value: str) -> str:
    return identity_cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return identity_cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise RuntimeError("a reporter identity does not decrypt with any key in IDENTITY_KEYS "
                           "(a wrong or missing key?)") from error


class EncryptedText(TypeDecorator):
    """Text encrypted with the identity keys on the way in, decrypted on the way out.

    Fernet tokens differ on every write, so the column cannot be compared or searched in SQL:
    reporters are found by ``contact_hash`` (a keyed hash), never by these columns."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


# ----------------------------------------------------------------------------- key rotation
# Every column of type EncryptedText, by table (the models say the same; a test checks).
ENCRYPTED_COLUMNS = {
    "reporter_identity": ("name", "email", "phone", "nik", "account_ref"),
    "outbox_message": ("recipient", "body_text", "body_html"),
}


def rotate_identities(*, batch_size: int = 500, commit=None) -> tuple[int, int]:
    """Re-encrypt every encrypted value not yet under the first key of ``IDENTITY_KEYS``, in
    batches by id (``commit`` is called after each batch). Idempotent: a second run finds every
    row current and writes nothing. Returns (rows re-encrypted, rows already current)."""
    import sqlalchemy as sa

    from portal.extensions import db

    cipher = identity_cipher()
    first = Fernet(current_app.config["IDENTITY_KEYS"][0].encode("ascii"))

    def current(token: str) -> bool:
        try:
            first.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    rotated = unchanged = 0
    for name, columns in ENCRYPTED_COLUMNS.items():
        table = sa.table(name, sa.column("id", sa.Integer),
                         *(sa.column(column, sa.Text) for column in columns))
        last = 0
        while True:
            rows = db.session.execute(
                sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(batch_size)
            ).all()
            if not rows:
                break
            for row in rows:
                values = {}
                for column in columns:
                    token = getattr(row, column)
                    if token is None or current(token):
                        continue
                    try:
                        values[column] = cipher.rotate(token.encode("ascii")).decode("ascii")
                    except InvalidToken as error:
                        raise RuntimeError(
                            f"{name} {row.id}: {column} does not decrypt with any key in "
                            "IDENTITY_KEYS; this batch was not changed") from error
                if values:
                    db.session.execute(table.update().where(table.c.id == row.id).values(**values))
                    rotated += 1
                else:
                    unchanged += 1
            last = rows[-1].id
            if commit is not None:
                commit()
    return rotated, unchanged
