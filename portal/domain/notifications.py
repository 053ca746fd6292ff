"""Notifications through the transactional outbox.

``queue_mail`` writes an outbox row in the caller's transaction; ``portal.outbox.send_due``
(run by ``flask outbox send`` or the worker) delivers it after the change was committed.
Mail is written in Indonesian, the portal's language, whatever language the actor browses in.
"""
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale

from portal.extensions import db
from portal.models import OutboxMessage, OutboxState

MAIL_LOCALE = "id"
MAX_BACKOFF = timedelta(hours=1)


def queue_mail(*, recipient: str, subject, template: str, now: datetime, **context) -> OutboxMessage:
    with force_locale(MAIL_LOCALE):
        message = OutboxMessage(
            recipient=recipient,
            subject=str(subject),
            body_text=render_template(f"emails/{template}.txt", **context),
            body_html=render_template(f"emails/{template}.html", **context),
            state=OutboxState.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
    db.session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


