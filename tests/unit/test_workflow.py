"""The workflow, exhaustively: every state x every action x every role.

EXPECTED below is the specification written out by hand from the issue (who may do what from
which state, and where it leads); the test drives ``workflow.perform`` for every combination
and checks it against the specification, including every illegal combination, which must raise
a domain error (shown to the user as a message), never anything else.
"""
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.domain import DomainError, deadlines
from portal.domain.workflow import (
    Action,
    ActionInput,
    StaleReport,
    perform,
    rate_report,
    reporter_accepts_answer,
    reporter_reply,
)
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    DeadlineKind,
    EventKind,
    Institution,
    InstitutionKind,
    Membership,
    Report,
    ReportEvent,
    ReportKind,
    Role,
    User,
)
from portal.models import ReportStatus as S
from tests.helpers import node, user

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
ALL = set(S)
EXPECTED = {
    (Action.ROUTE, Role.NATIONAL_ADMIN): {S.SUBMITTED, S.NOT_IN_AUTHORITY},
    (Action.ARCHIVE, Role.NATIONAL_ADMIN): {S.SUBMITTED, S.NOT_IN_AUTHORITY},
    (Action.VERIFY, Role.INSTITUTION_ADMIN): {S.SUBMITTED, S.POSTPONED},
    (Action.POSTPONE, Role.INSTITUTION_ADMIN): {S.SUBMITTED, S.VERIFIED},
    (Action.NOT_IN_AUTHORITY, Role.INSTITUTION_ADMIN): {S.SUBMITTED, S.VERIFIED, S.POSTPONED},
    (Action.ARCHIVE, Role.INSTITUTION_ADMIN): {S.SUBMITTED, S.VERIFIED, S.POSTPONED},
    (Action.DISPOSITION, Role.INSTITUTION_ADMIN): {S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS,
                                                   S.REOPENED},
    (Action.ANSWER, Role.INSTITUTION_ADMIN): {S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS,
                                              S.REOPENED},
    (Action.COMPLETE, Role.INSTITUTION_ADMIN): {S.ANSWERED},
    (Action.ACCEPT, Role.LIAISON): {S.DISPOSITIONED},
    (Action.ASSIGN, Role.LIAISON): {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED},
    (Action.SEND_BACK, Role.LIAISON): {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED},
    (Action.FOLLOW_UP, Role.LIAISON): {S.IN_PROGRESS, S.REOPENED},
    (Action.ANSWER, Role.LIAISON): {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED},
    (Action.FOLLOW_UP, Role.OPERATOR): {S.IN_PROGRESS, S.REOPENED},
    (Action.ANSWER, Role.OPERATOR): {S.IN_PROGRESS, S.REOPENED},
    # Only while a staff clock runs (report_in gives each open state its usual clock).
    (Action.REQUEST_CLARIFICATION, Role.INSTITUTION_ADMIN): {S.SUBMITTED, S.VERIFIED,
                                                             S.POSTPONED, S.DISPOSITIONED,
                                                             S.IN_PROGRESS, S.REOPENED},
    (Action.REQUEST_CLARIFICATION, Role.LIAISON): {S.DISPOSITIONED, S.IN_PROGRESS, S.REOPENED},
    (Action.REQUEST_CLARIFICATION, Role.OPERATOR): {S.IN_PROGRESS, S.REOPENED},
    # Information requests only (the exhaustive test uses one for this action), while their
    # answer time runs: after verification, until the answer (a reopening has a follow-up time).
    (Action.EXTEND, Role.INSTITUTION_ADMIN): {S.VERIFIED, S.POSTPONED, S.DISPOSITIONED,
                                              S.IN_PROGRESS},
    (Action.EXTEND, Role.LIAISON): {S.DISPOSITIONED, S.IN_PROGRESS},
    **{(Action.NOTE, role): ALL for role in Role},
}
LEADS_TO = {
    Action.ROUTE: S.SUBMITTED, Action.ARCHIVE: S.ARCHIVED, Action.VERIFY: S.VERIFIED,
    Action.POSTPONE: S.POSTPONED, Action.NOT_IN_AUTHORITY: S.NOT_IN_AUTHORITY,
    Action.DISPOSITION: S.DISPOSITIONED, Action.ANSWER: S.ANSWERED, Action.COMPLETE: S.COMPLETED,
    Action.ACCEPT: S.IN_PROGRESS, Action.ASSIGN: S.IN_PROGRESS, Action.SEND_BACK: S.VERIFIED,
    Action.FOLLOW_UP: S.IN_PROGRESS,
}
# States in which the report sits with a unit (so the unit's liaison and operator act on it).
WITH_UNIT = {S.DISPOSITIONED, S.IN_PROGRESS, S.ANSWERED, S.COMPLETED, S.REOPENED}






@pytest.fixture
def actors(demo):
    other = Institution(code="KOTA-TANGERANG", name="Pemerintah Kota Tangerang",
                        kind=InstitutionKind.INSTITUTION, parent=node("KEMENPANRB"))
    db.session.add(other)
    db.session.flush()
    return {
        Role.NATIONAL_ADMIN: user("admin.nasional@lapor.example.id"),
        Role.INSTITUTION_ADMIN: user("admin@tangerangkab.example.id"),
        Role.LIAISON: user("penghubung.disdukcapil@tangerangkab.example.id"),
        Role.OPERATOR: user("operator.disdukcapil@tangerangkab.example.id"),
        Role.SUPERVISOR: user("inspektorat@tangerangkab.example.id"),
        "other_institution": other,
    }


def usual_clock(status: S, kind: ReportKind) -> DeadlineKind | None:
    """The staff clock a report in ``status`` normally has."""
    if status in {S.SUBMITTED, S.NOT_IN_AUTHORITY}:
        return DeadlineKind.VERIFICATION
    if status in {S.VERIFIED, S.POSTPONED, S.DISPOSITIONED, S.IN_PROGRESS}:
        return (DeadlineKind.INFORMATION_ANSWER if kind is ReportKind.INFORMATION_REQUEST
                else DeadlineKind.FOLLOW_UP)
    if status is S.REOPENED:
        return DeadlineKind.FOLLOW_UP
    return None


def report_in(status: S, kind: ReportKind = ReportKind.COMPLAINT) -> Report:
    at_national = status is S.NOT_IN_AUTHORITY
    report = Report(
        tracking_code_hash=os.urandom(32),
        kind=kind, title="KTP belum jadi", body="Sudah tiga bulan menunggu.",
        status=status,
        current_institution=node("KEMENPANRB") if at_national else node("KAB-TANGERANG"),
        current_unit=node("TNG-DISDUKCAPIL") if status in WITH_UNIT else None,
        archive_reason=ArchiveReason.NOT_ACTIONABLE if status is S.ARCHIVED else None,
        answered_at=NOW - timedelta(days=1) if status is S.ANSWERED else None,
        created_at=NOW - timedelta(days=2), updated_at=NOW - timedelta(days=2),
    )
    db.session.add(report)
    db.session.flush()
    report.public_number = f"LPR-TEST-{report.id:07d}"
    clock = usual_clock(status, kind)
    if clock is not None:
        deadlines.start_clock(report, clock, 5, now=NOW - timedelta(days=2))
    db.session.flush()
    return report


def valid_input(action: Action, report: Report, actors) -> ActionInput:
    target = None
    if action is Action.ROUTE:
        target = actors["other_institution"].id
    elif action is Action.DISPOSITION:
        target = node("TNG-DISHUB").id
    return ActionInput(
        message="Mohon ditindaklanjuti.", visible_to_reporter=True,
        target_institution_id=target,
        operator_id=actors[Role.OPERATOR].id,
        archive_reason=ArchiveReason.NOT_ACTIONABLE,
    )


def in_scope(role: Role, status: S) -> bool:
    if role is Role.NATIONAL_ADMIN:
        return True
    if role in (Role.LIAISON, Role.OPERATOR):
        return status in WITH_UNIT
    return status is not S.NOT_IN_AUTHORITY


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_every_action_by_every_role_from_this_state(actors, status):
    outcomes = []
    for action in Action:
        for role in Role:
            kind = (ReportKind.INFORMATION_REQUEST if action is Action.EXTEND
                    else ReportKind.COMPLAINT)
            report = report_in(status, kind)
            events_before = len(report.events)
            allowed = status in EXPECTED.get((action, role), set()) and in_scope(role, status)
            try:
                event = perform(report, action, actor=actors[role], now=NOW,
                                expected_version=report.version,
                                data=valid_input(action, report, actors))
            except DomainError as refusal:
                outcomes.append((action, role, "refused", str(refusal.message)))
                assert not allowed, f"{role.value} may {action.value} from {status.value}: {refusal}"
                assert report.status is status
                assert len(report.events) == events_before
                continue
            assert allowed, f"{role.value} must not {action.value} from {status.value}"
            assert report.status is LEADS_TO.get(action, status)
            assert event in report.events and event.actor is actors[role]
            assert event.status_after is report.status
            outcomes.append((action, role, "done", report.status))
    assert len(outcomes) == len(Action) * len(Role)


def test_disposition_keeps_the_instruction_internal_and_tells_the_liaison(actors):
    from portal.models import OutboxMessage

    report = report_in(S.VERIFIED)
    perform(report, Action.DISPOSITION, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
            expected_version=report.version,
            data=ActionInput(message="Cek data di SIAK.",
                             target_institution_id=node("TNG-DISDUKCAPIL").id))
    visible = [e for e in report.events if e.visible_to_reporter]
    internal = [e for e in report.events if not e.visible_to_reporter]
    assert [e.kind for e in visible] == [EventKind.DISPOSITIONED]
    assert visible[0].message is None
    assert [e.message for e in internal] == ["Cek data di SIAK."]
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["penghubung.disdukcapil@tangerangkab.example.id"]


def test_disposition_outside_the_institution_is_refused(actors):
    report = report_in(S.VERIFIED)
    with pytest.raises(DomainError) as refusal:
        perform(report, Action.DISPOSITION, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
                expected_version=report.version,
                data=ActionInput(target_institution_id=actors["other_institution"].id))
    assert refusal.value.field == "target_institution_id"
    assert report.status is S.VERIFIED


def test_stale_version_is_refused_without_change(actors):
    report = report_in(S.SUBMITTED)
    with pytest.raises(StaleReport):
        perform(report, Action.VERIFY, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
                expected_version=report.version - 1)
    assert report.status is S.SUBMITTED


def test_a_second_officer_committing_on_an_old_copy_gets_stale_data(actors, app):
    """Optimistic locking in the database: the version column catches a concurrent commit."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    report = report_in(S.SUBMITTED)
    db.session.commit()
    with Session(db.engine) as other:
        copy = other.get(Report, report.id)
        perform(report, Action.VERIFY, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
                expected_version=report.version)
        db.session.commit()
        copy.title = "changed on a stale copy"
        with pytest.raises(StaleDataError):
            other.commit()


def test_not_in_authority_goes_back_to_the_national_level_or_forward(actors):
    back = report_in(S.VERIFIED)
    perform(back, Action.NOT_IN_AUTHORITY, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
            expected_version=back.version, data=ActionInput(message="Kewenangan pusat."))
    assert back.status is S.NOT_IN_AUTHORITY
    assert back.current_institution.code == "KEMENPANRB"

    forward = report_in(S.VERIFIED)
    perform(forward, Action.NOT_IN_AUTHORITY, actor=actors[Role.INSTITUTION_ADMIN], now=NOW,
            expected_version=forward.version,
            data=ActionInput(message="Wilayah Kota.",
                             target_institution_id=actors["other_institution"].id))
    assert forward.status is S.SUBMITTED
    assert forward.current_institution.code == "KOTA-TANGERANG"


def test_reporter_reply_reopens_an_answered_report_within_ten_days(actors):
    report = report_in(S.ANSWERED)
    reporter_reply(report, "Masih belum selesai.", now=NOW)
    assert report.status is S.REOPENED

    late = report_in(S.ANSWERED)
    late.answered_at = NOW - timedelta(days=11)
    with pytest.raises(DomainError):
        reporter_reply(late, "Terlambat.", now=NOW)
    assert late.status is S.ANSWERED

    busy = report_in(S.IN_PROGRESS)
    reporter_reply(busy, "Tambahan: nomor antrean 12.", now=NOW)
    assert busy.status is S.IN_PROGRESS


def test_rating_once_after_completion(actors):
    report = report_in(S.ANSWERED)
    with pytest.raises(DomainError):
        rate_report(report, 5, None, now=NOW)
    reporter_accepts_answer(report, now=NOW)
    assert report.status is S.COMPLETED
    for bad in (0, 6):
        with pytest.raises(DomainError):
            rate_report(report, bad, None, now=NOW)
    rate_report(report, 4, "Cepat.", now=NOW)
    with pytest.raises(DomainError):
        rate_report(report, 5, None, now=NOW)
    assert report.rating.score == 4


def test_internal_entries_are_not_for_the_reporter(actors):
    report = report_in(S.IN_PROGRESS)
    perform(report, Action.FOLLOW_UP, actor=actors[Role.OPERATOR], now=NOW,
            expected_version=report.version,
            data=ActionInput(message="Cek lapangan besok.", visible_to_reporter=False))
    perform(report, Action.NOTE, actor=actors[Role.SUPERVISOR], now=NOW,
            expected_version=report.version, data=ActionInput(message="Pantau."))
    shown = db.session.scalars(select(ReportEvent).where(
        ReportEvent.report_id == report.id, ReportEvent.visible_to_reporter.is_(True))).all()
    assert shown == []
    assert report.first_response_at is None


def test_membership_elsewhere_gives_no_power(actors):
    stranger = User(email="penghubung.dishub@test.id", name="Penghubung Dishub", is_staff=True)
    stranger.set_password("x")
    stranger.memberships.append(Membership(institution=node("TNG-DISHUB"), role=Role.LIAISON))
    db.session.add(stranger)
    report = report_in(S.DISPOSITIONED)
    for action in Action:
        with pytest.raises(DomainError):
            perform(report, action, actor=stranger, now=NOW, expected_version=report.version,
                    data=valid_input(action, report, actors))
