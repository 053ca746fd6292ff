"""The audit log records every identity view, role change, export and failed sign-in, and the
supervisors (inspektorat) of the institution read them on /staf/audit; officers may not.
Each kind also has its own test next to its feature; this file checks them end to end, as the
supervisor sees them."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditAction, AuditEntry
from tests.functional.test_citizen_accounts import sign_in as citizen_sign_in
from tests.functional.test_staff_workspace import (
    ADMIN,
    LIAISON,
    NATIONAL,
    OPERATOR,
    SUPERVISOR,
    english,
    new_report,
    sign_in,
    staff_client,
)
from tests.helpers import csrf_token, node


def entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def test_failed_staff_sign_ins_reach_the_institutions_supervisor(demo):
    stranger = english(demo.test_client())
    assert sign_in(stranger, OPERATOR, "bukan-sandinya").status_code == 401
    assert sign_in(stranger, "tidak.ada@tangerangkab.example.id", "x").status_code == 401

    failed = entries(AuditAction.LOGIN_FAILED)
    assert len(failed) == 2
    assert failed[0].subject_user.email == OPERATOR
    assert failed[0].institution_id == node("KAB-TANGERANG").id  # the unit's institution
    assert failed[1].subject_user_id is None and failed[1].institution_id is None

    supervisor_page = staff_client(demo, SUPERVISOR).get("/staf/audit").get_data(as_text=True)
    assert "Operator Disdukcapil" in supervisor_page  # whose account was tried
    national_page = staff_client(demo, NATIONAL).get("/staf/audit").get_data(as_text=True)
    assert "unknown account (staff sign-in)" in national_page
    # The address typed for an unknown account is kept nowhere.
    assert "tidak.ada" not in national_page
    assert not any("tidak.ada" in (e.detail or "") for e in failed)


def test_failed_citizen_sign_ins_are_logged_for_the_national_admin(demo, client):
    citizen_sign_in(client, "warga.lupa@example.id", "salah-salah")
    failed = entries(AuditAction.LOGIN_FAILED)
    assert [e.detail for e in failed] == ["unknown account (citizen sign-in)"]
    assert "warga.lupa" not in staff_client(demo, NATIONAL).get("/staf/audit") \
        .get_data(as_text=True)


def test_identity_views_role_changes_and_exports_are_read_by_the_supervisor(demo):
    report = new_report(anonymous=False)
    number = report.public_number
    admin = staff_client(demo, ADMIN)
    page = f"/staf/laporan/{number}"
    assert admin.post(f"{page}/identitas",
                      data={"csrf_token": csrf_token(admin, page)}).status_code == 200
    supervisor = staff_client(demo, SUPERVISOR)
    for url in ("/staf/laporan-mingguan?format=csv", "/staf/laporan-mingguan?format=xlsx",
                "/staf/statistik?format=csv&table=unit"):
        response = supervisor.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Disposition"].startswith("attachment"), url

    assert [e.report_id for e in entries(AuditAction.IDENTITY_VIEWED)] == [report.id]
    exports = entries(AuditAction.EXPORT)
    assert len(exports) == 3
    assert {e.institution_id for e in exports} == {node("KAB-TANGERANG").id}
    log = supervisor.get("/staf/audit").get_data(as_text=True)
    assert number in log  # the identity view, with its report
    assert log.count("Data exported") == 3
    assert "Reporter&#39;s identity viewed" in log or "Reporter's identity viewed" in log


def test_officers_cannot_read_the_log(demo):
    for email in (ADMIN, LIAISON, OPERATOR):
        assert staff_client(demo, email).get("/staf/audit").status_code == 403
