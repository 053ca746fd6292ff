"""The supervisor's dashboard (/staf/pengawasan): the red reports of the supervised subtree
with how long they are overdue, and per unit the open, yellow and red counts, on a hand-built
set of reports. Monday 23 November 2026, 10:00 in Jakarta (03:00 UTC)."""
import os
from datetime import date, datetime, timedelta, timezone
from html import unescape

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select

from portal.demo import DEMO_PASSWORD, REGENCY
from portal.domain.supervision import supervision_dashboard
from portal.extensions import db
from portal.models import (
    DeadlineKind,
    Institution,
    InstitutionKind,
    Membership,
    Report,
    ReporterIdentity,
    ReportKind,
    ReportStatus,
    Role,
    User,
)
from tests.helpers import csrf_token, node

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
NATIONAL = "admin.nasional@lapor.example.id"
OTHER_SUPERVISOR = "inspektorat@kotabekasi.example.id"
REPORTER_NAME = "Siti Rahayu Cikupa"


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=timezone.utc)




class Numbers:
    n = 0


def make(institution: Institution, unit: Institution | None, due_at: datetime | None, *,
         status=ReportStatus.DISPOSITIONED, paused=False, title="Laporan") -> Report:
    Numbers.n += 1
    report = Report(public_number=f"LPR-S-{Numbers.n:05d}", tracking_code_hash=os.urandom(32),
                    kind=ReportKind.COMPLAINT, title=title, body="Isi.", status=status,
                    current_institution=institution, current_unit=unit)
    if due_at is not None or paused:
        report.deadline_kind = DeadlineKind.FOLLOW_UP
        report.clock_started_at = NOW - timedelta(days=14)
        report.clock_days = 5
        report.due_at = None if paused else due_at
        report.clock_paused_at = NOW - timedelta(days=1) if paused else None
    db.session.add(report)
    db.session.flush()
    return report


@pytest.fixture
def world(demo):
    regency = node(REGENCY[0])
    dukcapil, dishub = node("TNG-DISDUKCAPIL"), node("TNG-DISHUB")
    national = db.session.scalar(select(Institution).where(
        Institution.kind == InstitutionKind.NATIONAL))
    bekasi = Institution(code="KOTA-BEKASI", name="Pemerintah Kota Bekasi",
                         kind=InstitutionKind.INSTITUTION, parent=national)
    bekasi_unit = Institution(code="BKS-DISHUB", name="Dishub Kota Bekasi",
                              kind=InstitutionKind.UNIT, parent=bekasi)
    other = User(email=OTHER_SUPERVISOR, name="Inspektorat Bekasi", is_staff=True)
    other.set_password(DEMO_PASSWORD)
    db.session.add_all([bekasi, bekasi_unit, other])
    db.session.flush()
    db.session.add(Membership(user=other, institution=bekasi, role=Role.SUPERVISOR))

    reports = {
        "red_friday": make(regency, dukcapil, end_of(date(2026, 11, 20)), title="Lampu mati"),
        "red_wednesday": make(regency, dishub, end_of(date(2026, 11, 18)), title="Truk siang"),
        "red_dishub": make(regency, dishub, end_of(date(2026, 11, 20)), title="Angkot ngetem"),
        "yellow_today": make(regency, dukcapil, end_of(date(2026, 11, 23))),
        "yellow_tomorrow": make(regency, None, end_of(date(2026, 11, 24))),
        "green": make(regency, dukcapil, end_of(date(2026, 11, 27))),
        "paused": make(regency, dukcapil, None, paused=True),
        "answered": make(regency, dishub, None, status=ReportStatus.ANSWERED),
        "closed": make(regency, dukcapil, None, status=ReportStatus.COMPLETED),
        "bekasi_red": make(bekasi, bekasi_unit, end_of(date(2026, 11, 19)), title="Bekasi"),
    }
    db.session.add(ReporterIdentity(report=reports["red_friday"], name=REPORTER_NAME,
                                    email="siti@example.id"))
    db.session.commit()
    return reports


def staff(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_red_reports_and_the_per_unit_figures(world):
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        board = supervision_dashboard(staff(SUPERVISOR), now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    # Longest overdue first; Bekasi is not in Tangerang's subtree.
    assert [r.public_number for r in board.red] == [
        world["red_wednesday"].public_number, world["red_friday"].public_number,
        world["red_dishub"].public_number]
    wednesday, friday = board.red[0], board.red[1]
    assert (wednesday.overdue_working_days, wednesday.overdue_hours) == (3, 106)  # Thu Fri Mon
    assert (friday.overdue_working_days, friday.overdue_hours) == (1, 58)
    assert friday.unit == "Dinas Kependudukan dan Pencatatan Sipil"

    figures = {u.unit: (u.open, u.yellow, u.red) for u in board.units}
    assert figures == {
        "Dinas Kependudukan dan Pencatatan Sipil": (4, 1, 1),  # red, yellow, green, paused
        "Dinas Perhubungan": (3, 0, 2),  # two red, one answered
        None: (1, 1, 0),  # at the institution, not yet with a unit
    }
    assert board.totals == (8, 2, 3)
    # Two queries for the figures (plus the supervised subtree and the days off).
    report_queries = [s for s in statements if "FROM report" in s]
    assert len(report_queries) == 2


def test_the_national_admin_sees_every_institution(world):
    board = supervision_dashboard(staff(NATIONAL), now=NOW)
    assert world["bekasi_red"].public_number in {r.public_number for r in board.red}
    assert board.totals[2] == 4
    bekasi = supervision_dashboard(staff(OTHER_SUPERVISOR), now=NOW)
    assert [r.public_number for r in bekasi.red] == [world["bekasi_red"].public_number]


def sign_in(client, email: str):
    token = csrf_token(client, "/staf/masuk")
    response = client.post("/staf/masuk", data={"csrf_token": token, "email": email,
                                                "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_the_page_lists_red_reports_with_links_and_no_identity(world, client):
    with freeze_time(NOW):
        sign_in(client, SUPERVISOR)
        page = client.get("/staf/pengawasan")
    assert page.status_code == 200
    text = unescape(page.get_data(as_text=True))
    for key in ("red_friday", "red_wednesday", "red_dishub"):
        number = world[key].public_number
        assert f'href="/staf/laporan/{number}"' in text
    assert world["bekasi_red"].public_number not in text
    assert world["green"].public_number not in text
    assert "Lampu mati" in text and "Truk siang" in text
    assert REPORTER_NAME not in text and "siti@example.id" not in text
    assert 'aria-current="page"' in text  # the navigation marks the dashboard


@pytest.mark.parametrize("email, status", [(LIAISON, 403), (ADMIN, 200), (NATIONAL, 200)])
def test_who_may_open_the_dashboard(world, client, email, status):
    sign_in(client, email)
    assert client.get("/staf/pengawasan").status_code == status


def test_the_navigation_shows_the_dashboard_only_to_supervising_roles(world, client):
    sign_in(client, LIAISON)
    assert "/staf/pengawasan" not in client.get("/staf/").get_data(as_text=True)
    client.post("/staf/keluar", data={"csrf_token": csrf_token(client, "/staf/")})
    sign_in(client, SUPERVISOR)
    assert "/staf/pengawasan" in client.get("/staf/").get_data(as_text=True)


def test_the_red_event_is_in_the_staff_history(world, client):
    from portal.domain.sweep import run_sweep

    run_sweep(NOW)
    db.session.commit()
    with freeze_time(NOW):
        sign_in(client, SUPERVISOR)
        page = client.get(f"/staf/laporan/{world['red_friday'].public_number}")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "Melewati batas waktu: dalam pengawasan" in text
