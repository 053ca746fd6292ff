"""Signing in, with throttling, and accounts for staff and citizens."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.domain import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import AuditAction, AuditEntry, InstitutionKind, User

FREE_FAILURES = 5
LOCK_BASE = timedelta(minutes=1)
LOCK_MAX = timedelta(hours=1)
MIN_PASSWORD = 10
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInRefused(DomainError):
    pass


@dataclass
class SignInResult:
    user: User | None
    locked_until: datetime | None = None


def _lock_time(failures: int) -> timedelta:
    """After FREE_FAILURES failures, one minute, doubling with every further failure."""
    return min(LOCK_BASE * 2 ** (failures - FREE_FAILURES), LOCK_MAX)


def _audit_institutions(user: User) -> list[int | None]:
    """Where an entry about ``user`` is filed, so that the supervisors of each institution the
    user works in read it: the institution of each membership (a unit's parent institution);
    [None] (the national admin only) for a citizen or an account without roles."""
    found: list[int | None] = []
    for membership in user.memberships:
        node = membership.institution
        while node.kind is InstitutionKind.UNIT and node.parent is not None:
            node = node.parent
        if node.id not in found:
            found.append(node.id)
    return found or [None]


def authenticate(email: str, password: str, *, now: datetime, staff: bool) -> SignInResult:
    """Check the password. Failures are counted, logged and slow the account down.

    Returns the user on success; raises ``SignInRefused`` otherwise (one message for a wrong
    e-mail and a wrong password, so that nobody learns which addresses have accounts)."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    wrong = SignInRefused(_l("The e-mail address or the password is wrong."))
    if user is None or user.is_staff != staff or not user.is_active:
        # Logged without the address typed (it may be anyone's, or a password typed in the
        # wrong box): the national admin sees how often, not who.
        db.session.add(AuditEntry(action=AuditAction.LOGIN_FAILED, actor_id=None,
                                  created_at=now,
                                  detail="unknown account (staff sign-in)" if staff
                                  else "unknown account (citizen sign-in)"))
        db.session.flush()
        raise wrong
    if user.locked_until and user.locked_until > now:
        for institution_id in _audit_institutions(user):
            db.session.add(AuditEntry(action=AuditAction.LOGIN_LOCKED, actor_id=None,
                                      subject_user=user, institution_id=institution_id,
                                      created_at=now, detail=email[:200]))
        raise SignInRefused(_l("Too many wrong passwords. This account is paused for a few "
                               "minutes; try again later."))
    if not user.check_password(password or ""):
        user.failed_logins += 1
        for institution_id in _audit_institutions(user):
            db.session.add(AuditEntry(action=AuditAction.LOGIN_FAILED, actor_id=None,
                                      subject_user=user, institution_id=institution_id,
                                      created_at=now, detail=f"failure {user.failed_logins}"))
        if user.failed_logins >= FREE_FAILURES:
            user.locked_until = now + _lock_time(user.failed_logins)
        db.session.flush()
        raise wrong
    user.failed_logins = 0
    user.locked_until = None
    user.last_seen_at = now
    db.session.flush()
    return SignInResult(user=user)


def check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(_l("Choose a password of at least %(count)s characters.",
                             count=MIN_PASSWORD), field="password")


def change_password(user: User, new_password: str) -> None:
    """Set a new password; every session signed in before ends."""
    check_new_password(new_password)
    user.set_password(new_password)
    user.session_version += 1
    db.session.flush()


def register_citizen(*, name: str, email: str, password: str, now: datetime) -> User:
    name = (name or "").strip()
    email = (email or "").strip().lower()
    if not name:
        raise DomainError(_l("Write your name."), field="name")
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise DomainError(_l("This is not a valid e-mail address."), field="email")
    check_new_password(password)
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise DomainError(_l("An account with this e-mail address already exists. Sign in "
                             "instead."), field="email")
    user = User(name=name[:200], email=email, is_staff=False, created_at=now)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_own_password(user: User, *, current_password: str, new_password: str) -> None:
    """The user changes their own password, proving the current one first. Every other session
    of the account ends (``session_version``); the caller signs this one in again."""
    if not user.check_password(current_password or ""):
        raise DomainError(_l("The current password is not right."), field="current_password")
    if new_password == current_password:
        raise DomainError(_l("Choose a new password, different from the current one."),
                          field="new_password")
    try:
        change_password(user, new_password)
    except DomainError as error:
        raise DomainError(error.message, field="new_password") from error
