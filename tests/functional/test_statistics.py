"""The statistics figures against a hand-built set of reports, live and from the monthly
summary (they must agree), the summary's refresh, the public and staff pages, their CSV
downloads, bad query parameters, access and privacy.

Months are Jakarta months: a report filed on 30 April 18:00 UTC (1 May 01:00 WIB) is May's.
The hand counts for Kabupaten Tangerang, April to June 2026, are written next to each report.
"""
import csv
import io
import os
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import event, func, select

from portal.demo import DEMO_PASSWORD
from portal.domain import DomainError
from portal.domain.statistics import (
    DISTRICTS,
    LIVE,
    REGIONS,
    SUMMARY,
    Period,
    compute_statistics,
    default_period,
    median_of_histogram,
    parse_period,
    rebuild_summary,
    refresh_summary,
    tables,
)
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    AuditAction,
    AuditEntry,
    Category,
    Channel,
    DeadlineKind,
    Dimension,
    District,
    Grain,
    Institution,
    InstitutionKind,
    MonthSummary,
    Report,
    ReporterIdentity,
    ReportKind,
    ReportRating,
    ReportStatus,
    StatisticsState,
)
from tests.helpers import csrf_token, node

NOW = datetime(2026, 6, 15, 5, 0, tzinfo=timezone.utc)  # 12:00 WIB
PERIOD = Period(date(2026, 4, 1), date(2026, 6, 1))
FAR = datetime(2031, 1, 1, tzinfo=timezone.utc)
SECRET_TITLE = "Pungli di loket rahasia"
SECRET_NAME = "Siti Rahmawati Statistika"
S = ReportStatus


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _report(created, *, kind=ReportKind.COMPLAINT, category=None, district=None,
            channel=Channel.WEB, unit=None, institution="KAB-TANGERANG", status=S.IN_PROGRESS,
            response=None, completion=None, rating=None, due=None, confidential=False,
            anonymous=False):
    report = Report(
        tracking_code_hash=os.urandom(32), kind=kind, title=SECRET_TITLE,
        body="Isi laporan rahasia.", status=status, channel=channel,
        category=db.session.scalar(select(Category).where(Category.code == category))
        if category else None,
        district=db.session.scalar(select(District).where(District.name == district))
        if district else None,
        current_institution=node(institution), current_unit=node(unit) if unit else None,
        first_response_at=created + response if response is not None else None,
        completed_at=created + completion if completion is not None else None,
        created_at=created, is_confidential=confidential, is_anonymous=anonymous,
        archive_reason=ArchiveReason.NOT_ACTIONABLE if status is S.ARCHIVED else None)
    if due is not None:
        report.due_at, report.deadline_kind = due, DeadlineKind.FOLLOW_UP
        report.clock_started_at, report.clock_days = created, 5
    report.identity = ReporterIdentity(name=SECRET_NAME, email="siti.statistika@example.id")
    db.session.add(report)
    db.session.flush()
    report.public_number = f"STAT-{report.id:06d}"
    if rating is not None:
        db.session.add(ReportRating(report=report, score=rating, created_at=created))
    db.session.flush()
    return report


H = lambda hours, minutes=0: timedelta(hours=hours, minutes=minutes)  # noqa: E731
A, B = "TNG-DISDUKCAPIL", "TNG-DISHUB"


@pytest.fixture
def world(demo):
    other = Institution(code="KOTA-UJI", name="Pemerintah Kota Uji",
                        kind=InstitutionKind.INSTITUTION, parent=node("KEMENPANRB"))
    db.session.add(other)
    db.session.add(District(institution=other, name="Uji Barat"))
    db.session.flush()
    r = {}
    # bucket of the first response / of the completion in the comments (hours)
    r[1] = _report(utc(2026, 4, 10, 3), category="ADMINDUK", district="Cikupa", unit=A,
                   status=S.COMPLETED, response=H(5, 30), completion=H(92), rating=5,
                   confidential=True)  # 5 / 72
    r[2] = _report(utc(2026, 4, 20, 3), category="ADMINDUK", district="Cikupa",
                   channel=Channel.SMS, unit=A, response=H(10), due=NOW - H(24))  # 10; red
    r[3] = _report(utc(2026, 4, 30, 18), kind=ReportKind.ASPIRATION, category="PERHUBUNGAN",
                   district="Balaraja", unit=B, status=S.COMPLETED, response=H(2),
                   completion=H(30), rating=3, anonymous=True)  # May (WIB); 2 / 30
    r[4] = _report(utc(2026, 5, 5), kind=ReportKind.INFORMATION_REQUEST,
                   category="PERHUBUNGAN", district="Balaraja", channel=Channel.WHATSAPP,
                   unit=B, status=S.DISPOSITIONED, due=FAR)
    r[5] = _report(utc(2026, 5, 6), category="LINGKUNGAN", status=S.SUBMITTED)
    r[6] = _report(utc(2026, 5, 7), category="ADMINDUK", district="Cikupa", unit=A,
                   status=S.ARCHIVED)
    r[7] = _report(utc(2026, 6, 1, 2), category="ADMINDUK", district="Balaraja", unit=A,
                   status=S.ANSWERED, response=H(50))  # 48
    r[8] = _report(utc(2026, 6, 3), kind=ReportKind.ASPIRATION, category="LINGKUNGAN",
                   district="Cikupa", channel=Channel.SMS, unit=A, status=S.COMPLETED,
                   response=H(1), completion=H(100), rating=4)  # 1 / 96
    r[9] = _report(utc(2026, 6, 10), district="Cikupa", unit=B, status=S.VERIFIED,
                   due=NOW - H(1))  # red
    r[10] = _report(utc(2026, 3, 15), category="ADMINDUK", district="Cikupa", unit=A,
                    status=S.COMPLETED, response=H(3), completion=H(24), rating=1)
    r[11] = _report(utc(2025, 1, 10), category="ADMINDUK", district="Cikupa", unit=A,
                    due=NOW - H(72))  # red, filed long before the period
    r[12] = _report(utc(2026, 6, 12), category="PERHUBUNGAN", district="Cikupa", unit=B,
                    status=S.COMPLETED, response=H(20), completion=H(47, 59))  # 20 / 47
    r[13] = _report(utc(2026, 5, 20), category="LINGKUNGAN", channel=Channel.PHONE,
                    institution="KOTA-UJI", status=S.VERIFIED, response=H(4))  # 4
    # At Kota Uji, in a kecamatan of Kabupaten Tangerang (a kecamatan of another region).
    r[14] = _report(utc(2026, 5, 21), district="Cikupa", institution="KOTA-UJI",
                    status=S.SUBMITTED)
    db.session.commit()
    return r


def by_label(lines):
    return {line.label: line for line in lines}


def check_tangerang(stats):
    total = stats.total
    c = total.counts
    assert (c.received, c.handled, c.followed_up, c.completed) == (10, 8, 6, 4)
    assert c.follow_up_rate == 75.0
    assert total.median_response_hours == 7.5  # 1 2 5 | 10 20 48
    assert total.median_completion_hours == 59.5  # 30 47 | 72 96
    assert (c.rating_count, c.average_rating) == (3, 4.0)
    assert total.red_now == 3
    assert {k.label: k.counts.received for k in stats.by_kind} == {
        "Complaint": 7, "Aspiration": 2, "Information request": 1}
    assert [(line.label, line.counts.received) for line in stats.by_category] == [
        ("Population administration (ID card, family card)", 4),
        ("Transport (truck hours, public transport)", 3),
        ("Environment (hazardous waste, rubbish)", 2), ("No category", 1)]
    assert stats.places == DISTRICTS  # Tangerang's own kecamatan, one by one
    assert {d.label: d.counts.received for d in stats.by_place} == {
        "Cikupa": 6, "Balaraja": 3, "No kecamatan given": 1}
    assert {ch.label: ch.counts.received for ch in stats.by_channel} == {
        "Website": 7, "SMS": 2, "WhatsApp": 1}
    units = by_label(stats.by_unit)
    disdukcapil = units["Dinas Kependudukan dan Pencatatan Sipil"]
    assert (disdukcapil.counts.received, disdukcapil.counts.handled,
            disdukcapil.counts.followed_up, disdukcapil.counts.completed,
            disdukcapil.red_now) == (5, 4, 4, 2, 2)
    assert disdukcapil.counts.follow_up_rate == 100.0
    assert (disdukcapil.median_response_hours, disdukcapil.median_completion_hours) == (7.5, 84.0)
    assert disdukcapil.counts.average_rating == 4.5
    dishub = units["Dinas Perhubungan"]
    assert (dishub.counts.received, dishub.counts.handled, dishub.counts.followed_up,
            dishub.counts.completed, dishub.red_now) == (4, 4, 2, 2, 1)
    assert (dishub.median_response_hours, dishub.median_completion_hours) == (11.0, 38.5)
    assert dishub.counts.average_rating == 3.0
    nowhere = units["Not yet at a unit"]
    assert (nowhere.counts.received, nowhere.counts.handled, nowhere.counts.follow_up_rate) \
        == (1, 0, None)
    assert [(m.label, m.counts.received, m.counts.completed, m.counts.follow_up_rate)
            for m in stats.by_month] == [("2026-04", 2, 1, 100.0), ("2026-05", 4, 1, 50.0),
                                         ("2026-06", 4, 2, 75.0)]
    top = [line.label.split(" (")[0] for line in stats.top_categories]
    assert top == ["Population administration", "Transport", "Environment"]
    assert [[stats.top_by_month[m][line.key] for line in stats.top_categories]
            for m in PERIOD.months] == [[2, 0, 0], [1, 2, 1], [1, 1, 1]]


@pytest.fixture
def english(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def test_the_figures_match_the_hand_count_live_and_from_the_summary(world, english):
    tangerang = node("KAB-TANGERANG")
    check_tangerang(compute_statistics(tangerang, PERIOD, now=NOW, locale="en", source=LIVE))
    assert rebuild_summary(NOW) == 5  # 2025-01, 2026-03, 2026-04, 2026-05, 2026-06
    db.session.commit()
    check_tangerang(compute_statistics(tangerang, PERIOD, now=NOW, locale="en", source=SUMMARY))
    # Live and summary agree on every figure and table, for every scope and period.
    for scope in (None, tangerang, node("KOTA-UJI")):
        for period in (PERIOD, Period(date(2025, 1, 1), date(2026, 6, 1)),
                       Period(date(2026, 5, 1), date(2026, 5, 1))):
            live = compute_statistics(scope, period, now=NOW, locale="en", source=LIVE)
            kept = compute_statistics(scope, period, now=NOW, locale="en", source=SUMMARY)
            for staff in (False, True):
                assert {n: (t.header, t.rows) for n, t in tables(live, staff=staff).items()} \
                    == {n: (t.header, t.rows) for n, t in tables(kept, staff=staff).items()}


def test_national_figures(world, english):
    stats = compute_statistics(None, PERIOD, now=NOW, locale="en", source=LIVE)
    c = stats.total.counts
    assert (c.received, c.handled, c.followed_up) == (12, 9, 7)
    assert c.follow_up_rate == 77.8
    assert stats.total.median_response_hours == 5.0  # 1 2 4 5 10 20 48
    assert {line.label: line.counts.received for line in stats.by_unit} == {
        "Pemerintah Kabupaten Tangerang": 10, "Pemerintah Kota Uji": 2}
    assert stats.by_unit[0].red_now == 3
    # Nationally the kecamatan are counted per region (the regency or city they lie in).
    assert stats.places == REGIONS
    assert [(line.label, line.counts.received) for line in stats.by_place] == [
        ("Pemerintah Kabupaten Tangerang", 10), ("No kecamatan given", 2)]
    assert tables(stats, staff=False)["district"].header == ["Regency or city", "Reports"]


def test_an_institution_with_kecamatan_of_its_own_sees_the_others_as_one_line(world, english):
    rebuild_summary(NOW)
    db.session.commit()
    for source in (LIVE, SUMMARY):
        stats = compute_statistics(node("KOTA-UJI"), PERIOD, now=NOW, locale="en",
                                   source=source)
        assert stats.places == DISTRICTS
        assert [(line.label, line.counts.received) for line in stats.by_place] == [
            ("Kecamatan of other regions", 1), ("No kecamatan given", 1)]
        assert tables(stats, staff=False)["district"].header == ["Kecamatan", "Reports"]


def test_the_summary_keeps_a_row_per_month_and_value_at_the_coarse_grains(world):
    """The national page reads one row per month and value, not one per unit as well."""
    rebuild_summary(NOW)
    db.session.commit()
    national = select(func.count(MonthSummary.id)).where(
        MonthSummary.grain == Grain.NATIONAL, MonthSummary.dimension == Dimension.KIND,
        MonthSummary.month == date(2026, 5, 1))
    assert db.session.scalar(national) == 3  # complaint, aspiration, information request
    assert db.session.scalar(select(func.count(MonthSummary.id)).where(
        MonthSummary.grain == Grain.UNIT, MonthSummary.dimension != Dimension.ALL)) == 0
    # Kecamatan per institution: its own only (Kota Uji's report in Cikupa is not one).
    own = db.session.execute(select(MonthSummary.institution_id, MonthSummary.value).where(
        MonthSummary.dimension == Dimension.DISTRICT)).all()
    assert {institution for institution, _ in own} == {node("KAB-TANGERANG").id}


def test_the_refresh_recomputes_the_changed_months_and_is_idempotent(world, english):
    tangerang = node("KAB-TANGERANG")
    rebuild_summary(NOW)
    db.session.commit()
    rows = db.session.scalar(select(func.count(MonthSummary.id)))
    assert refresh_summary(NOW + H(0, 1)) >= 1
    db.session.commit()
    assert db.session.scalar(select(func.count(MonthSummary.id))) == rows
    report = db.session.get(Report, world[4].id)
    report.first_response_at = report.created_at + H(6)  # May: now followed up
    db.session.add(ReportRating(report=db.session.get(Report, world[12].id), score=2,
                                created_at=NOW + H(0, 2)))
    db.session.commit()
    refresh_summary(NOW + H(0, 3))
    db.session.commit()
    kept = compute_statistics(tangerang, PERIOD, now=NOW, locale="en", source=SUMMARY)
    live = compute_statistics(tangerang, PERIOD, now=NOW, locale="en", source=LIVE)
    assert kept.total.counts.followed_up == live.total.counts.followed_up == 7
    assert kept.total.counts.rating_count == live.total.counts.rating_count == 4
    assert kept.total.median_response_hours == live.total.median_response_hours == 6.0
    assert tables(kept, staff=True)["unit"].rows == tables(live, staff=True)["unit"].rows


def _histograms_read(compute) -> tuple:
    """(the statistics compute() returns, whether it read the summary's histograms)."""
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        stats = compute()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return stats, any("stat_month_duration" in statement for statement in seen)


def test_the_national_figures_of_the_default_period_are_kept_by_each_refresh(world, english):
    """What the public and the national admin's pages open with (the whole portal, the last
    12 months) is kept on the state row by every refresh: read without merging the
    institutions' histograms, and equal to the live figures, also after a change."""
    tangerang = node("KAB-TANGERANG")
    default = default_period(NOW)
    assert default == Period(date(2025, 7, 1), date(2026, 6, 1))
    rebuild_summary(NOW)
    db.session.commit()
    state = db.session.get(StatisticsState, 1)
    assert (state.kept_first, state.kept_last) == (default.first, default.last)

    def agree(expected_received):
        live = compute_statistics(None, default, now=NOW, locale="en", source=LIVE)
        kept, histograms = _histograms_read(lambda: compute_statistics(
            None, default, now=NOW, locale="en"))
        assert not histograms  # the kept figures answered
        assert kept.total.counts.received == live.total.counts.received == expected_received
        for staff in (False, True):
            assert {n: (t.header, t.rows) for n, t in tables(live, staff=staff).items()} \
                == {n: (t.header, t.rows) for n, t in tables(kept, staff=staff).items()}
        assert [(m.label, m.counts.received) for m in kept.by_month] == \
            [(m.label, m.counts.received) for m in live.by_month]
        assert kept.top_by_month == live.top_by_month
        assert (kept.total.median_response_hours, kept.total.median_completion_hours) == \
            (live.total.median_response_hours, live.total.median_completion_hours)
        # The public page's call (no medians per institution) from the same kept figures.
        public = compute_statistics(None, default, now=NOW, locale="en", unit_medians=False)
        assert public.total.median_response_hours == live.total.median_response_hours
        assert all(line.median_response_hours is None for line in public.by_unit)

    agree(13)  # r11 (January 2025) lies before the default period
    # A change, then a refresh: the kept figures follow (a new report at Kota Uji, answered
    # in 30 hours, moves Kota Uji's median and the overall one).
    _report(utc(2026, 6, 14), category="LINGKUNGAN", institution="KOTA-UJI",
            status=S.VERIFIED, response=H(30))
    db.session.commit()
    refresh_summary(NOW + H(0, 5))
    db.session.commit()
    agree(14)
    assert by_label(compute_statistics(None, default, now=NOW, locale="en").by_unit)[
        "Pemerintah Kota Uji"].median_response_hours == 17.0  # 4 and 30
    # Figures kept by another version of the code (another layout) are not read: the summary
    # answers, with the same figures.
    state = db.session.get(StatisticsState, 1)
    state.kept_figures = '{"format": 0, "counts": {}}'
    db.session.commit()
    again, histograms = _histograms_read(lambda: compute_statistics(
        None, default, now=NOW, locale="en"))
    assert histograms and again.total.counts.received == 14
    # Any other period, and any institution, is read from the summary as before.
    _, histograms = _histograms_read(lambda: compute_statistics(None, PERIOD, now=NOW))
    assert histograms
    _, histograms = _histograms_read(lambda: compute_statistics(tangerang, default, now=NOW))
    assert histograms


def test_the_sweep_command_refreshes_and_the_rebuild_command(world, runner):
    result = runner.invoke(args=["statistics", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "month(s) rebuilt" in result.output
    assert db.session.scalar(select(func.count(MonthSummary.id))) > 0
    result = runner.invoke(args=["statistics", "refresh"])
    assert result.exit_code == 0 and "refreshed" in result.output


@pytest.mark.parametrize("pairs,expected", [
    ([], None), ([(3, 1)], 3.0), ([(1, 1), (5, 1)], 3.0), ([(1, 2), (9, 1)], 1.0),
    ([(2, 2), (7, 2)], 4.5), ([(4, 0), (8, 3)], 8.0)])
def test_median_of_a_histogram(pairs, expected):
    assert median_of_histogram(pairs) == expected


@pytest.mark.parametrize("start,end", [("2026-13", ""), ("26-01", ""), ("2026-05", "2026-02"),
                                       ("2030-01", ""), ("2001-01", "2026-01"), ("x", "y")])
def test_bad_periods_are_refused(start, end):
    with pytest.raises(DomainError):
        parse_period(start, end, now=NOW)


def test_periods():
    assert parse_period("2026-04", "2026-06", now=NOW) == PERIOD
    assert parse_period("2026-04", "2027-01", now=NOW) == PERIOD  # the future is cut off
    assert parse_period("", "", now=NOW) == Period(date(2025, 7, 1), date(2026, 6, 1))


# ----------------------------------------------------------------------------- pages
ROW = re.compile(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', re.S)
CELL = re.compile(r"<td>(.*?)</td>", re.S)


def html_table(text: str, name: str) -> list[list[str]]:
    start = text.index(f'id="table-{name}"')
    body = text[start:text.index("</table>", start)]
    return [[unescape(head)] + [unescape(c) for c in CELL.findall(cells)]
            for head, cells in ROW.findall(body)]


def english_client(app):
    client = app.test_client()
    client.get("/bahasa/en")
    return client


QUERY = "institution=KAB-TANGERANG&start=2026-04&end=2026-06"


def test_the_public_page_and_its_csv_hold_the_figures(world, app):
    client = english_client(app)
    page = client.get(f"/statistik?{QUERY}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count("<svg") == 7 and text.count("<title id=") == 7
    assert html_table(text, "kind") == [["Complaint", "7"], ["Aspiration", "2"],
                                        ["Information request", "1"]]
    assert html_table(text, "month") == [["2026-04", "2", "1", "100.0"],
                                         ["2026-05", "4", "1", "50.0"],
                                         ["2026-06", "4", "2", "75.0"]]
    units = {row[0]: row[1:] for row in html_table(text, "unit")}
    # received, handled, followed up, rate, completed, red now (red now: whenever filed)
    assert units["Dinas Kependudukan dan Pencatatan Sipil"] == ["5", "4", "4", "100.0", "2", "2"]
    assert units["Dinas Perhubungan"] == ["4", "4", "2", "50.0", "2", "1"]
    assert units["Not yet at a unit"] == ["1", "0", "0", "—", "0", "0"]
    summary = dict((row[0], row[1]) for row in html_table(text, "summary"))
    assert summary["Follow-up rate (percent)"] == "75.0"
    assert summary["Median hours to first response"] == "7.5"
    assert summary["Median hours to completion"] == "59.5"
    assert summary["Average satisfaction rating (1 to 5)"] == "4.0"
    assert summary["Red reports now (past their deadline)"] == "3"
    assert html_table(text, "top_categories")[1][1:] == ["1", "2", "1"]
    for name in ("summary", "kind", "category", "unit", "district", "channel", "month",
                 "top_categories"):
        response = client.get(f"/statistik?{QUERY}&format=csv&table={name}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert [[cell or "—" for cell in row] for row in rows[1:]] == html_table(text, name)
        assert SECRET_TITLE not in response.get_data(as_text=True)
    # The staff columns are not on the public page.
    assert "Median hours to completion</th>" not in text.split('id="table-unit"')[1][:2000]


def test_nothing_of_a_report_is_on_the_public_page(world, app):
    client = app.test_client()
    pages = [client.get(f"/statistik?{QUERY}"), client.get("/statistik"),
             client.get("/statistik?institution=national&start=2025-01&end=2026-06")]
    pages += [client.get(f"/statistik?{QUERY}&format=csv&table={name}")
              for name in ("summary", "kind", "category", "unit", "district", "channel",
                           "month", "top_categories")]
    for response in pages:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for secret in (SECRET_TITLE, SECRET_NAME, "siti.statistika", "STAT-", "Isi laporan"):
            assert secret not in text


@pytest.mark.parametrize("query,message", [
    ("start=2026-13", "Give the month as year-month"),
    ("start=2026-06&end=2026-01", "The first month comes after the last month"),
    ("start=2099-01&end=2099-03", "That period has not begun yet"),
    ("start=1999-01&end=2026-01", "Give the month as year-month"),
    ("start=2015-01&end=2026-01", "Choose at most 60 months"),
    ("institution=NOPE", "No institution has the code NOPE"),
    ("institution=<script>", "No institution has the code &lt;script&gt;"),
])
def test_bad_parameters_give_a_message(world, app, query, message):
    client = english_client(app)
    response = client.get(f"/statistik?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    csv_response = client.get(f"/statistik?{query}&format=csv&table=kind")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/html"
    assert client.get("/statistik?format=csv&table=nope").status_code == 404


def test_formula_like_names_are_inert_in_the_csv(world, app):
    node(A).name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    response = app.test_client().get(f"/statistik?{QUERY}&format=csv&table=unit")
    assert "'=HYPERLINK" in response.get_data(as_text=True)


def sign_in(app, email: str):
    client = english_client(app)
    response = client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                                "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def test_the_staff_page_has_the_unit_figures_and_audits_downloads(world, app):
    client = sign_in(app, "inspektorat@tangerangkab.example.id")
    page = client.get("/staf/statistik?start=2026-04&end=2026-06")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    units = {row[0]: row[1:] for row in html_table(text, "unit")}
    # ... then medians to first response and to completion, average rating, ratings given
    assert units["Dinas Kependudukan dan Pencatatan Sipil"] == [
        "5", "4", "4", "100.0", "2", "2", "7.5", "84.0", "4.5", "2"]
    assert units["Dinas Perhubungan"] == ["4", "4", "2", "50.0", "2", "1", "11.0", "38.5",
                                          "3.0", "1"]
    assert SECRET_TITLE not in text and SECRET_NAME not in text
    assert 'value="national"' not in text  # a supervisor has no whole-portal view
    assert client.get("/staf/statistik?institution=national").status_code == 403
    assert client.get("/staf/statistik?institution=KOTA-UJI").status_code == 403
    response = client.get("/staf/statistik?start=2026-04&end=2026-06&format=csv&table=unit")
    assert response.status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.EXPORT))
    assert entry.institution_id == node("KAB-TANGERANG").id
    assert entry.detail == "statistics unit KAB-TANGERANG 2026-04..2026-06 (csv)"
    problem = client.get("/staf/statistik?start=2026-99&institution=GONE")
    assert problem.status_code == 200
    assert "Give the month as year-month" in problem.get_data(as_text=True)
    assert "No institution has the code GONE" in problem.get_data(as_text=True)


def test_the_national_admin_sees_the_whole_portal(world, app):
    client = sign_in(app, "admin.nasional@lapor.example.id")
    page = client.get("/staf/statistik?start=2026-04&end=2026-06")
    text = page.get_data(as_text=True)
    assert {row[0]: row[1] for row in html_table(text, "unit")} == {
        "Pemerintah Kabupaten Tangerang": "10", "Pemerintah Kota Uji": "2"}
    assert client.get("/staf/statistik?institution=KOTA-UJI").status_code == 200


def test_a_long_list_is_charted_as_its_top_bars_and_one_for_the_rest(app):
    from portal.citizen.statistics import CHART_BARS, _bars
    from portal.domain.statistics import Line

    lines = []
    for index in range(CHART_BARS + 5):
        line = Line(key=index, label=f"Instansi {index:02d}")
        line.counts.received = index + 1
        lines.append(line)
    with app.test_request_context():
        labels, values = _bars(lines)
    assert len(labels) == len(values) == CHART_BARS
    assert labels[0] == f"Instansi {CHART_BARS + 4:02d}" and values[0] == CHART_BARS + 5
    assert labels[-1] == "6 lainnya" and values[-1] == sum(range(1, 7))
    assert sum(values) == sum(line.counts.received for line in lines)
    with app.test_request_context():
        assert _bars(lines[:CHART_BARS]) == ([line.label for line in lines[:CHART_BARS]],
                                             [line.counts.received for line in lines[:CHART_BARS]])


def test_the_kept_national_figures_hold_nothing_of_a_report(world, app):
    """Privacy on the kept figures (the state row's JSON) and on the two pages that open from
    them: counts, medians and ids only."""
    from portal.models.types import utcnow

    rebuild_summary(utcnow())  # the pages' default period is that of the real clock
    db.session.commit()
    kept = db.session.get(StatisticsState, 1).kept_figures
    assert kept and '"medians"' in kept
    public = app.test_client()
    national = sign_in(app, "admin.nasional@lapor.example.id")
    for client, path in ((public, "/statistik"), (national, "/staf/statistik")):
        response, histograms = _histograms_read(lambda: client.get(path))
        assert response.status_code == 200 and not histograms  # read from the kept figures
        for text in (kept, response.get_data(as_text=True)):
            for secret in (SECRET_TITLE, SECRET_NAME, "siti.statistika", "STAT-",
                           "Isi laporan"):
                assert secret not in text
