"""The WSGI entry of the local stack: ``wsgi:app`` plus settings the stack passes as JSON in
PORTAL_STACK_OVERRIDES (e.g. plain-HTTP cookies on loopback, rate limits off for a load test
whose thousands of "citizens" all come from 127.0.0.1). Production uses ``wsgi:app``."""
import json
import os

from portal import create_app

app = create_app(json.loads(os.environ.get("PORTAL_STACK_OVERRIDES") or "{}"))
