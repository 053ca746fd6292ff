"""Open311 GeoReport v2 (/open311/v2): services, public requests (JSON and XML, filters), filing
with an API key (missing, wrong or disabled: 403; right: 201 with the key's channel and
institution), errors in the spec's format, and privacy: unverified, confidential and archived
reports stay out, no identity and no tracking code in any GET answer."""
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import api_clients
from portal.domain.filing import ReportDraft, file_report
from portal.domain.tracking import find_report_by_tracking_code
from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    Category,
    Channel,
    OutboxMessage,
    Report,
    ReporterIdentity,
    ReportKind,
    ReportStatus,
)
from portal.models.types import utcnow
from portal.storage import AttachmentStore
from tests.helpers import node, user

BASE = "/open311/v2"
ADMIN = "admin@tangerangkab.example.id"
SECRET_NAME = "Sutrisno Wibowo Rahasia"
SECRET_EMAIL = "sutrisno.rahasia@example.id"
SECRET_PHONE = "081298761234"
SECRET_NIK = "3603123412340001"
BODY = "Lampu jalan di depan pasar Cikupa mati sejak dua minggu, jalan gelap sekali."


@pytest.fixture
def key(demo):
    issued = api_clients.issue_key(None, institution_id=node("KAB-TANGERANG").id,
                                   name="SMS 1708", channel=Channel.SMS, now=utcnow())
    db.session.commit()
    return issued.key


def category(code="INFRASTRUKTUR") -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))


def make_report(app, *, verify=True, confidential=False, anonymous=False, body=BODY,
                code="INFRASTRUKTUR", created_at=None, answer=None, archive=False) -> Report:
    draft = ReportDraft(kind=ReportKind.COMPLAINT, title="Lampu jalan mati di Cikupa", body=body,
                        category_id=category(code).id, address="Jl. Raya Cikupa km 3",
                        is_anonymous=anonymous, is_confidential=confidential, name=SECRET_NAME,
                        email=SECRET_EMAIL, phone=SECRET_PHONE, nik=SECRET_NIK,
                        created_at=created_at)
    now = utcnow()
    report = file_report(draft, [], store=AttachmentStore(app.config["UPLOAD_FOLDER"]),
                         now=now).report
    admin = user(ADMIN)
    if archive:
        perform(report, Action.ARCHIVE, actor=admin, now=now, expected_version=None,
                data=ActionInput(archive_reason=ArchiveReason.NOT_ACTIONABLE,
                                 message="Tidak dapat ditindaklanjuti."))
    elif verify:
        perform(report, Action.VERIFY, actor=admin, now=now, expected_version=None)
        if answer:
            perform(report, Action.ANSWER, actor=admin, now=now, expected_version=None,
                    data=ActionInput(message=answer))
    db.session.commit()
    return report


def get(client, path, **params):
    return client.get(BASE + path, query_string=params)


def xml_of(response) -> ET.Element:
    assert response.content_type.startswith("text/xml"), response.content_type
    return ET.fromstring(response.get_data())


def assert_error(response, code: int, fragment: str = ""):
    assert response.status_code == code
    if response.content_type.startswith("text/xml"):
        root = xml_of(response)
        assert root.tag == "errors"
        [error] = root.findall("error")
        assert error.findtext("code") == str(code)
        description = error.findtext("description")
    else:
        assert response.content_type == "application/json"
        [error] = response.json
        assert set(error) == {"code", "description"} and error["code"] == code
        description = error["description"]
    assert fragment in description, description


def post(client, fmt="json", **fields):
    data = {"service_code": "INFRASTRUKTUR", "description": BODY,
            "address_string": "Depan pasar Cikupa", **fields}
    data = {name: value for name, value in data.items() if value is not None}
    return client.post(f"{BASE}/requests.{fmt}", data=data)  # no CSRF token: key-authenticated


# ----------------------------------------------------------------------------- services
def test_services_in_json_and_xml(client, demo):
    services = get(client, "/services.json").json
    codes = [s["service_code"] for s in services]
    assert codes == sorted(codes) and "INFRASTRUKTUR" in codes
    infrastructure = next(s for s in services if s["service_code"] == "INFRASTRUKTUR")
    assert infrastructure["metadata"] is False and infrastructure["type"] == "realtime"
    assert infrastructure["service_name"] == category().name_id
    assert infrastructure["group"] and "jalan" in infrastructure["keywords"]

    root = xml_of(get(client, "/services.xml"))
    assert root.tag == "services"
    xml_services = root.findall("service")
    assert [s.findtext("service_code") for s in xml_services] == codes
    first = xml_services[0]
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"
    assert first.findtext("service_name") == services[0]["service_name"]


def test_service_definition_and_an_unknown_service(client, demo):
    assert get(client, "/services/infrastruktur.json").json == {
        "service_code": "INFRASTRUKTUR", "attributes": []}
    root = xml_of(get(client, "/services/INFRASTRUKTUR.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "INFRASTRUKTUR"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    assert_error(get(client, "/services/NOPE.json"), 404, "service_code")
    assert_error(get(client, "/services/NOPE.xml"), 404, "service_code")


def test_jurisdiction_is_ours_or_absent(client, demo):
    assert get(client, "/services.json", jurisdiction_id="portal.test").status_code == 200
    assert_error(get(client, "/services.json", jurisdiction_id="chicago.gov"), 404,
                 "jurisdiction_id")
    assert_error(get(client, "/requests.xml", jurisdiction_id="chicago.gov"), 404,
                 "jurisdiction_id")


# ----------------------------------------------------------------------------- filing
def test_the_key_is_required_and_checked(client, key):
    client_row = api_clients.authenticate(key)
    for response in (post(client), post(client, api_key="lpo_wrong"),
                     post(client, fmt="xml", api_key=key.upper())):
        assert_error(response, 403, "api_key")
    api_clients.set_active(None, client_row.id, active=False, now=utcnow())
    db.session.commit()
    assert_error(post(client, api_key=key), 403, "api_key")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_a_request_is_filed_with_the_key_s_channel_and_institution(client, key, app):
    response = post(client, api_key=key, first_name="Budi", last_name="Santoso",
                    email="budi.santoso@example.id", phone="0812 1111 2222",
                    lat="-6.2312", long="106.5101", media_url="https://example.id/foto.jpg",
                    jurisdiction_id="portal.test")
    assert response.status_code == 201, response.json
    [answer] = response.json
    assert set(answer) == {"service_request_id", "service_notice", "account_id",
                           "tracking_code"}
    report = db.session.scalar(select(Report).where(
        Report.public_number == answer["service_request_id"]))
    assert report.channel is Channel.SMS
    assert report.current_institution_id == node("KAB-TANGERANG").id
    assert report.status is ReportStatus.SUBMITTED and report.due_at is not None
    assert report.category.code == "INFRASTRUKTUR" and report.body == BODY
    assert report.address == "Depan pasar Cikupa (-6.231200, 106.510100)"
    assert report.channel_link == "https://example.id/foto.jpg"
    assert not report.is_anonymous and report.logged_by_id is None
    identity = db.session.scalar(select(ReporterIdentity).where(
        ReporterIdentity.report_id == report.id))
    assert identity.name == "Budi Santoso" and identity.email == "budi.santoso@example.id"
    # The tracking code works and is mailed to the reporter too; never stored in clear.
    assert find_report_by_tracking_code(answer["tracking_code"]).id == report.id
    mail = db.session.scalar(select(OutboxMessage))
    assert mail is not None and mail.recipient == "budi.santoso@example.id"
    assert api_clients.authenticate(key).last_used_at is not None

    # XML: the same answer, as <service_requests><request>.
    response = post(client, fmt="xml", api_key=key, lat="-6.2", long="106.5")
    assert response.status_code == 201
    root = xml_of(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    number = request.findtext("service_request_id")
    assert number.startswith("LPR-") and request.findtext("account_id") == ""
    filed = find_report_by_tracking_code(request.findtext("tracking_code"))
    assert filed.public_number == number


def test_without_identity_a_request_is_anonymous(client, key):
    response = post(client, api_key=key)
    assert response.status_code == 201
    report = db.session.scalar(select(Report))
    assert report.is_anonymous
    assert db.session.scalar(select(ReporterIdentity)) is None
    # Anonymous but reachable, and confidential: the non-standard flags.
    response = post(client, api_key=key, first_name="Rahasia", phone="081234567890",
                    anonymous="true", confidential="true")
    assert response.status_code == 201
    report = db.session.scalar(select(Report).where(
        Report.public_number == response.json[0]["service_request_id"]))
    assert report.is_anonymous and report.is_confidential


@pytest.mark.parametrize("fields, parameter", [
    ({"address_string": None}, "address_string"),
    ({"address_string": None, "lat": "-6.2"}, "lat and long"),
    ({"lat": "91", "long": "106"}, "lat"),
    ({"lat": "nan", "long": "106"}, "lat"),
    ({"description": "Terlalu pendek"}, "description"),
    ({"description": None}, "description"),
    ({"service_code": "NOPE"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"email": "bukan-email"}, "email"),
    ({"first_name": "Budi"}, "email or a phone"),
    ({"email": "budi@example.id"}, "first_name"),
    ({"phone": "telepon saya"}, "phone"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"anonymous": "maybe"}, "anonymous"),
    ({"address_string": "x" * 501}, "address_string"),
])
def test_bad_input_is_refused_in_the_spec_s_format(client, key, fields, parameter):
    for fmt in ("json", "xml"):
        assert_error(post(client, fmt=fmt, api_key=key, **fields), 400, parameter)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_another_jurisdiction_is_refused_on_post(client, key):
    assert_error(post(client, api_key=key, jurisdiction_id="boston.gov"), 404, "jurisdiction")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_a_national_key_routes_by_category(client, demo):
    issued = api_clients.issue_key(None, institution_id=node("KEMENPANRB").id,
                                   name="Aplikasi LAPOR!", channel=Channel.MOBILE_APP,
                                   now=utcnow())
    db.session.commit()
    response = post(client, api_key=issued.key, service_code="ADMINDUK")
    assert response.status_code == 201
    report = db.session.scalar(select(Report))
    assert report.channel is Channel.MOBILE_APP
    assert report.current_institution_id == node("KAB-TANGERANG").id  # ADMINDUK's owner


# ----------------------------------------------------------------------------- reading
def test_only_public_reports_are_listed_or_fetched(client, app, demo):
    public = make_report(app, answer="Lampu sudah diganti, hubungi 0812-3456-7890.")
    unverified = make_report(app, verify=False)
    confidential = make_report(app, confidential=True)
    archived = make_report(app, archive=True)
    listed = get(client, "/requests.json").json
    assert [r["service_request_id"] for r in listed] == [public.public_number]
    for hidden in (unverified, confidential, archived):
        for fmt in ("json", "xml"):
            assert_error(get(client, f"/requests/{hidden.public_number}.{fmt}"), 404,
                         "service_request_id")
    [item] = get(client, f"/requests/{public.public_number}.json").json
    assert item == listed[0]
    db.session.refresh(public)
    assert item["status"] == "open" and item["service_code"] == "INFRASTRUKTUR"
    assert item["agency_responsible"] == "Pemerintah Kabupaten Tangerang"
    assert item["expected_datetime"] is None  # answered: no clock runs
    assert item["requested_datetime"].endswith("+07:00")
    assert item["address"] is None  # no exact address in public: the village and kecamatan
    assert item["status_notes"].startswith("Lampu sudah diganti")
    assert "0812-3456-7890" not in item["status_notes"]

    root = xml_of(get(client, f"/requests/{public.public_number}.xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == public.public_number
    assert request.findtext("status") == "open"
    assert request.findtext("description") == item["description"]


def test_expected_datetime_is_the_deadline(client, app, demo):
    report = make_report(app)
    [item] = get(client, f"/requests/{report.public_number}.json").json
    db.session.refresh(report)
    assert report.due_at is not None
    assert item["expected_datetime"] == report.due_at.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Jakarta")).isoformat(timespec="seconds")


def test_no_identity_and_no_tracking_code_in_any_answer(client, app, key):
    # Personal data and the reporter's own names typed into the text are masked.
    body = (f"Saya {SECRET_NAME}, NIK {SECRET_NIK}, telepon {SECRET_PHONE}, e-mail "
            f"{SECRET_EMAIL}: jalan di depan rumah saya rusak parah sejak bulan lalu.")
    reports = [make_report(app, anonymous=True, body=body), make_report(app, body=body)]
    filed = post(client, api_key=key, first_name="Sutrisno", last_name="Wibowo Rahasia",
                 email=SECRET_EMAIL, phone=SECRET_PHONE, anonymous="true", description=body,
                 media_url="https://example.id/foto.jpg")
    code = filed.json[0]["tracking_code"]
    api_report = db.session.scalar(select(Report).where(
        Report.public_number == filed.json[0]["service_request_id"]))
    perform(api_report, Action.VERIFY, actor=user(ADMIN), now=utcnow(), expected_version=None)
    db.session.commit()
    answers = [get(client, f"/requests.{fmt}") for fmt in ("json", "xml")]
    for report in reports + [api_report]:
        for fmt in ("json", "xml"):
            answers.append(get(client, f"/requests/{report.public_number}.{fmt}"))
    assert len(answers[0].json) == 3
    for response in answers:
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "rusak parah" in page
        for secret in (SECRET_NAME, "Wibowo", "Rahasia", SECRET_EMAIL, SECRET_PHONE, SECRET_NIK,
                       code, "Sutrisno", "sms", "example.id/foto", "Raya Cikupa km 3",
                       "Depan pasar"):
            assert secret not in page, (secret, page[:300])


def test_filters(client, app, demo):
    now = utcnow()
    lamp = make_report(app)
    permit = make_report(app, code="ADMINDUK")
    old = make_report(app, created_at=now - timedelta(days=100))
    closed = make_report(app, answer="Sudah diperbaiki.")
    perform(closed, Action.COMPLETE, actor=user(ADMIN), now=now, expected_version=None)
    db.session.commit()

    def numbers(**params):
        response = get(client, "/requests.json", **params)
        assert response.status_code == 200, response.json
        return {item["service_request_id"] for item in response.json}

    recent = {lamp.public_number, permit.public_number, closed.public_number}
    assert numbers() == recent  # the last 90 days
    assert numbers(service_code="ADMINDUK") == {permit.public_number}
    assert numbers(service_code="admindUK,INFRASTRUKTUR") == recent
    assert numbers(status="closed") == {closed.public_number}
    assert numbers(status="open") == {lamp.public_number, permit.public_number}
    assert numbers(status="open,closed") == recent
    ids = f"{old.public_number},{lamp.public_number},LPR-1999-0000001"
    assert numbers(service_request_id=ids, status="closed") == {old.public_number,
                                                               lamp.public_number}
    start = (now - timedelta(days=120)).isoformat()
    assert numbers(start_date=start) == {old.public_number}
    assert numbers(start_date=start, end_date=(now - timedelta(days=95)).isoformat()) == {
        old.public_number}
    assert numbers(end_date=(now - timedelta(days=99)).strftime("%Y-%m-%dT%H:%M:%SZ")) == {
        old.public_number}
    assert numbers(start_date=(now + timedelta(days=2)).date().isoformat()) == set()

    for params, fragment in (({"status": "pending"}, "status"),
                             ({"start_date": "kemarin"}, "start_date"),
                             ({"start_date": now.isoformat(),
                               "end_date": (now - timedelta(days=1)).isoformat()}, "end_date"),
                             ({"start_date": (now - timedelta(days=200)).isoformat(),
                               "end_date": now.isoformat()}, "90 days"),
                             ({"end_date": "0001-01-01T00:00:00"}, "end_date"),
                             ({"service_request_id": ",".join(["LPR-1"] * 101)},
                              "service_request_id")):
        assert_error(get(client, "/requests.json", **params), 400, fragment)
        assert_error(get(client, "/requests.xml", **params), 400, fragment)


# ----------------------------------------------------------------------------- errors
def test_http_errors_in_the_spec_s_format(client, key, app):
    response = client.put(f"{BASE}/requests.json")
    assert_error(response, 405)
    assert response.headers["Allow"] == "GET, POST"
    response = client.post(f"{BASE}/services.xml")
    assert_error(response, 405)
    assert response.headers["Allow"] == "GET"
    assert_error(client.get(f"{BASE}/nothing/here"), 404)
    assert_error(client.get(f"{BASE}/requests.html"), 404)
    assert_error(client.get(f"{BASE}/widgets.xml"), 404)
    assert_error(client.post(f"{BASE}/requests.json", data={
        "api_key": key, "description": "x" * (1024 * 1024 + 10)}), 413)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_the_rate_limit_is_per_key(client, app, key):
    app.config["OPEN311_API_LIMIT"] = "2 per minute"
    other = api_clients.issue_key(None, institution_id=node("KAB-TANGERANG").id,
                                  name="Aplikasi", channel=Channel.MOBILE_APP, now=utcnow())
    db.session.commit()
    assert post(client, api_key=key).status_code == 201
    assert post(client, api_key=key).status_code == 201
    response = post(client, fmt="xml", api_key=key)
    assert_error(response, 429, "Too many requests")
    assert post(client, api_key=other.key).status_code == 201  # another key: its own limit


def test_the_openapi_document_names_every_path(client, demo):
    document = get(client, "/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = set(document["paths"])
    rules = {rule.rule[len(BASE):] for rule in client.application.url_map.iter_rules()
             if rule.endpoint.startswith("open311.") and rule.endpoint != "open311.not_found"}
    for rule in rules:
        for fmt in ("json", "xml"):
            path = rule.replace("<fmt>", fmt).replace("<service_code>", "{service_code}") \
                .replace("<service_request_id>", "{service_request_id}")
            assert path in documented, path
    assert json.loads(json.dumps(document)) == document


# ----------------------------------------------------------------------------- a real client
def test_the_georeport_client_reads_the_api(app, demo, live_server):
    """georeport (PyPI), a GeoReport v2 client library, against the API served over HTTP: it
    has no POST, so it covers the GET side, in JSON and in XML."""
    georeport = pytest.importorskip("georeport")
    report = make_report(app, answer="Lampu sudah diganti.")
    for fmt in ("json", "xml"):
        api = georeport.GeoReport(f"{live_server.url}{BASE}", jurisdiction="portal.test",
                                  output_format=fmt)
        services = api.get_service_list()
        assert "INFRASTRUKTUR" in [s["service_code"] for s in services]
        definition = api.get_service_definition("INFRASTRUKTUR")
        assert definition["service_code"] == "INFRASTRUKTUR"
        listed = api.get_service_requests(status="open", service_code="INFRASTRUKTUR")
        if fmt == "xml":  # xmltodict: one element is a dict, not a list
            listed = [listed] if isinstance(listed, dict) else listed
        assert [r["service_request_id"] for r in listed] == [report.public_number]
        one = api.get_service_request(report.public_number)
        assert one["service_request_id"] == report.public_number
        assert one["status"] == "open" and one["status_notes"] == "Lampu sudah diganti."
    wrong = georeport.GeoReport(f"{live_server.url}{BASE}", jurisdiction="boston.gov")
    with pytest.raises(Exception, match="404"):
        wrong.get_service_list()
