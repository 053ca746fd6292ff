"""Tracking codes: the reporter's secret key to their report.

A code is 15 symbols from a 30-symbol alphabet (no 0/O, 1/I/L, no U), shown in three groups of
five: 15 * log2(30) = 73.6 bits, drawn with ``secrets``. Only its SHA-256 is stored. A keyed or
slow hash adds nothing at 73 bits of entropy and would make every code die with a rotated key.
"""
import hashlib
import secrets

from sqlalchemy import select

from portal.extensions import db
from portal.models import Report

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LENGTH = 5
CODE_LENGTH = GROUPS * GROUP_LENGTH
_SEPARATORS = str.maketrans("", "", " -_.\t")


def generate_tracking_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(
        symbols[i : i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH)
    )


def normalise_tracking_code(text: str) -> str | None:
    """The code's symbols in upper case, or None if the text cannot be a tracking code."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    symbols = text.translate(_SEPARATORS).upper()
    if len(symbols) != CODE_LENGTH or any(ch not in ALPHABET for ch in symbols):
        return None
    return symbols


def hash_tracking_code(code: str) -> bytes:
    symbols = normalise_tracking_code(code)
    if symbols is None:
        raise ValueError("not a tracking code")
    return hashlib.sha256(b"lapor-tracking-code:" + symbols.encode("ascii")).digest()


def find_report_by_tracking_code(code: str) -> Report | None:
    if normalise_tracking_code(code) is None:
        return None
    return db.session.scalar(
        select(Report).where(Report.tracking_code_hash == hash_tracking_code(code))
    )
