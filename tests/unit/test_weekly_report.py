"""The weekly report's figures against a hand-built week, the week parameter, the exports, and
offline units (detection across a weekend, one alert per episode).

Week 2026-W47 runs from Monday 16 November 00:00 WIB (15 Nov 17:00 UTC) to Sunday 22 November
24:00 WIB (22 Nov 17:00 UTC); it has no public holiday."""
import csv
import io
import os
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.domain import DomainError
from portal.domain.offline import alert_offline_units, offline_units, working_cutoff
from portal.domain.weekly_report import (
    Week,
    keep_weekly_reports,
    last_week,
    mail_weekly_reports,
    parse_week,
    record_export,
    to_csv,
    to_xlsx,
    weekly_report,
)
from portal.extensions import db
from portal.models import (
    KeptWeeklyReport,
    ArchiveReason,
    AuditAction,
    AuditEntry,
    Category,
    DeadlineKind,
    EventKind,
    Institution,
    InstitutionKind,
    OutboxMessage,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
)
from portal.demo import DEMO_PASSWORD
from tests.helpers import csrf_token, mails_to, node, user

W47 = Week(2026, 47)
MONDAY_AFTER = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)




def category(code: str) -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))




def make_report(created, *, unit=None, institution=None, status=ReportStatus.IN_PROGRESS,
                category_code="ADMINDUK", first_response_at=None, answered_at=None,
                completed_at=None, due_at=None, title="Laporan uji") -> Report:
    report = Report(
        tracking_code_hash=os.urandom(32), kind=ReportKind.COMPLAINT, title=title,
        body="Isi laporan uji.", category=category(category_code), status=status,
        current_institution=institution or node("KAB-TANGERANG"), current_unit=unit,
        first_response_at=first_response_at, answered_at=answered_at,
        completed_at=completed_at, created_at=created, updated_at=created,
        archive_reason=ArchiveReason.NOT_ACTIONABLE if status is ReportStatus.ARCHIVED else None)
    if due_at is not None:
        report.due_at, report.deadline_kind = due_at, DeadlineKind.FOLLOW_UP
        report.clock_started_at, report.clock_days = created, 5
    db.session.add(report)
    db.session.flush()
    report.public_number = f"UJI-{report.id:06d}"
    db.session.flush()
    return report


def event(report, kind, at, *, target=None, actor=None) -> ReportEvent:
    row = ReportEvent(report=report, kind=kind, created_at=at, target_institution=target,
                      actor=actor, status_after=report.status)
    db.session.add(row)
    db.session.flush()
    return row


def build_week() -> dict:
    """The hand-built data set (see each report's comment for what it should count as)."""
    d, h = node("TNG-DISDUKCAPIL"), node("TNG-DISHUB")
    operator = user("operator.disdukcapil@tangerangkab.example.id")
    r = {}
    # R1 (D): received Mon; verified; dispositioned twice (counts once); first response after
    # 24 h; answered Wed; open at the end (answered, not completed).
    r[1] = make_report(utc(2026, 11, 16, 3), unit=d, status=ReportStatus.ANSWERED,
                       first_response_at=utc(2026, 11, 17, 3), answered_at=utc(2026, 11, 18, 3))
    event(r[1], EventKind.VERIFIED, utc(2026, 11, 16, 4))
    event(r[1], EventKind.DISPOSITIONED, utc(2026, 11, 16, 5), target=d)
    event(r[1], EventKind.DISPOSITIONED, utc(2026, 11, 16, 6), target=d)
    event(r[1], EventKind.ANSWERED, utc(2026, 11, 18, 3))
    # R2 (D): received Tue; verified, dispositioned; first response after 12 h; completed Fri.
    r[2] = make_report(utc(2026, 11, 17, 1), unit=d, status=ReportStatus.COMPLETED,
                       first_response_at=utc(2026, 11, 17, 13), completed_at=utc(2026, 11, 20, 3))
    event(r[2], EventKind.VERIFIED, utc(2026, 11, 17, 2))
    event(r[2], EventKind.DISPOSITIONED, utc(2026, 11, 17, 3), target=d)
    event(r[2], EventKind.COMPLETED, utc(2026, 11, 20, 3))
    # R3 (D): received Wed under another category; dispositioned; no response; due Friday: red.
    r[3] = make_report(utc(2026, 11, 18, 0), unit=d, category_code="PERHUBUNGAN",
                       due_at=utc(2026, 11, 20, 17))
    event(r[3], EventKind.DISPOSITIONED, utc(2026, 11, 18, 1), target=d)
    # The operator acts on Thursday 10:00 WIB: the unit is online for one working day after.
    event(r[3], EventKind.NOTE, utc(2026, 11, 19, 3), actor=operator)
    # R4 (D): received the week before; first responded to in the week (after 96 h); open.
    r[4] = make_report(utc(2026, 11, 12, 10), unit=d, first_response_at=utc(2026, 11, 16, 10),
                       due_at=utc(2026, 12, 1, 17))
    # R5 (H): received Saturday; dispositioned to Dishub (which has no staff); open.
    r[5] = make_report(utc(2026, 11, 21, 10), unit=h, status=ReportStatus.DISPOSITIONED,
                       category_code="PERHUBUNGAN", due_at=utc(2026, 11, 27, 17))
    event(r[5], EventKind.DISPOSITIONED, utc(2026, 11, 21, 11), target=h)
    # R6: received Sunday 23:59 WIB, not yet at a unit; open, not red.
    r[6] = make_report(utc(2026, 11, 22, 16, 59), status=ReportStatus.SUBMITTED,
                       category_code="LAINNYA", due_at=utc(2026, 11, 25, 17))
    # R7: Monday 00:00 WIB of the next week: not in the week at all.
    r[7] = make_report(utc(2026, 11, 22, 17), status=ReportStatus.SUBMITTED,
                       category_code="LAINNYA", due_at=utc(2026, 11, 26, 17))
    # R8 (D): Sunday 23:59 WIB of the week before; archived in the week: not open at the end.
    r[8] = make_report(utc(2026, 11, 15, 16, 59), unit=d, status=ReportStatus.ARCHIVED)
    event(r[8], EventKind.ARCHIVED, utc(2026, 11, 16, 2))
    # R9 (D): received Mon; first response only after the week: not followed up in it.
    r[9] = make_report(utc(2026, 11, 16, 6), unit=d, first_response_at=utc(2026, 11, 23, 2),
                       due_at=utc(2026, 11, 23, 17))
    # Another institution's report in the same week: never counted here.
    other = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-LAIN", name="Kabupaten Lain",
                        parent=node("KEMENPANRB"))
    db.session.add(other)
    r[10] = make_report(utc(2026, 11, 17, 5), institution=other, status=ReportStatus.SUBMITTED,
                        due_at=utc(2026, 11, 20, 17))
    db.session.commit()
    return r


def rows_by_code(report):
    return {(row.unit.code if row.unit else None): row for row in report.rows}


def test_the_weeks_figures_match_the_hand_count(demo):
    build_week()
    report = weekly_report(node("KAB-TANGERANG"), W47, now=MONDAY_AFTER)
    rows = rows_by_code(report)
    d, h, none = rows["TNG-DISDUKCAPIL"], rows["TNG-DISHUB"], rows[None]
    assert (d.received, d.verified, d.dispositioned, d.answered, d.completed) == (4, 2, 3, 1, 1)
    assert (d.open_at_end, d.red_at_end) == (4, 1)
    assert d.median_first_response_hours == 24.0  # of 24, 12 and 96 hours
    assert (d.followed_up, d.follow_up_rate) == (2, 50.0)
    assert [(c.code, n) for c, n in d.categories] == [("ADMINDUK", 3), ("PERHUBUNGAN", 1)]
    # Waiting from Mon 05:00 UTC to the week's end (156 h), minus Thu 03:00 to Fri 03:00 UTC
    # (the operator's action keeps the unit online for one working day: 97 samples).
    assert d.offline_hours == 156 - 24.25

    assert (h.received, h.verified, h.dispositioned, h.answered, h.completed) == (1, 0, 1, 0, 0)
    assert (h.open_at_end, h.red_at_end, h.median_first_response_hours) == (1, 0, None)
    assert h.follow_up_rate == 0.0
    assert [(c.code, n) for c, n in h.categories] == [("PERHUBUNGAN", 1)]
    assert h.offline_hours == 30.0  # Saturday 11:00 UTC to Sunday 17:00 UTC, nobody there

    assert (none.received, none.open_at_end, none.red_at_end, none.follow_up_rate) == (1, 1, 0, 0.0)
    assert [(c.code, n) for c, n in none.categories] == [("LAINNYA", 1)]
    assert none.offline_hours is None

    quiet = rows["TNG-DINKES"]
    assert (quiet.received, quiet.open_at_end, quiet.follow_up_rate, quiet.offline_hours) == (
        0, 0, None, 0.0)
    assert len(report.rows) == 10  # nine units and the row for reports not yet at a unit

    total = report.total
    assert (total.received, total.verified, total.dispositioned, total.answered,
            total.completed, total.open_at_end, total.red_at_end) == (6, 2, 4, 1, 1, 6, 1)
    assert total.median_first_response_hours == 24.0
    assert total.follow_up_rate == 33.3
    assert [(c.code, n) for c, n in total.categories] == [
        ("ADMINDUK", 3), ("PERHUBUNGAN", 2), ("LAINNYA", 1)]
    assert total.offline_hours == 161.75

    assert [o.unit.code for o in report.offline_now] == ["TNG-DISDUKCAPIL", "TNG-DISHUB"]


def test_open_at_the_end_counts_reports_finished_only_after_it(demo):
    """Open at the week's end is read in three parts (unfinished now; completed since; archived
    since): a report completed or archived after the end was open at it, one finished before
    it was not, whichever part holds it."""
    d = node("TNG-DISDUKCAPIL")
    before = rows_by_code(weekly_report(node("KAB-TANGERANG"), W47, now=MONDAY_AFTER))
    end = W47.end
    completed_after = make_report(utc(2026, 11, 17, 8), unit=d, status=ReportStatus.COMPLETED,
                                  completed_at=end + timedelta(hours=3),
                                  due_at=end - timedelta(hours=1))  # red at the end
    event(completed_after, EventKind.COMPLETED, end + timedelta(hours=3))
    archived_after = make_report(utc(2026, 11, 17, 9), unit=d, status=ReportStatus.ARCHIVED)
    event(archived_after, EventKind.ARCHIVED, end + timedelta(hours=4))
    completed_before = make_report(utc(2026, 11, 17, 10), unit=d, status=ReportStatus.COMPLETED,
                                   completed_at=end - timedelta(hours=2))
    event(completed_before, EventKind.COMPLETED, end - timedelta(hours=2))
    archived_before = make_report(utc(2026, 11, 17, 11), unit=d, status=ReportStatus.ARCHIVED)
    event(archived_before, EventKind.ARCHIVED, end - timedelta(hours=5))
    db.session.commit()
    after = rows_by_code(weekly_report(node("KAB-TANGERANG"), W47, now=MONDAY_AFTER))
    code = "TNG-DISDUKCAPIL"
    assert after[code].open_at_end == before[code].open_at_end + 2
    assert after[code].red_at_end == before[code].red_at_end + 1


def test_a_finished_weeks_figures_are_kept_and_read_back_unchanged(demo, app):
    """The Monday job keeps each institution's figures; the page and the exports read them
    (the same figures as computed), and a later change to the week's reports does not change
    them; the units offline are still as of now. A week not kept, or not finished, is
    computed."""
    build_week()
    tangerang = node("KAB-TANGERANG")
    computed = weekly_report(tangerang, W47, now=MONDAY_AFTER)
    assert computed.kept_at is None
    with pytest.raises(DomainError):
        keep_weekly_reports(W47, now=W47.end - timedelta(seconds=1))
    assert keep_weekly_reports(W47, now=MONDAY_AFTER, institutions=[tangerang]) == 1
    db.session.commit()
    kept = weekly_report(tangerang, W47, now=MONDAY_AFTER)
    assert kept.kept_at == MONDAY_AFTER
    assert to_csv(kept) == to_csv(computed)
    assert [o.unit.code for o in kept.offline_now] == [o.unit.code for o in computed.offline_now]
    assert [(r.unit.code if r.unit else None) for r in kept.rows] == [
        (r.unit.code if r.unit else None) for r in computed.rows]

    # A report received in the week, added afterwards: the kept figures stay as they were.
    make_report(utc(2026, 11, 18, 5), unit=node("TNG-DISDUKCAPIL"))
    db.session.commit()
    assert to_csv(weekly_report(tangerang, W47, now=MONDAY_AFTER)) == to_csv(computed)
    assert db.session.scalar(select(func.count(KeptWeeklyReport.id))) == 1
    # Kept again (the job run twice): replaced, not doubled, and now with that report.
    keep_weekly_reports(W47, now=MONDAY_AFTER + timedelta(hours=1), institutions=[tangerang])
    db.session.commit()
    again = weekly_report(tangerang, W47, now=MONDAY_AFTER + timedelta(hours=1))
    assert again.total.received == computed.total.received + 1
    assert db.session.scalar(select(func.count(KeptWeeklyReport.id))) == 1

    # The page says when the figures were computed.
    client = app.test_client()
    signed_in = client.post("/staf/masuk", data={
        "csrf_token": csrf_token(client, "/staf/masuk"),
        "email": "admin@tangerangkab.example.id", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    html = client.get("/staf/laporan-mingguan?week=2026-W47").get_data(as_text=True)
    assert 'id="kept-at"' in html and "Angka dihitung pada" in html
    assert "<td>—</td>" in html and "<td>None</td>" not in html  # a unit with nothing: dashes


def test_csv_and_xlsx_hold_the_same_figures(demo):
    build_week()
    report = weekly_report(node("KAB-TANGERANG"), W47, now=MONDAY_AFTER)
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    sheet = book[W47.code]
    cells = [[("" if v is None else v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert len(lines) == len(cells) == 12  # header, ten rows, total
    by_unit = {line[0]: line for line in lines}
    d = by_unit["Dinas Kependudukan dan Pencatatan Sipil"]
    assert d[1:10] == ["4", "2", "3", "1", "1", "4", "1", "24.0", "50.0"]
    assert "(3)" in d[10] and d[11] == "131.75"
    total = lines[-1]
    assert total[1:10] == ["6", "2", "4", "1", "1", "6", "1", "24.0", "33.3"]
    xlsx_d = next(row for row in cells if row[0] == d[0])
    assert xlsx_d[1:10] == [4, 2, 3, 1, 1, 4, 1, 24.0, 50.0]
    assert cells[-1][1] == 6 and cells[-1][9] == 33.3
    assert [str(v) for v in cells[0]] == lines[0]


def test_exports_do_not_turn_names_into_formulas(demo):
    build_week()
    node("TNG-DINKES").name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    report = weekly_report(node("KAB-TANGERANG"), W47, now=MONDAY_AFTER)
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in [line[0] for line in lines]
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).active
    names = [row[0].value for row in sheet.iter_rows()]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in names
    assert all(row[0].data_type != "f" for row in sheet.iter_rows())


def test_export_writes_an_audit_row_with_the_institution(demo):
    build_week()
    institution = node("KAB-TANGERANG")
    report = weekly_report(institution, W47, now=MONDAY_AFTER)
    admin = user("admin@tangerangkab.example.id")
    record_export(report, actor=admin, file_format="csv", now=MONDAY_AFTER)
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT))
    assert (entry.institution_id, entry.actor_id) == (institution.id, admin.id)
    assert "2026-W47" in entry.detail and "csv" in entry.detail


def test_weekly_mail_goes_to_the_supervisors_without_reporter_identity(demo):
    reports = build_week()
    queued = mail_weekly_reports(W47, now=MONDAY_AFTER)
    db.session.commit()
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert queued == 1 and [m.recipient for m in mails] == ["inspektorat@tangerangkab.example.id"]
    assert "2026-W47" in mails[0].subject
    assert "Dinas Kependudukan dan Pencatatan Sipil" in mails[0].body_html
    assert "<table" in mails[0].body_html and "131.75" in mails[0].body_text
    # Figures only: no report number, title or reporter in the mail.
    assert reports[1].public_number not in mails[0].body_text + mails[0].body_html
    assert "Laporan uji" not in mails[0].body_text + mails[0].body_html
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == AuditAction.EXPORT)) == 1


@pytest.mark.parametrize("seed", [3, 8, 10, 11])  # seeds whose data has what the end asserts
def test_the_weeks_waits_and_events_match_a_plain_reading_of_every_history(demo, seed):
    """Two readings that touch only the reports that can matter to the week, against a plain
    reading of every report's whole history, on random dispositions, verifications, answers
    and departures at two units, with reports finished, archived, routed away or still
    waiting: the offline hours' waits (offline._waits: the earliest wait still going on per
    unit, the ended ones probed for their end; the union of the spans within the week is the
    same) and the week's events by kind (from the reports open since the week's start)."""
    import random

    from portal.domain.offline import _merged, _units_of, _waits
    from portal.models.report import LEAVING_KINDS

    rng = random.Random(seed)
    tangerang = node("KAB-TANGERANG")
    units = [node("TNG-DISDUKCAPIL"), node("TNG-DISHUB")]
    elsewhere = node("KEMENPANRB")
    start, end = W47.start, W47.end
    middle = [EventKind.ANSWERED, EventKind.SENT_BACK, EventKind.POSTPONED, EventKind.VERIFIED]
    histories = []
    for _ in range(14):  # few, so that the waits leave gaps in the week
        created = start + timedelta(days=rng.randint(-6, 6), hours=rng.randint(0, 23))
        at, steps = created, []
        for _ in range(rng.randint(1, 5)):
            at += timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
            if rng.random() < 0.6:
                steps.append((EventKind.DISPOSITIONED, at, rng.choice(units)))
            else:
                steps.append((rng.choice(middle), at, None))
        at += timedelta(hours=rng.randint(1, 30))
        ending = rng.choice(["waiting", "waiting", "completed", "archived", "routed"])
        here = rng.choice(units)  # where the report is now
        if ending == "completed":
            report = make_report(created, unit=here, status=ReportStatus.COMPLETED,
                                 completed_at=at)
            steps.append((EventKind.COMPLETED, at, None))
        elif ending == "archived":
            report = make_report(created, unit=here, status=ReportStatus.ARCHIVED)
            steps.append((EventKind.ARCHIVED, at, None))
        elif ending == "routed":
            report = make_report(created, institution=elsewhere, status=ReportStatus.VERIFIED)
            steps.append((EventKind.ROUTED, at, None))
        else:
            report = make_report(created, unit=here, institution=tangerang)
        for kind, when, target in steps:
            event(report, kind, when, target=target)
        histories.append(steps)
    db.session.commit()

    expected: dict = {}
    for steps in histories:
        arrivals: dict = {}
        for kind, when, target in steps:
            if kind is EventKind.DISPOSITIONED and when < end:
                arrivals.setdefault(target.id, when)
        for unit_id, since in arrivals.items():
            leaving = [when for kind, when, _ in steps if kind in LEAVING_KINDS and when > since]
            expected.setdefault(unit_id, []).append((since, min(leaving, default=None)))

    def within_week(spans):
        starts, ends = _merged(spans)
        return [(max(a, start), min(b, end)) for a, b in zip(starts, ends)
                if a < end and b > start]

    found = _waits(tangerang, _units_of(tangerang), start, end)
    assert {unit.id for unit in units} <= set(expected)  # both units had reports
    for unit in units:
        assert within_week(found.get(unit.id, [])) == within_week(expected[unit.id]), unit.code
    # The week's events by kind, read from the reports open since the week's start, are those
    # of a plain join of every event to its report.
    from portal.domain.weekly_report import EVENT_COLUMNS, _compute

    plain = {(unit_id, EVENT_COLUMNS[kind]): count for unit_id, kind, count in db.session.execute(
        select(Report.current_unit_id, ReportEvent.kind, func.count(func.distinct(Report.id)))
        .join(ReportEvent, ReportEvent.report_id == Report.id)
        .where(Report.current_institution_id == tangerang.id,
               ReportEvent.kind.in_(EVENT_COLUMNS), ReportEvent.created_at >= start,
               ReportEvent.created_at < end).group_by(Report.current_unit_id, ReportEvent.kind))}
    computed = {(row.unit.id if row.unit else None, column): getattr(row, column)
                for row in _compute(tangerang, W47).rows for column in EVENT_COLUMNS.values()}
    assert {key: count for key, count in computed.items() if count} == plain
    assert len(plain) >= 4

    # The data can tell a wrong reading: some waits in the week, not the whole week, and a
    # unit with two waits still going on that began at different times in the week.
    assert any(within_week(expected[unit.id]) for unit in units)
    assert any(within_week(expected[unit.id]) != [(start, end)] for unit in units)
    assert any(len({since for since, until in expected[unit.id]
                    if until is None and start < since < end}) >= 2 for unit in units)


# ----------------------------------------------------------------------------- weeks
@pytest.mark.parametrize("text", ["", "2026-47", "2026-W7", "W47-2026", "2026-w47x", "abc"])
def test_bad_week_text_is_refused(text):
    with pytest.raises(DomainError) as caught:
        parse_week(text, now=MONDAY_AFTER)
    assert caught.value.field == "week"


def test_week_edges():
    assert parse_week("2026-W47", now=MONDAY_AFTER) == W47
    assert parse_week("2026-W48", now=MONDAY_AFTER) == Week(2026, 48)  # the running week
    with pytest.raises(DomainError):
        parse_week("2026-W49", now=MONDAY_AFTER)  # has not begun
    with pytest.raises(DomainError):
        parse_week("2025-W53", now=MONDAY_AFTER)  # 2025 has 52 ISO weeks
    assert parse_week("2026-W53", now=utc(2027, 1, 5)) == Week(2026, 53)
    assert last_week(MONDAY_AFTER) == W47
    # Monday 00:30 WIB is Sunday 17:30 UTC: in Jakarta it is already the next week.
    assert last_week(utc(2026, 11, 22, 17, 30)) == W47
    assert W47.start == utc(2026, 11, 15, 17) and W47.end == utc(2026, 11, 22, 17)


# ----------------------------------------------------------------------------- offline
def test_working_cutoff_skips_the_weekend():
    # Monday 11:00 WIB minus 24 working hours: Friday 11:00 WIB (04:00 UTC).
    assert working_cutoff(utc(2026, 11, 23, 4), timedelta(hours=24)) == utc(2026, 11, 20, 4)
    assert working_cutoff(utc(2026, 11, 19, 4), timedelta(hours=24)) == utc(2026, 11, 18, 4)


def test_one_alert_per_offline_episode(demo):
    d = node("TNG-DISDUKCAPIL")
    liaison = user("penghubung.disdukcapil@tangerangkab.example.id")
    operator = user("operator.disdukcapil@tangerangkab.example.id")
    make_report(utc(2026, 11, 19, 3), unit=d, due_at=utc(2026, 11, 26, 17))
    liaison.last_seen_at = utc(2026, 11, 20, 3)  # Friday 10:00 WIB
    operator.last_seen_at = utc(2026, 11, 19, 3)
    db.session.commit()
    institution = node("KAB-TANGERANG")

    # Monday 09:00 WIB: only 23 working hours since Friday 10:00 (the weekend does not count).
    assert offline_units(institution, now=utc(2026, 11, 23, 2)) == []
    assert alert_offline_units(utc(2026, 11, 23, 2)) == []
    # Monday 11:00 WIB: 25 working hours: offline, one alert to the institution admin.
    found = offline_units(institution, now=utc(2026, 11, 23, 4))
    assert [(o.unit.code, o.waiting, o.last_active_at) for o in found] == [
        ("TNG-DISDUKCAPIL", 1, utc(2026, 11, 20, 3))]
    assert [o.unit.code for o in alert_offline_units(utc(2026, 11, 23, 4))] == ["TNG-DISDUKCAPIL"]
    db.session.commit()
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["admin@tangerangkab.example.id"]
    assert "Dinas Kependudukan dan Pencatatan Sipil" in mails[0].body_text
    # The same episode: no second alert, however often the check runs.
    assert alert_offline_units(utc(2026, 11, 23, 5)) == []
    assert alert_offline_units(utc(2026, 11, 24, 4)) == []
    # The liaison comes back: online; a day later offline again: a new episode, a new alert.
    liaison.last_seen_at = utc(2026, 11, 24, 5)
    db.session.commit()
    assert offline_units(institution, now=utc(2026, 11, 24, 6)) == []
    assert alert_offline_units(utc(2026, 11, 25, 6)) != []
    db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_a_unit_without_waiting_reports_is_never_offline(demo):
    make_report(utc(2026, 11, 16, 3), unit=node("TNG-DISDUKCAPIL"),
                status=ReportStatus.ANSWERED, answered_at=utc(2026, 11, 17, 3))
    db.session.commit()
    assert offline_units(node("KAB-TANGERANG"), now=utc(2026, 12, 1, 4)) == []


# ----------------------------------------------------------------------------- the commands
def test_reports_commands(demo, runner):
    build_week()
    result = runner.invoke(args=["reports", "weekly", "--week", "2026-W47"])
    assert result.exit_code == 0, result.output
    assert "weekly report 2026-W47: figures kept for 2 institution(s), 1 mail(s) queued" \
        in result.output  # Kabupaten Tangerang and Kabupaten Lain
    result = runner.invoke(args=["reports", "weekly", "--institution", "KAB-LAIN",
                                 "--week", "2026-W47"])
    assert "figures kept for 1 institution(s), 0 mail(s) queued" in result.output  # no
    # supervisor there
    assert runner.invoke(args=["reports", "weekly", "--week", "2026-47"]).exit_code != 0
    assert runner.invoke(args=["reports", "weekly", "--institution", "NOPE"]).exit_code != 0
    first = runner.invoke(args=["reports", "offline-check"])
    assert first.exit_code == 0 and "TNG-DISDUKCAPIL" in first.output
    assert "offline units alerted: none" in runner.invoke(args=["reports", "offline-check"]).output


def test_keep_weeks_keeps_every_past_week_once(demo, runner, monkeypatch):
    """The one-off backfill after upgrading: every finished week from the oldest report's to
    last week, for every institution, the same figures as computed; a second run keeps
    nothing; --replace recomputes; --institution and --since narrow it."""
    monkeypatch.setattr("portal.cli.utcnow", lambda: MONDAY_AFTER)
    reports = build_week()
    oldest = db.session.scalar(select(func.min(Report.created_at)))
    assert oldest < utc(2026, 11, 15, 17)  # R4, the week before W47 (or demo data)
    first = Week.of((oldest + timedelta(hours=7)).date())
    weeks, week = [], first
    while week.monday <= W47.monday:
        weeks.append(week.code)
        week = week.following()
    institutions = db.session.scalar(select(func.count(Institution.id)).where(
        Institution.kind == InstitutionKind.INSTITUTION))

    result = runner.invoke(args=["reports", "keep-weeks"])
    assert result.exit_code == 0, result.output
    assert f"weeks kept: {len(weeks)}, institution figures kept: " \
           f"{len(weeks) * institutions}" in result.output
    kept = db.session.scalars(select(KeptWeeklyReport.week).distinct()).all()
    assert sorted(kept) == weeks  # up to last week, never the running week W48
    tangerang = node("KAB-TANGERANG")
    page = weekly_report(tangerang, W47, now=MONDAY_AFTER)
    assert page.kept_at == MONDAY_AFTER
    from portal.domain.weekly_report import _compute
    assert to_csv(page) == to_csv(_compute(tangerang, W47))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0  # no mail

    # Nothing left to keep; --replace recomputes (a report moved since changes W47).
    assert "weeks kept: 0, institution figures kept: 0" in runner.invoke(
        args=["reports", "keep-weeks"]).output
    reports[2].current_unit = node("TNG-DISHUB")
    db.session.commit()
    assert to_csv(weekly_report(tangerang, W47, now=MONDAY_AFTER)) == to_csv(page)
    result = runner.invoke(args=["reports", "keep-weeks", "--replace", "--since", "2026-W47",
                                 "--institution", "KAB-TANGERANG"])
    assert "weeks kept: 1, institution figures kept: 1" in result.output, result.output
    assert to_csv(weekly_report(tangerang, W47, now=MONDAY_AFTER)) != to_csv(page)
    assert runner.invoke(args=["reports", "keep-weeks", "--since", "2026-47"]).exit_code != 0
    assert runner.invoke(args=["reports", "keep-weeks", "--institution", "NOPE"]).exit_code != 0


def test_who_may_read_which_institution(demo):
    from portal.domain.weekly_report import (
        may_read_weekly_report,
        readable_institutions,
    )

    build_week()
    tangerang, other = node("KAB-TANGERANG"), node("KAB-LAIN")
    for email, expected in [("admin.nasional@lapor.example.id", ["KAB-LAIN", "KAB-TANGERANG"]),
                            ("admin@tangerangkab.example.id", ["KAB-TANGERANG"]),
                            ("inspektorat@tangerangkab.example.id", ["KAB-TANGERANG"]),
                            ("penghubung.disdukcapil@tangerangkab.example.id", []),
                            ("operator.disdukcapil@tangerangkab.example.id", [])]:
        staff = user(email)
        assert sorted(i.code for i in readable_institutions(staff)) == expected, email
        assert may_read_weekly_report(staff, tangerang) is ("KAB-TANGERANG" in expected)
        assert may_read_weekly_report(staff, other) is ("KAB-LAIN" in expected)


def test_the_sweep_command_also_alerts_offline_units(demo, runner):
    from freezegun import freeze_time

    d = node("TNG-DISDUKCAPIL")
    make_report(utc(2026, 11, 19, 3), unit=d, due_at=utc(2026, 11, 26, 17))
    for email in ("penghubung.disdukcapil@tangerangkab.example.id",
                  "operator.disdukcapil@tangerangkab.example.id"):
        user(email).last_seen_at = utc(2026, 11, 19, 3)
    db.session.commit()
    with freeze_time(utc(2026, 11, 23, 4)):
        assert runner.invoke(args=["deadlines", "sweep"]).exit_code == 0
        assert runner.invoke(args=["deadlines", "sweep"]).exit_code == 0
    db.session.expire_all()
    alerts = [m for m in mails_to("admin@tangerangkab.example.id")
              if "Dinas Kependudukan dan Pencatatan Sipil" in m.body_text]
    assert len(alerts) == 1  # one alert for the episode, however often the sweep runs
