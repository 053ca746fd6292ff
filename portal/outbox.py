"""The outbox worker: delivers queued mail (and webhook posts) after the change that queued
it was committed.

It is its own unit of work (one commit per message), so it lives beside the doors, not in the
rules. On PostgreSQL each message is claimed with ``FOR UPDATE SKIP LOCKED``: two workers on two
machines never send the same message.
"""
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime

from flask_mail import Mail, Message
from sqlalchemy import select

from portal.domain import webhooks
from portal.domain.notifications import backoff
from portal.extensions import db
from portal.models import Institution, OutboxChannel, OutboxMessage, OutboxState

# A server that answers "no such mailbox" will say so again: give up after this many tries.
MAX_ATTEMPTS_FOR_REFUSAL = 3


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def _claim_next(now: datetime) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def send_due(mail: Mail, *, now: datetime, limit: int = 100) -> SendResult:
    result = SendResult()
    for _ in range(limit):
        message = _claim_next(now)
        if message is None:
            break
        try:
            if message.channel is OutboxChannel.WEBHOOK:
                _post_webhook(message)
            else:
                mail.send(
                    Message(
                        subject=message.subject,
                        recipients=[message.recipient],
                        body=message.body_text,
                        html=message.body_html,
                    )
                )
        except (smtplib.SMTPRecipientsRefused, webhooks.WebhookRefused) as exc:
            message.attempts += 1
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS_FOR_REFUSAL:
                message.state = OutboxState.FAILED
                result.failed += 1
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                result.deferred += 1
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.next_attempt_at = now + backoff(message.attempts)
            result.deferred += 1
        else:
            message.state = OutboxState.SENT
            message.sent_at = now
            message.attempts += 1
            message.last_error = None
            # The body may hold a tracking code or a name; once delivered it is not kept.
            message.body_text = None
            message.body_html = None
            result.sent += 1
        db.session.commit()
    return result


def _post_webhook(message: OutboxMessage) -> None:
    """POST the row's JSON to its institution's current URL, signed with its secret."""
    institution = db.session.get(Institution, message.institution_id)
    if institution is None or not institution.webhook_url:
        raise webhooks.WebhookRefused("the institution has no webhook URL any more")
    webhooks.post(institution.webhook_url, institution.webhook_secret, message.body_text or "")
