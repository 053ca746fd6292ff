"""Working-day deadlines: the calendar, the clock through the workflow, holidays, red/yellow/green.

Dates are chosen on the 2026 calendar: Independence Day is Monday 17 August (a national public
holiday in the ``holidays`` package), Christmas is Friday 25 December, and Thursday 24 December
is a cuti bersama that the package does not count (administrators add those). Times are UTC;
Jakarta is UTC+7, so a Jakarta day ends at 17:00 UTC.
"""
from datetime import date, datetime, timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from portal.domain import DomainError, deadlines
from portal.domain.calendar import (
    add_working_days,
    end_of_day,
    is_working_day,
    jakarta_date,
    working_days_between,
)
from portal.domain.deadlines import ClockState, Policy
from portal.domain.filing import ReportDraft, file_report
from portal.domain.workflow import (
    Action,
    ActionInput,
    ActionNotAllowed,
    allowed_actions,
    perform,
    reporter_reply,
)
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    AuditAction,
    AuditEntry,
    CalendarChange,
    Category,
    DeadlineKind,
    DeadlineNotice,
    EventKind,
    Holiday,
    Institution,
    InstitutionKind,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    User,
)
from portal.storage import AttachmentStore
from tests.helpers import mails_to, node

ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
REPORTER_EMAIL = "warga.cikupa@example.id"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def due(day: date) -> datetime:
    """The stored due_at of a deadline whose last allowed day is ``day``."""
    return utc(day.year, day.month, day.day, 17, 0)


# ============================================================================= the calendar
def test_weekends_are_skipped():
    friday = date(2026, 11, 20)
    assert not is_working_day(date(2026, 11, 21)) and not is_working_day(date(2026, 11, 22))
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)  # a week later
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # from a Saturday
    assert working_days_between(friday, date(2026, 11, 23)) == 1
    assert working_days_between(date(2026, 11, 21), date(2026, 11, 22)) == 0
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0


def test_a_national_public_holiday_is_skipped():
    independence_day = date(2026, 8, 17)
    assert independence_day.weekday() == 0 and not is_working_day(independence_day)
    assert add_working_days(date(2026, 8, 14), 1) == date(2026, 8, 18)
    assert add_working_days(date(2026, 8, 13), 3) == date(2026, 8, 19)
    assert working_days_between(date(2026, 8, 14), date(2026, 8, 18)) == 1


def test_cuti_bersama_counts_only_when_an_admin_adds_it():
    cuti_bersama = date(2026, 12, 24)
    assert is_working_day(cuti_bersama)  # not in the package's public calendar
    assert add_working_days(date(2026, 12, 23), 1) == cuti_bersama
    # Added: Thursday off, Friday Christmas, then the weekend.
    assert not is_working_day(cuti_bersama, {cuti_bersama})
    assert add_working_days(date(2026, 12, 23), 1, {cuti_bersama}) == date(2026, 12, 28)


@pytest.mark.parametrize("start", [date(2026, 8, 13), date(2026, 12, 19), date(2026, 3, 17)])
def test_working_days_between_inverts_add_working_days(start):
    for n in range(15):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n


def test_days_are_jakarta_days():
    assert jakarta_date(utc(2026, 8, 17, 16, 59)) == date(2026, 8, 17)
    assert jakarta_date(utc(2026, 8, 17, 17, 0)) == date(2026, 8, 18)
    assert end_of_day(date(2026, 8, 18)) == utc(2026, 8, 18, 17, 0)


# ============================================================================= red, yellow, green
def clocked(due_at: datetime | None, paused: bool = False) -> Report:
    """A report (never saved) with only what the clock's state reads."""
    return Report(deadline_kind=DeadlineKind.FOLLOW_UP, due_at=None if paused else due_at,
                  clock_paused_at=utc(2026, 8, 10, 3, 0) if paused else None)


@pytest.mark.parametrize("now, expected", [
    (utc(2026, 8, 18, 3, 0), ClockState.GREEN),  # Tuesday: the last day is Thursday
    (utc(2026, 8, 18, 16, 59), ClockState.GREEN),  # Tuesday 23:59 in Jakarta
    (utc(2026, 8, 18, 17, 0), ClockState.YELLOW),  # Wednesday 00:00 in Jakarta, still 18 in UTC
    (utc(2026, 8, 20, 3, 0), ClockState.YELLOW),  # the last day
    (utc(2026, 8, 20, 16, 59, 59), ClockState.YELLOW),  # its last minute
    (utc(2026, 8, 20, 17, 0), ClockState.RED),  # the midnight after it
    (utc(2026, 9, 1, 3, 0), ClockState.RED),
])
def test_clock_state_at_the_boundaries(now, expected):
    report = clocked(due(date(2026, 8, 20)))  # last allowed day: Thursday 20 August
    assert deadlines.clock_state(report, now, days_off=frozenset()) is expected


def test_yellow_looks_across_holidays_and_weekends():
    friday = utc(2026, 8, 14, 3, 0)
    # Due Tuesday 18 August: after Friday the next working day is Tuesday (Monday is the 17th).
    assert deadlines.clock_state(clocked(due(date(2026, 8, 18))), friday, frozenset()) \
        is ClockState.YELLOW
    # A Tuesday with a working Monday in between is still green on the Friday before.
    assert deadlines.clock_state(clocked(due(date(2026, 11, 24))), utc(2026, 11, 20, 3, 0),
                                 frozenset()) is ClockState.GREEN
    # An added day off works the same way.
    assert deadlines.clock_state(clocked(due(date(2026, 11, 24))), utc(2026, 11, 20, 3, 0),
                                 frozenset({date(2026, 11, 23)})) is ClockState.YELLOW


def test_paused_and_absent_clocks():
    assert deadlines.clock_state(clocked(None, paused=True), utc(2026, 9, 1), frozenset()) \
        is ClockState.PAUSED
    assert deadlines.clock_state(Report(), utc(2026, 9, 1), frozenset()) is None


# ============================================================================= through the workflow
@pytest.fixture
def filer(demo, tmp_path):
    store = AttachmentStore(tmp_path / "uploads")

    def file(now: datetime, kind=ReportKind.COMPLAINT, category="ADMINDUK",
             email: str | None = REPORTER_EMAIL) -> Report:
        cat = db.session.scalar(select(Category).where(Category.code == category))
        draft = ReportDraft(kind=kind, title="KTP elektronik belum jadi",
                            body="Sudah tiga bulan menunggu di kecamatan.", category_id=cat.id,
                            name="Warga Cikupa", email=email)
        return file_report(draft, [], store=store, now=now).report
    return file


def staff(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))




def act(report: Report, action: Action, who: str, at: datetime, **data):
    return perform(report, action, actor=staff(who), now=at, expected_version=report.version,
                   data=ActionInput(**data))


def dispose(report: Report, at: datetime, unit: str = "TNG-DISDUKCAPIL"):
    return act(report, Action.DISPOSITION, ADMIN, at, target_institution_id=node(unit).id)


def test_filing_starts_the_verification_time_across_a_holiday(filer):
    report = filer(utc(2026, 8, 14, 3, 0))  # Friday 10:00 in Jakarta
    assert report.deadline_kind is DeadlineKind.VERIFICATION
    assert report.clock_days == 3 and report.clock_started_at == utc(2026, 8, 14, 3, 0)
    # Monday is Independence Day: Tuesday, Wednesday, Thursday.
    assert report.due_at == due(date(2026, 8, 20))
    db.session.commit()  # the stored row satisfies the clock's CHECK constraints
    assert db.session.get(Report, report.id).due_at == due(date(2026, 8, 20))


def test_verification_disposition_and_the_first_visible_follow_up(filer):
    report = filer(utc(2026, 11, 20, 3, 0))
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))  # Monday
    assert report.deadline_kind is DeadlineKind.FOLLOW_UP
    assert report.due_at == due(date(2026, 11, 30))  # 5 working days

    event = dispose(report, utc(2026, 11, 24, 3, 0))  # Tuesday: the unit's own 5 days
    assert report.due_at == due(date(2026, 12, 1))
    assert event.kind is EventKind.DISPOSITIONED and event.due_at == report.due_at

    act(report, Action.ACCEPT, LIAISON, utc(2026, 11, 24, 4, 0))
    act(report, Action.FOLLOW_UP, OPERATOR, utc(2026, 11, 25, 3, 0),
        message="Cek lapangan besok.", visible_to_reporter=False)
    assert report.due_at == due(date(2026, 12, 1)), "an internal note meets nothing"
    act(report, Action.FOLLOW_UP, OPERATOR, utc(2026, 11, 26, 3, 0),
        message="Data Anda sudah kami periksa; KTP dicetak minggu ini.", visible_to_reporter=True)
    assert report.deadline_kind is None and report.due_at is None
    db.session.commit()
    assert event.due_at == due(date(2026, 12, 1)), "the unit's deadline stays on its event"


def test_urgent_categories_get_two_working_days(filer):
    report = filer(utc(2026, 11, 20, 3, 0), category="KEDARURATAN-KESEHATAN")
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    assert report.clock_days == 2 and report.due_at == due(date(2026, 11, 25))
    dispose(report, utc(2026, 11, 25, 3, 0), unit="TNG-DINKES")
    assert report.due_at == due(date(2026, 11, 27))


def test_information_request_answer_time_and_its_single_extension(filer):
    report = filer(utc(2026, 11, 20, 3, 0), kind=ReportKind.INFORMATION_REQUEST)
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    assert report.deadline_kind is DeadlineKind.INFORMATION_ANSWER
    assert report.due_at == due(date(2026, 12, 7))  # 10 working days
    event = dispose(report, utc(2026, 11, 24, 3, 0))
    assert report.due_at == due(date(2026, 12, 7)) == event.due_at, "the answer time is kept"
    act(report, Action.ACCEPT, LIAISON, utc(2026, 11, 24, 4, 0))
    act(report, Action.FOLLOW_UP, OPERATOR, utc(2026, 11, 25, 3, 0),
        message="Permohonan sedang diproses.", visible_to_reporter=True)
    assert report.due_at == due(date(2026, 12, 7)), "only the answer meets it"

    with pytest.raises(DomainError) as no_reason:
        act(report, Action.EXTEND, LIAISON, utc(2026, 12, 2, 3, 0), message="  ")
    assert no_reason.value.field == "message" and not report.deadline_extended
    extension = act(report, Action.EXTEND, LIAISON, utc(2026, 12, 2, 3, 0),
                    message="Dokumen harus dicari di arsip kecamatan.")
    assert report.deadline_extended and report.clock_added_days == 7
    assert report.due_at == due(date(2026, 12, 16)) == extension.due_at
    assert extension.kind is EventKind.DEADLINE_EXTENDED and extension.visible_to_reporter
    told = [m.body_text for m in mails_to(REPORTER_EMAIL)]
    assert any("arsip kecamatan" in body for body in told), "the reporter is told the reason"
    # The disposition that gave the unit this answer time follows it.
    assert event.due_at == due(date(2026, 12, 16))

    assert Action.EXTEND not in allowed_actions(staff(LIAISON), report)
    with pytest.raises(ActionNotAllowed):
        act(report, Action.EXTEND, LIAISON, utc(2026, 12, 3, 3, 0), message="Lagi.")
    assert report.due_at == due(date(2026, 12, 16))

    act(report, Action.ANSWER, OPERATOR, utc(2026, 12, 10, 3, 0), message="Terlampir datanya.")
    assert report.due_at is None and report.deadline_kind is None
    db.session.commit()


def test_only_information_requests_can_be_extended(filer):
    report = filer(utc(2026, 11, 20, 3, 0))
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    assert Action.EXTEND not in allowed_actions(staff(ADMIN), report)
    with pytest.raises(ActionNotAllowed):
        act(report, Action.EXTEND, ADMIN, utc(2026, 11, 24, 2, 0), message="Butuh waktu.")
    assert report.due_at == due(date(2026, 11, 30)) and not report.deadline_extended


def test_a_clarification_stops_the_clock_and_the_reply_resumes_it(filer):
    report = filer(utc(2026, 11, 20, 3, 0))
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    assert report.due_at == due(date(2026, 11, 30))

    with pytest.raises(DomainError):
        act(report, Action.REQUEST_CLARIFICATION, ADMIN, utc(2026, 11, 25, 3, 0), message="")
    question = act(report, Action.REQUEST_CLARIFICATION, ADMIN, utc(2026, 11, 25, 3, 0),
                   message="Di kecamatan mana Anda mengurus KTP?")
    assert question.kind is EventKind.CLARIFICATION_REQUESTED and question.visible_to_reporter
    assert report.status is ReportStatus.VERIFIED
    assert report.due_at is None and report.clock_paused_at == utc(2026, 11, 25, 3, 0)
    assert deadlines.clock_state(report, utc(2026, 12, 20)) is ClockState.PAUSED
    mails = mails_to(REPORTER_EMAIL)
    assert any("Di kecamatan mana" in m.body_text for m in mails)
    # One question at a time: the clock is already stopped.
    assert Action.REQUEST_CLARIFICATION not in allowed_actions(staff(ADMIN), report)
    with pytest.raises(ActionNotAllowed):
        act(report, Action.REQUEST_CLARIFICATION, ADMIN, utc(2026, 11, 26, 3, 0),
            message="Dan kapan?")
    db.session.commit()

    # The reply on Monday 30: the clock waited Thursday, Friday and Monday.
    reporter_reply(report, "Di Kecamatan Cikupa.", now=utc(2026, 11, 30, 4, 0))
    assert report.clock_paused_at is None and report.clock_added_days == 3
    assert report.due_at == due(date(2026, 12, 3))
    # A reply while the clock runs changes nothing.
    reporter_reply(report, "Tambahan: nomor antrean 12.", now=utc(2026, 12, 1, 4, 0))
    assert report.due_at == due(date(2026, 12, 3))
    db.session.commit()


def test_a_disposition_while_waiting_starts_the_units_clock_paused(filer):
    report = filer(utc(2026, 11, 20, 3, 0))
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    act(report, Action.REQUEST_CLARIFICATION, ADMIN, utc(2026, 11, 24, 3, 0),
        message="Mohon kirim nomor NIK lewat balasan.")
    event = dispose(report, utc(2026, 11, 25, 3, 0))  # Wednesday
    assert report.deadline_kind is DeadlineKind.FOLLOW_UP and report.due_at is None
    assert event.due_at is None
    db.session.commit()
    # Reply on Friday: the unit's clock waited Thursday and Friday, from its own start.
    reporter_reply(report, "Sudah saya kirim.", now=utc(2026, 11, 27, 4, 0))
    assert report.clock_added_days == 2
    assert report.due_at == due(date(2026, 12, 4)) == event.due_at


def test_reopening_gives_the_unit_a_new_follow_up_time(filer):
    report = filer(utc(2026, 11, 20, 3, 0))
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    act(report, Action.ANSWER, ADMIN, utc(2026, 11, 23, 5, 0), message="Sudah selesai.")
    assert report.due_at is None
    reporter_reply(report, "Belum, KTP saya belum ada.", now=utc(2026, 11, 25, 3, 0))
    assert report.status is ReportStatus.REOPENED
    assert report.deadline_kind is DeadlineKind.FOLLOW_UP
    assert report.due_at == due(date(2026, 12, 2))


def test_routing_and_archiving(filer):
    report = filer(utc(2026, 11, 20, 3, 0), category="LAINNYA")  # waits at the national level
    assert report.current_institution.kind is InstitutionKind.NATIONAL
    assert report.due_at == due(date(2026, 11, 25))
    perform(report, Action.ROUTE, actor=staff("admin.nasional@lapor.example.id"),
            now=utc(2026, 11, 24, 3, 0), expected_version=report.version,
            data=ActionInput(target_institution_id=node("KAB-TANGERANG").id))
    assert report.deadline_kind is DeadlineKind.VERIFICATION
    assert report.due_at == due(date(2026, 11, 27)), "the institution's own 3 days"
    act(report, Action.ARCHIVE, ADMIN, utc(2026, 11, 24, 4, 0),
        archive_reason=ArchiveReason.NOT_ACTIONABLE)
    assert report.due_at is None and report.deadline_kind is None
    db.session.commit()


# ============================================================================= policies
def test_policies_per_institution_with_a_national_default(filer):
    deadlines.save_policy(node("KAB-TANGERANG"), Policy(verification_days=2, follow_up_days=7),
                          actor=staff(ADMIN), now=utc(2026, 11, 1))
    deadlines.save_policy(None, Policy(verification_days=4), actor=None, now=utc(2026, 11, 1))
    assert deadlines.policy_for(node("TNG-DISDUKCAPIL")).follow_up_days == 7  # a unit: its institution's
    report = filer(utc(2026, 11, 20, 3, 0))
    assert report.due_at == due(date(2026, 11, 24))  # 2 days
    act(report, Action.VERIFY, ADMIN, utc(2026, 11, 23, 2, 0))
    assert report.clock_days == 7 and report.due_at == due(date(2026, 12, 2))
    national = filer(utc(2026, 11, 20, 3, 0), category="LAINNYA")
    assert national.clock_days == 4
    with pytest.raises(DomainError) as refused:
        deadlines.save_policy(node("KAB-TANGERANG"), Policy(follow_up_days=0), actor=None,
                              now=utc(2026, 11, 1))
    assert refused.value.field == "follow_up_days"
    with pytest.raises(DomainError):
        deadlines.save_policy(node("TNG-DISHUB"), Policy(), actor=None, now=utc(2026, 11, 1))
    db.session.commit()


# ============================================================================= holidays
def assert_stored_deadlines_match_their_basis(reports):
    """The set-based move of a holiday gives what a recomputation from the basis gives."""
    for report in reports:
        stored = report.due_at
        deadlines.recompute(report)
        assert report.due_at == stored, report.title


def test_adding_and_removing_a_holiday_moves_the_open_deadlines_it_touches(filer):
    cuti = date(2026, 12, 24)
    # A: follow-up from Monday 21 December: 22, 23, 24, 28, 29 (25th is Christmas).
    a = filer(utc(2026, 12, 18, 3, 0))
    a.title = "A"
    act(a, Action.VERIFY, ADMIN, utc(2026, 12, 21, 2, 0))
    # B: with the unit since Friday 18 December: 21, 22, 23, 24, 28.
    b = filer(utc(2026, 12, 14, 3, 0))
    b.title = "B"
    act(b, Action.VERIFY, ADMIN, utc(2026, 12, 15, 2, 0))
    b_disposition = dispose(b, utc(2026, 12, 18, 3, 0))
    # C: verification time over before the 24th (21, 22, 23).
    c = filer(utc(2026, 12, 18, 3, 0))
    c.title = "C"
    # D: answered: no clock. E: waiting for the reporter: no deadline now.
    d = filer(utc(2026, 12, 18, 3, 0))
    act(d, Action.VERIFY, ADMIN, utc(2026, 12, 21, 2, 0))
    act(d, Action.ANSWER, ADMIN, utc(2026, 12, 21, 3, 0), message="Selesai.")
    e = filer(utc(2026, 12, 18, 3, 0))
    e.title = "E"
    act(e, Action.VERIFY, ADMIN, utc(2026, 12, 21, 2, 0))
    act(e, Action.REQUEST_CLARIFICATION, ADMIN, utc(2026, 12, 22, 2, 0), message="Alamat?")
    db.session.commit()
    assert (a.due_at, b.due_at, c.due_at) == (
        due(date(2026, 12, 29)), due(date(2026, 12, 28)), due(date(2026, 12, 23)))
    versions = {r.title: r.version for r in (c, d, e)}

    change = deadlines.add_holiday(cuti, "Cuti bersama Natal", actor=None,
                                   now=utc(2026, 12, 1))
    assert change.will_move == 2 and change.change.pending
    assert a.due_at == due(date(2026, 12, 29)), "the request moves nothing: the worker does"
    assert deadlines.apply_calendar_changes(utc(2026, 12, 1, 0, 1)) == 2
    assert change.change.moved == 2 and change.change.applied_at == utc(2026, 12, 1, 0, 1)
    assert a.due_at == due(date(2026, 12, 30))
    assert b.due_at == due(date(2026, 12, 29)) == b_disposition.due_at
    assert c.due_at == due(date(2026, 12, 23)) and d.due_at is None and e.due_at is None
    db.session.commit()
    assert {r.title: r.version for r in (c, d, e)} == versions, "closed ones untouched"
    assert_stored_deadlines_match_their_basis([a, b, c])
    # The paused one counts the new day off when it resumes: it waited Wednesday 23 and
    # Monday 28 (24, 25 off), so 7 working days from Monday 21: ... 30, 31, (1 January is New
    # Year's Day), 4 January.
    reporter_reply(e, "Jl. Raya Serang km 24.", now=utc(2026, 12, 28, 3, 0))
    assert e.clock_added_days == 2
    assert e.due_at == due(date(2027, 1, 4))

    with pytest.raises(DomainError):
        deadlines.add_holiday(cuti, "Lagi", actor=None, now=utc(2026, 12, 1))

    # A regional day of another institution moves nothing here; one of this regency does.
    kota = Institution(code="KOTA-TANGERANG", name="Pemerintah Kota Tangerang",
                       kind=InstitutionKind.INSTITUTION, parent=node("KEMENPANRB"))
    db.session.add(kota)
    db.session.flush()
    assert deadlines.add_holiday(date(2026, 12, 28), "Hari jadi Kota", institution=kota,
                                 actor=None, now=utc(2026, 12, 1)).will_move == 0
    regional = deadlines.add_holiday(date(2026, 12, 28), "Hari jadi Kabupaten",
                                     institution=node("KAB-TANGERANG"), actor=None,
                                     now=utc(2026, 12, 1))
    assert regional.will_move == 3  # A, B and E (its unit's institution)
    assert deadlines.apply_calendar_changes(utc(2026, 12, 1, 0, 2)) == 3
    assert a.due_at == due(date(2026, 12, 31)) and b.due_at == due(date(2026, 12, 30))
    assert_stored_deadlines_match_their_basis([a, b, c, e])

    removed = deadlines.remove_holiday(cuti, actor=None, now=utc(2026, 12, 2))
    assert removed.will_move == 3
    assert deadlines.apply_calendar_changes(utc(2026, 12, 2, 0, 1)) == 3
    assert a.due_at == due(date(2026, 12, 30)) and b.due_at == due(date(2026, 12, 29))
    assert b_disposition.due_at == b.due_at
    assert_stored_deadlines_match_their_basis([a, b, c, e])
    db.session.commit()
    assert db.session.scalar(select(Holiday.name).where(Holiday.day == cuti)) is None


def two_open_clocks(filer):
    """Two running clocks that count Thursday 24 December: the unit's follow-up from its
    disposition on Monday 21 (22, 23, 24, 28, 29; the 25th is Christmas) and the regency's
    verification from Tuesday 22 (23, 24, 28)."""
    at_unit = filer(utc(2026, 12, 18, 3, 0))
    act(at_unit, Action.VERIFY, ADMIN, utc(2026, 12, 21, 2, 0))
    dispose(at_unit, utc(2026, 12, 21, 3, 0))
    at_regency = filer(utc(2026, 12, 22, 3, 0))
    db.session.commit()
    assert at_unit.current_unit == node("TNG-DISDUKCAPIL") and at_regency.current_unit is None
    assert at_unit.due_at == due(date(2026, 12, 29))
    assert at_regency.due_at == due(date(2026, 12, 28))
    return at_unit, at_regency


def disposition_due(report: Report) -> datetime:
    return db.session.scalar(select(ReportEvent.due_at).where(
        ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.DISPOSITIONED))


def test_applying_a_change_twice_moves_nothing_the_second_time(filer):
    follow_up, verification = two_open_clocks(filer)
    deadlines.add_holiday(date(2026, 12, 24), "Cuti bersama Natal", actor=None,
                          now=utc(2026, 12, 1))
    assert deadlines.apply_calendar_changes(utc(2026, 12, 1, 0, 1)) == 2
    assert deadlines.apply_calendar_changes(utc(2026, 12, 1, 0, 2)) == 0  # none pending
    # The same change once more (a second worker, a retried run): nothing differs any more.
    again = CalendarChange(day=date(2026, 12, 24), added=True, created_at=utc(2026, 12, 1))
    db.session.add(again)
    assert deadlines.apply_calendar_changes(utc(2026, 12, 1, 0, 3)) == 0
    assert again.moved == 0 and again.applied_at == utc(2026, 12, 1, 0, 3)
    assert follow_up.due_at == due(date(2026, 12, 30)) == disposition_due(follow_up)
    assert verification.due_at == due(date(2026, 12, 29))
    db.session.commit()


def test_a_clock_started_with_the_new_holiday_is_not_moved_again(filer):
    follow_up, _ = two_open_clocks(filer)
    change = deadlines.add_holiday(date(2026, 12, 24), "Cuti bersama Natal", actor=None,
                                   now=utc(2026, 12, 22, 4, 0)).change
    db.session.commit()
    # Filed after the holiday was added, before the worker came: it already skips the 24th.
    late = filer(utc(2026, 12, 22, 5, 0))
    assert late.due_at == due(date(2026, 12, 29))  # 23, (24), 28, 29
    db.session.commit()
    assert deadlines.apply_calendar_changes(utc(2026, 12, 22, 5, 1)) == 2  # the two before it
    assert late.due_at == due(date(2026, 12, 29)) and change.moved == 2
    assert follow_up.due_at == due(date(2026, 12, 30))


def test_a_regional_holiday_moves_only_the_deadlines_of_that_subtree(filer, monkeypatch):
    monkeypatch.setattr(deadlines, "APPLY_CHUNK", 1)  # one UPDATE per group: chunks add up
    follow_up, verification = two_open_clocks(filer)
    kota = Institution(code="KOTA-TANGERANG", name="Pemerintah Kota Tangerang",
                       kind=InstitutionKind.INSTITUTION, parent=node("KEMENPANRB"))
    db.session.add(kota)
    db.session.flush()
    elsewhere = filer(utc(2026, 12, 22, 3, 0))
    elsewhere.current_institution = kota  # a report of another institution
    deadlines.recompute(elsewhere)
    db.session.commit()
    assert elsewhere.due_at == due(date(2026, 12, 28))

    # A day off of a unit of the regency moves its own report only.
    unit = deadlines.add_holiday(date(2026, 12, 24), "Hari jadi Disdukcapil",
                                 institution=node("TNG-DISDUKCAPIL"), actor=None,
                                 now=utc(2026, 12, 22, 4, 0))
    assert unit.will_move == 1
    assert deadlines.apply_calendar_changes(utc(2026, 12, 22, 4, 1)) == 1
    assert follow_up.due_at == due(date(2026, 12, 30))  # at the unit: moved
    assert verification.due_at == due(date(2026, 12, 28))  # at the regency: not
    assert elsewhere.due_at == due(date(2026, 12, 28))

    # The regency's day moves the regency's other report too, never Kota Tangerang's.
    deadlines.add_holiday(date(2026, 12, 23), "Hari jadi Kabupaten",
                          institution=node("KAB-TANGERANG"), actor=None,
                          now=utc(2026, 12, 22, 4, 0))
    assert deadlines.apply_calendar_changes(utc(2026, 12, 22, 4, 2)) == 2
    assert follow_up.due_at == due(date(2026, 12, 31))  # (23), (24), 28, 29, 30, 31
    assert verification.due_at == due(date(2026, 12, 29))
    assert elsewhere.due_at == due(date(2026, 12, 28))
    assert_stored_deadlines_match_their_basis([follow_up, verification, elsewhere])

    # Removing the unit's day moves its report back; the regency's day stays.
    deadlines.remove_holiday(date(2026, 12, 24), institution=node("TNG-DISDUKCAPIL"),
                             actor=None, now=utc(2026, 12, 22, 6, 0))
    assert deadlines.apply_calendar_changes(utc(2026, 12, 22, 6, 1)) == 1
    assert follow_up.due_at == due(date(2026, 12, 30))
    assert verification.due_at == due(date(2026, 12, 29))
    assert_stored_deadlines_match_their_basis([follow_up, verification, elsewhere])
    db.session.commit()


def test_a_moved_deadline_is_no_edit_of_the_report(filer):
    follow_up, verification = two_open_clocks(filer)
    before = {r.id: (r.version, r.updated_at) for r in (follow_up, verification)}
    deadlines.add_holiday(date(2026, 12, 24), "Cuti bersama Natal", actor=None,
                          now=utc(2026, 12, 22, 4, 0))
    with freeze_time("2026-12-22 05:00:00"):
        assert deadlines.apply_calendar_changes(utc(2026, 12, 22, 5, 0)) == 2
        db.session.commit()
    db.session.expire_all()
    reports = db.session.scalars(select(Report).where(Report.id.in_(before))).all()
    assert {r.id: (r.version, r.updated_at) for r in reports} == before
    assert {r.due_at for r in reports} == {due(date(2026, 12, 30)), due(date(2026, 12, 29))}


def test_changes_to_the_calendar_are_audited(filer):
    admin = staff(ADMIN)
    deadlines.save_policy(node("KAB-TANGERANG"), Policy(follow_up_days=7), actor=admin,
                          now=utc(2026, 12, 1))
    deadlines.add_holiday(date(2026, 12, 24), "Cuti bersama Natal", actor=admin,
                          institution=node("KAB-TANGERANG"), now=utc(2026, 12, 1, 1))
    deadlines.remove_holiday(date(2026, 12, 24), actor=admin,
                             institution=node("KAB-TANGERANG"), now=utc(2026, 12, 1, 2))
    deadlines.add_holiday(date(2026, 12, 31), "Cuti bersama", actor=None,
                          now=utc(2026, 12, 1, 3))
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.institution_id, e.actor_id, e.detail) for e in entries] == [
        (AuditAction.DEADLINE_POLICY_SAVED, node("KAB-TANGERANG").id, admin.id,
         "follow_up_days 5 → 7"),
        (AuditAction.HOLIDAY_ADDED, node("KAB-TANGERANG").id, admin.id,
         "2026-12-24 Cuti bersama Natal"),
        (AuditAction.HOLIDAY_REMOVED, node("KAB-TANGERANG").id, admin.id,
         "2026-12-24 Cuti bersama Natal"),
        (AuditAction.HOLIDAY_ADDED, None, None, "2026-12-31 Cuti bersama"),  # national only
    ]


def test_the_sql_form_of_the_clock_agrees_with_the_python_one(filer):
    last_days = [date(2026, 8, 14), date(2026, 8, 18), date(2026, 8, 19), date(2026, 8, 20),
                 date(2026, 8, 21), date(2026, 8, 24)]
    reports = []
    for last_day in last_days:
        report = filer(utc(2026, 8, 3, 3, 0))
        report.clock_days = working_days_between(date(2026, 8, 3), last_day)
        deadlines.recompute(report)
        assert report.due_at == due(last_day)
        reports.append(report)
    paused = filer(utc(2026, 8, 3, 3, 0))
    deadlines.pause(paused, now=utc(2026, 8, 4, 3, 0))
    reports.append(paused)
    db.session.commit()
    ids = [r.id for r in reports]
    for now in [utc(2026, 8, 14, 3, 0), utc(2026, 8, 14, 17, 0), utc(2026, 8, 18, 16, 59),
                utc(2026, 8, 18, 17, 0), utc(2026, 8, 20, 17, 0)]:
        in_sql = dict(db.session.execute(
            select(Report.id, deadlines.clock_state_expression(now))
            .where(Report.id.in_(ids))).all())
        in_python = {r.id: deadlines.clock_state(r, now).value for r in reports}
        assert in_sql == in_python, now
        red = set(db.session.scalars(select(Report.id).where(
            Report.id.in_(ids), deadlines.red_clause(now))))
        yellow = set(db.session.scalars(select(Report.id).where(
            Report.id.in_(ids), deadlines.yellow_clause(now))))
        assert red == {i for i, s in in_python.items() if s == "red"}
        assert yellow == {i for i, s in in_python.items() if s == "yellow"}


# ============================================================================= the command
def test_holiday_command_adds_a_day_off_and_moves_deadlines(filer, runner):
    with freeze_time("2026-12-18 03:00:00"):
        report = filer(utc(2026, 12, 18, 3, 0))
        db.session.commit()
        assert report.due_at == due(date(2026, 12, 23))
        result = runner.invoke(args=["deadlines", "holiday-add", "2026-12-22", "Cuti bersama",
                                     "--institution", "KAB-TANGERANG"])
        assert result.exit_code == 0, result.output
        assert "1 open deadline(s) to move" in result.output
        assert ("moved 1 deadline(s) for holiday 2026-12-22 (added at KAB-TANGERANG)"
                in result.output)
        db.session.expire_all()
        assert db.session.get(Report, report.id).due_at == due(date(2026, 12, 24))
        holiday = db.session.scalar(select(Holiday))
        assert holiday.institution.code == "KAB-TANGERANG" and holiday.name == "Cuti bersama"

        again = runner.invoke(args=["deadlines", "holiday-add", "2026-12-22", "Lagi",
                                    "--institution", "KAB-TANGERANG"])
        assert again.exit_code != 0 and again.output.startswith("Error:")
        assert len(db.session.scalars(select(Holiday)).all()) == 1
        unknown = runner.invoke(args=["deadlines", "holiday-add", "2026-12-22", "X",
                                      "--institution", "NOWHERE"])
        assert unknown.exit_code != 0 and "NOWHERE" in unknown.output

        removed = runner.invoke(args=["deadlines", "holiday-remove", "2026-12-22",
                                      "--institution", "KAB-TANGERANG"])
        assert removed.exit_code == 0, removed.output
        db.session.expire_all()
        assert db.session.get(Report, report.id).due_at == due(date(2026, 12, 23))


def test_the_sweep_command_moves_the_deadlines_of_a_new_holiday_before_it_sweeps(
        filer, runner):
    with freeze_time("2026-12-22 03:00:00"):  # Tuesday 10:00 in Jakarta
        report = filer(utc(2026, 12, 18, 3, 0))  # verification: 21, 22, 23
        db.session.commit()
        assert report.due_at == due(date(2026, 12, 23))  # tomorrow: a reminder is due
        deadlines.add_holiday(date(2026, 12, 22), "Cuti bersama", actor=None,
                              now=utc(2026, 12, 22, 3, 0))  # today is off after all
        db.session.commit()
        result = runner.invoke(args=["deadlines", "sweep"])
        assert result.exit_code == 0, result.output
        assert "moved 1 deadline(s) for holiday 2026-12-22 (added everywhere)" in result.output
        assert result.output.index("moved 1") < result.output.index("sweep:")
        db.session.expire_all()
        assert db.session.get(Report, report.id).due_at == due(date(2026, 12, 24))
        # The sweep saw the moved deadline (Thursday is not the next working day): no reminder
        # for a deadline of Wednesday that no longer holds.
        assert db.session.scalars(select(DeadlineNotice.due_at).where(
            DeadlineNotice.report_id == report.id)).all() == []
        assert runner.invoke(args=["deadlines", "sweep"]).output.startswith("sweep:")
