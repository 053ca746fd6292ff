"""Duplicates through the real pages: the panel on the staff report page, "Mark as duplicate of
this" and "Not a duplicate", the queue and its scope, the copies and their attachments on the
original's page, the copy's tracking page following the original, and the anonymous
reporter's identity nowhere it should not be."""
import io
import re
from html import unescape

import pytest
from flask import current_app
from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.domain import duplicates
from portal.domain.workflow import Action, ActionInput, perform, reporter_reply
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    CandidateState,
    Category,
    District,
    DuplicateCandidate,
    Institution,
    InstitutionKind,
    Membership,
    OutboxMessage,
    Report,
    ReportStatus,
    Role,
    User,
)
from portal.models.types import utcnow
from tests.helpers import csrf_token, file_report, jpeg_bytes, node, receipt_code, user

ADMIN = "admin@tangerangkab.example.id"
NATIONAL = "admin.nasional@lapor.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
ROAD_LIAISON = "penghubung.dbmsda@tangerangkab.example.id"
SERANG_ADMIN = "admin@serangkab.example.id"

ORIGINAL = dict(
    title="Jalan rusak parah di Jl. Raya Serang KM 24 Cikupa",
    body="Jalan di Jl. Raya Serang km 24 dekat Pasar Cikupa rusak parah, banyak lubang besar "
         "dan sudah dua bulan tidak diperbaiki. Pengendara motor sering jatuh.",
    name="Dewi Kartika Sari", email="dewi.kartika@example.id", phone="081244433322")
COPY = dict(
    title="Lubang besar di Jl Raya Serang km 24 Cikupa",
    body="Mohon segera diperbaiki, Jalan Raya Serang km 24 depan Pasar Cikupa berlubang besar "
         "dan sering membuat motor jatuh, sudah lama dibiarkan.",
    name="Bambang Sutejo Wirawan", email="bambang.sutejo@example.id", phone="081355566677",
    is_anonymous="y")
COPY_FILE = "Foto_Bambang_Sutejo_Wirawan.jpg"
COPY_SECRETS = ["Bambang", "Sutejo", "Wirawan", "bambang.sutejo", "081355566677", "0813 5556"]
ORIGINAL_SECRETS = ["Dewi Kartika", "Kartika Sari", "dewi.kartika", "081244433322"]


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def sign_in(app, email: str):
    client = app.test_client()
    client.get("/bahasa/en")
    response = client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                                "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email
    return client


def add_staff(email: str, node_code: str, role: Role) -> User:
    member = User(email=email, name=f"Staf {email.split('@')[0]}", is_staff=True)
    member.set_password(DEMO_PASSWORD)
    member.memberships.append(Membership(institution=node(node_code), role=role))
    db.session.add(member)
    db.session.commit()
    return member


def file_and_track(app, fields: dict, attachment: str | None = None):
    """File through the citizen form, then open the tracking page with the code: returns the
    report's number and the reporter's client (tracking the report in its session)."""
    client = app.test_client()
    client.get("/bahasa/en")
    category = db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR"))
    district = db.session.scalar(select(District.id).where(District.name == "Cikupa"))
    extra = {"attachments": (io.BytesIO(jpeg_bytes()), attachment)} if attachment else {}
    response = file_report(client, category=str(category), district=str(district), **fields,
                           **extra)
    assert response.status_code == 302, text_of(response)
    code = receipt_code(client)
    tracked = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                          "code": code})
    assert tracked.status_code == 302
    number = tracked.headers["Location"].rsplit("/", 1)[-1]
    return number, client


def report_by(number: str) -> Report:
    db.session.expire_all()
    return db.session.scalar(select(Report).where(Report.public_number == number))


def act(number: str, action: Action, email: str, **data):
    with current_app.test_request_context():
        perform(report_by(number), action, actor=user(email), now=utcnow(),
                expected_version=None, data=ActionInput(**data))
        db.session.commit()


def form_fields(html: str, action_path: str, must_contain: str = "") -> dict:
    """The hidden fields of the form posting to ``action_path`` (whose HTML contains
    ``must_contain``), as a browser would send them."""
    for match in re.finditer(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html,
                             re.S):
        if match.group(1) == action_path and must_contain in match.group(2):
            return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                   match.group(2)))
    raise AssertionError(f"no form to {action_path} with {must_contain!r}")


@pytest.fixture
def pair(demo):
    """A named report about a pothole, then an anonymous one about the same pothole with a
    photo: the second is a likely duplicate of the first."""
    app = demo
    original, original_client = file_and_track(app, ORIGINAL)
    copy, copy_client = file_and_track(app, COPY, attachment=COPY_FILE)
    (candidate,) = db.session.scalars(select(DuplicateCandidate)).all()
    assert (candidate.report.public_number, candidate.original.public_number) == (copy, original)
    return {"app": app, "original": original, "copy": copy, "candidate_id": candidate.id,
            "original_client": original_client, "copy_client": copy_client}


# ----------------------------------------------------------------------------- mark
def test_mark_as_duplicate_from_the_report_page(pair):
    app, original, copy = pair["app"], pair["original"], pair["copy"]
    admin = sign_in(app, ADMIN)
    page = text_of(admin.get(f"/staf/laporan/{copy}"))
    assert "Possible duplicates" in page
    panel = page[page.index('id="duplicates"'):page.index('id="history-heading"')]
    assert original in panel and ORIGINAL["title"] in panel and "Submitted" in panel
    assert "Likely" in panel and "same category and kecamatan" in panel
    assert re.search(r"\b[5-9]\d%", panel)  # the score, in per cent
    # The original's page offers the same pair from the other side.
    assert copy in text_of(admin.get(f"/staf/laporan/{original}"))

    action = f"/staf/laporan/{copy}/tindakan/archive"
    fields = form_fields(page, action, original)
    assert fields["archive_reason"] == "duplicate" and fields["duplicate_of"] == original
    response = admin.post(action, data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(copy)

    archived = report_by(copy)
    assert archived.status is ReportStatus.ARCHIVED
    assert archived.duplicate_of.public_number == original
    assert db.session.get(DuplicateCandidate, pair["candidate_id"]).state is \
        CandidateState.CONFIRMED
    # Nothing moved: the copy keeps its attachment and its history.
    assert len(archived.attachments) == 1 and len(archived.events) == 2
    after = text_of(admin.get(f"/staf/laporan/{copy}"))
    assert 'id="duplicates"' not in after
    # The queue has nothing left.
    assert copy not in text_of(admin.get("/staf/duplikat"))

    # The original lists its copy and the copy's file, downloadable through its own page.
    page = text_of(admin.get(f"/staf/laporan/{original}"))
    copies = page[page.index('id="copies"'):]
    attachment_id = archived.attachments[0].id
    link = f"/staf/laporan/{original}/lampiran/{attachment_id}"
    assert copy in copies and link in copies and COPY_FILE not in page
    download = admin.get(link)
    assert download.status_code == 200 and download.data[:2] == b"\xff\xd8"
    assert COPY_FILE not in download.headers["Content-Disposition"]
    # A file of a report that is no copy of this one is not reachable through it.
    other, _ = file_and_track(app, dict(title="Lampu jalan mati di Curug", body="Gelap sekali "
                                        "di malam hari, sudah satu minggu lebih.",
                                        name="Orang Lain", email="lain@example.id"),
                              attachment="foto.jpg")
    stranger = report_by(other).attachments[0].id
    assert admin.get(f"/staf/laporan/{original}/lampiran/{stranger}").status_code == 404


def test_the_copys_files_only_for_staff_who_may_see_the_copy(pair):
    """The unit handling the original sees it, but not the copy (archived before it reached
    a unit): the copy's number is listed, its file neither listed nor downloadable."""
    app, original, copy = pair["app"], pair["original"], pair["copy"]
    act(copy, Action.ARCHIVE, ADMIN, archive_reason=ArchiveReason.DUPLICATE,
        duplicate_of=original)
    act(original, Action.VERIFY, ADMIN)
    act(original, Action.DISPOSITION, ADMIN,
        target_institution_id=node("TNG-DBMSDA").id)
    add_staff(ROAD_LIAISON, "TNG-DBMSDA", Role.LIAISON)
    liaison = sign_in(app, ROAD_LIAISON)
    page = text_of(liaison.get(f"/staf/laporan/{original}"))
    attachment_id = report_by(copy).attachments[0].id
    assert copy in page and "you may not open this report" in page
    assert f"/lampiran/{attachment_id}" not in page
    assert liaison.get(f"/staf/laporan/{original}/lampiran/{attachment_id}").status_code == 404
    assert liaison.get(f"/staf/laporan/{copy}").status_code == 404
    # The institution admin sees both, and downloads the copy's file from the original.
    admin = sign_in(app, ADMIN)
    assert admin.get(f"/staf/laporan/{original}/lampiran/{attachment_id}").status_code == 200


# ----------------------------------------------------------------------------- dismiss
def test_not_a_duplicate_is_remembered(pair):
    app, copy = pair["app"], pair["copy"]
    admin = sign_in(app, ADMIN)
    page = text_of(admin.get(f"/staf/laporan/{copy}"))
    action = f"/staf/laporan/{copy}/bukan-duplikat"
    response = admin.post(action, data=form_fields(page, action))
    assert response.status_code == 302
    candidate = db.session.get(DuplicateCandidate, pair["candidate_id"])
    db.session.refresh(candidate)
    assert candidate.state is CandidateState.DISMISSED and candidate.decided_by.email == ADMIN
    page = text_of(admin.get(f"/staf/laporan/{copy}"))
    assert "not be suggested again" in page and 'id="duplicates"' not in page
    assert report_by(copy).status is ReportStatus.SUBMITTED  # nothing else changed
    # A second click (a stale page) says so, and changes nothing.
    again = admin.post(action, data={"csrf_token": csrf_token(admin, "/staf/"),
                                     "candidate": str(candidate.id)}, follow_redirects=True)
    assert "already been decided" in text_of(again)


def test_who_sees_the_panel_and_who_may_dismiss(pair):
    app, copy = pair["app"], pair["copy"]
    supervisor = sign_in(app, SUPERVISOR)
    page = text_of(supervisor.get(f"/staf/laporan/{copy}"))
    assert 'id="duplicates"' not in page and "Possible duplicates" not in page
    response = supervisor.post(f"/staf/laporan/{copy}/bukan-duplikat", data={
        "csrf_token": csrf_token(supervisor, "/staf/"), "candidate": str(pair["candidate_id"])})
    assert response.status_code == 403
    assert db.session.get(DuplicateCandidate, pair["candidate_id"]).state is CandidateState.OPEN
    # Once verified, only the institution admin may archive it; the national admin still
    # decides the suggestion ("not a duplicate"), without the archive button.
    act(copy, Action.VERIFY, ADMIN)
    national = sign_in(app, NATIONAL)
    page = text_of(national.get(f"/staf/laporan/{copy}"))
    assert 'id="duplicates"' in page and "Not a duplicate" in page
    assert f"/staf/laporan/{copy}/tindakan/archive" not in page[
        page.index('id="duplicates"'):page.index('id="history-heading"')]
    assert "can no longer be archived" in page
    admin = text_of(sign_in(app, ADMIN).get(f"/staf/laporan/{copy}"))
    assert f"/staf/laporan/{copy}/tindakan/archive" in admin[
        admin.index('id="duplicates"'):admin.index('id="history-heading"')]


# ----------------------------------------------------------------------------- the queue
def test_the_queue_and_its_scope(pair):
    app, original, copy = pair["app"], pair["original"], pair["copy"]
    serang = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-SERANG",
                         name="Pemerintah Kabupaten Serang", parent=node("KEMENPANRB"))
    db.session.add(serang)
    db.session.commit()
    add_staff(SERANG_ADMIN, "KAB-SERANG", Role.INSTITUTION_ADMIN)
    for email in (ADMIN, NATIONAL):
        client = sign_in(app, email)
        page = text_of(client.get("/staf/duplikat"))
        assert copy in page and original in page and "Likely" in page, email
        assert 'href="/staf/duplikat"' in text_of(client.get("/staf/"))  # in the navigation
    other = sign_in(app, SERANG_ADMIN)
    response = other.get("/staf/duplikat")
    assert response.status_code == 200
    page = text_of(response)
    assert copy not in page and original not in page and COPY["title"] not in page
    assert "No possible duplicates" in page
    liaison = sign_in(app, LIAISON)
    assert liaison.get("/staf/duplikat").status_code == 403
    assert 'href="/staf/duplikat"' not in text_of(liaison.get("/staf/"))


def test_the_queue_puts_certain_ones_first_and_pages(pair):
    app = pair["app"]
    # The same text again, twice: certain candidates, newer than the likely one.
    same_one, _ = file_and_track(app, {**ORIGINAL, "email": "tiga@example.id"})
    same_two, _ = file_and_track(app, {**ORIGINAL, "email": "empat@example.id"})
    admin = sign_in(app, ADMIN)
    page = text_of(admin.get("/staf/duplikat"))
    positions = [page.index(f'>{n}</a>') for n in (same_two, same_one, pair["copy"])]
    assert positions == sorted(positions)  # certain (newest first), then likely
    assert "Certain" in page and "same text" in page
    # Keyset pages of two: every open candidate once, certain ones first, newest first.
    rows, cursor = [], None
    for _ in range(10):
        page_rows = duplicates.queue_page(user(ADMIN), after=cursor, limit=2)
        rows += page_rows.rows
        cursor = page_rows.next_cursor
        if cursor is None:
            break
    everything = db.session.scalars(select(DuplicateCandidate)).all()
    assert len(everything) == 6  # each later report with each earlier similar one
    assert sorted(r.candidate.id for r in rows) == sorted(c.id for c in everything)
    keys = [(r.candidate.certainty.value, -r.candidate.created_at.timestamp(),
             -r.candidate.id) for r in rows]
    assert keys == sorted(keys)
    # Through the page: the pager's link continues after the last row.
    after = duplicates.QueueCursor(certain=True, position=duplicates.Cursor(
        key=rows[0].candidate.created_at, id=rows[0].candidate.id)).encode()
    second = text_of(admin.get(f"/staf/duplikat?after={after}"))
    assert f'value="{rows[0].candidate.id}"' not in second
    assert f'value="{rows[1].candidate.id}"' in second and "First page" in second
    assert admin.get("/staf/duplikat?after=nonsense").status_code == 200


# ----------------------------------------------------------------------------- the reporter
def test_the_copys_tracking_page_follows_the_original(pair):
    app, original, copy = pair["app"], pair["original"], pair["copy"]
    admin = sign_in(app, ADMIN)
    page = text_of(admin.get(f"/staf/laporan/{copy}"))
    action = f"/staf/laporan/{copy}/tindakan/archive"
    assert admin.post(action, data=form_fields(page, action, original)).status_code == 302
    # The original goes on: verified, forwarded, a follow-up naming its reporter; its
    # reporter replies.
    act(original, Action.VERIFY, ADMIN)
    act(original, Action.DISPOSITION, ADMIN, target_institution_id=node("TNG-DBMSDA").id)
    add_staff(ROAD_LIAISON, "TNG-DBMSDA", Role.LIAISON)
    act(original, Action.ACCEPT, ROAD_LIAISON)
    act(original, Action.FOLLOW_UP, ROAD_LIAISON, visible_to_reporter=True,
        message="Ibu Dewi Kartika Sari (081244433322): tim sudah menambal lubang di km 24.")
    with app.test_request_context():
        reporter_reply(report_by(original), "Terima kasih, saya Dewi dari RT 03 Talaga.",
                       now=utcnow())
        db.session.commit()

    page = text_of(pair["copy_client"].get(f"/lacak/{copy}"))
    followed = page[page.index('id="followed"'):page.index("Your report</h2>")]
    assert f"handled together with {original}" in followed
    assert "In progress" in followed and "Dinas Bina Marga dan Sumber Daya Air" in followed
    assert "Forwarded to the responsible unit" in followed
    assert "tim sudah menambal lubang di km 24" in followed
    for secret in ORIGINAL_SECRETS + ["RT 03 Talaga", "Terima kasih, saya Dewi"]:
        assert secret not in page, secret
    assert ORIGINAL["title"] not in page and ORIGINAL["body"] not in page
    # The copy's own page is still its own: its text and its archiving.
    assert COPY["body"] in page and "Archived" in page
    # The original's reporter sees nothing of the copy.
    mine = text_of(pair["original_client"].get(f"/lacak/{original}"))
    assert copy not in mine and 'id="followed"' not in mine
    for secret in COPY_SECRETS:
        assert secret not in mine, secret


def test_a_confidential_original_shows_its_steps_only(pair):
    original, copy = pair["original"], pair["copy"]
    report = report_by(original)
    report.is_confidential = True
    db.session.commit()
    act(copy, Action.ARCHIVE, ADMIN, archive_reason=ArchiveReason.DUPLICATE,
        duplicate_of=original)
    act(original, Action.VERIFY, ADMIN, message="Sudah dicek ke lokasi oleh petugas.")
    page = text_of(pair["copy_client"].get(f"/lacak/{copy}"))
    followed = page[page.index('id="followed"'):page.index("Your report</h2>")]
    assert "Report verified" in followed and "only its steps are shown" in followed
    assert "Sudah dicek ke lokasi" not in page


# ----------------------------------------------------------------------------- privacy
def test_the_anonymous_reporter_appears_nowhere(pair):
    """Bambang filed the copy anonymously (name, e-mail, phone and a file named after him):
    none of it on the panel (both reports, admin and national admin), the queue, either
    tracking page or any mail but the one to his own address; and the pair is "similar"
    for staff, never "same reporter"."""
    app, original, copy = pair["app"], pair["original"], pair["copy"]
    problems = []

    def check(where: str, text: str, secrets=COPY_SECRETS + [COPY_FILE]):
        leaked = [s for s in secrets if s.lower() in text.lower()]
        if leaked:
            problems.append(f"{where}: {leaked}")

    for email in (ADMIN, NATIONAL):
        client = sign_in(app, email)
        for path in (f"/staf/laporan/{copy}", f"/staf/laporan/{original}", "/staf/duplikat"):
            text = text_of(client.get(path))
            check(f"{email} {path}", text)
            if "same reporter" in text:
                problems.append(f"{email} {path}: 'same reporter'")
    admin = sign_in(app, ADMIN)
    page = text_of(admin.get(f"/staf/laporan/{copy}"))
    action = f"/staf/laporan/{copy}/tindakan/archive"
    assert admin.post(action, data=form_fields(page, action, original)).status_code == 302
    act(original, Action.VERIFY, ADMIN)
    for email in (ADMIN, NATIONAL):
        client = sign_in(app, email)
        for path in (f"/staf/laporan/{copy}", f"/staf/laporan/{original}", "/staf/duplikat"):
            check(f"{email} {path} (after)", text_of(client.get(path)))
    check("copy's tracking page", text_of(pair["copy_client"].get(f"/lacak/{copy}")),
          COPY_SECRETS[:3] + [COPY_FILE])  # (his own contact may be shown to him: it is not)
    check("original's tracking page",
          text_of(pair["original_client"].get(f"/lacak/{original}")))
    mails = db.session.scalars(select(OutboxMessage)).all()
    told = [m for m in mails if m.recipient == COPY["email"]]
    assert any(original in m.subject for m in told), "the copy's reporter was told"
    for mail in mails:
        text = f"{mail.subject}\n{mail.body_text}\n{mail.body_html}"
        secrets = COPY_SECRETS[:3] + [COPY_FILE] if mail.recipient == COPY["email"] \
            else COPY_SECRETS + [COPY_FILE]
        check(f"mail to {mail.recipient} ({mail.subject})", text, secrets)
        if mail.recipient != ORIGINAL["email"]:
            check(f"mail to {mail.recipient}", text, ORIGINAL_SECRETS)
    assert not problems, "\n".join(problems)
