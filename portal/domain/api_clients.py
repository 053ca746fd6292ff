"""Open311 API clients: the keys an institution admin issues to a channel that files reports
for its citizens through the GeoReport v2 API (an SMS gateway, a mobile app, a social-media
desk). Reports posted with a key get the key's channel and go to the key's institution (a key
of the national level: by category, as on the web).

An institution admin manages the keys of their own institutions; the national administrator
(or the console, ``actor=None``) every key. Keys are made and fingerprinted as the feed's
(portal/domain/api_keys.py): only the SHA-256 is stored and the key is shown once, when it is
issued or renewed. Every change is in the audit log (API_CLIENT_CHANGED, under the key's
institution, so that its supervisors read it too).

Like every domain module: ``now`` is explicit, it flushes and never commits.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.domain import DomainError, api_keys
from portal.domain.administration import NotAllowed, NotFound, managed_node_ids
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ApiClient,
    AuditAction,
    AuditEntry,
    Channel,
    Institution,
    InstitutionKind,
    User,
)

KEY_PREFIX = "lpo_"  # tells an Open311 key apart from a feed key ("lpf_")
MAX_NAME = 200
# The channels a key may be issued to: those a system files through. The web form, the
# national feed, the telephone and the desk are not API clients.
API_CHANNELS = (Channel.MOBILE_APP, Channel.SMS, Channel.WHATSAPP, Channel.SOCIAL_MEDIA,
                Channel.EMAIL)


@dataclass
class IssuedKey:
    client: ApiClient
    key: str  # shown once; only its hash is kept


def _scope(actor: User | None) -> set[int] | None:
    """The institutions whose keys the actor manages; None: every one (the console)."""
    if actor is None:
        return None
    scope = managed_node_ids(actor)
    if not scope:
        raise NotAllowed(_l("Only an institution administrator manages API keys."))
    return scope


def may_manage(actor: User | None) -> bool:
    return actor is None or bool(managed_node_ids(actor))


def issuing_institutions(actor: User | None) -> list[Institution]:
    """The institutions (and, for the national administrator, the national level) a key may
    be issued for."""
    scope = _scope(actor)
    query = select(Institution).where(Institution.kind != InstitutionKind.UNIT)
    if scope is not None:
        query = query.where(Institution.id.in_(scope))
    return list(db.session.scalars(query.order_by(Institution.kind, Institution.name,
                                                  Institution.id)))


def list_clients(actor: User | None) -> list[ApiClient]:
    scope = _scope(actor)
    query = select(ApiClient).join(Institution, ApiClient.institution_id == Institution.id)
    if scope is not None:
        query = query.where(ApiClient.institution_id.in_(scope))
    return list(db.session.scalars(query.order_by(Institution.name, ApiClient.name,
                                                  ApiClient.id)))


def get_client(actor: User | None, client_id: int) -> ApiClient:
    scope = _scope(actor)
    client = (db.session.get(ApiClient, client_id)
              if isinstance(client_id, int) and 0 < client_id < 2 ** 31 else None)
    if client is None:
        raise NotFound(_l("This API key does not exist."))
    if scope is not None and client.institution_id not in scope:
        raise NotAllowed(_l("This API key belongs to an institution you do not administer."))
    return client


def _audit(client: ApiClient, detail: str, *, actor: User | None, now: datetime) -> None:
    db.session.add(AuditEntry(
        action=AuditAction.API_CLIENT_CHANGED, actor=actor, institution_id=client.institution_id,
        created_at=now, detail=f"{client.name} ({client.channel.value}): {detail}"[:500]))
    db.session.flush()


def _new_key(client: ApiClient) -> str:
    made = api_keys.new_key(KEY_PREFIX)
    client.api_key_hash = made.hash
    client.key_hint = made.hint
    return made.key


def issue_key(actor: User | None, *, institution_id: int | None, name: str | None,
              channel: Channel | None, now: datetime) -> IssuedKey:
    """A new client with its key, for one of the actor's institutions."""
    scope = _scope(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise DomainError(_l("Give the name of the system that will use the key (at most "
                             "%(count)s characters).", count=MAX_NAME), field="name")
    if channel not in API_CHANNELS:
        raise DomainError(_l("Choose a channel from the list."), field="channel")
    institution = (db.session.get(Institution, institution_id)
                   if isinstance(institution_id, int) and 0 < institution_id < 2 ** 31 else None)
    if institution is None or institution.kind is InstitutionKind.UNIT:
        raise DomainError(_l("Choose an institution from the list."), field="institution")
    if scope is not None and institution.id not in scope:
        raise NotAllowed(_l("This institution is outside the part you administer."))
    client = ApiClient(institution=institution, name=name, channel=channel, is_active=True,
                       created_at=now, created_by=actor)
    key = _new_key(client)
    db.session.add(client)
    db.session.flush()
    _audit(client, f"issued, key {client.key_hint}…", actor=actor, now=now)
    return IssuedKey(client=client, key=key)


def renew_key(actor: User | None, client_id: int, *, now: datetime) -> IssuedKey:
    """A new key for the client; the old one stops working at once."""
    client = get_client(actor, client_id)
    before = client.key_hint
    key = _new_key(client)
    db.session.flush()
    _audit(client, f"new key {client.key_hint}… (was {before}…)", actor=actor, now=now)
    return IssuedKey(client=client, key=key)


def set_active(actor: User | None, client_id: int, *, active: bool, now: datetime) -> ApiClient:
    """Disable a client (its key is refused, its reports stay) or enable it again."""
    client = get_client(actor, client_id)
    if client.is_active != active:
        client.is_active = active
        db.session.flush()
        _audit(client, "enabled" if active else "disabled", actor=actor, now=now)
    return client


def authenticate(key: str | None) -> ApiClient | None:
    """The active client this key belongs to, or None."""
    if not api_keys.plausible(key):
        return None
    client = db.session.scalar(
        select(ApiClient).where(ApiClient.api_key_hash == api_keys.hash_key(key)))
    if client is None or not client.is_active:
        return None
    return client
