"""The outbox under faults, against a real SMTP server (aiosmtpd on loopback): the server down
for a while, then back (everything leaves once); two workers at once on PostgreSQL (two
machines in production) never send one message twice (FOR UPDATE SKIP LOCKED).

On SQLite the claim takes no row lock: there the outbox is run by one worker only (the
development set-up, `make run`); docs/DEPLOYMENT.md says so."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db, mail
from portal.models import OutboxChannel, OutboxMessage, OutboxState
from portal.models.types import utcnow
from portal.outbox import send_due


@pytest.fixture
def sink(app, smtp_sink):
    app.config["OUTBOX_SEND_AFTER_REQUEST"] = False
    return smtp_sink


def queue(count: int) -> None:
    now = utcnow()
    for number in range(count):
        db.session.add(OutboxMessage(
            channel=OutboxChannel.MAIL, recipient=f"warga{number}@example.id",
            subject=f"Pesan {number}", body_text=f"Isi pesan {number}", body_html=None,
            created_at=now, next_attempt_at=now))
    db.session.commit()


def subjects(sink) -> list[str]:
    return sorted(str(message["Subject"]) for message in sink.messages)


def states() -> dict:
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    return {state: sum(1 for row in rows if row.state is state) for state in OutboxState}


def test_smtp_down_for_a_while_then_every_mail_leaves_once(app, sink):
    queue(5)
    sink.stop()  # the SMTP server goes away (connection refused)
    now = utcnow()
    result = send_due(mail, now=now)
    assert (result.sent, result.deferred) == (0, 5)
    later = now + timedelta(minutes=5)  # still down at the next tries
    assert send_due(mail, now=later).deferred == 5
    assert states()[OutboxState.PENDING] == 5 and sink.messages == []

    sink.start()  # back, on the same port
    much_later = now + timedelta(hours=3)
    assert send_due(mail, now=much_later).sent == 5
    assert send_due(mail, now=much_later + timedelta(hours=3)).sent == 0
    assert subjects(sink) == sorted(f"Pesan {n}" for n in range(5))
    assert states()[OutboxState.SENT] == 5


def test_two_workers_at_once_never_send_a_message_twice(app, sink):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one outbox worker (no row locks); PostgreSQL claims with "
                    "FOR UPDATE SKIP LOCKED")
    total = 40
    queue(total)
    now = utcnow() + timedelta(seconds=1)
    start = threading.Barrier(2)
    sent, errors = [], []

    def worker():
        try:
            with app.app_context():  # its own session and connection, like another machine
                start.wait()
                sent.append(send_due(mail, now=now, limit=total).sent)
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(sent) == total
    assert all(count > 0 for count in sent), sent  # both really worked, side by side
    assert subjects(sink) == sorted(f"Pesan {n}" for n in range(total))  # each exactly once
    assert states()[OutboxState.SENT] == total
