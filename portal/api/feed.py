"""The feed API: another system (the national LAPOR!) posts reports with its own ids.

``POST /api/feed/v1/reports`` with ``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``)
and a body of one JSON object or a JSON array of at most 500 (the fields: README, "National
feed"). The answer, in English, says per row (``index`` from 0) whether it was ``created``,
``exists`` (sent before by this source: nothing changed) or is ``invalid`` (with its
``errors``), and gives the report's public number. 200 when at least one row was taken or
known, 422 when every row is invalid; 400 for a body that is not JSON, 401 for a missing, wrong
or disabled key, 413 for a body over 10 MB or more than 500 rows, 429 past the rate limit per
key (``FEED_API_LIMIT``), 503 when the database cannot save. Every error is JSON:
``{"error": "..."}``.

Key-authenticated, not cookie-authenticated: no CSRF token (``csrf.exempt``).
"""
from flask import Blueprint, current_app, jsonify, request
from flask_babel import force_locale
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from portal.domain import DomainError, api_keys, feed
from portal.extensions import csrf, db, limiter
from portal.models.types import utcnow
from portal.storage import AttachmentStore

blueprint = Blueprint("feed_api", __name__, url_prefix="/api/feed/v1")
csrf.exempt(blueprint)

MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_LIMIT = "60 per minute"
REALM = 'Bearer realm="lapor-feed"'


def _presented_key() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def _rate_limit_key() -> str:
    """Per key (by its hash: the limiter's storage never holds a key); without a key, per
    address."""
    return api_keys.limiter_key("feed", _presented_key(), request.remote_addr)


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return response


@blueprint.errorhandler(413)  # by code too: the app's own 413 and 429 handlers are by code
@blueprint.errorhandler(429)  # (portal/security.py), and Flask tries codes before classes
@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException):
    messages = {
        413: f"The body is too large (at most {MAX_BODY_BYTES // (1024 * 1024)} MB).",
        429: f"Too many requests for this key ({error.description}). Wait and send again.",
    }
    return _error(error.code or 500, messages.get(error.code, error.description or error.name))


@blueprint.errorhandler(Exception)
def unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("feed API: unexpected error")
    return _error(500, "Something went wrong on our side; nothing was saved. Send again later.")


@blueprint.get("/reports")
def reports_get():
    """Reports are only sent here, never read: 405, in JSON like every answer of this API."""
    response = _error(405, "Only POST: send one report (a JSON object) or an array of them.")
    response.headers["Allow"] = "POST"
    return response


def _result(outcome: feed.RowOutcome) -> dict:
    item = {"index": outcome.line, "status": outcome.status.value}
    if outcome.external_id is not None:
        item["external_id"] = outcome.external_id
    if outcome.number is not None:
        item["number"] = outcome.number
    if outcome.problems:
        item["errors"] = [{"field": p.field, "message": str(p.message)}
                          for p in outcome.problems]
    return item


@blueprint.post("/reports")
@limiter.limit(lambda: current_app.config.get("FEED_API_LIMIT", DEFAULT_LIMIT),
               key_func=_rate_limit_key)
def post_reports():
    source = feed.authenticate(_presented_key())
    if source is None:
        return _error(401, "Give a valid API key: 'Authorization: Bearer <key>' or "
                           "'X-API-Key: <key>'. The key is missing, wrong or disabled.")
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=False)  # over the limit: 413
    try:
        body = feed.loads_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _error(400, "The body is not UTF-8 text.")
    except ValueError as error:  # JSONDecodeError, or a field given twice
        return _error(400, f"The body is not valid JSON: {error}.")
    if isinstance(body, dict):
        rows = [body]
    elif isinstance(body, list):
        rows = body
    else:
        return _error(400, "Send one JSON object (a report) or an array of them.")
    if not rows:
        return _error(400, "The array holds no report.")
    if len(rows) > feed.MAX_ROWS_PER_REQUEST:
        return _error(413, f"At most {feed.MAX_ROWS_PER_REQUEST} reports per request; send "
                           f"the rest in another one.")
    parsed = [feed.ParsedRow(line=index, data=row) for index, row in enumerate(rows)]
    try:
        summary = feed.import_rows(source, parsed, now=utcnow(),
                                   store=AttachmentStore(current_app.config["UPLOAD_FOLDER"]))
        db.session.commit()
    except DomainError as error:  # the source was disabled a moment ago
        db.session.rollback()
        return _error(401, str(error.message))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("feed API: the database refused the import")
        return _error(503, "The reports could not be saved now; nothing was saved. Send "
                           "again in a moment.")
    with force_locale("en"):
        results = [_result(outcome) for outcome in summary.outcomes]
    response = jsonify(source=source.code, created=summary.created, exists=summary.existing,
                       invalid=summary.invalid, results=results)
    response.status_code = 422 if summary.invalid == len(rows) else 200
    return response
