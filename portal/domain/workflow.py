"""The staff workflow as a state machine. The transition table is data (``TRANSITIONS``):
one row per (action, role) with the states it may start from and the state it leads to.

Every transition writes a ``ReportEvent`` and may queue mail. Functions flush, never commit.
A stale form (another officer changed the report since it was opened) raises ``StaleReport``.
"""
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.domain import DomainError, deadlines, duplicates, notifications
from portal.domain.permissions import acting_roles, nodes_for, subtree_ids
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ArchiveReason,
    EventKind,
    Institution,
    InstitutionKind,
    Membership,
    Report,
    ReportEvent,
    ReportRating,
    ReportStatus,
    Role,
    User,
)

S = ReportStatus
OPEN_STATES = frozenset(set(S) - {S.COMPLETED, S.ARCHIVED})
REPLY_WINDOW = timedelta(days=10)
MAX_MESSAGE = 10000


class Action(enum.Enum):
    ROUTE = "route"
    VERIFY = "verify"
    POSTPONE = "postpone"
    NOT_IN_AUTHORITY = "not_in_authority"
    ARCHIVE = "archive"
    DISPOSITION = "disposition"
    ACCEPT = "accept"
    ASSIGN = "assign"
    SEND_BACK = "send_back"
    FOLLOW_UP = "follow_up"
    ANSWER = "answer"
    COMPLETE = "complete"
    NOTE = "note"
    REQUEST_CLARIFICATION = "request_clarification"
    EXTEND = "extend"


@dataclass(frozen=True)
class Transition:
    action: Action
    role: Role
    from_states: frozenset
    to_state: ReportStatus | None  # None: the status does not change
    event: EventKind


def _t(action, role, from_states, to_state, event):
    return Transition(action, role, frozenset(from_states), to_state, event)


TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.ROUTE, Role.NATIONAL_ADMIN, {S.SUBMITTED, S.NOT_IN_AUTHORITY}, S.SUBMITTED,
       EventKind.ROUTED),
    _t(Action.ARCHIVE, Role.NATIONAL_ADMIN, {S.SUBMITTED, S.NOT_IN_AUTHORITY}, S.ARCHIVED,
       EventKind.ARCHIVED),
    _t(Action.VERIFY, Role.INSTITUTION_ADMIN, {S.SUBMITTED, S.POSTPONED}, S.VERIFIED,
       EventKind.VERIFIED),
    _t(Action.POSTPONE, Role.INSTITUTION_ADMIN, {S.SUBMITTED, S.VERIFIED}, S.POSTPONED,
       EventKind.POSTPONED),
    _t(Action.NOT_IN_AUTHORITY, Role.INSTITUTION_ADMIN, {S.SUBMITTED, S.VERIFIED, S.POSTPONED},
       S.NOT_IN_AUTHORITY, EventKind.NOT_IN_AUTHORITY),
    _t(Action.ARCHIVE, Role.INSTITUTION_ADMIN, {S.SUBMITTED, S.VERIFIED, S.POSTPONED},
       S.ARCHIVED, EventKind.ARCHIVED),
    _t(Action.DISPOSITION, Role.INSTITUTION_ADMIN,
       {S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, S.DISPOSITIONED,
       EventKind.DISPOSITIONED),
    _t(Action.ANSWER, Role.INSTITUTION_ADMIN,
       {S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, S.ANSWERED, EventKind.ANSWERED),
    _t(Action.COMPLETE, Role.INSTITUTION_ADMIN, {S.ANSWERED}, S.COMPLETED, EventKind.COMPLETED),
    _t(Action.ACCEPT, Role.LIAISON, {S.DISPOSITIONED}, S.IN_PROGRESS, EventKind.ACCEPTED),
    _t(Action.ASSIGN, Role.LIAISON, {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, S.IN_PROGRESS,
       EventKind.ASSIGNED),
    _t(Action.SEND_BACK, Role.LIAISON, {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, S.VERIFIED,
       EventKind.SENT_BACK),
    _t(Action.FOLLOW_UP, Role.LIAISON, {S.IN_PROGRESS, S.REOPENED}, S.IN_PROGRESS,
       EventKind.FOLLOW_UP),
    _t(Action.ANSWER, Role.LIAISON, {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, S.ANSWERED,
       EventKind.ANSWERED),
    _t(Action.FOLLOW_UP, Role.OPERATOR, {S.IN_PROGRESS, S.REOPENED}, S.IN_PROGRESS,
       EventKind.FOLLOW_UP),
    _t(Action.ANSWER, Role.OPERATOR, {S.IN_PROGRESS, S.REOPENED}, S.ANSWERED, EventKind.ANSWERED),
    # Asking the reporter stops the staff clock until they reply (only while one runs: GUARDS).
    _t(Action.REQUEST_CLARIFICATION, Role.INSTITUTION_ADMIN,
       {S.SUBMITTED, S.VERIFIED, S.POSTPONED, S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED}, None,
       EventKind.CLARIFICATION_REQUESTED),
    _t(Action.REQUEST_CLARIFICATION, Role.LIAISON, {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED},
       None, EventKind.CLARIFICATION_REQUESTED),
    _t(Action.REQUEST_CLARIFICATION, Role.OPERATOR, {S.IN_PROGRESS, S.REOPENED}, None,
       EventKind.CLARIFICATION_REQUESTED),
    # An information request's answer time, extended once with a reason (UU 14/2008).
    _t(Action.EXTEND, Role.INSTITUTION_ADMIN,
       {S.VERIFIED, S.POSTPONED, S.DISPOSITIONED, S.IN_PROGRESS}, None,
       EventKind.DEADLINE_EXTENDED),
    _t(Action.EXTEND, Role.LIAISON, {S.DISPOSITIONED, S.IN_PROGRESS}, None,
       EventKind.DEADLINE_EXTENDED),
) + tuple(
    _t(Action.NOTE, role, set(S), None, EventKind.NOTE) for role in Role
)

# Whether an action's entry is shown to the reporter: always, never, or as the officer chooses.
ALWAYS_VISIBLE = {Action.ROUTE, Action.VERIFY, Action.POSTPONE, Action.NOT_IN_AUTHORITY,
                  Action.ARCHIVE, Action.DISPOSITION, Action.ANSWER, Action.COMPLETE,
                  Action.REQUEST_CLARIFICATION, Action.EXTEND}
CHOOSE_VISIBILITY = {Action.FOLLOW_UP}
MESSAGE_REQUIRED = {Action.POSTPONE, Action.NOT_IN_AUTHORITY, Action.SEND_BACK, Action.FOLLOW_UP,
                    Action.ANSWER, Action.NOTE, Action.REQUEST_CLARIFICATION, Action.EXTEND}
# Actions that also depend on the report's deadline clock, not only on its status.
GUARDS = {
    Action.REQUEST_CLARIFICATION: (
        deadlines.clock_running,
        _l("No deadline is running on this report, so there is no clock to stop for a "
           "clarification.")),
    Action.EXTEND: (
        deadlines.may_extend,
        _l("Only the answer time of an information request can be extended, and only once.")),
}
# Entries that the reporter is mailed about.
MAILED_TO_REPORTER = {Action.ANSWER, Action.FOLLOW_UP, Action.REQUEST_CLARIFICATION,
                      Action.EXTEND}


class ActionNotAllowed(DomainError):
    pass


class StaleReport(DomainError):
    pass


@dataclass
class ActionInput:
    """What an officer gives with an action; which fields matter depends on the action."""

    message: str | None = None
    visible_to_reporter: bool = False
    target_institution_id: int | None = None
    operator_id: int | None = None
    archive_reason: ArchiveReason | None = None
    duplicate_of: str | None = None  # the original's public number, for a duplicate
    extras: dict = field(default_factory=dict)


def transition_for(action: Action, roles: set[Role], status: ReportStatus) -> Transition | None:
    for row in TRANSITIONS:
        if row.action is action and row.role in roles and status in row.from_states:
            return row
    return None


def guard_allows(action: Action, report: Report) -> bool:
    guard = GUARDS.get(action)
    return guard is None or guard[0](report)


def allowed_actions(user: User | None, report: Report) -> list[Action]:
    roles = acting_roles(user, report)
    return [a for a in Action if transition_for(a, roles, report.status) is not None
            and guard_allows(a, report)]


def _national_root() -> Institution:
    return db.session.scalar(
        select(Institution).where(Institution.kind == InstitutionKind.NATIONAL).limit(1))


def _require_message(action: Action, data: ActionInput) -> str | None:
    text = (data.message or "").strip()
    if action in MESSAGE_REQUIRED and not text:
        raise DomainError(_l("Write a message or a reason for this action."), field="message")
    if len(text) > MAX_MESSAGE:
        raise DomainError(_l("The message is too long (at most 10,000 characters)."),
                          field="message")
    return text or None


def _unit_of(report: Report, unit_id: int | None) -> Institution:
    unit = db.session.get(Institution, unit_id) if unit_id else None
    if (unit is None or unit.kind is not InstitutionKind.UNIT
            or unit.id not in subtree_ids({report.current_institution_id})):
        raise DomainError(_l("Choose a unit of this institution."), field="target_institution_id")
    return unit


def _routable_institution(target_id: int | None, report: Report) -> Institution:
    target = db.session.get(Institution, target_id) if target_id else None
    if target is None or target.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Choose an institution to send the report to."),
                          field="target_institution_id")
    if target.id == report.current_institution_id and report.status is S.SUBMITTED:
        raise DomainError(_l("The report is already at this institution."),
                          field="target_institution_id")
    return target


def _operator_of_unit(report: Report, operator_id: int | None) -> User:
    user = db.session.get(User, operator_id) if operator_id else None
    if user is None or not user.is_active or report.current_unit_id not in nodes_for(
        user, Role.OPERATOR
    ):
        raise DomainError(_l("Choose an operator of this unit."), field="operator_id")
    return user


def operators_of_unit(unit_id: int) -> list[User]:
    """Active operators whose membership covers the unit (the unit itself or a node above)."""
    ancestors, node = [], db.session.get(Institution, unit_id)
    while node is not None:
        ancestors.append(node.id)
        node = node.parent
    return list(db.session.scalars(
        select(User).join(Membership).where(
            Membership.role == Role.OPERATOR, Membership.institution_id.in_(ancestors),
            User.is_active_account.is_(True)).order_by(User.name).distinct()))


def liaisons_of_unit(unit_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership).where(
            Membership.role == Role.LIAISON, Membership.institution_id == unit_id,
            User.is_active_account.is_(True)).order_by(User.name)))


def perform(report: Report, action: Action, *, actor: User, now: datetime,
            expected_version: int | None, data: ActionInput | None = None) -> ReportEvent:
    """Carry out ``action`` on ``report`` as ``actor`` at ``now``."""
    data = data or ActionInput()
    if expected_version is not None and expected_version != report.version:
        raise StaleReport(_l("This report was changed by someone else while you were working "
                             "on it. Here is its new state; check it and try again."))
    row = transition_for(action, acting_roles(actor, report), report.status)
    if row is None:
        raise ActionNotAllowed(_l("This action is not possible for you on this report now."))
    if not guard_allows(action, report):
        raise ActionNotAllowed(GUARDS[action][1])
    message = _require_message(action, data)
    visible = (action in ALWAYS_VISIBLE
               or (action in CHOOSE_VISIBILITY and data.visible_to_reporter))
    event = ReportEvent(kind=row.event, actor=actor, visible_to_reporter=visible,
                        message=message, created_at=now)
    mails: list[tuple[User, str]] = []
    instruction: ReportEvent | None = None

    if action is Action.ROUTE:
        target = _routable_institution(data.target_institution_id, report)
        report.current_institution = target
        report.current_unit = None
        report.assigned_operator = None
        event.target_institution = target
    elif action is Action.NOT_IN_AUTHORITY:
        if data.target_institution_id:
            target = _routable_institution(data.target_institution_id, report)
            event.target_institution = target
            report.current_institution = target
            row = Transition(row.action, row.role, row.from_states, S.SUBMITTED, row.event)
        else:
            report.current_institution = _national_root()
        report.current_unit = None
        report.assigned_operator = None
    elif action is Action.ARCHIVE:
        if data.archive_reason is None:
            raise DomainError(_l("Choose why the report is archived."), field="archive_reason")
        original = None
        if data.archive_reason is ArchiveReason.DUPLICATE:
            with db.session.no_autoflush:
                original = duplicates.find_original(data.duplicate_of, report)
        report.archive_reason = data.archive_reason
        if original is not None:
            duplicates.link_duplicate(report, original, event, actor=actor, now=now)
    elif action is Action.DISPOSITION:
        unit = _unit_of(report, data.target_institution_id)
        if unit.id == report.current_unit_id and report.status is S.DISPOSITIONED:
            raise DomainError(_l("The report is already with this unit."),
                              field="target_institution_id")
        report.current_unit = unit
        report.assigned_operator = None
        event.target_institution = unit
        # The instruction to the unit is internal; the reporter sees that it was forwarded.
        event.visible_to_reporter = True
        if message:  # written after the disposition itself, below
            instruction = ReportEvent(kind=EventKind.NOTE, actor=actor,
                                      visible_to_reporter=False, message=message,
                                      created_at=now)
            event.message = None
        mails += [(liaison, "disposition_to_liaison") for liaison in liaisons_of_unit(unit.id)]
    elif action is Action.ASSIGN:
        operator = _operator_of_unit(report, data.operator_id)
        report.assigned_operator = operator
        event.target_user = operator
        mails.append((operator, "assignment_to_operator"))
    elif action is Action.SEND_BACK:
        report.current_unit = None
        report.assigned_operator = None
    elif action is Action.ANSWER:
        report.answered_at = now
    elif action is Action.COMPLETE:
        report.completed_at = now

    if row.to_state is not None:
        report.status = row.to_state
    _move_clock(report, action, event, now=now)
    event.status_after = report.status
    if event.visible_to_reporter and action in {Action.FOLLOW_UP, Action.ANSWER}:
        report.first_response_at = report.first_response_at or now
    report.updated_at = now
    report.events.append(event)
    if instruction is not None:
        instruction.status_after = report.status
        report.events.append(instruction)
    db.session.flush()

    for recipient, template in mails:
        notifications.queue_mail(
            recipient=recipient.email, template=template, now=now, report=report,
            recipient_user=recipient, event=event,
            subject=_l("Report %(number)s needs your action", number=report.public_number))
    if event.visible_to_reporter and action in MAILED_TO_REPORTER:
        subject = None
        if action is Action.REQUEST_CLARIFICATION:
            subject = _l("A question about your report %(number)s", number=report.public_number)
        elif action is Action.EXTEND:
            subject = _l("More time for the answer to your request %(number)s",
                         number=report.public_number)
        notify_reporter(report, event, now=now, subject=subject)
    return event


def _move_clock(report: Report, action: Action, event: ReportEvent, *, now: datetime) -> None:
    """What an action does to the report's deadline clock (portal/domain/deadlines.py)."""
    if action in {Action.ROUTE, Action.NOT_IN_AUTHORITY}:
        deadlines.start_verification(report, now=now)  # a new institution's time to verify
    elif action is Action.VERIFY:
        deadlines.on_verified(report, now=now)
    elif action is Action.DISPOSITION:
        deadlines.on_dispositioned(report, event, now=now)
    elif action is Action.FOLLOW_UP and event.visible_to_reporter:
        deadlines.on_response(report)
    elif action in {Action.ANSWER, Action.COMPLETE, Action.ARCHIVE}:
        deadlines.stop_clock(report)
    elif action is Action.REQUEST_CLARIFICATION:
        deadlines.pause(report, now=now)
    elif action is Action.EXTEND:
        deadlines.extend(report, now=now)
        event.due_at = report.due_at
    elif action is Action.SEND_BACK:
        deadlines.recompute(report)  # same clock, counted on the institution's calendar


def notify_reporter(report: Report, event: ReportEvent, *, now: datetime,
                    subject=None) -> None:
    """Mail the reporter (if they gave an address) about an entry meant for them. Not the
    reporter of a report from another system (the national feed): they never got our tracking
    code, so our mail could only point to a page they cannot open; the system that sent the
    report keeps in touch with them."""
    from portal.models import ReporterIdentity

    if report.source_id is not None:
        return
    email = db.session.scalar(
        select(ReporterIdentity.email).where(ReporterIdentity.report_id == report.id))
    if email:
        notifications.queue_mail(
            recipient=email, template="reporter_update", now=now, report=report, event=event,
            subject=subject or _l("New answer to your report %(number)s",
                                  number=report.public_number))


# ----------------------------------------------------------------------------- the reporter
def reporter_may_reply(report: Report, now: datetime) -> bool:
    if report.status is S.ANSWERED:
        return report.answered_at is not None and now - report.answered_at <= REPLY_WINDOW
    return report.status in OPEN_STATES


def reporter_reply(report: Report, message: str, *, now: datetime) -> ReportEvent:
    """A clarification or an objection from the reporter (who holds the tracking code).

    On an answered report, within 10 days of the answer, the reply reopens it for the unit."""
    text = (message or "").strip()
    if not text:
        raise DomainError(_l("Write your reply."), field="message")
    if len(text) > MAX_MESSAGE:
        raise DomainError(_l("The message is too long (at most 10,000 characters)."),
                          field="message")
    if not reporter_may_reply(report, now):
        raise ActionNotAllowed(_l("This report can no longer receive replies."))
    reopened = report.status is S.ANSWERED
    if reopened:
        report.status = S.REOPENED
        report.answered_at = None
        deadlines.on_reopened(report, now=now)  # the unit has a new follow-up time
    else:
        deadlines.resume(report, now=now)  # if the clock waited for this reply
    event = ReportEvent(kind=EventKind.REPORTER_REPLY, actor=None, visible_to_reporter=True,
                        message=text, status_after=report.status, created_at=now)
    report.events.append(event)
    report.updated_at = now
    db.session.flush()
    return event


def reporter_accepts_answer(report: Report, *, now: datetime) -> ReportEvent:
    if report.status is not S.ANSWERED:
        raise ActionNotAllowed(_l("Only an answered report can be closed."))
    report.status = S.COMPLETED
    report.completed_at = now
    report.updated_at = now
    deadlines.stop_clock(report)
    event = ReportEvent(kind=EventKind.COMPLETED, actor=None, visible_to_reporter=True,
                        status_after=S.COMPLETED, created_at=now)
    report.events.append(event)
    db.session.flush()
    return event


def rate_report(report: Report, score: int, comment: str | None, *, now: datetime) -> ReportRating:
    if report.status is not S.COMPLETED:
        raise ActionNotAllowed(_l("A report can be rated once it is completed."))
    if db.session.scalar(select(ReportRating.id).where(ReportRating.report_id == report.id)):
        raise ActionNotAllowed(_l("This report has already been rated."))
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError(_l("Choose a rating from 1 to 5."), field="score")
    comment = (comment or "").strip() or None
    if comment and len(comment) > 2000:
        raise DomainError(_l("The comment is too long (at most 2,000 characters)."),
                          field="comment")
    rating = ReportRating(report=report, score=score, comment=comment, created_at=now)
    db.session.add(rating)
    report.events.append(ReportEvent(kind=EventKind.RATED, actor=None, visible_to_reporter=True,
                                     status_after=report.status, created_at=now))
    db.session.flush()
    return rating
