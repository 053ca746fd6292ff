"""The webhook channel: deadline notices POSTed as signed JSON to an institution's URL (a
WhatsApp or chat gateway posting to the group its administrators already use).

The body is the outbox row's JSON; the header ``X-Lapor-Signature: sha256=<hex>`` is the
HMAC-SHA256 of the raw body under the institution's secret, so the gateway can check that the
post came from the portal. Delivery goes through the outbox worker, with the mail's back-off.

Administrators set the address and make the secret with ``set_webhook``, ``rotate_secret`` and
``remove_webhook`` (the admin page and ``flask deadlines webhook-set``); every change is in the
audit log.
"""
import hashlib
import hmac
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from portal.domain import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import AuditAction, AuditEntry, Institution, User

SIGNATURE_HEADER = "X-Lapor-Signature"
TIMEOUT_SECONDS = 5


class WebhookRefused(Exception):
    """The receiver answered with a client error (4xx other than 408/429): retrying the same
    post is unlikely to help, so it gives up after a few tries like a refused mailbox."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)


def post(url: str, secret: str | None, body: str, *, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST the JSON body; the status on success (2xx). Raises WebhookRefused on a 4xx,
    OSError (URLError, timeouts, refused connections, 5xx) on anything worth retrying."""
    if not url.startswith(("https://", "http://")):
        raise WebhookRefused(f"not an http(s) URL: {url[:80]}")
    raw = body.encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "lapor-portal-webhook"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        # The scheme is checked above: http(s) only, never file: or a custom one.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise WebhookRefused(f"HTTP {error.code}") from None
        raise OSError(f"HTTP {error.code}") from None


MAX_URL = 500
# Plain http:// only to the machine itself (a gateway under test); anything else goes encrypted.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class WebhookChange:
    institution: Institution
    url: str | None  # None: no webhook any more
    secret: str | None  # the secret made or given now, to show once; None: unchanged or none


def check_url(url: str | None) -> str:
    """The address, stripped, if notices may be posted to it; else DomainError on the field
    ``webhook_url``."""
    url = (url or "").strip()
    if not url:
        raise DomainError(_l("Give the address of the webhook."), field="webhook_url")
    if len(url) > MAX_URL:
        raise DomainError(_l("The address is too long (at most 500 characters)."),
                          field="webhook_url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is no number)
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or any(c.isspace() for c in url):
        raise DomainError(_l("This is not a web address. Give one such as "
                             "https://gateway.example.id/lapor."), field="webhook_url")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return url
    if parts.scheme == "http":
        raise DomainError(_l("Use an https:// address: notices are sent encrypted. http:// is "
                             "allowed only to 127.0.0.1 or localhost, for testing."),
                          field="webhook_url")
    raise DomainError(_l("Give an address that starts with https://."), field="webhook_url")


def _shown(url: str | None) -> str:
    """The address as the audit log shows it: without a password or a query string, which
    may hold a gateway's token."""
    if not url:
        return "(none)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return shown + ("?…" if parts.query else "")


def _new_secret() -> str:
    return secrets.token_hex(32)


def _changed(institution: Institution, before: str | None, *, new_secret: bool,
             actor: User | None, now: datetime) -> None:
    detail = f"{_shown(before)} → {_shown(institution.webhook_url)}"
    if new_secret and institution.webhook_url:
        detail += "; new secret"
    db.session.add(AuditEntry(action=AuditAction.WEBHOOK_CHANGED, actor=actor,
                              institution=institution, created_at=now, detail=detail[:500]))
    db.session.flush()


def set_webhook(institution: Institution, url: str | None, *, actor: User | None,
                now: datetime, secret: str | None = None,
                new_secret: bool = False) -> WebhookChange:
    """Post the institution's deadline notices to ``url`` (None or "": no webhook any more).
    The signing secret is kept, unless there is none yet, ``new_secret`` asks for a new one,
    or one is given; a secret made or given here is returned once, for the gateway. Audited
    (the address, never the secret). Flushes, never commits."""
    before = institution.webhook_url
    if not (url or "").strip():
        return remove_webhook(institution, actor=actor, now=now)
    url = check_url(url)
    if secret is not None and not 16 <= len(secret) <= 128:
        raise DomainError(_l("A secret has 16 to 128 characters."), field="webhook_secret")
    made = None
    if secret or new_secret or not institution.webhook_secret:
        made = secret or _new_secret()
        institution.webhook_secret = made
    institution.webhook_url = url
    _changed(institution, before, new_secret=made is not None, actor=actor, now=now)
    return WebhookChange(institution=institution, url=url, secret=made)


def rotate_secret(institution: Institution, *, actor: User | None,
                  now: datetime) -> WebhookChange:
    """A new signing secret for the webhook (the old one stops working at once)."""
    if not institution.webhook_url:
        raise DomainError(_l("Set the address of the webhook first."), field="webhook_url")
    institution.webhook_secret = _new_secret()
    _changed(institution, institution.webhook_url, new_secret=True, actor=actor, now=now)
    return WebhookChange(institution=institution, url=institution.webhook_url,
                         secret=institution.webhook_secret)


def remove_webhook(institution: Institution, *, actor: User | None,
                   now: datetime) -> WebhookChange:
    """No webhook any more: address and secret are forgotten."""
    before = institution.webhook_url
    institution.webhook_url = None
    institution.webhook_secret = None
    if before is not None:
        _changed(institution, before, new_secret=False, actor=actor, now=now)
    return WebhookChange(institution=institution, url=None, secret=None)
