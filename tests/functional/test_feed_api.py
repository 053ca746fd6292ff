"""POST /api/feed/v1/reports: the key (missing, wrong, disabled: 401), created then exists, JSON
errors (400, 413, 422) always as JSON, the rate limit per key, and no anonymous reporter's
identity in any answer."""
import json

import pytest
from sqlalchemy import select

from portal.api import feed as feed_api
from portal.domain import feed
from portal.extensions import db
from portal.models import FeedSource, Report
from portal.models.types import utcnow

URL = "/api/feed/v1/reports"
ANONYMOUS_NAME = "Sutrisno Wibowo Rahasia"
ANONYMOUS_EMAIL = "sutrisno.rahasia@example.id"
ANONYMOUS_PHONE = "081298761234"


@pytest.fixture
def key(demo):
    issued = feed.add_source(None, code="LAPOR-NASIONAL", name="LAPOR! Nasional", now=utcnow())
    db.session.commit()
    return issued.key


def report(external_id="NAS-1", **fields) -> dict:
    data = {"external_id": external_id, "kind": "complaint",
            "title": "Jalan berlubang di depan pasar Cikupa",
            "body": "Lubang besar di jalan raya depan pasar sudah dua minggu dibiarkan.",
            "category": "INFRASTRUKTUR", "kecamatan": "Cikupa"}
    data.update(fields)
    return data


def post(client, body, key=None, header="Authorization", raw=False):
    headers = {}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "Authorization" else key
    data = body if raw else json.dumps(body)
    return client.post(URL, data=data, headers=headers, content_type="application/json")


def test_the_key_is_required_and_checked(client, key):
    for response in (post(client, report()), post(client, report(), key="lpf_wrong"),
                     post(client, report(), key=key, header="X-Api-Key-Typo"),
                     client.post(URL, json=report(), headers={"Authorization": f"Basic {key}"})):
        assert response.status_code == 401 and response.is_json
        assert "API key" in response.json["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert db.session.scalar(select(Report.id)) is None


def test_a_report_is_created_once_and_then_exists(client, key):
    first = post(client, report(), key=key)  # no CSRF token: the endpoint is key-authenticated
    assert first.status_code == 200, first.json
    assert first.json["created"] == 1
    [result] = first.json["results"]
    assert result["status"] == "created" and result["index"] == 0
    number = result["number"]
    saved = db.session.scalar(select(Report).where(Report.public_number == number))
    assert saved.external_id == "NAS-1" and saved.district.name == "Cikupa"

    again = post(client, [report()], key=key, header="X-API-Key")
    assert again.status_code == 200
    assert again.json["results"] == [{"index": 0, "status": "exists", "external_id": "NAS-1",
                                      "number": number}]
    assert len(db.session.scalars(select(Report)).all()) == 1
    source = db.session.scalar(select(FeedSource))
    assert source.last_used_at is not None


def test_a_disabled_source_is_refused(client, key):
    source = db.session.scalar(select(FeedSource))
    feed.set_active(None, source.id, active=False, now=utcnow())
    db.session.commit()
    response = post(client, report(), key=key)
    assert response.status_code == 401 and response.is_json
    feed.set_active(None, source.id, active=True, now=utcnow())
    db.session.commit()
    assert post(client, report(), key=key).status_code == 200


def test_a_rotated_key_is_refused(client, key):
    source = db.session.scalar(select(FeedSource))
    new_key = feed.rotate_key(None, source.id, now=utcnow()).key
    db.session.commit()
    assert post(client, report(), key=key).status_code == 401
    assert post(client, report(), key=new_key).status_code == 200


def test_a_batch_with_good_and_bad_rows(client, key):
    response = post(client, [report("A"), report("B", title="Jln", category="ENTAH"), 42,
                             report("A")], key=key)
    assert response.status_code == 200
    body = response.json
    assert (body["created"], body["exists"], body["invalid"]) == (1, 1, 2)
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [(0, "created"), (1, "invalid"), (2, "invalid"), (3, "exists")]
    errors = body["results"][1]["errors"]
    assert {e["field"] for e in errors} == {"title", "category"}
    assert "The title must be 5 to 200 characters long." in [e["message"] for e in errors]
    assert body["results"][2]["errors"][0]["field"] is None


def test_all_rows_invalid_is_422(client, key):
    response = post(client, [report("A", kind="keluhan"), {"title": "x"}], key=key)
    assert response.status_code == 422 and response.json["invalid"] == 2
    assert db.session.scalar(select(Report.id)) is None


@pytest.mark.parametrize("body, status, words", [
    ('{"external_id": "A", ', 400, "not valid JSON"),
    ('{"external_id": "A", "is_anonymous": true, "is_anonymous": false}', 400, "twice"),
    ('"a string"', 400, "JSON object"),
    ("[]", 400, "no report"),
    (b"\xff\xfe{}", 400, "UTF-8"),
    (json.dumps([report(f"N-{i}") for i in range(501)]), 413, "At most 500"),
])
def test_bodies_that_are_not_reports(client, key, body, status, words):
    response = post(client, body, key=key, raw=True)
    assert response.status_code == status and response.is_json
    assert words in response.json["error"]
    assert db.session.scalar(select(Report.id)) is None


def test_a_byte_order_mark_is_fine(client, key):
    response = post(client, "\ufeff" + json.dumps(report()), key=key, raw=True)
    assert response.status_code == 200 and response.json["created"] == 1


def test_a_body_over_the_limit_is_413(client, key, monkeypatch):
    monkeypatch.setattr(feed_api, "MAX_BODY_BYTES", 2000)
    response = post(client, [report(f"N-{i}") for i in range(20)], key=key)
    assert response.status_code == 413 and response.is_json
    assert "too large" in response.json["error"]


def test_the_rate_limit_counts_per_key(app, client, key):
    app.config["FEED_API_LIMIT"] = "2 per minute"
    other = feed.add_source(None, code="SMS-GATEWAY", name="SMS", now=utcnow()).key
    db.session.commit()
    assert post(client, report("A"), key=key).status_code == 200
    assert post(client, report("B"), key=key).status_code == 200
    limited = post(client, report("C"), key=key)
    assert limited.status_code == 429 and limited.is_json
    assert "Too many requests" in limited.json["error"]
    assert post(client, report("C"), key=other).status_code == 200


def test_an_anonymous_reporter_never_appears_in_the_answer(client, key):
    row = report("ANON-1", is_anonymous=True, reporter_name=ANONYMOUS_NAME,
                 reporter_email=ANONYMOUS_EMAIL, reporter_phone=ANONYMOUS_PHONE)
    bad = dict(row, external_id="ANON-2", category=ANONYMOUS_NAME, kecamatan=ANONYMOUS_EMAIL)
    for body in ([row, bad], [row, bad]):  # created, then exists
        response = post(client, body, key=key)
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        for secret in (ANONYMOUS_NAME, ANONYMOUS_EMAIL, ANONYMOUS_PHONE, "Sutrisno"):
            assert secret not in text


def test_get_is_not_allowed(client, key):
    response = client.get(URL, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405 and response.is_json and response.headers["Allow"] == "POST"


def test_a_body_sent_as_a_form_is_read_as_json_all_the_same(client, key):
    """curl -d without a Content-Type sends application/x-www-form-urlencoded."""
    response = client.post(URL, data=json.dumps(report()),
                           headers={"Authorization": f"Bearer {key}"},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.json["created"] == 1
