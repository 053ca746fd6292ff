"""Property-based tests (hypothesis): arbitrary text, sizes and encodings posted to every public
form and API endpoint never give a 500, and never leave a half-saved report.

What is sent: Unicode of every kind (NUL, control characters, right-to-left marks, emoji),
bytes that are not UTF-8 (lone surrogates encoded as bytes, stray continuation bytes), very long
values, huge and odd numbers, wrong types (JSON to a form, a form to the JSON API, arrays where
objects go), missing fields, unknown fields, broken multipart bodies and files of random bytes.

After every example: no answer of 500 or more; at most one new report per form post (as many as
rows accepted for the feed API); every report is whole: a named report has its identity, every
attachment row has its file and every file in the upload folder has its row (a refused filing
leaves no file behind).

Bounded: a few dozen examples per endpoint (``max_examples``), no deadline (PostgreSQL rounds
vary), the database kept between examples (the fixtures are function-scoped on purpose: the
invariants compare before/after counts, so what earlier examples saved does not matter).
"""
import io
import json
import os
import string
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, Category, District, Institution, Report, ReporterIdentity
from portal.models.types import utcnow
from tests.helpers import csrf_token, jpeg_bytes, receipt_code, report_form

# No shrinking phase: a failure is reported as found (with its seed), so that a failing run
# stays as bounded as a passing one. FUZZ_EXAMPLES=500 for a longer hunt.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")),
                deadline=None, database=None,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# ----------------------------------------------------------------------------- strategies
ODD_TEXT = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\u202eevil", "\ufeffBOM", "😀" * 50, "null", "[]", "{}",
    "1e309", "NaN", "-1", "0", "9" * 400, "' OR '1'='1", "'; DROP TABLE report;--",
    "<script>alert(1)</script>", "../../etc/passwd", "%00", "\r\n\r\n", "ABCDE-FGH23-45678",
    "2026-02-30", "9999-12-31", "0000-00-00", "-" * 20, "\t" * 10,
])
HUGE_NUMBER = st.integers(min_value=-(10 ** 40), max_value=10 ** 40).map(str)
LONG_TEXT = st.sampled_from([201, 1001, 10_001, 70_000]).map(lambda n: "x" * n)
TEXT = st.one_of(st.text(max_size=120), ODD_TEXT, HUGE_NUMBER, LONG_TEXT,
                 st.text(alphabet=string.printable, max_size=40))
# Bytes that are not valid UTF-8 (a lone surrogate as bytes, stray continuation bytes) or are.
RAW = st.one_of(st.binary(max_size=80), st.sampled_from([b"\xed\xa0\x80", b"\xff\xfe", b"\x80",
                                                         b"\xc0\xaf", b"caf\xe9"]),
                TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))


def form_body(fields: dict) -> bytes:
    """An urlencoded body from raw byte values (percent-encoded as a browser would)."""
    return b"&".join(quote_from_bytes(k.encode()).encode() + b"=" + quote_from_bytes(v).encode()
                     for k, v in fields.items())


def fields_strategy(names: list[str], fixed: dict | None = None):
    """Each known field missing, a text, or raw bytes; plus unknown extra fields."""
    value = st.one_of(TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), RAW)
    known = st.fixed_dictionaries({}, optional={name: value for name in names})
    extra = st.dictionaries(st.text(alphabet=string.ascii_letters + "_[]", min_size=1,
                                    max_size=12), value, max_size=3)
    return st.tuples(known, extra).map(lambda kv: {**kv[1], **kv[0], **(fixed or {})})


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def app_config(app_config):
    # Thousands of posts from one test client: the limits would answer 429 and test nothing.
    return {**app_config, "RATELIMIT_ENABLED": False, "OUTBOX_SEND_AFTER_REQUEST": False}


@pytest.fixture
def world(demo, client, app):
    """One real, verified report the reporter tracks in this client's session; the ids the
    forms offer; a feed key and an Open311 key."""
    category = db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR"))
    token = csrf_token(client, "/lapor")
    response = client.post("/lapor", data={**report_form(category=str(category)),
                                           "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    code = receipt_code(client)
    report = db.session.scalar(select(Report))
    number = report.public_number
    assert client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                       "code": code}).status_code == 302

    from portal.domain import feed

    feed_key = feed.add_source(None, code="FUZZ", name="Fuzz", now=utcnow()).key
    open311_key = None
    try:
        from portal.domain import api_clients
        from portal.models import Channel

        institution = db.session.scalar(select(Institution.id).where(
            Institution.code == "KAB-TANGERANG"))
        open311_key = api_clients.issue_key(None, institution_id=institution, name="Fuzz",
                                            channel=Channel.MOBILE_APP, now=utcnow()).key
    except Exception:  # no Open311 in this tree yet
        db.session.rollback()
    db.session.commit()
    district = db.session.scalar(select(District.id))
    return {"number": number, "code": code, "category": str(category),
            "district": str(district), "feed_key": feed_key, "open311_key": open311_key,
            "token": csrf_token(client, "/lapor")}


def counts() -> dict:
    db.session.expire_all()
    return {"reports": db.session.scalar(select(func.count()).select_from(Report)),
            "identities": db.session.scalar(select(func.count()).select_from(ReporterIdentity)),
            "attachments": db.session.scalar(select(func.count()).select_from(Attachment))}


def assert_whole(app, response, before: dict, *, most: int = 1) -> None:
    """No server error; at most ``most`` new reports, each one whole; files and rows agree."""
    assert response.status_code < 500, (response.status_code,
                                        response.get_data(as_text=True)[:600])
    after = counts()
    assert 0 <= after["reports"] - before["reports"] <= most
    for report in db.session.scalars(select(Report)):
        if not report.is_anonymous and report.channel.value == "web":
            assert db.session.scalar(select(func.count()).select_from(ReporterIdentity).where(
                ReporterIdentity.report_id == report.id)) == 1, report.public_number
    rows = set(db.session.scalars(select(Attachment.stored_name)))
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = {p.name for p in folder.iterdir()} if folder.exists() else set()
    assert files == rows  # no file without its row, no row without its file, no .part left


# ----------------------------------------------------------------------------- cases
# Each case is a function of drawn values; the tests at the end draw a case and its values, so
# that the (costly) demo data is loaded once per group of endpoints, not once per endpoint.
CASES: dict[str, list] = {}


def case(group: str, **strategies):
    def register(function):
        CASES.setdefault(group, []).append((function, strategies))
        return function
    return register


def run_case(group, app, client, world, data) -> None:
    function, strategies = data.draw(st.sampled_from(CASES[group]), label="case")
    values = {name: data.draw(strategy, label=name) for name, strategy in strategies.items()}
    function(app, client, world, **values)


# ----------------------------------------------------------------------------- forms
REPORT_FIELDS = ["kind", "title", "body", "category", "district", "village", "address",
                 "event_date", "is_confidential", "is_anonymous", "name", "email", "phone",
                 "nik", "check"]


@case("forms", fields=fields_strategy(REPORT_FIELDS), valid_base=st.booleans(),
       files=st.lists(st.tuples(st.one_of(st.binary(max_size=300), st.just(b"jpeg")),
                                st.text(max_size=40)), max_size=6))
def filing_form(app, client, world, fields, valid_base, files):
    if valid_base:  # a valid report with some fields replaced: reaches the rules and the save
        base = {k: v.encode() for k, v in report_form(category=world["category"]).items()}
        fields = {**base, **fields}
    data = {k: v.decode("utf-8", "replace") for k, v in fields.items()}
    data["csrf_token"] = world["token"]
    data["attachments"] = [(io.BytesIO(jpeg_bytes() if blob == b"jpeg" else blob), name)
                           for blob, name in files]
    before = counts()
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert_whole(app, response, before)
    if counts()["reports"] > before["reports"]:
        assert response.status_code == 302


@case("forms", fields=fields_strategy(REPORT_FIELDS))
def filing_form_raw_bytes(app, client, world, fields):
    fields["csrf_token"] = world["token"].encode()
    before = counts()
    response = client.post("/lapor", data=form_body(fields),
                           content_type="application/x-www-form-urlencoded")
    assert_whole(app, response, before)


@case("forms", body=st.one_of(st.binary(max_size=400), RAW),
       boundary=st.sampled_from(["x", "", "----b", "a" * 80, "\u00e9"]),
       kind=st.sampled_from(["multipart/form-data; boundary={}", "multipart/form-data",
                             "application/json", "text/plain", "application/x-www-form-urlencoded",
                             "multipart/mixed; boundary={}"]))
def broken_bodies_to_the_forms(app, client, world, body, boundary, kind):
    for path in ("/lapor", "/lacak", f"/lacak/{world['number']}/balas", "/akun/daftar",
                 "/staf/masuk"):
        if body.startswith(b"--") is False and "multipart" in kind:
            body = f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n" \
                       .encode("utf-8", "replace") + body  # a part without its closing line
        before = counts()
        response = client.post(path, data=body, content_type=kind.format(boundary))
        assert_whole(app, response, before)


@case("reporter", code=st.one_of(TEXT, RAW.map(lambda b: b.decode("latin-1"))),
       extra=fields_strategy(["csrf_token", "code"]))
def tracking_form(app, client, world, code, extra):
    before = counts()
    data = {k: v.decode("utf-8", "replace") for k, v in extra.items()}
    data.setdefault("csrf_token", world["token"])
    data["code"] = code
    response = client.post("/lacak", data=data)
    assert_whole(app, response, before)


@case("reporter", action=st.sampled_from(["balas", "selesai", "nilai"]),
       fields=fields_strategy(["message", "score", "comment", "version"]),
       number=st.one_of(st.none(), TEXT.filter(lambda t: "/" not in t and "\x00" not in t)))
def reporter_actions(app, client, world, action, fields, number):
    data = {k: v.decode("utf-8", "replace") for k, v in fields.items()}
    data["csrf_token"] = world["token"]
    target = world["number"] if number is None else quote_from_bytes(number.encode(), safe="")
    before = counts()
    response = client.post(f"/lacak/{target}/{action}", data=data)
    assert_whole(app, response, before, most=0)


@case("reporter", fields=fields_strategy(["next", "csrf_token"]),
       fetch=st.booleans(), number=st.one_of(st.none(), TEXT.filter(lambda t: "/" not in t)))
def support(app, client, world, fields, fetch, number):
    data = {k: v.decode("utf-8", "replace") for k, v in fields.items()}
    data.setdefault("csrf_token", world["token"])
    target = world["number"] if number is None else quote_from_bytes(number.encode(), safe="")
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    before = counts()
    response = client.post(f"/laporan/{target}/dukung", data=data, headers=headers)
    assert_whole(app, response, before, most=0)


@case("reporter", path=st.sampled_from(["/akun/daftar", "/akun/masuk", "/staf/masuk"]),
       fields=fields_strategy(["name", "email", "password", "confirm", "next"]),
       raw=st.booleans())
def accounts_and_sign_in(app, client, world, path, fields, raw):
    fields["csrf_token"] = world["token"].encode()
    before = counts()
    if raw:
        response = client.post(path, data=form_body(fields),
                               content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(path, data={k: v.decode("utf-8", "replace")
                                           for k, v in fields.items()})
    assert_whole(app, response, before, most=0)


QUERY_NAMES = ["title", "body", "category_id", "district_id", "q", "kind", "category", "unit",
               "district", "status", "from", "to", "sort", "after", "page", "year", "month",
               "period", "institution", "format", "service_request_id", "service_code",
               "start_date", "end_date", "jurisdiction_id", "lang"]


@case("pages", path=st.sampled_from(["/lapor/serupa", "/lapor", "/laporan", "/statistik", "/",
                             "/open311/v2/requests.json", "/open311/v2/services.json",
                             "/open311/v2/requests.xml", "/lacak"]),
       query=fields_strategy(QUERY_NAMES))
def public_pages_with_any_query(app, client, world, path, query):
    before = counts()
    response = client.get(path + "?" + form_body(query).decode("ascii"))
    assert_whole(app, response, before, most=0)


@case("pages", segment=st.one_of(TEXT, RAW.map(lambda b: b.decode("latin-1"))),
       template=st.sampled_from(["/laporan/{}", "/lacak/{}", "/open311/v2/requests/{}.json",
                                 "/open311/v2/services/{}.json", "/bahasa/{}",
                                 "/open311/v2/requests.{}"]))
def public_paths_with_any_segment(app, client, world, segment, template):
    before = counts()
    response = client.get(template.format(quote_from_bytes(
        segment.encode("utf-8", "surrogatepass"), safe="")))
    assert_whole(app, response, before, most=0)


# ----------------------------------------------------------------------------- APIs
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
              st.floats(allow_nan=False), TEXT),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=12)
FEED_FIELDS = ["external_id", "kind", "title", "body", "category", "kecamatan", "district",
               "village", "address", "event_date", "is_anonymous", "is_confidential",
               "reporter_name", "reporter_email", "reporter_phone", "created_at", "institution"]
FEED_VALID = {"external_id": "EXT-1", "kind": "pengaduan", "category": "INFRASTRUKTUR",
              "title": "Jalan rusak di depan pasar", "kecamatan": "Cikupa",
              "body": "Lubang besar di jalan raya depan pasar sudah dua minggu."}


@case("apis", rows=st.lists(st.fixed_dictionaries({}, optional={f: JSON_VALUE for f in FEED_FIELDS}),
                     max_size=4),
       valid_base=st.booleans(), shape=st.sampled_from(["array", "object", "other"]),
       other=JSON_VALUE, external=st.integers(min_value=0, max_value=10 ** 9))
def feed_api_json(app, client, world, rows, valid_base, shape, other, external):
    if valid_base:
        rows = [{**FEED_VALID, "external_id": f"EXT-{external}-{i}", **row}
                for i, row in enumerate(rows or [{}])]
    body = rows if shape == "array" else (rows[0] if rows and shape == "object" else other)
    before = counts()
    response = client.post("/api/feed/v1/reports", data=json.dumps(body),
                           headers={"Authorization": f"Bearer {world['feed_key']}"},
                           content_type="application/json")
    assert_whole(app, response, before, most=max(1, len(rows)))
    assert response.is_json
    created = counts()["reports"] - before["reports"]
    if created:
        answered = [r for r in response.get_json()["results"] if r["status"] == "created"] \
            if isinstance(response.get_json(), dict) and "results" in response.get_json() \
            else None
        if answered is not None:
            assert len(answered) == created


@case("apis", body=RAW, content_type=st.sampled_from(["application/json", "text/plain",
                                               "application/x-www-form-urlencoded",
                                               "application/json; charset=latin-1"]),
       key=st.one_of(st.none(), st.just("valid"), TEXT.filter(lambda t: "\n" not in t
                                                               and "\r" not in t)))
def feed_api_raw(app, client, world, body, content_type, key):
    headers = {}
    if key == "valid":
        headers["Authorization"] = f"Bearer {world['feed_key']}"
    elif key is not None:
        headers["X-API-Key"] = key.encode("utf-8", "replace").decode("latin-1")
    before = counts()
    response = client.post("/api/feed/v1/reports", data=body, headers=headers,
                           content_type=content_type)
    assert_whole(app, response, before)


OPEN311_FIELDS = ["service_code", "description", "lat", "long", "address_string",
                  "address_id", "email", "first_name", "last_name", "phone", "device_id",
                  "account_id", "media_url", "jurisdiction_id", "attribute[kecamatan]",
                  "title", "is_anonymous", "is_confidential"]


@case("apis", fields=fields_strategy(OPEN311_FIELDS), with_key=st.booleans(), valid_base=st.booleans())
def open311_post(app, client, world, fields, with_key, valid_base):
    if world["open311_key"] is None:
        return  # no Open311 API in this tree
    if valid_base:
        fields = {"service_code": b"INFRASTRUKTUR", "description":
                  b"Lubang besar di jalan raya depan pasar sudah dua minggu membahayakan.",
                  "address_string": b"Cikupa", "email": b"warga@example.id",
                  "first_name": b"Siti", **fields}
    if with_key:
        fields["api_key"] = world["open311_key"].encode()
    before = counts()
    response = client.post("/open311/v2/requests.json", data=form_body(fields),
                           content_type="application/x-www-form-urlencoded")
    assert_whole(app, response, before)
    if counts()["reports"] > before["reports"]:
        assert response.status_code == 201


# ----------------------------------------------------------------------------- the tests
@FUZZ
@given(data=st.data())
def test_filing_form_and_broken_bodies(app, client, world, data):
    run_case("forms", app, client, world, data)


@FUZZ
@given(data=st.data())
def test_tracking_reporter_actions_support_and_accounts(app, client, world, data):
    run_case("reporter", app, client, world, data)


@FUZZ
@given(data=st.data())
def test_public_pages_with_any_query_or_path(app, client, world, data):
    run_case("pages", app, client, world, data)


@FUZZ
@given(data=st.data())
def test_feed_api_and_open311(app, client, world, data):
    run_case("apis", app, client, world, data)
