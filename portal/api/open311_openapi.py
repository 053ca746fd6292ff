"""The OpenAPI 3 document of the Open311 GeoReport v2 API (portal/api/open311.py), written by
hand and served at /open311/v2/openapi.json. tests/functional/test_open311_contract.py runs
schemathesis against it: every path, parameter, answer and error here is what the API does."""

XML = "text/xml"
JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


SCHEMAS = {
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "description", "metadata", "type",
                     "keywords", "group"],
        "properties": {
            "service_code": {"type": "string", "description": "The category's code."},
            "service_name": {"type": "string", "description": "Its name in Indonesian."},
            "description": {"type": "string", "description": "Its name in English."},
            "metadata": {"type": "boolean", "const": False},
            "type": {"type": "string", "const": "realtime"},
            "keywords": {"type": "string"},
            "group": {"type": "string",
                      "description": "The institution that receives the category's reports."},
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {"service_code": {"type": "string"},
                       "attributes": {"type": "array", "maxItems": 0}},
    },
    "ServiceRequest": {
        "type": "object",
        "required": ["service_request_id", "status", "description", "requested_datetime",
                     "updated_datetime"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string", "pattern": "^LPR-[0-9]{4}-[0-9]{7,}$",
                                   "description": "The report's public number."},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _nullable("string", description="The public answer, with "
                                      "personal data masked."),
            "service_name": _nullable("string"),
            "service_code": _nullable("string"),
            "description": {"type": "string", "description": "The report's text, with "
                            "personal data masked."},
            "agency_responsible": _nullable("string", description="The unit (or "
                                            "institution) that has the report."),
            "service_notice": {"type": "null"},
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": "string", "format": "date-time"},
            "expected_datetime": _nullable("string", format="date-time",
                                           description="The current deadline."),
            "address": _nullable("string"),
            "address_id": {"type": "null"},
            "zipcode": {"type": "null"},
        },
    },
    "PostAnswer": {
        "type": "object",
        "required": ["service_request_id", "service_notice", "account_id", "tracking_code"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string", "pattern": "^LPR-[0-9]{4}-[0-9]{7,}$"},
            "service_notice": {"type": "string"},
            "account_id": {"type": "null"},
            "tracking_code": {"type": "string", "description": "Not in GeoReport v2: the "
                              "reporter's secret tracking code, given only here, to the "
                              "client, to pass on to the citizen. Never shown again."},
        },
    },
    "Errors": {
        "type": "array", "minItems": 1,
        "items": {"type": "object", "required": ["code", "description"],
                  "additionalProperties": False,
                  "properties": {"code": {"type": "integer"},
                                 "description": {"type": "string"}}},
    },
}

JURISDICTION = {"name": "jurisdiction_id", "in": "query", "required": False,
                "schema": {"type": "string"},
                "description": "Optional; when given it must be this server's."}


def _content(fmt: str, schema: dict) -> dict:
    if fmt == "xml":
        return {XML: {"schema": {"type": "string"}}}
    return {JSON: {"schema": schema}}


def _errors(fmt: str, *codes: int) -> dict:
    meaning = {400: "Bad input", 403: "The api_key is missing, wrong or disabled",
               404: "Not found (or not public, or another jurisdiction_id)",
               405: "Method not allowed", 413: "The body is over 1 MB",
               429: "Too many requests", 500: "Server error", 503: "The database is "
               "unavailable for a moment"}
    return {str(code): {"description": meaning[code],
                        "content": _content(fmt, _ref("Errors"))} for code in codes}


def _get(fmt: str, summary: str, schema: dict, parameters: list, *errors: int) -> dict:
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": _content(fmt, schema)},
                      **_errors(fmt, *errors, 429, 503)},
    }


POST_FIELDS = {
    "api_key": {"type": "string", "description": "Issued by an institution administrator."},
    "jurisdiction_id": {"type": "string"},
    "service_code": {"type": "string"},
    "description": {"type": "string", "minLength": 20, "maxLength": 10000},
    "address_string": {"type": "string", "maxLength": 500},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "long": {"type": "number", "minimum": -180, "maximum": 180},
    "first_name": {"type": "string", "maxLength": 100},
    "last_name": {"type": "string", "maxLength": 100},
    "email": {"type": "string", "format": "email"},
    "phone": {"type": "string", "maxLength": 32},
    "media_url": {"type": "string", "format": "uri",
                  "description": "Kept for staff, never fetched, never public."},
    "device_id": {"type": "string", "description": "Ignored."},
    "account_id": {"type": "string", "description": "Ignored."},
    "anonymous": {"type": "boolean", "description": "Not in GeoReport v2: hide the "
                  "reporter's identity from the officers. Without it, a request with no "
                  "identity is anonymous and one with an identity is not."},
    "confidential": {"type": "boolean", "description": "Not in GeoReport v2: the report's "
                     "content is never public."},
}


def _post(fmt: str) -> dict:
    return {
        "summary": "File a report (a service request) from a channel's API client",
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["api_key", "service_code", "description"],
                "properties": POST_FIELDS}}}},
        "responses": {"201": {"description": "Filed",
                              "content": _content(fmt, {"type": "array", "minItems": 1,
                                                        "maxItems": 1,
                                                        "items": _ref("PostAnswer")})},
                      **_errors(fmt, 400, 403, 404, 413, 429, 503)},
    }


LIST_PARAMETERS = [
    JURISDICTION,
    {"name": "service_request_id", "in": "query", "schema": {"type": "string"},
     "description": "Public numbers, comma separated (at most 100); the other filters are "
                    "then ignored."},
    {"name": "service_code", "in": "query", "schema": {"type": "string"},
     "description": "Service codes, comma separated."},
    {"name": "start_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "At most 90 days after start_date. Without both: the last 90 days."},
    {"name": "status", "in": "query", "schema": {"type": "string",
                                                "enum": ["open", "closed", "open,closed"]}},
]


def openapi_document(jurisdiction_id: str) -> dict:
    paths: dict = {}
    for fmt in ("json", "xml"):
        paths[f"/services.{fmt}"] = {"get": _get(
            fmt, "Our report categories as services",
            {"type": "array", "items": _ref("Service")}, [JURISDICTION], 404)}
        paths[f"/services/{{service_code}}.{fmt}"] = {"get": _get(
            fmt, "A service's definition (no attributes)", _ref("ServiceDefinition"),
            [JURISDICTION, {"name": "service_code", "in": "path", "required": True,
                            "schema": {"type": "string"}}], 404)}
        paths[f"/requests.{fmt}"] = {
            "get": _get(fmt, "Public reports, newest first, at most 1,000",
                        {"type": "array", "maxItems": 1000, "items": _ref("ServiceRequest")},
                        LIST_PARAMETERS, 400, 404),
            "post": _post(fmt),
        }
        paths[f"/requests/{{service_request_id}}.{fmt}"] = {"get": _get(
            fmt, "One public report",
            {"type": "array", "minItems": 1, "maxItems": 1, "items": _ref("ServiceRequest")},
            [JURISDICTION, {"name": "service_request_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}], 404)}
    paths["/openapi.json"] = {"get": {"summary": "This document", "responses": {
        "200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LAPOR! Open311 GeoReport v2",
            "version": "2",
            "description": (
                "GeoReport v2 (https://wiki.open311.org/GeoReport_v2). Reading is open and shows "
                "public reports only (verified, not archived, not confidential), never who sent "
                "them. Filing needs an api_key issued by an institution administrator to a "
                f"channel. jurisdiction_id: {jurisdiction_id}."),
        },
        "servers": [{"url": "/open311/v2"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
