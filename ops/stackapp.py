"""The WSGI entry of the local stack: ``wsgi:app`` plus settings the stack passes as JSON in
PORTAL_STACK_OVERRIDES (e.g. plain-HTTP cookies on loopback, rate limits off for a load test
whose thousands of "citizens" all come from 127.0.0.1). Production uses ``wsgi:app``."""
import json
import os

from portal import create_app

app = create_app(json.loads(os.environ.get("PORTAL_STACK_OVERRIDES") or "{}"))

if os.environ.get("PORTAL_STACK_FAULTS") == "1":
    # Fault drills only (ops/faults.py): a request carrying X-Fault-Delay: N waits N seconds
    # right before its commit, with its rows flushed and its files written, so that the drill
    # can kill the worker in the middle of the transaction.
    import time

    from flask import has_request_context, request
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "before_commit")
    def _delay_before_commit(session):
        if has_request_context() and request.headers.get("X-Fault-Delay"):
            session.flush()
            time.sleep(float(request.headers["X-Fault-Delay"]))
