"""Intake on behalf of a citizen: a staff member logs a report received by phone, SMS,
WhatsApp, social media, e-mail or at the desk (walk-in), with or without the citizen's identity,
anonymous allowed. The report enters the same workflow as one from the web (``file_report``:
verification deadline, duplicate check, tracking code) with its channel, the staff member who
logged it and, for social media, the link to the post.

Who may log: staff who handle reports (institution admins, liaisons and operators) for the
institution their node belongs to, and the national administrator for the national level
(the report is then routed by category, as on the web). Supervisors only supervise.

The tracking code is for the citizen: the caller shows it once to the staff member to pass on
(and ``file_report`` mails it when an e-mail address is given). The identity typed in follows
the usual rules afterwards (portal/domain/privacy.py): an anonymous reporter's identity is seen
by the national administrator alone, the staff member who typed it included.

Like every domain module: ``now`` is explicit, it flushes and never commits.
"""
from datetime import datetime
from urllib.parse import urlsplit

from portal.domain import DomainError
from portal.domain.filing import FiledReport, ReportDraft, draft_problems, file_report
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Channel, Institution, InstitutionKind, Role, User
from portal.storage import AttachmentStore

INTAKE_CHANNELS = (Channel.PHONE, Channel.SMS, Channel.WHATSAPP, Channel.SOCIAL_MEDIA,
                   Channel.EMAIL, Channel.WALK_IN)
INTAKE_ROLES = frozenset({Role.INSTITUTION_ADMIN, Role.LIAISON, Role.OPERATOR,
                          Role.NATIONAL_ADMIN})
MAX_LINK = 500


def _institution_of(node: Institution) -> Institution:
    while node.kind is InstitutionKind.UNIT and node.parent is not None:
        node = node.parent
    return node


def receiving_institutions(user: User | None) -> list[Institution]:
    """Where the user may log reports: the institution of each node where they handle reports
    (the national level for the national administrator), by name."""
    if user is None or not user.is_staff or not user.is_active:
        return []
    found: dict[int, Institution] = {}
    for membership in user.memberships:
        if membership.role in INTAKE_ROLES:
            institution = _institution_of(membership.institution)
            found[institution.id] = institution
    return sorted(found.values(), key=lambda i: (i.kind is not InstitutionKind.NATIONAL,
                                                 i.name, i.id))


def may_log(user: User | None) -> bool:
    return bool(user is not None and user.is_staff and user.is_active
                and any(m.role in INTAKE_ROLES for m in user.memberships))


def link_problem(channel: Channel | None, link: str | None):
    """Why the channel's link is not acceptable, or None."""
    link = (link or "").strip()
    if channel is Channel.SOCIAL_MEDIA:
        if not link:
            return _l("Give the link to the post or message on social media.")
        parts = urlsplit(link)
        if (parts.scheme not in ("http", "https") or not parts.netloc
                or any(c.isspace() for c in link)):
            return _l("The link must be a web address starting with http:// or https://.")
        if len(link) > MAX_LINK:
            return _l("The link may be at most %(count)s characters long.", count=MAX_LINK)
    elif link:
        return _l("A link is kept for social media only: empty it or choose social media.")
    return None


def intake_problems(actor: User, draft: ReportDraft, *, channel: Channel | None,
                    link: str | None, institution_id: int | None,
                    now: datetime) -> dict[str, object]:
    """Every rule the logged report must meet, as {field: message} (the filing rules, the
    channel, its link, the receiving institution)."""
    problems = dict(draft_problems(draft, now))
    if channel not in INTAKE_CHANNELS:
        problems["channel"] = _l("Choose the channel the report came through.")
    message = link_problem(channel, link)
    if message is not None:
        problems["channel_link"] = message
    if institution_id not in {i.id for i in receiving_institutions(actor)}:
        problems["institution"] = _l("Choose an institution from the list.")
    return problems


def log_report(actor: User, draft: ReportDraft, *, channel: Channel | None, link: str | None,
               institution_id: int | None, now: datetime,
               store: AttachmentStore) -> FiledReport:
    """File the report the citizen gave by ``channel``, logged by ``actor``."""
    if not may_log(actor):
        raise DomainError(_l("Only staff who handle reports may log one for a citizen."))
    problems = intake_problems(actor, draft, channel=channel, link=link,
                               institution_id=institution_id, now=now)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    institution = db.session.get(Institution, institution_id)
    draft.channel = channel
    draft.logged_by_id = actor.id
    draft.channel_link = (link or "").strip() or None
    draft.institution_id = (None if institution.kind is InstitutionKind.NATIONAL
                            else institution.id)
    return file_report(draft, [], store=store, now=now)
