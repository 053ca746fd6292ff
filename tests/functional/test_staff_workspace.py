"""The staff workspace through its real forms (CSRF on): sign-in, inbox scope, filters and keyset
paging, the whole workflow, stale forms, identity reveal, and anonymity that holds."""
import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from flask import current_app
from sqlalchemy import event, func, select

from portal.demo import DEMO_PASSWORD
from portal.domain.filing import ReportDraft, file_report
from portal.domain.uploads import PreparedUpload
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    AuditAction,
    AuditEntry,
    Category,
    EventKind,
    Institution,
    InstitutionKind,
    Membership,
    OutboxMessage,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    ResponseTemplate,
    Role,
    User,
)
from portal.storage import AttachmentStore
from tests.helpers import csrf_token, jpeg_bytes, node, user

ADMIN = "admin@tangerangkab.example.id"
NATIONAL = "admin.nasional@lapor.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"

REPORTER_NAME = "Siti Rahmawati Kusumadewi"
REPORTER_EMAIL = "siti.rahma@example.id"
REPORTER_PHONE = "0812 7777 3131"
FILE_NAME = "KTP_Siti_Rahmawati_Kusumadewi.jpg"
IDENTITY_STRINGS = [REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, "Siti_Rahmawati", "7777"]
NOW = datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- helpers


def category(code: str) -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))




def add_staff(email: str, node_code: str, role: Role) -> User:
    staff = User(email=email, name=f"Staf {email.split('@')[0]}", is_staff=True)
    staff.set_password(DEMO_PASSWORD)
    staff.memberships.append(Membership(institution=node(node_code), role=role))
    db.session.add(staff)
    db.session.commit()
    return staff


def english(client):
    client.get("/bahasa/en")
    return client


def sign_in(client, email: str, password: str = DEMO_PASSWORD, follow: bool = False):
    token = csrf_token(client, "/staf/masuk")
    return client.post("/staf/masuk", data={"csrf_token": token, "email": email,
                                            "password": password}, follow_redirects=follow)


def staff_client(app, email: str):
    client = english(app.test_client())
    response = sign_in(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def new_report(*, title="Blangko KTP kosong di kecamatan", body=None, category_code="ADMINDUK",
               unit_code=None, status=ReportStatus.SUBMITTED, anonymous=False, created_at=NOW,
               kind=ReportKind.COMPLAINT, files=(), name=REPORTER_NAME, email=REPORTER_EMAIL,
               phone=REPORTER_PHONE, commit=True) -> Report:
    """A report filed through the domain, then placed where the test needs it."""
    draft = ReportDraft(kind=kind, title=title,
                        body=body or "Sudah tiga minggu blangko KTP elektronik kosong.",
                        category_id=category(category_code).id, is_anonymous=anonymous,
                        name=name, email=email, phone=phone)
    uploads = [PreparedUpload(original_name=f, content_type="image/jpeg", extension="jpg",
                              data=jpeg_bytes()) for f in files]
    store = AttachmentStore(current_app.config["UPLOAD_FOLDER"])
    report = file_report(draft, uploads, store=store, now=created_at).report
    report.status = status
    if unit_code:
        report.current_unit = node(unit_code)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return report


def page(client, number: str, **params):
    response = client.get(f"/staf/laporan/{number}", query_string=params)
    return response, unescape(response.get_data(as_text=True))


def version_on(html: str, action: str) -> str:
    match = re.search(rf'<input[^>]*id="{action}-version"[^>]*value="(\d+)"', html)
    assert match, f"no {action} form on the page"
    return match.group(1)


def act(client, number: str, action: str, *, version: str | None = None, **fields):
    """Open the report page, then post the action's form as a browser would."""
    _, html = page(client, number)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    data = {"csrf_token": token, "version": version or version_on(html, action)}
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post(f"/staf/laporan/{number}/tindakan/{action}", data=data)


def reload(report: Report) -> Report:
    db.session.expire_all()
    return db.session.get(Report, report.id)


def numbers_on(html: str) -> list[str]:
    return re.findall(r'<td class="public-number"><a href="[^"]+">([^<]+)</a>', html)


# ----------------------------------------------------------------------------- sign-in
def test_sign_in_good_bad_and_lockout(demo, client):
    english(client)
    wrong = sign_in(client, ADMIN, "not-the-password")
    assert wrong.status_code == 401
    assert "The e-mail address or the password is wrong." in wrong.get_data(as_text=True)
    unknown = sign_in(client, "nobody@example.id", "whatever-it-is")
    assert unknown.status_code == 401
    assert "The e-mail address or the password is wrong." in unknown.get_data(as_text=True)
    assert user(ADMIN).failed_logins == 1  # committed although the request failed

    for _ in range(4):
        sign_in(client, ADMIN, "still-wrong")
    assert user(ADMIN).locked_until is not None
    locked = sign_in(client, ADMIN)  # the right password, but the account is paused
    assert locked.status_code == 401
    assert "Too many wrong passwords" in locked.get_data(as_text=True)
    assert client.get("/staf/").status_code == 302
    # Five for the admin's account, one for the unknown address (kept without the address).
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.LOGIN_FAILED)) == 6
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.LOGIN_LOCKED)) == 1

    other = english(demo.test_client())
    good = sign_in(other, LIAISON)
    assert good.status_code == 302 and good.headers["Location"].endswith("/staf/")
    inbox = other.get("/staf/")
    assert inbox.status_code == 200
    assert "Pejabat Penghubung Disdukcapil" in inbox.get_data(as_text=True)
    assert user(LIAISON).last_seen_at is not None

    token = csrf_token(other, "/staf/")
    assert other.post("/staf/keluar", data={"csrf_token": token}).status_code == 302
    assert other.get("/staf/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_and_only_on_this_site(demo, client):
    english(client)
    asked = client.get("/staf/?status=verified")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    assert "/staf/masuk?next=" in login_url
    token = csrf_token(client, login_url)
    back = client.post(login_url, data={"csrf_token": token, "email": ADMIN,
                                        "password": DEMO_PASSWORD})
    assert back.headers["Location"] == "/staf/?status=verified"

    other = english(demo.test_client())
    token = csrf_token(other, "/staf/masuk")
    away = other.post("/staf/masuk?next=//evil.example/x", data={
        "csrf_token": token, "email": ADMIN, "password": DEMO_PASSWORD})
    assert away.headers["Location"] == "/staf/"


def test_sign_in_form_refuses_without_csrf_or_fields(demo, client):
    english(client)
    response = client.post("/staf/masuk", data={"email": ADMIN, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    empty = client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                             "email": "", "password": ""})
    assert empty.status_code == 422
    assert "Type your e-mail address." in empty.get_data(as_text=True)
    assert user(ADMIN).last_seen_at is None and user(ADMIN).failed_logins == 0


def test_citizen_account_gets_403_and_cannot_use_the_staff_sign_in(demo, client):
    citizen = User(email="warga@example.id", name="Warga", is_staff=False)
    citizen.set_password(DEMO_PASSWORD)
    db.session.add(citizen)
    db.session.commit()
    english(client)
    assert sign_in(client, "warga@example.id").status_code == 401
    with client.session_transaction() as session:
        session["_user_id"] = f"{citizen.id}:{citizen.session_version}"
        session["_fresh"] = True
    assert client.get("/staf/").status_code == 403
    assert client.get("/staf/audit").status_code == 403


def test_activity_is_written_at_most_once_a_minute(demo):
    client = staff_client(demo, ADMIN)
    admin = user(ADMIN)
    recent = datetime.now(timezone.utc) - timedelta(seconds=20)
    admin.last_seen_at = recent
    db.session.commit()
    client.get("/staf/")
    db.session.expire_all()
    assert user(ADMIN).last_seen_at == recent
    user(ADMIN).last_seen_at = recent - timedelta(minutes=5)
    db.session.commit()
    client.get("/staf/")
    db.session.expire_all()
    assert user(ADMIN).last_seen_at > recent


# ----------------------------------------------------------------------------- inbox
def test_inbox_shows_only_the_users_nodes(demo):
    add_staff("penghubung.dishub@tangerangkab.example.id", "TNG-DISHUB", Role.LIAISON)
    serang = Institution(code="KAB-SERANG", name="Pemerintah Kabupaten Serang",
                         kind=InstitutionKind.INSTITUTION, parent=node("KEMENPANRB"))
    db.session.add(serang)
    db.session.commit()
    ktp = new_report(title="Blangko KTP habis", unit_code="TNG-DISDUKCAPIL",
                     status=ReportStatus.DISPOSITIONED)
    truck = new_report(title="Truk tambang lewat siang hari", category_code="PERHUBUNGAN",
                       unit_code="TNG-DISHUB", status=ReportStatus.DISPOSITIONED)
    fresh = new_report(title="Jalan berlubang di Cikupa", category_code="INFRASTRUKTUR")
    elsewhere = new_report(title="Laporan untuk Serang")
    elsewhere.current_institution = serang
    db.session.commit()

    dishub = staff_client(demo, "penghubung.dishub@tangerangkab.example.id")
    html = dishub.get("/staf/").get_data(as_text=True)
    assert numbers_on(html) == [truck.public_number]
    # Another unit's report is not found, exactly like a number that does not exist.
    assert page(dishub, ktp.public_number)[0].status_code == 404
    assert page(dishub, "LPR-2026-9999999")[0].status_code == 404
    assert page(dishub, truck.public_number)[0].status_code == 200

    admin = staff_client(demo, ADMIN)
    html = admin.get("/staf/").get_data(as_text=True)
    assert set(numbers_on(html)) == {ktp.public_number, truck.public_number, fresh.public_number}
    assert page(admin, elsewhere.public_number)[0].status_code == 404
    by_unit = admin.get(f"/staf/?unit={node('TNG-DISHUB').id}").get_data(as_text=True)
    assert numbers_on(by_unit) == [truck.public_number]

    national = staff_client(demo, NATIONAL)
    assert len(numbers_on(national.get("/staf/").get_data(as_text=True))) == 4


def test_inbox_filters_counts_and_keyset_paging(demo):
    statuses = [ReportStatus.SUBMITTED, ReportStatus.VERIFIED, ReportStatus.DISPOSITIONED]
    reports = []
    for i in range(30):
        reports.append(new_report(
            title=f"Laporan nomor {i:02d}" + (" tentang sampah B3" if i % 10 == 3 else ""),
            body="Isi laporan 100% benar" if i == 7 else None,
            status=statuses[i % 3],
            kind=ReportKind.ASPIRATION if i % 5 == 0 else ReportKind.COMPLAINT,
            category_code="LINGKUNGAN" if i % 2 else "ADMINDUK",
            created_at=NOW - timedelta(hours=6 * i), commit=False))
    # Two reports filed in the same microsecond, across the page boundary: the id breaks the tie.
    reports[25].created_at = reports[24].created_at
    db.session.commit()
    admin = staff_client(demo, ADMIN)

    first = admin.get("/staf/")
    html = first.get_data(as_text=True)
    page_one = numbers_on(html)
    assert len(page_one) == 25
    assert page_one[0] == reports[0].public_number
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    assert "after=" in next_link and "offset" not in next_link
    page_two = numbers_on(admin.get(next_link).get_data(as_text=True))
    assert len(page_two) == 5
    expected = [r.public_number for r in sorted(
        reports, key=lambda r: (r.created_at, r.id), reverse=True)]
    assert page_one + page_two == expected
    # Counts per status over everything visible, not only the page.
    assert re.search(r'data-status="verified"[^>]*>[^<]*<span class="count">10<', html)
    assert re.search(r'>All <span class="count">30<', html)

    oldest = numbers_on(admin.get("/staf/?sort=oldest").get_data(as_text=True))
    assert oldest[0] == reports[-1].public_number
    reports[20].updated_at = datetime(2099, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    updated = numbers_on(admin.get("/staf/?sort=updated").get_data(as_text=True))
    assert updated[0] == reports[20].public_number

    def shown(query: str) -> set[str]:
        return set(numbers_on(admin.get("/staf/" + query).get_data(as_text=True)))

    assert shown("?status=verified&category=%d" % category("LINGKUNGAN").id) == {
        r.public_number for i, r in enumerate(reports) if i % 3 == 1 and i % 2}
    assert shown("?kind=aspiration") == {r.public_number for i, r in enumerate(reports)
                                         if i % 5 == 0}
    assert shown("?q=sampah+b3") == {reports[i].public_number for i in (3, 13, 23)}
    assert shown("?q=0%25") == {reports[7].public_number}  # % is a character, not a wildcard
    # NOW is 10:00 WIB on 10 March; report 2 was filed at 22:00 WIB on 9 March (15:00 UTC).
    assert shown("?from=2026-03-10&to=2026-03-10") == {reports[0].public_number,
                                                       reports[1].public_number}
    assert reports[2].public_number in shown("?from=2026-03-09&to=2026-03-09")

    bad = admin.get("/staf/?status=bogus&category=abc&from=2026-13-45&after=xyz&unit=1;drop")
    assert bad.status_code == 200
    text = unescape(bad.get_data(as_text=True))
    assert "Unknown status “bogus”" in text
    assert "The category filter was ignored" in text
    assert "The unit filter was ignored" in text
    assert "is not a date" in text
    assert "The page link was not understood" in text
    assert len(numbers_on(text)) == 25  # the bad filters were dropped, not applied


def test_inbox_counts_finished_reports_up_to_a_cap_and_open_ones_exactly(demo, monkeypatch):
    """Completed and archived reports are counted up to FINISHED_COUNT_CAP ("3+" here), the
    reports still to be worked on always exactly; "All" says "+" when a count was capped."""
    import portal.domain.inbox as inbox

    monkeypatch.setattr(inbox, "FINISHED_COUNT_CAP", 3)
    for i in range(5):
        new_report(title=f"Selesai {i}", status=ReportStatus.COMPLETED, commit=False)
    for i in range(2):
        archived = new_report(title=f"Diarsipkan {i}", commit=False)
        archived.status, archived.archive_reason = ReportStatus.ARCHIVED, ArchiveReason.IRRELEVANT
    for i in range(4):
        new_report(title=f"Baru {i}", status=ReportStatus.SUBMITTED, commit=False)
    db.session.commit()
    html = staff_client(demo, ADMIN).get("/staf/").get_data(as_text=True)
    assert re.search(r'data-status="completed"[^>]*>[^<]*<span class="count">3\+<', html)
    assert re.search(r'data-status="archived"[^>]*>[^<]*<span class="count">2<', html)
    assert re.search(r'data-status="submitted"[^>]*>[^<]*<span class="count">4<', html)
    assert re.search(r'<span class="count">9\+<', html)  # All: 3 + 2 + 4, one capped


def test_inbox_query_count_does_not_grow_with_the_rows(demo):
    """No query per row: the number of statements is the same for 3 rows and for 25."""
    admin = staff_client(demo, ADMIN)
    units = ["TNG-DISDUKCAPIL", "TNG-DISHUB", "TNG-DLHK", None]
    codes = ["ADMINDUK", "PERHUBUNGAN", "LINGKUNGAN", "KESEHATAN", "PENDIDIKAN"]

    def statements_for_inbox() -> int:
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        admin.get("/staf/")  # the once-a-minute activity write is not what is measured
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert admin.get("/staf/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    for i in range(3):
        new_report(title=f"Laporan {i}", unit_code=units[i % 4], category_code=codes[i % 5],
                   created_at=NOW - timedelta(minutes=i), commit=False)
    db.session.commit()
    few = statements_for_inbox()
    for i in range(3, 30):
        new_report(title=f"Laporan {i}", unit_code=units[i % 4], category_code=codes[i % 5],
                   created_at=NOW - timedelta(minutes=i), commit=False)
    db.session.commit()
    many = statements_for_inbox()
    assert many == few
    assert many <= 15


# ----------------------------------------------------------------------------- the workflow
def test_full_flow_through_the_forms(demo):
    report = new_report(title="Blangko KTP elektronik habis", category_code="ADMINDUK")
    number = report.public_number
    template = ResponseTemplate(institution=node("KAB-TANGERANG"), title="Jawaban blangko",
                                body="Laporan {nomor} ({judul}) telah ditangani oleh {unit}.")
    db.session.add(template)
    db.session.commit()
    admin, liaison, operator = (staff_client(demo, e) for e in (ADMIN, LIAISON, OPERATOR))

    assert page(liaison, number)[0].status_code == 404  # not at the unit yet
    response = act(admin, number, "verify")
    assert response.status_code == 302
    assert reload(report).status is ReportStatus.VERIFIED

    _, html = page(admin, number)
    assert 'id="disposition-target_institution_id"' in html
    assert "Dinas Kependudukan dan Pencatatan Sipil" in html
    response = act(admin, number, "disposition",
                   target_institution_id=str(node("TNG-DISDUKCAPIL").id),
                   message="Mohon segera ditindaklanjuti.")
    assert response.status_code == 302
    followed = admin.get(response.headers["Location"])
    assert "Done: Forward to a unit." in unescape(followed.get_data(as_text=True))
    report = reload(report)
    assert report.status is ReportStatus.DISPOSITIONED
    assert report.current_unit.code == "TNG-DISDUKCAPIL"

    _, html = page(liaison, number)
    assert "Mohon segera ditindaklanjuti." in html and "internal" in html
    assert act(liaison, number, "accept").status_code == 302
    _, html = page(liaison, number)
    assert "Operator Disdukcapil" in html  # the operator select
    assert act(liaison, number, "assign", operator_id=str(user(OPERATOR).id),
               message="Cek stok blangko.").status_code == 302
    assert reload(report).assigned_operator.email == OPERATOR

    assert act(operator, number, "follow_up", message="Stok blangko sedang dikirim.",
               visible_to_reporter="y").status_code == 302
    _, html = page(operator, number, template=str(template.id))
    expected = f"Laporan {number} (Blangko KTP elektronik habis) telah ditangani oleh " \
               "Dinas Kependudukan dan Pencatatan Sipil."
    assert expected in html  # the answer box is pre-filled from the template
    assert act(operator, number, "answer", message=expected).status_code == 302

    report = reload(report)
    assert report.status is ReportStatus.ANSWERED
    kinds = [e.kind for e in report.events]
    assert kinds == [EventKind.SUBMITTED, EventKind.VERIFIED, EventKind.DISPOSITIONED,
                     EventKind.NOTE, EventKind.ACCEPTED, EventKind.ASSIGNED,
                     EventKind.FOLLOW_UP, EventKind.ANSWERED]

    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    to_liaison = [m for m in mails if m.recipient == LIAISON]
    to_operator = [m for m in mails if m.recipient == OPERATOR]
    to_reporter = [m for m in mails if m.recipient == REPORTER_EMAIL]
    assert len(to_liaison) == 1 and len(to_operator) == 1
    assert len(to_reporter) == 3  # receipt, follow-up, answer
    for mail in to_liaison + to_operator:
        assert f"http://portal.test/staf/laporan/{number}" in mail.body_text
        assert f"http://portal.test/staf/laporan/{number}" in mail.body_html
        for secret in IDENTITY_STRINGS:
            assert secret not in mail.body_text and secret not in (mail.body_html or "")
    assert "Cek stok blangko." in to_operator[0].body_text
    assert expected in to_reporter[-1].body_text


def test_unknown_action_is_404_and_a_forbidden_action_403(demo):
    report = new_report(unit_code="TNG-DISDUKCAPIL", status=ReportStatus.DISPOSITIONED)
    liaison = staff_client(demo, LIAISON)
    token = csrf_token(liaison, f"/staf/laporan/{report.public_number}")
    unknown = liaison.post(f"/staf/laporan/{report.public_number}/tindakan/explode",
                           data={"csrf_token": token, "version": "1"})
    assert unknown.status_code == 404
    verify = liaison.post(f"/staf/laporan/{report.public_number}/tindakan/verify",
                          data={"csrf_token": token, "version": str(report.version)})
    assert verify.status_code == 403
    assert "This action is not possible for you on this report now." in \
        verify.get_data(as_text=True)
    supervisor = staff_client(demo, SUPERVISOR)
    _, html = page(supervisor, report.public_number)
    assert "tindakan/accept" not in html and "tindakan/note" in html
    assert act(supervisor, report.public_number, "accept",
               version=str(report.version)).status_code == 403
    no_csrf = liaison.post(f"/staf/laporan/{report.public_number}/tindakan/accept",
                           data={"version": str(report.version)})
    assert no_csrf.status_code == 400
    assert reload(report).status is ReportStatus.DISPOSITIONED


def test_domain_error_is_shown_at_the_field_and_keeps_what_was_typed(demo):
    report = new_report(status=ReportStatus.VERIFIED)
    before = report.version
    admin = staff_client(demo, ADMIN)
    response = act(admin, report.public_number, "disposition", target_institution_id="",
                   message="Instruksi yang panjang untuk unit.")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert re.search(r'id="disposition-target_institution_id-errors">\s*<li>'
                     r'Choose a unit of this institution.</li>', html)
    assert 'aria-describedby="disposition-target_institution_id-errors"' in html
    assert "Instruksi yang panjang untuk unit.</textarea>" in html
    # A unit of another tree is refused the same way.
    other = act(admin, report.public_number, "disposition",
                target_institution_id=str(node("KEMENPANRB").id))
    assert other.status_code == 422
    postpone = act(admin, report.public_number, "postpone", message="   ")
    assert postpone.status_code == 422
    assert "Write a message or a reason for this action." in postpone.get_data(as_text=True)
    report = reload(report)
    assert report.status is ReportStatus.VERIFIED and report.version == before
    assert len(report.events) == 1


def test_stale_version_gets_409_and_changes_nothing(demo):
    report = new_report()
    number = report.public_number
    first = staff_client(demo, ADMIN)
    _, html = page(first, number)
    old_version = version_on(html, "archive")
    add_staff("admin2@tangerangkab.example.id", "KAB-TANGERANG", Role.INSTITUTION_ADMIN)
    other_admin = staff_client(demo, "admin2@tangerangkab.example.id")
    assert act(other_admin, number, "verify").status_code == 302

    response = act(first, number, "postpone", version=old_version,
                   message="Menunggu data pendukung.")
    assert response.status_code == 409
    html = unescape(response.get_data(as_text=True))
    assert "This report was changed by someone else" in html
    assert "Menunggu data pendukung.</textarea>" in html  # what was typed is kept
    assert version_on(html, "postpone") == str(int(old_version) + 1)  # ... the new state
    report = reload(report)
    assert report.status is ReportStatus.VERIFIED
    assert [e.kind for e in report.events] == [EventKind.SUBMITTED, EventKind.VERIFIED]


def test_concurrent_write_at_commit_gets_409(demo, monkeypatch):
    """Two officers at once: the version check passed, but another transaction changed the row
    before ours was written. The optimistic lock catches it at the UPDATE."""
    from portal.domain import workflow

    report = new_report()
    before = report.version
    admin = staff_client(demo, ADMIN)
    real_perform = workflow.perform

    def perform_while_someone_else_writes(report, action, **kwargs):
        db.session.execute(Report.__table__.update().where(Report.id == report.id)
                           .values(version=Report.version + 1, title="Diubah petugas lain"))
        return real_perform(report, action, **kwargs)

    monkeypatch.setattr(workflow, "perform", perform_while_someone_else_writes)
    response = act(admin, report.public_number, "verify")
    assert response.status_code == 409
    assert "This report was changed by someone else" in unescape(response.get_data(as_text=True))
    report = reload(report)
    assert report.status is ReportStatus.SUBMITTED and report.version == before
    assert db.session.scalar(select(func.count()).select_from(ReportEvent)) == 1


def test_report_that_leaves_the_users_nodes_returns_to_the_inbox(demo):
    report = new_report(unit_code="TNG-DISDUKCAPIL", status=ReportStatus.DISPOSITIONED)
    liaison = staff_client(demo, LIAISON)
    response = act(liaison, report.public_number, "send_back",
                   message="Bukan kewenangan kami, mohon ke Dishub.")
    assert response.status_code == 302 and response.headers["Location"] == "/staf/"
    report = reload(report)
    assert report.status is ReportStatus.VERIFIED and report.current_unit is None


# ----------------------------------------------------------------------------- identity
def test_identity_reveal_is_audited_and_shown_once(demo):
    report = new_report(unit_code="TNG-DISDUKCAPIL", status=ReportStatus.DISPOSITIONED)
    admin = staff_client(demo, ADMIN)
    _, html = page(admin, report.public_number)
    assert "Identity protected" in html
    assert "Show identity" in html
    assert all(secret not in html for secret in IDENTITY_STRINGS)

    token = csrf_token(admin, f"/staf/laporan/{report.public_number}")
    revealed = admin.post(f"/staf/laporan/{report.public_number}/identitas",
                          data={"csrf_token": token})
    assert revealed.status_code == 200
    assert revealed.headers["Cache-Control"] == "no-store"
    html = unescape(revealed.get_data(as_text=True))
    assert REPORTER_NAME in html and REPORTER_EMAIL in html and REPORTER_PHONE in html
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == AuditAction.IDENTITY_VIEWED))
    assert entry.actor.email == ADMIN and entry.report_id == report.id
    assert entry.institution_id == node("KAB-TANGERANG").id

    _, again = page(admin, report.public_number)
    assert REPORTER_NAME not in again  # shown for that response only

    supervisor = staff_client(demo, SUPERVISOR)
    _, html = page(supervisor, report.public_number)
    assert "Show identity" not in html
    refused = supervisor.post(f"/staf/laporan/{report.public_number}/identitas",
                              data={"csrf_token": csrf_token(supervisor, "/staf/")})
    assert refused.status_code == 403
    assert REPORTER_NAME not in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.IDENTITY_VIEWED)) == 1

    audit = supervisor.get("/staf/audit")
    assert audit.status_code == 200
    text = unescape(audit.get_data(as_text=True))
    assert "Reporter's identity viewed" in text and "Admin Utama Diskominfo" in text
    assert report.public_number in text


@pytest.mark.parametrize("email", [ADMIN, LIAISON, OPERATOR, SUPERVISOR])
def test_anonymous_report_never_shows_its_reporter(demo, email):
    report = new_report(anonymous=True, unit_code="TNG-DISDUKCAPIL",
                        status=ReportStatus.IN_PROGRESS, files=[FILE_NAME])
    report.assigned_operator = user(OPERATOR)
    db.session.commit()
    attachment_id = report.attachments[0].id
    staff = staff_client(demo, email)

    response, html = page(staff, report.public_number)
    assert response.status_code == 200
    assert re.search(r'id="reporter-label">(Anonim|Anonymous)<', html)
    assert "Show identity" not in html
    for secret in IDENTITY_STRINGS + [FILE_NAME]:
        assert secret not in html

    download = staff.get(f"/staf/laporan/{report.public_number}/lampiran/{attachment_id}")
    assert download.status_code == 200
    assert download.data == jpeg_bytes()
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename=lampiran-{attachment_id}.jpg" in disposition
    for secret in IDENTITY_STRINGS + [FILE_NAME]:
        assert secret not in str(download.headers)

    token = csrf_token(staff, f"/staf/laporan/{report.public_number}")
    refused = staff.post(f"/staf/laporan/{report.public_number}/identitas",
                         data={"csrf_token": token})
    assert refused.status_code == 403
    for secret in IDENTITY_STRINGS:
        assert secret not in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_national_admin_may_reveal_an_anonymous_reporter(demo):
    report = new_report(anonymous=True, unit_code="TNG-DISDUKCAPIL",
                        status=ReportStatus.DISPOSITIONED, files=[FILE_NAME])
    attachment_id = report.attachments[0].id
    national = staff_client(demo, NATIONAL)
    _, html = page(national, report.public_number)
    # Even the national admin sees the identity, file names included, only through the
    # logged reveal.
    assert FILE_NAME not in html and REPORTER_NAME not in html and "Show identity" in html
    download = national.get(f"/staf/laporan/{report.public_number}/lampiran/{attachment_id}")
    assert f"lampiran-{attachment_id}.jpg" in download.headers["Content-Disposition"]
    revealed = national.post(f"/staf/laporan/{report.public_number}/identitas",
                             data={"csrf_token": csrf_token(national, "/staf/")})
    assert revealed.status_code == 200
    revealed_html = unescape(revealed.get_data(as_text=True))
    assert REPORTER_NAME in revealed_html and FILE_NAME in revealed_html
    assert db.session.scalar(select(AuditEntry.actor_id)) == user(NATIONAL).id


def test_attachment_download_checks_the_report(demo):
    mine = new_report(unit_code="TNG-DISDUKCAPIL", status=ReportStatus.DISPOSITIONED,
                      files=["foto.jpg"])
    theirs = new_report(unit_code="TNG-DISHUB", status=ReportStatus.DISPOSITIONED,
                        category_code="PERHUBUNGAN", files=["truk.jpg"])
    liaison = staff_client(demo, LIAISON)
    # Another unit's file: not found, whether asked under its own number or under ours.
    assert liaison.get(f"/staf/laporan/{theirs.public_number}/lampiran/"
                       f"{theirs.attachments[0].id}").status_code == 404
    assert liaison.get(f"/staf/laporan/{mine.public_number}/lampiran/"
                       f"{theirs.attachments[0].id}").status_code == 404
    # Its own report's file, under a generic name: the original name may name the reporter and
    # is shown only through the logged "show identity" action.
    attachment_id = mine.attachments[0].id
    own = liaison.get(f"/staf/laporan/{mine.public_number}/lampiran/{attachment_id}")
    assert own.status_code == 200
    assert f"lampiran-{attachment_id}.jpg" in own.headers["Content-Disposition"]
    assert "foto" not in own.headers["Content-Disposition"]


# ----------------------------------------------------------------------------- audit log
def test_audit_log_scope_and_paging(demo):
    tangerang, national_node = node("KAB-TANGERANG"), node("KEMENPANRB")
    admin = user(ADMIN)
    for i in range(55):
        db.session.add(AuditEntry(action=AuditAction.EXPORT, actor=admin,
                                  institution=tangerang, detail=f"ekspor-{i:02d}",
                                  created_at=NOW + timedelta(minutes=i)))
    db.session.add(AuditEntry(action=AuditAction.EXPORT, actor=user(NATIONAL),
                              institution=national_node, detail="ekspor-nasional",
                              created_at=NOW))
    db.session.commit()

    supervisor = staff_client(demo, SUPERVISOR)
    html = supervisor.get("/staf/audit").get_data(as_text=True)
    details = re.findall(r"ekspor-[\w]+", html)
    assert details[0] == "ekspor-54" and len(details) == 50
    assert "ekspor-nasional" not in html
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    rest = re.findall(r"ekspor-[\w]+", supervisor.get(next_link).get_data(as_text=True))
    assert rest == ["ekspor-04", "ekspor-03", "ekspor-02", "ekspor-01", "ekspor-00"]

    national = staff_client(demo, NATIONAL)
    assert "ekspor-nasional" in national.get("/staf/audit?after=" + next_link.split("=")[-1]) \
        .get_data(as_text=True)
    assert 'href="/staf/audit"' in supervisor.get("/staf/").get_data(as_text=True)
    for email in (ADMIN, LIAISON, OPERATOR):
        officer = staff_client(demo, email)
        assert officer.get("/staf/audit").status_code == 403
        inbox = officer.get("/staf/").get_data(as_text=True)
        assert 'href="/staf/audit"' not in inbox
        assert ('href="/staf/kelola/"' in inbox) is (email == ADMIN)
