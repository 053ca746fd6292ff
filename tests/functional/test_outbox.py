"""The mail outbox against a real SMTP server (aiosmtpd on loopback)."""
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

import portal
from portal.extensions import db, mail
from portal.models import Category, OutboxMessage, OutboxState, Report
from portal.models.types import utcnow
from portal.outbox import send_due
from tests.helpers import file_report, receipt_code

ID_CATALOG = Path(portal.__file__).parent / "translations" / "id" / "LC_MESSAGES" / "messages.mo"
RECEIVED = "Thank you. Your report has been received."
CODE_LABEL = "Your secret tracking code"


@pytest.fixture
def outbox_app(app):
    """Mail really leaves (Flask-Mail suppresses sending under TESTING unless told otherwise),
    and only when a test runs the outbox."""
    app.config["MAIL_SUPPRESS_SEND"] = False
    app.config["OUTBOX_SEND_AFTER_REQUEST"] = False
    mail.init_app(app)
    return app


@pytest.fixture
def sink(outbox_app, request):
    return request.getfixturevalue("smtp_sink")


def category_id() -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def file_and_read_code(client, **overrides) -> str:
    response = file_report(client, category=category_id(), **overrides)
    assert response.status_code == 302, response.get_data(as_text=True)
    return receipt_code(client)


def indonesian(app, text: str) -> str:
    with app.test_request_context(), force_locale("id"):
        return gettext(text)


def send(runner) -> str:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def test_filed_report_queues_one_pending_message_in_its_own_transaction(demo, outbox_app, client):
    code = file_and_read_code(client)

    [message] = outbox()
    report = db.session.scalar(select(Report))
    assert message.state is OutboxState.PENDING
    assert message.recipient == "siti@example.id"
    assert message.attempts == 0
    assert message.created_at == report.created_at  # written with the report, same clock
    assert message.next_attempt_at <= utcnow()
    assert code in message.body_text and code in message.body_html
    assert report.public_number in message.subject


def test_failed_commit_queues_no_mail(demo, outbox_app, client, monkeypatch):
    real_commit = db.session.commit
    calls = []

    def failing_commit():
        calls.append(1)
        if len(calls) == 1:
            raise SQLAlchemyError("database went away")
        return real_commit()

    monkeypatch.setattr(db.session, "commit", failing_commit)
    response = file_report(client, category=category_id())
    monkeypatch.undo()

    assert calls, "the view never committed"
    assert response.status_code >= 500
    assert outbox() == []
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_send_delivers_once_with_the_code_and_wipes_the_body(demo, outbox_app, sink, client,
                                                            runner):
    code = file_and_read_code(client)
    number = db.session.scalar(select(Report.public_number))

    assert "sent 1" in send(runner)

    assert len(sink.messages) == 1
    delivered = sink.messages[0]
    assert delivered["To"] == "siti@example.id"
    assert number in delivered["Subject"]
    text_part = delivered.get_body(preferencelist=("plain",)).get_content()
    html_part = delivered.get_body(preferencelist=("html",)).get_content()
    assert code in text_part and code in html_part
    assert number in text_part

    [message] = outbox()
    assert message.state is OutboxState.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.body_text is None and message.body_html is None
    stored = db.session.execute(
        select(OutboxMessage.body_text, OutboxMessage.body_html)).one()
    assert tuple(stored) == (None, None)

    assert "sent 0" in send(runner)
    assert len(sink.messages) == 1


def test_mail_is_written_in_indonesian(demo, outbox_app, sink, client, runner):
    """Whatever language the reporter browses in, the mail is in Bahasa Indonesia."""
    client.get("/bahasa/en")
    code = file_and_read_code(client)
    send(runner)
    [delivered] = sink.messages
    text_part = delivered.get_body(preferencelist=("plain",)).get_content()
    assert code in text_part
    assert indonesian(outbox_app, CODE_LABEL) in text_part
    assert indonesian(outbox_app, RECEIVED) in text_part
    if ID_CATALOG.exists():
        # With the Indonesian catalog compiled, the mail must not fall back to English.
        assert RECEIVED not in text_part
        assert CODE_LABEL not in text_part


def test_smtp_down_backs_off_then_delivers_exactly_once(demo, outbox_app, client, runner,
                                                        request):
    code = file_and_read_code(client)
    # MAIL_PORT points at port 1 (app_config): nothing listens, the connection is refused.
    before = utcnow()
    output = send(runner)
    assert "sent 0" in output and "deferred 1" in output

    [message] = outbox()
    assert message.state is OutboxState.PENDING
    assert message.attempts == 1
    assert message.sent_at is None
    assert message.last_error
    assert message.next_attempt_at > before + timedelta(seconds=10)
    assert code in message.body_text  # kept until it has really left

    # The server is back, but the back-off has not passed: nothing is tried.
    sink = request.getfixturevalue("smtp_sink")
    assert send_due(mail, now=utcnow()).sent == 0
    assert sink.messages == []
    assert outbox()[0].attempts == 1

    later = message.next_attempt_at + timedelta(seconds=1)
    assert send_due(mail, now=later).sent == 1
    assert send_due(mail, now=later + timedelta(hours=2)).sent == 0
    assert send(runner).startswith("sent 0")

    assert len(sink.messages) == 1
    text_part = sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert code in text_part
    [message] = outbox()
    assert message.state is OutboxState.SENT
    assert message.attempts == 2
    assert message.body_text is None


def test_back_off_grows_between_failures(demo, outbox_app, client):
    file_and_read_code(client)
    now = utcnow()
    waits = []
    for _ in range(3):
        assert send_due(mail, now=now).deferred == 1
        [message] = outbox()
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    assert waits[0] < waits[1] < waits[2]
    assert outbox()[0].attempts == 3
    assert outbox()[0].state is OutboxState.PENDING


def test_anonymous_report_without_email_queues_nothing(demo, outbox_app, sink, client, runner):
    file_and_read_code(client, is_anonymous="y", name="", email="")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    assert outbox() == []
    assert "sent 0" in send(runner)
    assert sink.messages == []


def test_report_with_phone_only_queues_nothing(demo, outbox_app, client):
    file_and_read_code(client, email="", phone="0812 3456 7890")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    assert outbox() == []
