"""No N+1: each page runs as many SQL statements with 30 reports (or 30 history entries) as
with 3. The pages: the staff inbox (a unit's operator, the institution admin), a staff report
page, the reporter's tracked report page, the weekly report, the public feed and a public report
page, the statistics pages (public and staff). Counting statements catches a query per row,
which the benchmarks (benchmarks/pages.py) would show only at scale.

(The public feed's own file also checks its list with sort and search; Open311 is left to its
own tests.)"""
from datetime import timedelta

from sqlalchemy import event, select

from portal.demo import DEMO_PASSWORD
from portal.domain import deadlines
from portal.extensions import db
from portal.models import EventKind, Report, ReportEvent, ReportStatus
from tests.helpers import csrf_token, user
from tests.public_feed_helpers import NOW, filed

UNIT = "TNG-DISDUKCAPIL"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
ADMIN = "admin@tangerangkab.example.id"


def statements(client, path: str, *, status: int = 200) -> int:
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == status, (path, response.status_code)
    return len(seen)


def sign_in(app, email: str):
    client = app.test_client()
    response = client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                                "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def add_reports(count: int, start: int) -> list[Report]:
    """``count`` reports at the unit, each in another state, anonymous or not, with a
    follow-up by the operator and an answer: everything the pages show per row."""
    operator = user(OPERATOR)
    states = [ReportStatus.DISPOSITIONED, ReportStatus.IN_PROGRESS, ReportStatus.ANSWERED,
              ReportStatus.COMPLETED]
    made = []
    for i in range(start, start + count):
        at = NOW - timedelta(days=i % 20, hours=i)
        report = filed(f"Blangko KTP habis nomor {i}", created=at, category="ADMINDUK",
                       unit_code=UNIT, status=states[i % len(states)], anonymous=bool(i % 3),
                       email=f"warga{i}@example.id", name=f"Warga Nomor {i}")
        report.assigned_operator = operator
        report.first_response_at = at + timedelta(hours=5)
        if report.status in (ReportStatus.ANSWERED, ReportStatus.COMPLETED):
            report.answered_at = at + timedelta(days=1)
        if report.status is ReportStatus.COMPLETED:
            report.completed_at = at + timedelta(days=2)
        deadlines.stop_clock(report)
        report.events.append(ReportEvent(kind=EventKind.FOLLOW_UP, actor=operator,
                                         message=f"Sedang ditangani {i}",
                                         status_after=ReportStatus.IN_PROGRESS,
                                         created_at=at + timedelta(hours=5)))
        made.append(report)
    db.session.commit()
    return made


def add_history(report: Report, count: int) -> None:
    """``count`` more entries in the report's history, by several staff members."""
    actors = [user(OPERATOR), user(ADMIN),
              user("penghubung.disdukcapil@tangerangkab.example.id")]
    for i in range(count):
        report.events.append(ReportEvent(
            kind=EventKind.NOTE if i % 2 else EventKind.FOLLOW_UP, actor=actors[i % 3],
            message=f"Catatan {i}", visible_to_reporter=not i % 2,
            status_after=report.status, target_institution=report.current_unit,
            created_at=NOW - timedelta(minutes=count - i)))
    db.session.commit()


def track(client, report: Report, code: str) -> str:
    response = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                           "code": code})
    assert response.status_code == 302
    return f"/lacak/{report.public_number}"


def test_pages_run_the_same_statements_for_3_and_30_reports(demo, app):
    operator, admin, public = sign_in(app, OPERATOR), sign_in(app, ADMIN), app.test_client()
    week = NOW.strftime("%G-W%V")  # the 3 reports fall in it too
    pages = [
        (operator, "/staf/"), (admin, "/staf/"), (admin, "/staf/?status=in_progress"),
        (admin, f"/staf/laporan-mingguan?week={week}"),
        (public, "/laporan"), (public, "/laporan?q=blangko"),
        (public, "/statistik"), (admin, "/staf/statistik"),
    ]
    add_reports(3, 0)
    few = [statements(client, path) for client, path in pages]
    add_reports(27, 3)
    many = [statements(client, path) for client, path in pages]
    # A search on PostgreSQL may ask twice (the recent window, then the whole index): the
    # feed's own test allows it; here the counts with more reports may only be smaller.
    for (client, path), a, b in zip(pages, few, many):
        if "q=" in path:
            assert b <= a, path
        else:
            assert a == b, (path, a, b)


def test_report_pages_run_the_same_statements_for_3_and_30_history_entries(demo, app):
    from portal.domain.tracking import generate_tracking_code, hash_tracking_code

    report = add_reports(1, 0)[0]
    code = generate_tracking_code()
    report.tracking_code_hash = hash_tracking_code(code)
    report.status = ReportStatus.IN_PROGRESS
    db.session.commit()
    admin, operator, reporter = sign_in(app, ADMIN), sign_in(app, OPERATOR), app.test_client()
    tracked = track(reporter, report, code)
    pages = [(admin, f"/staf/laporan/{report.public_number}"),
             (operator, f"/staf/laporan/{report.public_number}"),
             (reporter, tracked), (app.test_client(), f"/laporan/{report.public_number}")]
    add_history(report, 2)
    few = [statements(client, path) for client, path in pages]
    add_history(report, 28)
    assert db.session.scalar(select(Report).where(Report.id == report.id)).events
    many = [statements(client, path) for client, path in pages]
    assert few == many
