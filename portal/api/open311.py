"""Open311 GeoReport v2 under ``/open311/v2/`` (https://wiki.open311.org/GeoReport_v2).

Reading needs no key: ``services.{json,xml}``, ``services/{service_code}.{json,xml}``,
``requests.{json,xml}`` (filters service_request_id, service_code, start_date, end_date,
status; the last 90 days and at most 1,000 by default) and
``requests/{service_request_id}.{json,xml}`` show public data only (portal/domain/open311.py).
``POST requests.{json,xml}`` files a report with an ``api_key`` that an institution
administrator issued to a channel (/staf/kelola/api). The answer is the spec's
``service_request_id`` (the public number), ``service_notice`` and ``account_id``, and one
field the spec does not have: ``tracking_code``, the reporter's secret code, given only in this
answer to the authenticated client, which passes it to the citizen by its own means (an SMS,
the app). It is never stored and never shown by a GET. When the reporter gave an e-mail
address, it is mailed too, as on the web.

``jurisdiction_id`` is optional; when given it must be ours (``OPEN311_JURISDICTION_ID``,
by default the host of PUBLIC_BASE_URL), else 404. Errors are in the spec's format, in English:
``[{"code": 400, "description": "..."}]`` or ``<errors><error><code>400</code><description>
...</description></error></errors>``, with 400 (bad input), 403 (a missing, wrong or disabled
key), 404, 405, 413 (a body over 1 MB), 429 (the rate limit: ``OPEN311_API_LIMIT`` per key for
POST, ``OPEN311_READ_LIMIT`` per address for GET), 500 and 503. ``openapi.json`` describes it all
(portal/api/open311_openapi.py).

Key-authenticated, not cookie-authenticated: no CSRF token (``csrf.exempt``).
"""
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import force_locale
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from portal.api.open311_openapi import openapi_document
from portal.domain import DomainError, api_clients, api_keys, open311
from portal.extensions import csrf, db, limiter
from portal.models.types import utcnow
from portal.storage import AttachmentStore

blueprint = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(blueprint)

FORMATS = ("json", "xml")
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_POST_LIMIT = "60 per minute"
DEFAULT_READ_LIMIT = "120 per minute"
EVERY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Characters XML 1.0 cannot hold (control characters but tab and line breaks, lone surrogates,
# U+FFFE and U+FFFF): dropped from the XML answer.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def jurisdiction_id() -> str:
    configured = current_app.config.get("OPEN311_JURISDICTION_ID")
    if configured:
        return configured
    return urlsplit(current_app.config.get("PUBLIC_BASE_URL", "")).hostname or "localhost"


class ApiError(Exception):
    def __init__(self, code: int, description: str, headers: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.headers = code, description, headers or {}


# ----------------------------------------------------------------------------- rendering
def _format() -> str:
    """The answer's format: from the path's extension; JSON where there is none."""
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_xml_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_xml_element(tag.rstrip("s") or "item", item))
    else:
        element.text = _xml_text(value)
    return element


def _xml(root: str, item: str, rows: list[dict]) -> bytes:
    element = ET.Element(root)
    for row in rows:
        element.append(_xml_element(item, row))
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _answer(rows, *, root: str, item: str, status: int = 200, single: bool = False):
    """``rows`` (a list of dicts; one dict with ``single``) as JSON or XML."""
    if _format() == "xml":
        element = _xml_element(item, rows) if single else None
        body = (ET.tostring(element, encoding="utf-8", xml_declaration=True) if single
                else _xml(root, item, rows))
        return Response(body, status=status, content_type="text/xml; charset=utf-8")
    response = jsonify(rows)
    response.status_code = status
    return response


def _error(code: int, description: str, headers: dict | None = None):
    rows = [{"code": code, "description": description}]
    if _format() == "xml":
        response = Response(_xml("errors", "error", rows), status=code,
                            content_type="text/xml; charset=utf-8")
    else:
        response = Response(json.dumps(rows), status=code, content_type="application/json")
    response.headers.update(headers or {})
    return response


@blueprint.errorhandler(ApiError)
def api_error(error: ApiError):
    return _error(error.code, error.description, error.headers)


@blueprint.errorhandler(413)  # by code too: the app's own 413 and 429 handlers are by code
@blueprint.errorhandler(429)
@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException):
    messages = {
        400: "The request could not be read.",
        404: "Not found. The paths are listed in openapi.json.",
        413: f"The body is too large (at most {MAX_BODY_BYTES // 1024} KB).",
        429: f"Too many requests ({error.description}). Wait and send again.",
    }
    headers = {}
    if error.code == 429:
        headers["Retry-After"] = "60"
    return _error(error.code or 500, messages.get(error.code, error.name), headers)


@blueprint.errorhandler(Exception)
def unexpected(error: Exception):
    db.session.rollback()
    if isinstance(error, SQLAlchemyError):
        current_app.logger.exception("Open311: the database failed")
        return _error(503, "The service is unavailable for a moment; nothing was saved. Try "
                           "again later.", {"Retry-After": "30"})
    current_app.logger.exception("Open311: unexpected error")
    return _error(500, "Something went wrong on our side; nothing was saved. Try again later.")


def _domain_message(error: DomainError) -> str:
    with force_locale("en"):
        return str(error.message)


def _allow(*methods: str) -> None:
    if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
        raise ApiError(405, f"This path answers {' and '.join(methods)} only.",
                       {"Allow": ", ".join(methods)})


def _check_jurisdiction(values) -> None:
    given = (values.get("jurisdiction_id") or "").strip()
    if given and given != jurisdiction_id():
        raise ApiError(404, f"jurisdiction_id provided was not found: this server's "
                            f"jurisdiction is {jurisdiction_id()}.")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ApiError(404, "Not found: the format is .json or .xml.")


def _read_limit() -> str:
    return current_app.config.get("OPEN311_READ_LIMIT", DEFAULT_READ_LIMIT)


def _post_limit() -> str:
    return current_app.config.get("OPEN311_API_LIMIT", DEFAULT_POST_LIMIT)


def _presented_key() -> str | None:
    """The api_key parameter, in the body as the spec says (never read from the query string,
    which ends up in access logs)."""
    return (request.form.get("api_key") or "").strip() or None


def _rate_limit_key() -> str:
    return api_keys.limiter_key("open311", _presented_key(), request.remote_addr)


@blueprint.before_request
def limit_the_body():
    request.max_content_length = MAX_BODY_BYTES


# ----------------------------------------------------------------------------- reading
@blueprint.route("/openapi.json", methods=EVERY_METHOD)
def openapi():
    _allow("GET")
    return jsonify(openapi_document(jurisdiction_id()))


@blueprint.route("/services.<fmt>", methods=EVERY_METHOD)
@limiter.limit(_read_limit)
def services(fmt: str):
    _check_format(fmt)
    _allow("GET")
    _check_jurisdiction(request.args)
    return _answer(open311.services(), root="services", item="service")


@blueprint.route("/services/<service_code>.<fmt>", methods=EVERY_METHOD)
@limiter.limit(_read_limit)
def service_definition(service_code: str, fmt: str):
    _check_format(fmt)
    _allow("GET")
    _check_jurisdiction(request.args)
    try:
        definition = open311.service_definition(service_code)
    except open311.NotFound as error:
        raise ApiError(404, _domain_message(error)) from None
    return _answer(definition, root="service_definition", item="service_definition",
                   single=True)


@blueprint.route("/requests/<service_request_id>.<fmt>", methods=EVERY_METHOD)
@limiter.limit(_read_limit)
def service_request(service_request_id: str, fmt: str):
    _check_format(fmt)
    _allow("GET")
    _check_jurisdiction(request.args)
    try:
        found = open311.find_request(service_request_id)
    except open311.NotFound as error:
        raise ApiError(404, _domain_message(error)) from None
    return _answer([found], root="service_requests", item="request")


@blueprint.route("/requests.<fmt>", methods=EVERY_METHOD)
@limiter.limit(_read_limit, exempt_when=lambda: request.method != "GET")
@limiter.limit(_post_limit, key_func=_rate_limit_key,
               exempt_when=lambda: request.method != "POST")
def service_requests(fmt: str):
    _check_format(fmt)
    _allow("GET", "POST")
    if request.method == "POST":
        return _post_request()
    _check_jurisdiction(request.args)
    try:
        query = open311.parse_query(request.args, now=utcnow())
    except DomainError as error:
        raise ApiError(400, _domain_message(error)) from None
    return _answer(open311.find_requests(query), root="service_requests", item="request")


# ----------------------------------------------------------------------------- filing
def _post_request():
    form = request.form  # over 1 MB: 413
    client = api_clients.authenticate(_presented_key())
    if client is None:
        raise ApiError(403, "Give a valid api_key: it is missing, wrong or disabled. An "
                            "institution administrator issues keys.")
    _check_jurisdiction(form if "jurisdiction_id" in form else request.args)
    now = utcnow()
    store = AttachmentStore(current_app.config["UPLOAD_FOLDER"])
    try:
        filed = open311.file_request(client, form, now=now, store=store)
        number = filed.report.public_number
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        # An unknown service_code too: the spec answers 400 for it on a POST.
        raise ApiError(400, _domain_message(error)) from None
    notice = ("Received. The institution verifies the report before it is public; until then "
              "GET answers 404 for it. The reporter follows it with the tracking code.")
    answer = {"service_request_id": number, "service_notice": notice, "account_id": None,
              "tracking_code": filed.tracking_code}
    return _answer([answer], root="service_requests", item="request", status=201)


# ----------------------------------------------------------------------------- everything else
@blueprint.route("/", defaults={"rest": ""}, methods=EVERY_METHOD)
@blueprint.route("/<path:rest>", methods=EVERY_METHOD)
def not_found(rest: str):
    raise ApiError(404, "Not found. The paths are listed in openapi.json.")
