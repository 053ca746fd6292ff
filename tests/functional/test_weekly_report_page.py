"""The weekly report page: who may read it, the week parameter, the downloads (with their audit
row), the chart, and the offline notice on the admin's inbox."""
import csv
import io
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.domain.weekly_report import last_week
from portal.extensions import db
from portal.models import AuditAction, AuditEntry
from portal.models.types import utcnow
from tests.functional.test_staff_workspace import staff_client
from tests.unit.test_weekly_report import build_week, node

ADMIN = "admin@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
NATIONAL = "admin.nasional@lapor.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
PAGE = "/staf/laporan-mingguan"


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("email", [ADMIN, SUPERVISOR, NATIONAL])
def test_admins_and_supervisors_read_the_week(demo, email):
    build_week()
    client = staff_client(demo, email)
    response = client.get(f"{PAGE}?institution=KAB-TANGERANG&week=2026-W47")
    assert response.status_code == 200
    page = text(response)
    assert "Pemerintah Kabupaten Tangerang" in page and "2026-W47" in page
    # The chart is inline SVG with a title and a description, and the numbers are in a table.
    assert '<svg' in page and 'role="img"' in page and "<title id=\"weekly-chart-title\">" in page
    assert "<desc" in page and "<script" not in page and "style=" not in page
    assert "<th scope=\"row\">Dinas Kependudukan dan Pencatatan Sipil</th>" in page
    assert "131.75" in page and "Follow-up rate" in page
    assert "Units offline now" in page


@pytest.mark.parametrize("email", [LIAISON, OPERATOR])
def test_unit_staff_may_not(demo, email):
    client = staff_client(demo, email)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}?format=csv").status_code == 403


def test_another_institution_is_refused(demo):
    build_week()  # adds KAB-LAIN
    client = staff_client(demo, ADMIN)
    assert client.get(f"{PAGE}?institution=KAB-LAIN").status_code == 403
    assert client.get(f"{PAGE}?institution=NOPE").status_code == 404


@pytest.mark.parametrize("week", ["47", "2026-W99", "2999-W01", "2026-W47'--"])
def test_a_bad_or_future_week_shows_last_week_with_a_message(demo, week):
    client = staff_client(demo, ADMIN)
    response = client.get(PAGE, query_string={"week": week})
    assert response.status_code == 200
    page = text(response)
    assert "Showing last week instead." in page
    assert f'value="{last_week(utcnow()).code}"' in page


def test_default_is_last_week(demo):
    client = staff_client(demo, ADMIN)
    page = text(client.get(PAGE))
    assert f'value="{last_week(utcnow()).code}"' in page and "instead" not in page


def test_downloads_are_files_and_audited(demo):
    build_week()
    client = staff_client(demo, SUPERVISOR)
    response = client.get(f"{PAGE}?week=2026-W47&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "laporan-mingguan-KAB-TANGERANG-2026-W47.csv" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[-1][1:3] == ["6", "2"]
    response = client.get(f"{PAGE}?week=2026-W47&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][1] == 6 and len(rows) == 12
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.EXPORT).order_by(AuditEntry.id)).all()
    assert [e.institution_id for e in entries] == [node("KAB-TANGERANG").id] * 2
    assert ["csv" in entries[0].detail, "xlsx" in entries[1].detail] == [True, True]
    # Reading the page itself is not an export.
    client.get(f"{PAGE}?week=2026-W47")
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.id > entries[1].id)) is None


def test_the_admins_inbox_lists_offline_units_with_a_filter_link(demo):
    build_week()
    unit = node("TNG-DISHUB")
    admin_page = text(staff_client(demo, ADMIN).get("/staf/"))
    assert "Units offline" in admin_page
    assert f'href="/staf/?unit={unit.id}"' in admin_page
    supervisor_page = text(staff_client(demo, SUPERVISOR).get("/staf/"))
    assert "Units offline" not in supervisor_page
