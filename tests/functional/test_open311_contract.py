"""The Open311 API against its OpenAPI document (/open311/v2/openapi.json), with schemathesis
in-process over WSGI: generated requests for every documented operation, checked for no server
error, documented status codes and content types, and answers that match their schemas. POSTs
carry a valid API key, so that generated bodies reach the filing rules, not only the key check.
Kept small (a few examples per operation) to stay fast."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.domain import api_clients
from portal.extensions import db
from portal.models import Channel, Report
from portal.models.types import utcnow
from tests.functional.test_open311_api import make_report
from tests.helpers import node

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def open311_key(demo):
    issued = api_clients.issue_key(None, institution_id=node("KAB-TANGERANG").id,
                                   name="Aplikasi", channel=Channel.MOBILE_APP, now=utcnow())
    db.session.commit()
    return issued.key


def test_open311_contract(demo, open311_key):
    """Every documented operation, a few generated cases each. (The operations are walked
    here with ``as_strategy`` rather than ``schemathesis.pytest.from_fixture``, which reads a
    private attribute pytest 9 no longer has.)"""
    demo.config["OPEN311_READ_LIMIT"] = "100000 per minute"
    demo.config["OPEN311_API_LIMIT"] = "100000 per minute"
    make_report(demo, answer="Sudah ditangani.")  # a public request for the GETs to list
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", demo)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10, [o.label for o in operations]  # not openapi.json itself

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            if case.method == "POST" and isinstance(case.body, dict):
                case.body["api_key"] = open311_key
                case.body.pop("jurisdiction_id", None)
            case.call_and_validate(checks=CHECKS)
            db.session.rollback()  # the request shared this test's session

        check()


def test_the_contract_test_files_reports(demo, open311_key):
    """The POST operation above can succeed: a body within the schema is filed."""
    client = demo.test_client()
    response = client.post("/open311/v2/requests.json", data={
        "api_key": open311_key, "service_code": "INFRASTRUKTUR",
        "description": "Saluran air tersumbat di depan sekolah dasar negeri.",
        "lat": "-6.2", "long": "106.6"})
    assert response.status_code == 201
    assert db.session.get(Report, 1) is not None
