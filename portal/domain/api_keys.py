"""API keys of the machine interfaces (the national feed's sources, the Open311 clients), in one
place: how a key is made, fingerprinted and read from a request.

A key is 256 random bits (``secrets.token_urlsafe(32)``) after a short prefix that tells which
interface it is for. Only its SHA-256 is stored: a random secret of that size needs no slow
hash, and a lookup by the hash is one index probe. The first characters (the "hint") are kept
to tell keys apart on the admin pages; the key itself is shown once, when it is made.
"""
import hashlib
import secrets
from dataclasses import dataclass

HINT_LENGTH = 10  # the prefix and six characters of the key: enough to tell keys apart
MAX_KEY_LENGTH = 200  # a longer "key" is refused before it is hashed


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, never stored
    hash: bytes
    hint: str


def hash_key(key: str) -> bytes:
    """SHA-256 of the key: a 256-bit random secret needs no slow hash."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def new_key(prefix: str) -> NewKey:
    key = prefix + secrets.token_urlsafe(32)
    return NewKey(key=key, hash=hash_key(key), hint=key[:HINT_LENGTH])


def plausible(key: str | None) -> bool:
    """Whether ``key`` is worth a lookup (present and not absurdly long)."""
    return bool(key) and len(key) <= MAX_KEY_LENGTH


def limiter_key(kind: str, key: str | None, address: str | None) -> str:
    """The rate limiter's bucket: per key (by its hash, so that the limiter's storage never
    holds a key); without a key, per address."""
    if key:
        return f"{kind}-key:" + hash_key(key[:MAX_KEY_LENGTH]).hex()
    return f"{kind}-address:" + (address or "")
