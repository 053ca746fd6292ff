"""Who may change which deadline policy and which added holidays, for the admin pages.

A *scope* is an institution (its policy, and the days off of it and its units) or the national
level (``None``: the national default policy and the days off everywhere). An institution admin
has the scopes of the institutions they administer; the national admin has every scope. The
changes themselves are ``portal.domain.deadlines``' (``save_policy``, ``add_holiday``,
``remove_holiday``, which record the change of the calendar for the worker to move the open
deadlines) and ``portal.domain.webhooks``' (an institution's webhook for deadline notices).

Like every domain module: the actor and ``now`` are explicit, it flushes and never commits.
Unknown ids raise ``administration.NotFound``, somebody else's ``administration.NotAllowed``.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.domain import DomainError, deadlines, webhooks
from portal.domain.administration import NotAllowed, NotFound, managed_institutions
from portal.domain.calendar import jakarta_date
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    DeadlinePolicy,
    Holiday,
    Institution,
    InstitutionKind,
    Role,
    User,
)

NATIONAL = "nasional"  # how the national scope is named in addresses
# Added days off may lie this far back (open clocks may have started then) and ahead.
HOLIDAY_PAST = timedelta(days=366)
HOLIDAY_FUTURE = timedelta(days=3 * 366)


@dataclass
class Scope:
    institution: Institution | None  # None: the national level

    @property
    def key(self) -> str:
        return NATIONAL if self.institution is None else str(self.institution.id)

    @property
    def is_national(self) -> bool:
        return self.institution is None


@dataclass
class ScopeSummary:
    scope: Scope
    policy: deadlines.Policy  # what applies now
    own_policy: bool  # False: it follows the national default (or the built-in one)
    holidays: int  # added days off from today on


def _is_national_admin(actor: User | None) -> bool:
    return bool(actor is not None and actor.is_staff and actor.is_active
                and any(m.role is Role.NATIONAL_ADMIN for m in actor.memberships))


def scopes(actor: User) -> list[Scope]:
    """The scopes the actor may edit: the national level first (national admin only)."""
    found = [Scope(None)] if _is_national_admin(actor) else []
    return found + [Scope(institution) for institution in managed_institutions(actor)]


def get_scope(actor: User, key: str) -> Scope:
    """The scope named by ``key`` (``NATIONAL`` or an institution id) if the actor may edit it."""
    if key == NATIONAL:
        if not _is_national_admin(actor):
            raise NotAllowed(_l("Only the national administrator sets the national defaults."))
        return Scope(None)
    if not (key.isascii() and key.isdigit() and 0 < len(key) < 10):
        raise NotFound(_l("This institution does not exist."))
    institution = db.session.get(Institution, int(key))
    if institution is None or institution.kind is not InstitutionKind.INSTITUTION:
        raise NotFound(_l("This institution does not exist."))
    if institution not in managed_institutions(actor):
        raise NotAllowed(_l("This institution is outside the part you administer."))
    return Scope(institution)


def _own_policy_row(scope: Scope) -> DeadlinePolicy | None:
    condition = (DeadlinePolicy.institution_id.is_(None) if scope.is_national
                 else DeadlinePolicy.institution_id == scope.institution.id)
    return db.session.scalar(select(DeadlinePolicy).where(condition).limit(1))


def current_policy(scope: Scope) -> tuple[deadlines.Policy, bool]:
    """The policy that applies in the scope, and whether the scope has one of its own."""
    own = _own_policy_row(scope) is not None
    return deadlines.policy_for(scope.institution), own


def summaries(actor: User, *, now: datetime) -> list[ScopeSummary]:
    today = jakarta_date(now)
    found = []
    for scope in scopes(actor):
        policy, own = current_policy(scope)
        found.append(ScopeSummary(scope=scope, policy=policy, own_policy=own,
                                  holidays=len(holidays(scope, since=today))))
    return found


def holidays(scope: Scope, *, since: date | None = None) -> list[Holiday]:
    """The days off added at the scope itself (not those inherited from above)."""
    where = (Holiday.institution_id.is_(None) if scope.is_national
             else Holiday.institution_id == scope.institution.id)
    query = select(Holiday).where(where)
    if since is not None:
        query = query.where(Holiday.day >= since)
    return list(db.session.scalars(query.order_by(Holiday.day, Holiday.id)))


def inherited_holidays(scope: Scope, *, since: date | None = None) -> list[Holiday]:
    """The days off added above the scope (everywhere), which it follows too."""
    if scope.is_national:
        return []
    query = select(Holiday).where(Holiday.institution_id.is_(None))
    if since is not None:
        query = query.where(Holiday.day >= since)
    return list(db.session.scalars(query.order_by(Holiday.day, Holiday.id)))


def save_policy(actor: User, key: str, policy: deadlines.Policy, *, now: datetime):
    scope = get_scope(actor, key)
    return deadlines.save_policy(scope.institution, policy, actor=actor, now=now)


def _check_day(day, now: datetime) -> date:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise DomainError(_l("Give the date as day, month and year."), field="day")
    today = jakarta_date(now)
    low, high = today - HOLIDAY_PAST, today + HOLIDAY_FUTURE
    if not low <= day <= high:
        raise DomainError(_l("Choose a day from %(low)s to %(high)s.", low=low.isoformat(),
                             high=high.isoformat()), field="day")
    return day


def add_holiday(actor: User, key: str, day, name: str, *,
                now: datetime) -> deadlines.HolidayChange:
    scope = get_scope(actor, key)
    return deadlines.add_holiday(_check_day(day, now), name, institution=scope.institution,
                                 actor=actor, now=now)


def remove_holiday(actor: User, key: str, holiday_id, *,
                   now: datetime) -> deadlines.HolidayChange:
    scope = get_scope(actor, key)
    holiday = None
    if isinstance(holiday_id, int) and not isinstance(holiday_id, bool) and 0 < holiday_id < 2**31:
        holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound(_l("There is no such holiday."))
    if holiday.institution_id != (None if scope.is_national else scope.institution.id):
        raise NotAllowed(_l("This holiday belongs to another institution."))
    return deadlines.remove_holiday(holiday.day, institution=scope.institution, actor=actor,
                                    now=now)


def calendar_changes(scope: Scope) -> list:
    """The latest holiday changes of the scope: pending ones (the worker is moving the
    deadlines) and applied ones with how many it moved."""
    return deadlines.calendar_changes(scope.institution)


# --------------------------------------------------------------------------- the webhook
def webhook_scope(actor: User, key: str) -> Scope:
    """An institution's scope: a webhook belongs to an institution (its administrators' chat
    group), not to the national level."""
    scope = get_scope(actor, key)
    if scope.is_national:
        raise NotFound(_l("Webhooks are set per institution."))
    return scope


def set_webhook(actor: User, key: str, url: str, *, now: datetime) -> webhooks.WebhookChange:
    institution = webhook_scope(actor, key).institution
    return webhooks.set_webhook(institution, url, actor=actor, now=now)


def rotate_webhook_secret(actor: User, key: str, *, now: datetime) -> webhooks.WebhookChange:
    return webhooks.rotate_secret(webhook_scope(actor, key).institution, actor=actor, now=now)


def remove_webhook(actor: User, key: str, *, now: datetime) -> webhooks.WebhookChange:
    return webhooks.remove_webhook(webhook_scope(actor, key).institution, actor=actor, now=now)
