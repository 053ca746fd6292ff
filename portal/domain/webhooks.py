"""The webhook channel: deadline notices POSTed as signed JSON to an institution's URL (a
WhatsApp or chat gateway posting to the group its administrators already use).

The body is the outbox row's JSON; the header ``X-Lapor-Signature: sha256=<hex>`` is the
HMAC-SHA256 of the raw body under the institution's secret, so the gateway can check that the
post came from the portal. Delivery goes through the outbox worker, with the mail's back-off.
"""
import hashlib
import hmac
import urllib.error
import urllib.request

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
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise WebhookRefused(f"HTTP {error.code}") from None
        raise OSError(f"HTTP {error.code}") from None


MAX_URL = 500


def set_webhook(institution, url: str | None, secret: str | None = None) -> str | None:
    """Point an institution's deadline notices at ``url`` (None or "": no webhook). Without a
    secret a new random one is made; the secret is returned so it can be given to the
    gateway. Flushes nothing: the caller commits."""
    import secrets

    from portal.domain import DomainError
    from portal.i18n import lazy_gettext as _l

    url = (url or "").strip()
    if not url:
        institution.webhook_url = None
        institution.webhook_secret = None
        return None
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL:
        raise DomainError(_l("Give an http:// or https:// address of at most 500 characters."),
                          field="webhook_url")
    institution.webhook_url = url
    institution.webhook_secret = secret or secrets.token_hex(32)
    return institution.webhook_secret
