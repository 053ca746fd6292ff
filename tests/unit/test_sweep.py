"""The deadline sweep: reminders, red escalations and webhooks queued once, set-based; the
automatic completion of answered reports; the webhook channel against a local HTTP sink.

Monday 23 November 2026 is a working day; Jakarta is UTC+7, so a Jakarta day ends at 17:00
UTC. ``NOW`` is Monday 10:00 in Jakarta.
"""
import hashlib
import json
import os
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import event, func, select

from portal.demo import REGENCY
from portal.domain import webhooks
from portal.domain.sweep import completion_cutoff, run_sweep
from portal.extensions import db, mail
from portal.models import (
    DeadlineKind,
    DeadlineNotice,
    EventKind,
    NoticeKind,
    OutboxChannel,
    OutboxMessage,
    OutboxState,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
)
from portal.outbox import send_due
from tests.helpers import node

REGENCY_CODE = REGENCY[0]

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
NATIONAL = "admin.nasional@lapor.example.id"


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=timezone.utc)


OVERDUE = end_of(date(2026, 11, 20))  # Friday: red on Monday
TODAY = end_of(date(2026, 11, 23))  # due tonight
TOMORROW = end_of(date(2026, 11, 24))  # due at the end of the next working day
LATER = end_of(date(2026, 11, 26))  # green




_numbers = iter(range(1, 10**6))


def make_report(due_at: datetime | None, *, unit: str | None = "TNG-DISDUKCAPIL",
                status=ReportStatus.DISPOSITIONED, answered_at=None,
                title="Jalan rusak di depan pasar") -> Report:
    n = next(_numbers)
    report = Report(
        public_number=f"LPR-T-{n:06d}", tracking_code_hash=os.urandom(32),
        kind=ReportKind.COMPLAINT, title=title, body="Isi laporan.", status=status,
        current_institution=node(REGENCY_CODE), current_unit=node(unit) if unit else None,
        answered_at=answered_at, created_at=NOW - timedelta(days=10))
    if due_at is not None:
        report.deadline_kind = DeadlineKind.FOLLOW_UP if unit else DeadlineKind.VERIFICATION
        report.clock_started_at = NOW - timedelta(days=10)
        report.clock_days = 5
        report.due_at = due_at
    db.session.add(report)
    db.session.flush()
    return report


def outbox(channel=OutboxChannel.MAIL):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel)
                              .order_by(OutboxMessage.id)).all()


def mails_about(report: Report) -> dict[str, str]:
    """recipient -> subject of the (digest) mails that list the report."""
    return {m.recipient: m.subject for m in outbox() if report.public_number in m.body_text}


@pytest.fixture
def tree(demo):
    """The demo tree (Kabupaten Tangerang and its units, with their staff)."""
    return node(REGENCY_CODE)


def test_who_gets_what_and_a_second_sweep_sends_nothing(tree):
    red = make_report(OVERDUE, title="Lampu jalan mati")
    today = make_report(TODAY)
    tomorrow = make_report(TOMORROW)
    green = make_report(LATER)
    unverified = make_report(TOMORROW, unit=None, status=ReportStatus.SUBMITTED)
    closed = make_report(None, status=ReportStatus.COMPLETED)
    db.session.commit()

    result = run_sweep(NOW)
    db.session.commit()
    assert result.notices[NoticeKind.OVERDUE] == 1
    assert result.notices[NoticeKind.DAY] == 1
    assert result.notices[NoticeKind.BEFORE] == 2
    assert mails_about(green) == {} and mails_about(closed) == {}
    assert set(mails_about(today)) == {LIAISON, OPERATOR}
    assert "today" in mails_about(today)[LIAISON] or "hari ini" in mails_about(today)[LIAISON]
    assert set(mails_about(tomorrow)) == {LIAISON, OPERATOR}
    assert set(mails_about(unverified)) == {ADMIN}  # verification: the institution admin
    assert set(mails_about(red)) == {ADMIN, SUPERVISOR}  # escalation
    # One digest per recipient and kind: the liaison hears of "today" and "tomorrow" apart.
    assert sorted((m.recipient, m.subject) for m in outbox()) == sorted(
        {(m.recipient, m.subject) for m in outbox()})
    count = len(outbox())
    assert count == result.mails == 7

    # Staff mail names the report, never the reporter; it links to the staff page.
    body = next(m.body_text for m in outbox() if m.recipient == SUPERVISOR)
    assert red.public_number in body and "Lampu jalan mati" in body
    assert f"/staf/laporan/{red.public_number}" in body

    again = run_sweep(NOW)
    db.session.commit()
    assert again.mails == 0 and sum(again.notices.values()) == 0
    assert len(outbox()) == count
    assert db.session.scalar(select(func.count(DeadlineNotice.id))) == 4

    # The next day the two due "tomorrow" are due today; the red one is not repeated.
    later = run_sweep(NOW + timedelta(days=1))
    db.session.commit()
    assert later.notices[NoticeKind.DAY] == 2 and later.notices[NoticeKind.OVERDUE] == 1
    assert set(mails_about(today)) == {LIAISON, OPERATOR, ADMIN, SUPERVISOR}  # today's turned red


def test_a_report_turning_red_gets_an_internal_event_once(tree):
    red = make_report(OVERDUE)
    db.session.commit()
    run_sweep(NOW)
    run_sweep(NOW + timedelta(minutes=5))
    db.session.commit()
    events = db.session.scalars(select(ReportEvent).where(
        ReportEvent.report_id == red.id, ReportEvent.kind == EventKind.OVERDUE)).all()
    assert len(events) == 1
    assert events[0].visible_to_reporter is False and events[0].actor_id is None
    assert events[0].due_at == OVERDUE and events[0].status_after is ReportStatus.DISPOSITIONED


def test_a_moved_deadline_is_noticed_again(tree):
    report = make_report(TOMORROW)
    db.session.commit()
    run_sweep(NOW)
    db.session.commit()
    report.due_at = end_of(date(2026, 11, 25))
    db.session.commit()
    run_sweep(NOW + timedelta(days=1))  # Tuesday: the new deadline is tomorrow
    db.session.commit()
    kinds = db.session.scalars(select(DeadlineNotice.kind).where(
        DeadlineNotice.report_id == report.id)).all()
    assert kinds == [NoticeKind.BEFORE, NoticeKind.BEFORE]


@contextmanager
def counting_statements():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_statement_count_does_not_depend_on_the_number_of_reports(tree):
    def sweep_statements(size: int, at: datetime) -> int:
        for i in range(size):
            make_report(OVERDUE if i % 2 else TOMORROW)
            make_report(None, status=ReportStatus.ANSWERED, answered_at=NOW - timedelta(days=30))
        db.session.commit()
        with counting_statements() as statements:
            run_sweep(at)
            db.session.commit()
        return len(statements)

    small = sweep_statements(5, NOW)
    large = sweep_statements(50, NOW + timedelta(minutes=1))
    assert small == large <= 12


def test_answered_reports_without_a_reply_are_completed_after_ten_working_days(tree):
    # Answered Monday 9 November (Jakarta): ten working days end Monday 23 November.
    answered = datetime(2026, 11, 9, 3, 0, tzinfo=timezone.utc)
    waiting = make_report(None, status=ReportStatus.ANSWERED, answered_at=answered)
    recent = make_report(None, status=ReportStatus.ANSWERED,
                         answered_at=answered + timedelta(days=1))
    db.session.commit()
    assert completion_cutoff(date(2026, 11, 24), 10, ()) == datetime(2026, 11, 9, 17, 0,
                                                                     tzinfo=timezone.utc)

    assert run_sweep(NOW).completed == 0  # Monday 23: the tenth day is still running
    db.session.commit()
    tuesday = NOW + timedelta(days=1)
    result = run_sweep(tuesday)
    db.session.commit()
    assert result.completed == 1
    waiting, recent = db.session.get(Report, waiting.id), db.session.get(Report, recent.id)
    assert waiting.status is ReportStatus.COMPLETED and waiting.completed_at == tuesday
    assert recent.status is ReportStatus.ANSWERED
    events = [e for e in waiting.events if e.kind is EventKind.COMPLETED]
    assert len(events) == 1 and events[0].visible_to_reporter and events[0].actor_id is None
    assert run_sweep(tuesday).completed == 0


def test_the_policy_of_the_institution_decides_the_completion(tree):
    from portal.domain.deadlines import Policy, save_policy

    save_policy(tree, Policy(auto_complete_days=3), actor=None, now=NOW)
    report = make_report(None, status=ReportStatus.ANSWERED,
                         answered_at=datetime(2026, 11, 17, 3, 0, tzinfo=timezone.utc))
    db.session.commit()
    assert run_sweep(NOW).completed == 1  # Tue 17 + 3 working days = Fri 20
    db.session.commit()
    assert db.session.get(Report, report.id).status is ReportStatus.COMPLETED


# ----------------------------------------------------------------------------- webhooks
class Sink:
    """A local HTTP receiver on a free port, recording each POST (headers and raw body)."""

    def __init__(self):
        self.posts: list[tuple[dict, bytes]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.posts.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def sink():
    receiver = Sink()
    yield receiver
    if receiver.thread is not None and receiver.thread.is_alive():
        receiver.stop()


def test_one_digest_per_recipient_and_kind_lists_every_report(tree):
    reds = [make_report(OVERDUE, title=f"Banjir {i}") for i in range(3)]
    tomorrows = [make_report(TOMORROW) for _ in range(2)]
    db.session.commit()
    result = run_sweep(NOW)
    db.session.commit()
    assert result.notices[NoticeKind.OVERDUE] == 3 and result.notices[NoticeKind.BEFORE] == 2
    mails = outbox()
    assert sorted(m.recipient for m in mails) == sorted([ADMIN, SUPERVISOR, LIAISON, OPERATOR])
    assert result.mails == 4
    by_recipient = {m.recipient: m for m in mails}
    for email, reports in ((ADMIN, reds), (SUPERVISOR, reds),
                           (LIAISON, tomorrows), (OPERATOR, tomorrows)):
        mail = by_recipient[email]
        assert str(len(reports)) in mail.subject
        for report in reports:
            assert report.public_number in mail.body_text
            assert report.public_number in mail.body_html
            assert f"/staf/laporan/{report.public_number}" in mail.body_text
    assert "Banjir 2" in by_recipient[SUPERVISOR].body_text
    assert tomorrows[0].public_number not in by_recipient[SUPERVISOR].body_text
    assert "/staf/pengawasan" not in by_recipient[SUPERVISOR].body_text  # nothing left out


def test_a_long_digest_lists_the_first_reports_and_counts_the_rest(tree, monkeypatch):
    from portal.domain import sweep

    monkeypatch.setattr(sweep, "DIGEST_LIMIT", 2)
    reds = [make_report(OVERDUE) for _ in range(5)]
    db.session.commit()
    assert run_sweep(NOW).mails == 2  # the admin and the supervisor
    db.session.commit()
    mail = next(m for m in outbox() if m.recipient == SUPERVISOR)
    assert "5" in mail.subject
    listed = [r for r in reds if r.public_number in mail.body_text]
    assert listed == reds[:2]
    assert "3" in mail.body_text and "/staf/pengawasan" in mail.body_text
    assert "/staf/pengawasan" in mail.body_html


def test_one_signed_webhook_per_kind_delivered_once(tree, sink):
    tree.webhook_url, tree.webhook_secret = sink.url, "s3cret"
    red = make_report(OVERDUE)
    make_report(TOMORROW)
    second = make_report(TOMORROW)
    db.session.commit()
    result = run_sweep(NOW)
    db.session.commit()
    assert result.webhooks == 2 and len(outbox(OutboxChannel.WEBHOOK)) == 2

    sink.start()
    sent = send_due(mail, now=NOW)
    assert sent.sent == result.mails + 2
    assert len(sink.posts) == 2
    for headers, body in sink.posts:
        assert webhooks.verify("s3cret", body, headers.get("X-Lapor-Signature"))
        assert headers["X-Lapor-Signature"] == "sha256=" + __import__("hmac").new(
            b"s3cret", body, hashlib.sha256).hexdigest()
    payloads = {json.loads(body)["kind"]: json.loads(body) for _, body in sink.posts}
    assert payloads["overdue"]["count"] == 1 and payloads["before"]["count"] == 2
    assert payloads["overdue"]["institution"] == "Pemerintah Kabupaten Tangerang"
    [overdue] = payloads["overdue"]["reports"]
    assert overdue["report"] == red.public_number
    assert overdue["unit"] == "Dinas Kependudukan dan Pencatatan Sipil"
    assert overdue["due_date"] == "2026-11-20"
    assert overdue["link"].endswith(f"/staf/laporan/{red.public_number}")
    assert second.public_number in [r["report"] for r in payloads["before"]["reports"]]
    assert set(payloads["before"]) == set(payloads["overdue"])  # no identity field anywhere
    for report in payloads["before"]["reports"]:
        assert set(report) == set(overdue)
    assert not {"name", "email", "phone", "nik", "reporter"} & (set(payloads["overdue"])
                                                                  | set(overdue))

    assert send_due(mail, now=NOW + timedelta(hours=2)).sent == 0
    assert len(sink.posts) == 2


def test_a_webhook_to_a_receiver_that_is_down_is_retried_with_back_off(tree, sink):
    tree.webhook_url, tree.webhook_secret = sink.url, "s3cret"
    db.session.commit()
    # The sink is bound but not serving: shut the socket so the port refuses connections.
    sink.server.server_close()
    make_report(OVERDUE)
    db.session.commit()
    run_sweep(NOW)
    db.session.commit()
    hook = outbox(OutboxChannel.WEBHOOK)[0]
    send_due(mail, now=NOW)
    db.session.refresh(hook)
    assert hook.state is OutboxState.PENDING and hook.attempts == 1
    assert hook.next_attempt_at == NOW + timedelta(seconds=30) and hook.last_error

    # Up again on the same port: not before the back-off, then exactly once.
    sink.server = HTTPServer(("127.0.0.1", sink.port), sink.server.RequestHandlerClass)
    sink.start()
    send_due(mail, now=NOW + timedelta(seconds=10))
    assert sink.posts == []
    send_due(mail, now=NOW + timedelta(seconds=31))
    send_due(mail, now=NOW + timedelta(minutes=5))
    db.session.refresh(hook)
    assert hook.state is OutboxState.SENT and hook.attempts == 2
    assert len(sink.posts) == 1 and hook.body_text is None


def test_a_receiver_refusing_the_post_gives_up_after_three_tries(tree, sink):
    tree.webhook_url = sink.url
    db.session.commit()
    make_report(OVERDUE)
    db.session.commit()
    run_sweep(NOW)
    db.session.commit()

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(410)
            self.end_headers()

        def log_message(self, *args):
            pass

    sink.server.RequestHandlerClass = Refusing
    sink.start()
    hook = outbox(OutboxChannel.WEBHOOK)[0]
    for minutes in (0, 10, 20):
        send_due(mail, now=NOW + timedelta(minutes=minutes))
    db.session.refresh(hook)
    assert hook.state is OutboxState.FAILED and hook.attempts == 3


def test_sweep_command(tree, runner):
    make_report(OVERDUE)
    db.session.commit()
    result = runner.invoke(args=["deadlines", "sweep"])
    assert result.exit_code == 0, result.output
    assert "sweep:" in result.output


def test_webhook_command_sets_a_url_and_a_secret(tree, runner):
    result = runner.invoke(args=["deadlines", "webhook-set", REGENCY_CODE,
                                 "https://wa-gateway.example.id/hook"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    regency = node(REGENCY_CODE)
    assert regency.webhook_url == "https://wa-gateway.example.id/hook"
    assert len(regency.webhook_secret) == 64 and regency.webhook_secret in result.output
    refused = runner.invoke(args=["deadlines", "webhook-set", REGENCY_CODE, "ftp://x"])
    assert refused.exit_code != 0
    cleared = runner.invoke(args=["deadlines", "webhook-set", REGENCY_CODE])
    assert cleared.exit_code == 0
    db.session.expire_all()
    assert node(REGENCY_CODE).webhook_url is None


def test_mail_bodies_carry_each_reports_facts_escaped_in_html(tree):
    odd = make_report(OVERDUE, title='Got <script> & "banjir"', unit="TNG-DISHUB")
    plain = make_report(TOMORROW, title="Lampu mati")
    db.session.commit()
    run_sweep(NOW)
    db.session.commit()
    odd_mail = next(m for m in outbox() if odd.public_number in m.body_text)
    assert 'Got <script> & "banjir"' in odd_mail.body_text
    assert "Got &lt;script&gt; &amp; &#34;banjir&#34;" in odd_mail.body_html
    assert "<script>" not in odd_mail.body_html
    assert "Dinas Perhubungan" in odd_mail.body_text and "20 Nov 2026" in odd_mail.body_text
    plain_mail = next(m for m in outbox() if plain.public_number in m.body_text)
    assert "Lampu mati" in plain_mail.body_html and "24 Nov 2026" in plain_mail.body_text
    assert odd.public_number not in plain_mail.body_text
    for message in outbox():
        assert "{{" not in message.subject + message.body_text + message.body_html


# ----------------------------------------------------------------------------- calendars
def _regional_day_off(code: str, day: date) -> None:
    from portal.models import Holiday

    db.session.add(Holiday(day=day, name="Hari jadi daerah", institution=node(code)))
    db.session.flush()


def test_a_regional_day_off_tomorrow_brings_the_reminder_forward(tree):
    # Tuesday 24 is a day off at the transport office only: its next working day after
    # Monday is Wednesday, so a deadline at the end of Wednesday is a reminder today there,
    # and still green at the population office.
    _regional_day_off("TNG-DISHUB", date(2026, 11, 24))
    wednesday = end_of(date(2026, 11, 25))
    regional = make_report(wednesday, unit="TNG-DISHUB")
    national = make_report(wednesday, unit="TNG-DISDUKCAPIL")
    db.session.commit()

    result = run_sweep(NOW)
    db.session.commit()
    assert result.notices[NoticeKind.BEFORE] == 1
    noticed = db.session.scalars(select(DeadlineNotice.report_id)).all()
    assert noticed == [regional.id]
    assert mails_about(national) == {}


def test_yellow_counts_follow_each_units_calendar(tree):
    from portal.domain.calendars import yellow_clause

    _regional_day_off("TNG-DISHUB", date(2026, 11, 24))
    wednesday = end_of(date(2026, 11, 25))
    regional = make_report(wednesday, unit="TNG-DISHUB")
    make_report(wednesday, unit="TNG-DISDUKCAPIL")  # green: Tuesday is a working day there
    tonight = make_report(TODAY, unit="TNG-DISDUKCAPIL")
    make_report(OVERDUE, unit="TNG-DISHUB")  # red, not yellow
    db.session.commit()
    yellow = db.session.scalars(select(Report.id).where(yellow_clause(NOW))
                                .order_by(Report.id)).all()
    assert yellow == sorted([regional.id, tonight.id])


def test_a_regional_day_off_delays_the_automatic_completion(tree):
    # Answered Monday 9 November: ten working days end on Monday 23 nationally, so the report
    # is completed on Tuesday 24; with a day off on Wednesday 18 at the transport office, its
    # tenth working day is Tuesday 24 and it is completed on Wednesday 25.
    _regional_day_off("TNG-DISHUB", date(2026, 11, 18))
    answered = datetime(2026, 11, 9, 3, 0, tzinfo=timezone.utc)
    regional = make_report(None, unit="TNG-DISHUB", status=ReportStatus.ANSWERED,
                           answered_at=answered)
    national = make_report(None, status=ReportStatus.ANSWERED, answered_at=answered)
    db.session.commit()

    assert run_sweep(NOW + timedelta(days=1)).completed == 1
    db.session.commit()
    assert db.session.get(Report, national.id).status is ReportStatus.COMPLETED
    assert db.session.get(Report, regional.id).status is ReportStatus.ANSWERED
    assert run_sweep(NOW + timedelta(days=2)).completed == 1
    db.session.commit()
    assert db.session.get(Report, regional.id).status is ReportStatus.COMPLETED


def test_a_supervisor_of_the_institution_and_of_a_unit_counts_each_red_report_once(tree):
    from portal.models import Membership, Role
    from tests.helpers import user

    db.session.add(Membership(user=user(SUPERVISOR), institution=node("TNG-DISDUKCAPIL"),
                              role=Role.SUPERVISOR))
    reds = [make_report(OVERDUE, unit="TNG-DISDUKCAPIL") for _ in range(2)]
    reds.append(make_report(OVERDUE, unit="TNG-DISHUB"))
    db.session.commit()

    run_sweep(NOW)
    db.session.commit()
    mails = [m for m in outbox() if m.recipient == SUPERVISOR]
    assert len(mails) == 1
    assert "3" in mails[0].subject and "5" not in mails[0].subject
    assert all(report.public_number in mails[0].body_text for report in reds)
    assert "/staf/pengawasan" not in mails[0].body_text  # nothing left out, nothing counted twice
