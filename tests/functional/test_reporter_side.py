"""The reporter's side of the conversation, through the real forms: read the answers, reply
(clarification or objection), close an answered report, rate it once; never see internal notes."""
import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import (
    Category,
    EventKind,
    Institution,
    Report,
    ReportEvent,
    ReportRating,
    ReportStatus,
    User,
)
from portal.models.types import utcnow
from tests.helpers import csrf_token, file_report, mails_to, receipt_code

ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"


# --------------------------------------------------------------------------- helpers
def category_id(code="ADMINDUK") -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == code)))


def staff(email) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def report_by(number) -> Report:
    db.session.expire_all()
    return db.session.scalar(select(Report).where(Report.public_number == number))


def act(number, action, email, **data):
    """An officer acts through the workflow domain, committed like a staff request would."""
    with current_app.test_request_context():  # the staff pages call it inside a request
        event = perform(report_by(number), action, actor=staff(email), now=utcnow(),
                        expected_version=None, data=ActionInput(**data))
        db.session.commit()
    return event


def unit_id(code="TNG-DISDUKCAPIL") -> int:
    return db.session.scalar(select(Institution.id).where(Institution.code == code))


def in_progress(number):
    act(number, Action.VERIFY, ADMIN)
    act(number, Action.DISPOSITION, ADMIN, target_institution_id=unit_id(),
        message="Mohon ditindaklanjuti segera.")
    act(number, Action.ACCEPT, LIAISON)
    assert report_by(number).status is ReportStatus.IN_PROGRESS


def answered(number, message="Blanko KTP sudah tersedia.\nSilakan datang ke kantor kecamatan."):
    in_progress(number)
    act(number, Action.ANSWER, OPERATOR, message=message)
    assert report_by(number).status is ReportStatus.ANSWERED


def page_of(client, number):
    response = client.get(f"/lacak/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, number, step, **data):
    data["csrf_token"] = csrf_token(client, "/lacak")
    return client.post(f"/lacak/{number}/{step}", data=data)


def events_of(number, kind):
    return db.session.scalars(select(ReportEvent).join(ReportEvent.report).where(
        Report.public_number == number, ReportEvent.kind == kind)).all()


@pytest.fixture
def tracked(demo, client):
    """A report filed by Siti (siti@example.id) and tracked with its code in this session."""
    client.get("/bahasa/en")
    assert file_report(client, category=category_id()).status_code == 302
    code = receipt_code(client)
    response = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                           "code": code})
    assert response.status_code == 302
    return db.session.scalar(select(Report.public_number))


# --------------------------------------------------------------------------- replies
def test_clarification_on_a_report_in_progress_keeps_its_status(tracked, client):
    in_progress(tracked)
    html = page_of(client, tracked)
    assert 'name="message"' in html and "Add a clarification" in html
    assert "I am satisfied" not in html  # nothing to accept before an answer

    response = post(client, tracked, "balas", message="Nomor antrean saya 42.\nTerima kasih.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/lacak/{tracked}")
    assert report_by(tracked).status is ReportStatus.IN_PROGRESS
    [reply] = events_of(tracked, EventKind.REPORTER_REPLY)
    assert reply.message == "Nomor antrean saya 42.\nTerima kasih." and reply.actor_id is None

    html = page_of(client, tracked)
    assert "Your reply has been sent." in html
    assert "Your report has been reopened" not in html
    assert '<p class="report-body">Nomor antrean saya 42.\nTerima kasih.</p>' in html


def test_answer_is_shown_as_plain_text_and_a_reply_reopens_it(tracked, client):
    answered(tracked, message="Baris satu\nBaris dua <script>alert(1)</script>")
    html = page_of(client, tracked)
    assert ('<p class="report-body">Baris satu\nBaris dua '
            '&lt;script&gt;alert(1)&lt;/script&gt;</p>') in html
    assert "<script>alert(1)" not in html
    assert "Not satisfied? Reply to the answer" in html
    assert "I am satisfied, close my report" in html

    response = post(client, tracked, "balas", message="Blanko belum ada di kecamatan Cikupa.")
    assert response.status_code == 302
    report = report_by(tracked)
    assert report.status is ReportStatus.REOPENED
    assert report.answered_at is None
    html = page_of(client, tracked)
    assert "your report has been reopened" in html
    assert "Your report was reopened." in html
    assert 'id="report-status">Reopened<' in html
    assert "I am satisfied" not in html
    # the unit can answer again, and the reporter may again reply or accept
    act(tracked, Action.ANSWER, OPERATOR, message="Blanko sudah dikirim ke Cikupa.")
    assert "I am satisfied, close my report" in page_of(client, tracked)


def test_reply_more_than_ten_days_after_the_answer_is_refused(tracked, client):
    answered(tracked)
    report = report_by(tracked)
    report.answered_at = utcnow() - timedelta(days=9, hours=23)
    db.session.commit()
    assert 'name="message"' in page_of(client, tracked)

    report = report_by(tracked)
    report.answered_at = utcnow() - timedelta(days=10, minutes=1)
    db.session.commit()
    html = page_of(client, tracked)
    assert 'name="message"' not in html
    assert "I am satisfied, close my report" in html  # accepting is still possible

    response = post(client, tracked, "balas", message="Saya belum puas dengan jawabannya.")
    assert response.status_code == 302
    assert "This report can no longer receive replies." in page_of(client, tracked)
    assert report_by(tracked).status is ReportStatus.ANSWERED
    assert events_of(tracked, EventKind.REPORTER_REPLY) == []


def test_empty_or_too_long_reply_is_refused_next_to_the_field(tracked, client):
    in_progress(tracked)
    response = post(client, tracked, "balas", message="   ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="message-errors"' in html and "Write your reply." in html
    assert 'aria-describedby="message-hint message-errors"' in html

    long_text = "Panjang sekali. " * 700  # 11,200 characters
    response = post(client, tracked, "balas", message=long_text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "at most 10,000 characters" in html
    assert long_text.strip() in html  # the typed text is kept
    assert events_of(tracked, EventKind.REPORTER_REPLY) == []


def test_a_closed_report_takes_no_reply(tracked, client):
    answered(tracked)
    assert post(client, tracked, "selesai").status_code == 302
    assert 'name="message"' not in page_of(client, tracked)
    response = post(client, tracked, "balas", message="Satu hal lagi tentang laporan ini.")
    assert response.status_code == 302
    assert report_by(tracked).status is ReportStatus.COMPLETED
    assert events_of(tracked, EventKind.REPORTER_REPLY) == []


# --------------------------------------------------------------------------- accept and rate
def test_accepting_the_answer_completes_and_the_report_is_rated_once(tracked, client):
    answered(tracked)
    response = post(client, tracked, "selesai")
    assert response.status_code == 302
    report = report_by(tracked)
    assert report.status is ReportStatus.COMPLETED and report.completed_at is not None
    assert len(events_of(tracked, EventKind.COMPLETED)) == 1
    html = page_of(client, tracked)
    assert 'name="score"' in html and "I am satisfied" not in html

    for bad in ("0", "6", "abc", ""):
        response = post(client, tracked, "nilai", score=bad, comment="Cukup cepat ditangani.")
        assert response.status_code == 422, bad
        html = response.get_data(as_text=True)
        assert 'id="score-errors"' in html and "Choose a rating from 1 to 5." in html
        assert "Cukup cepat ditangani." in html  # the comment is kept
    assert db.session.scalar(select(func.count()).select_from(ReportRating)) == 0

    response = post(client, tracked, "nilai", score="4", comment="Cukup cepat ditangani.")
    assert response.status_code == 302
    html = page_of(client, tracked)
    assert "Thank you for your rating." in html
    assert "You rated the handling 4 out of 5." in html
    assert 'name="score"' not in html

    response = post(client, tracked, "nilai", score="1", comment="Ganti nilai")
    assert response.status_code == 302
    assert "This report has already been rated." in page_of(client, tracked)
    [rating] = db.session.scalars(select(ReportRating)).all()
    assert (rating.score, rating.comment) == (4, "Cukup cepat ditangani.")


def test_only_an_answered_report_can_be_accepted_or_rated(tracked, client):
    in_progress(tracked)
    assert post(client, tracked, "selesai").status_code == 302
    assert "Only an answered report can be closed." in page_of(client, tracked)
    assert post(client, tracked, "nilai", score="5").status_code == 302
    assert "A report can be rated once it is completed." in page_of(client, tracked)
    assert report_by(tracked).status is ReportStatus.IN_PROGRESS
    assert db.session.scalar(select(func.count()).select_from(ReportRating)) == 0


def test_two_ratings_at_the_same_moment_give_a_message_not_an_error(tracked, client,
                                                                     monkeypatch):
    """The second of two simultaneous ratings passes the domain's check and then meets the
    unique constraint: the reporter reads a message, not a 500."""
    import portal.citizen.views as views

    answered(tracked)
    post(client, tracked, "selesai")
    real_rate = views.rate_report

    def rate_while_another_tab_rates(report, score, comment, *, now):
        rating = real_rate(report, score, comment, now=now)
        db.session.add(ReportRating(report_id=report.id, score=5, created_at=now))
        db.session.flush()  # the unique constraint on report_id fires, as in the race
        return rating

    monkeypatch.setattr(views, "rate_report", rate_while_another_tab_rates)
    response = post(client, tracked, "nilai", score="3")
    assert response.status_code == 302
    monkeypatch.undo()
    assert "This report has already been rated." in page_of(client, tracked)
    assert db.session.scalar(select(func.count()).select_from(ReportRating)) == 0


# --------------------------------------------------------------------------- privacy
def test_internal_notes_and_hidden_follow_ups_never_reach_the_tracking_page(tracked, client):
    act(tracked, Action.NOTE, ADMIN, message="CATATAN-INTERNAL: pelapor sering melapor.")
    act(tracked, Action.VERIFY, ADMIN)
    act(tracked, Action.DISPOSITION, ADMIN, target_institution_id=unit_id(),
        message="INSTRUKSI-DISPOSISI untuk penghubung")
    act(tracked, Action.ACCEPT, LIAISON)
    act(tracked, Action.FOLLOW_UP, OPERATOR, message="TINDAK-LANJUT-TERTUTUP",
        visible_to_reporter=False)
    act(tracked, Action.FOLLOW_UP, OPERATOR, message="Petugas sudah ke lokasi.",
        visible_to_reporter=True)
    act(tracked, Action.NOTE, OPERATOR, message="CATATAN-OPERATOR rahasia")
    act(tracked, Action.ANSWER, OPERATOR, message="Jawaban resmi: blanko tersedia.")
    assert len(events_of(tracked, EventKind.NOTE)) == 3  # the disposition's instruction, too

    html = page_of(client, tracked)
    assert "Petugas sudah ke lokasi." in html
    assert "Jawaban resmi: blanko tersedia." in html
    assert "Dinas Kependudukan dan Pencatatan Sipil" in html  # where it was forwarded
    for secret in ("CATATAN-INTERNAL", "INSTRUKSI-DISPOSISI", "TINDAK-LANJUT-TERTUTUP",
                   "CATATAN-OPERATOR", "Operator Disdukcapil", OPERATOR):
        assert secret not in html
    # nor do they reach the reporter's mailbox: she is mailed the follow-up and the answer only
    mails = [m.body_text for m in mails_to("siti@example.id")]
    assert len(mails) == 3  # the receipt with the code, the follow-up, the answer
    assert "Petugas sudah ke lokasi." in mails[1] and "Jawaban resmi" in mails[2]
    for secret in ("CATATAN-INTERNAL", "INSTRUKSI-DISPOSISI", "TINDAK-LANJUT-TERTUTUP",
                   "CATATAN-OPERATOR"):
        assert not any(secret in mail for mail in mails)
    # answers and follow-ups come with their date
    follow_up = html.index("Petugas sudah ke lokasi.")
    assert re.search(r'<time datetime="[^"]+">[^<]+ WIB</time>\s*<strong>Follow-up</strong>',
                     html[:follow_up])


# --------------------------------------------------------------------------- authorisation
def test_every_post_needs_the_code_in_this_session(tracked, client, app):
    answered(tracked)
    stranger = app.test_client()
    with app.app_context():  # a context of its own, as another browser's requests have
        stranger.get("/bahasa/en")
        token = csrf_token(stranger, "/lacak")
        for step, data in (("balas", {"message": "Saya bukan pelapornya."}), ("selesai", {}),
                           ("nilai", {"score": "1"})):
            response = stranger.post(f"/lacak/{tracked}/{step}",
                                     data={"csrf_token": token, **data})
            assert response.status_code == 302, step
            assert response.headers["Location"].endswith("/lacak"), step
        assert stranger.get(f"/lacak/{tracked}").headers["Location"].endswith("/lacak")
    assert report_by(tracked).status is ReportStatus.ANSWERED
    assert events_of(tracked, EventKind.REPORTER_REPLY) == []
    # an unknown number looks the same as a report one may not see
    response = post(client, "LPR-2026-9999999", "balas", message="Apakah ada yang membaca?")
    assert response.headers["Location"].endswith("/lacak")


def test_forgetting_the_report_on_this_device_ends_access(tracked, client):
    response = client.post("/lacak/keluar", data={"csrf_token": csrf_token(client, "/lacak")})
    assert response.status_code == 302
    assert client.get(f"/lacak/{tracked}").headers["Location"].endswith("/lacak")
    response = post(client, tracked, "balas", message="Masih bisakah saya membalas?")
    assert response.headers["Location"].endswith("/lacak")


def test_replies_are_rate_limited(tracked, client, app):
    in_progress(tracked)
    app.config["REPORTER_ACTION_LIMIT"] = "2 per hour"
    assert post(client, tracked, "balas", message="Balasan pertama.").status_code == 302
    assert post(client, tracked, "balas", message="Balasan kedua.").status_code == 302
    assert post(client, tracked, "balas", message="Balasan ketiga.").status_code == 429
    assert len(events_of(tracked, EventKind.REPORTER_REPLY)) == 2

