"""Bad, hostile and unlucky input on the filing and tracking forms.

Whatever comes in, the citizen gets a page that says what is wrong, next to the field, with what
they typed still there; never a 500, never half a report, never a stray file.
"""
import io
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from portal.domain.filing import jakarta_today
from portal.errors import MESSAGES
from portal.extensions import db
from portal.models import (
    Attachment,
    Category,
    OutboxMessage,
    Report,
    ReporterIdentity,
    ReportEvent,
)
from portal.models.types import utcnow
from tests.helpers import csrf_token, file_report, jpeg_bytes, receipt_code, report_form

KB = 1024
SMALL_LIMIT = 200 * KB


# --------------------------------------------------------------------------- reading pages
class FormPage(HTMLParser):
    """What a rendered form shows: the value of each field and the errors under each field."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.checked: set[str] = set()
        self.selected: dict[str, str] = {}
        self.errors: dict[str, list[str]] = {}
        self.invalid: set[str] = set()
        self._select = self._textarea = self._errors_of = None
        self._in_li = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if a.get("aria-invalid") == "true" and name:
            self.invalid.add(name)
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.checked.add(name if a.get("type") == "checkbox"
                                     else f"{name}={a.get('value')}")
            elif a.get("type") != "file":
                self.values[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.selected[self._select] = a.get("value") or ""
        elif tag == "ul" and (a.get("id") or "").endswith("-errors"):
            self._errors_of = a["id"][: -len("-errors")]
            self.errors[self._errors_of] = []
        elif tag == "li" and self._errors_of:
            self._in_li = True
            self.errors[self._errors_of].append("")

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            # As in a browser: one newline right after <textarea> is not part of the value.
            value = self.values[self._textarea]
            self.values[self._textarea] = value[2:] if value.startswith("\r\n") else (
                value[1:] if value.startswith("\n") else value)
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "ul":
            self._errors_of = None
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data
        elif self._in_li and self._errors_of:
            self.errors[self._errors_of][-1] += data


def page_of(response) -> FormPage:
    return FormPage(response.get_data(as_text=True))


def translated(app, text, **variables) -> str:
    """``text`` (a msgid or a lazy text) as the portal shows it in its default language:
    Indonesian once the catalog is compiled, the English source text until then."""
    with app.test_request_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext(text, **variables) if isinstance(text, str) else str(text)


# --------------------------------------------------------------------------- data
def category_id(code="INFRASTRUKTUR") -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == code)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_saved(app) -> bool:
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = list(folder.iterdir()) if folder.exists() else []
    return (count(Report) == 0 and count(Attachment) == 0 and count(ReporterIdentity) == 0
            and count(ReportEvent) == 0 and count(OutboxMessage) == 0 and files == [])


TYPED = dict(
    kind="aspiration",
    title="Lampu jalan mati di Jl. Melati",
    body="Sudah tiga minggu lampu jalan di depan rumah nomor 7 mati & gelap <sekali>.",
    village="Talaga \"Indah\"",
    address="Jl. Melati 7, RT 02/RW 05",
    name="Siti 'Rahma' Wati",
    email="siti@example.id",
    phone="0812 3456 7890",
    nik="3603123456780001",
)


def assert_kept(page: FormPage, typed: dict, except_fields=()) -> None:
    for field, value in typed.items():
        if field in except_fields or field in ("category", "district", "is_anonymous"):
            continue
        if field == "kind":
            assert f"kind={value}" in page.checked, "the chosen kind was lost"
        else:
            # Kept as the form cleaned it: surrounding spaces go.
            assert page.values.get(field) == value.strip(), f"{field} was not kept"


# --------------------------------------------------------------------------- field by field
FIELD_CASES = [
    # (field with the error, what is typed, message or None for WTForms' own wording)
    ("title", {"title": "Jlan"}, "The title must be 5 to 200 characters long."),
    ("title", {"title": "J" * 201}, "The title must be 5 to 200 characters long."),
    ("title", {"title": "   "}, "Write a short title."),
    ("body", {"body": "Terlalu pendek."}, "The description must be 20 to 10,000 characters long."),
    ("body", {"body": "x" * 10_001}, "The description must be 20 to 10,000 characters long."),
    ("category", {"category": ""}, "Choose a category."),
    ("category", {"category": "999999"}, None),
    ("category", {"category": "abc"}, None),
    ("category", {"category": "1 OR 1=1"}, None),
    ("category", {"category": "9" * 30}, None),
    ("district", {"district": "999999"}, None),
    ("district", {"district": "-1"}, None),
    ("kind", {"kind": "gossip"}, None),
    ("email", {"email": "siti@@example"}, "This is not a valid e-mail address."),
    ("email", {"email": "siti example.id"}, "This is not a valid e-mail address."),
    ("phone", {"phone": "0812-abc-999"}, "Write the phone number with digits only, e.g. 0812 3456 7890."),
    ("phone", {"phone": "12"}, "Write the phone number with digits only, e.g. 0812 3456 7890."),
    ("nik", {"nik": "36031234"}, "A NIK has exactly 16 digits."),
    ("nik", {"nik": "36031234567800012"}, "A NIK has exactly 16 digits."),
    ("nik", {"nik": "360312345678000X"}, "A NIK has exactly 16 digits."),
    # Arabic-Indic digits are digits to Python's \d, but not a NIK.
    ("nik", {"nik": "\u0663\u0666\u0660\u0663" * 4}, "A NIK has exactly 16 digits."),
    ("event_date", {"event_date": "2025-02-30"}, None),
    ("event_date", {"event_date": "kemarin"}, None),
    ("event_date", {"event_date": "31/12/2025"}, None),
    ("name", {"name": ""}, "Write your name, or choose to report anonymously."),
    ("email", {"email": "", "phone": ""},
     "Give an e-mail address or a phone number so that we can reach you."),
]


@pytest.mark.parametrize("field, typed, message", FIELD_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(FIELD_CASES)])
def test_each_bad_field_gets_its_message_and_keeps_what_was_typed(demo, client, app, field,
                                                                  typed, message):
    data = {**TYPED, "category": category_id(), **typed}
    response = file_report(client, **data)

    assert response.status_code == 422
    page = page_of(response)
    assert page.errors.get(field), f"no message next to {field}: {page.errors}"
    if message:
        assert translated(app, message) in page.errors[field]
    assert field in page.invalid or field == "kind"
    # The other fields show no errors of their own ...
    assert set(page.errors) == {field}, page.errors
    # ... and everything typed is still there, the wrong value included (so it can be fixed).
    keep_wrong = field not in ("category", "district", "kind")
    assert_kept(page, data, except_fields=() if keep_wrong else (field,))
    if field != "category":
        assert page.selected.get("category") == data["category"]
    assert nothing_saved(app)


def test_several_problems_are_shown_at_once(demo, client, app):
    """A form error (short title) and the rules about the report (no name, bad NIK, a date in
    the future) are all reported in one go, not one per try."""
    tomorrow = jakarta_today(utcnow()) + timedelta(days=2)
    response = file_report(client, category=category_id(), title="Jln", name="", nik="123",
                           event_date=tomorrow.isoformat(), phone="x")
    assert response.status_code == 422
    page = page_of(response)
    assert set(page.errors) == {"title", "name", "nik", "event_date", "phone"}, page.errors
    assert translated(app, "A NIK has exactly 16 digits.") in page.errors["nik"]
    assert page.values["nik"] == "123"
    assert nothing_saved(app)


def test_event_date_is_judged_by_the_date_in_jakarta(demo, client, app, monkeypatch):
    # 20:00 UTC on 10 March is 03:00 on 11 March in Jakarta (UTC+7).
    evening_utc = datetime(2026, 3, 10, 20, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("portal.citizen.views.utcnow", lambda: evening_utc)

    response = file_report(client, category=category_id(), event_date="2026-03-12")
    assert response.status_code == 422
    page = page_of(response)
    assert translated(app, "The date of the event cannot be in the future.") in \
        page.errors["event_date"]
    assert page.values["event_date"] == "2026-03-12"
    assert count(Report) == 0

    # Already "today" in Jakarta although still the 10th in UTC: accepted.
    response = file_report(client, category=category_id(), event_date="2026-03-11")
    assert response.status_code == 302
    assert db.session.scalar(select(Report.event_date)) == date(2026, 3, 11)


def test_anonymous_reporter_may_leave_name_and_contact_empty_but_not_break_rules(demo, client,
                                                                               app):
    response = file_report(client, category=category_id(), is_anonymous="y", name="", email="",
                           phone="", nik="12")
    assert response.status_code == 422
    page = page_of(response)
    assert set(page.errors) == {"nik"}
    assert "is_anonymous" in page.checked


# --------------------------------------------------------------------------- files
@pytest.fixture
def small_uploads(app):
    app.config["MAX_ATTACHMENT_BYTES"] = SMALL_LIMIT
    app.config["MAX_CONTENT_LENGTH"] = 6 * SMALL_LIMIT + 64 * KB
    return app


def test_file_over_the_size_limit(demo, client, small_uploads):
    big = jpeg_bytes() + b"\x00" * (SMALL_LIMIT + 1)
    response = file_report(client, **TYPED, category=category_id(), attachments=[
        (io.BytesIO(jpeg_bytes()), "kecil.jpg"), (io.BytesIO(big), "besar.jpg")])
    assert response.status_code == 422
    page = page_of(response)
    assert any("besar.jpg" in message for message in page.errors["attachments"])
    assert not any("kecil.jpg" in message for message in page.errors["attachments"])
    assert_kept(page, TYPED)
    assert page.selected["category"] == category_id()
    assert nothing_saved(small_uploads)


def test_six_files_are_one_too_many(demo, client, app):
    files = [(io.BytesIO(jpeg_bytes()), f"foto{i}.jpg") for i in range(6)]
    response = file_report(client, **TYPED, category=category_id(), attachments=files)
    assert response.status_code == 422
    page = page_of(response)
    assert translated(app, "Choose at most %(count)s files.", count=5) in page.errors["attachments"]
    assert_kept(page, TYPED)
    assert nothing_saved(app)


def test_five_files_are_fine(demo, client, app):
    files = [(io.BytesIO(jpeg_bytes()), f"foto{i}.jpg") for i in range(5)]
    response = file_report(client, category=category_id(), attachments=files)
    assert response.status_code == 302
    assert count(Attachment) == 5
    assert len(list(Path(app.config["UPLOAD_FOLDER"]).iterdir())) == 5


def test_corrupt_jpeg(demo, client, app):
    corrupt = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13\x37 not really a photo " * 200
    response = file_report(client, **TYPED, category=category_id(),
                           attachments=[(io.BytesIO(corrupt), "rusak.jpg")])
    assert response.status_code == 422
    page = page_of(response)
    assert any("rusak.jpg" in message for message in page.errors["attachments"])
    assert_kept(page, TYPED)
    assert nothing_saved(app)


def test_empty_file_and_path_in_its_name(demo, client, app):
    response = file_report(client, category=category_id(),
                           attachments=[(io.BytesIO(b""), "../../etc/kosong.jpg")])
    assert response.status_code == 422
    errors = page_of(response).errors["attachments"]
    assert any("kosong.jpg" in message and "etc" not in message for message in errors)
    assert nothing_saved(app)


def test_body_over_max_content_length_gets_413_page(demo, client, app):
    app.config["MAX_CONTENT_LENGTH"] = 100 * KB
    data = report_form(category=category_id())
    data["csrf_token"] = csrf_token(client, "/lapor")
    data["attachments"] = [(io.BytesIO(b"\xff" * 150 * KB), "besar.jpg")]
    response = client.post("/lapor", data=data, content_type="multipart/form-data")

    assert response.status_code == 413
    html = response.get_data(as_text=True)
    title, message = MESSAGES[413]
    assert translated(app, title) in html
    assert translated(app, message) in html
    assert "Traceback" not in html
    assert nothing_saved(app)


def test_a_body_of_many_tiny_files_is_refused_while_it_streams(demo, client, app):
    data = report_form(category=category_id())
    data["csrf_token"] = csrf_token(client, "/lapor")
    data["attachments"] = [(io.BytesIO(b"\xff"), f"f{i}.jpg") for i in range(200)]
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)
    assert nothing_saved(app)
    # A whole form with its five files is well within the parts allowed.
    assert len(data) - 1 + 5 < app.config["MAX_FORM_PARTS"]


def test_413_page_in_english(demo, client, app):
    client.get("/bahasa/en")
    app.config["MAX_CONTENT_LENGTH"] = 100 * KB
    data = report_form(category=category_id())
    data["csrf_token"] = csrf_token(client, "/lapor")
    data["attachments"] = [(io.BytesIO(b"\xff" * 150 * KB), "besar.jpg")]
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Upload too large" in html
    assert "choose smaller files" in html
    assert nothing_saved(app)


def test_huge_text_field_gets_413_not_500(demo, client, app):
    # MAX_FORM_MEMORY_SIZE (1 MB) bounds a text field; werkzeug refuses with 413.
    response = file_report(client, category=category_id(), body="a" * (2 * 1024 * KB))
    assert response.status_code == 413
    assert nothing_saved(app)


# --------------------------------------------------------------------------- CSRF
@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_post_without_a_valid_csrf_token_gets_400_page(demo, client, app, token):
    client.get("/lapor")  # a session exists, as in a browser
    data = report_form(category=category_id())
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert translated(app, "Bad request") in html
    assert "Traceback" not in html
    assert nothing_saved(app)


def test_tracking_without_csrf_token_gets_400(client):
    response = client.post("/lacak", data={"code": "ABCDE-FGH23-45678"})
    assert response.status_code == 400


# --------------------------------------------------------------------------- weird input
WEIRD = {
    "nul": "Jalan\x00 rusak\x00 parah sekali di sini",
    "emoji": "\U0001F6A7" * 10_000,
    "rtl": "\u202eكسر الطريق\u202c \u200f שבור \u200e jalan rusak",
    "sql": "'; DROP TABLE report; -- \" OR 1=1 /* */ UNION SELECT * FROM user_account",
    "controls": "baris\r\nbaru\ttab \x07\x08\x1b[31m merah \x7f\x85\u2028\u2029",
    "markup": "<script>alert('x')</script>{{ 7*7 }}{% raw %}${7*7}",
    "zero_width": "jalan\u200b\u200c\u200d\ufeff rusak \ufffe\uffff sekali parah",
}
WEIRD_FIELDS = ["title", "body", "village", "address", "name", "email", "phone", "nik",
                "event_date", "category", "district", "kind"]


@pytest.mark.parametrize("kind", sorted(WEIRD))
def test_weird_input_never_gives_500(demo, client, app, kind):
    app.config["FILING_LIMIT"] = "1000 per hour"
    value = WEIRD[kind]
    for field in WEIRD_FIELDS:
        reports_before = count(Report)
        response = file_report(client, **{"category": category_id(), field: value})
        assert response.status_code in (302, 413, 422), (field, response.status_code)
        if response.status_code == 302:
            assert count(Report) == reports_before + 1
            report = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
            stored = report.title + report.body + (report.village or "") + (report.address or "")
            assert "\x00" not in stored, field
            receipt_code(client)  # the receipt page renders it too
        else:
            assert "Traceback" not in response.get_data(as_text=True)
            assert count(Report) == reports_before, field


def test_nul_bytes_are_removed_not_stored(demo, client, app):
    response = file_report(client, category=category_id(), title="Jalan\x00 rusak",
                           body="Lubang\x00 besar di jalan raya depan pasar sudah dua minggu.",
                           name="Siti\x00", village="Tala\x00ga")
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert report.title == "Jalan rusak"
    assert report.body == "Lubang besar di jalan raya depan pasar sudah dua minggu."
    assert report.village == "Talaga"


def test_ten_thousand_emoji_are_ten_thousand_characters(demo, client, app):
    body = "\U0001F6A7" * 10_000
    response = file_report(client, category=category_id(), body=body)
    assert response.status_code == 302
    assert db.session.scalar(select(Report.body)) == body


def test_text_in_the_file_field_is_not_a_file(demo, client, app):
    data = report_form(category=category_id())
    data["csrf_token"] = csrf_token(client, "/lapor")
    data["attachments"] = "C:\\fakepath\\foto.jpg"
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code in (302, 422)
    assert count(Attachment) == 0


def test_url_encoded_post_instead_of_multipart(demo, client, app):
    data = report_form(category=category_id())
    data["csrf_token"] = csrf_token(client, "/lapor")
    response = client.post("/lapor", data=data)  # application/x-www-form-urlencoded
    assert response.status_code == 302
    assert count(Report) == 1


def test_invalid_utf8_is_not_a_500(demo, client, app):
    token = csrf_token(client, "/lapor")
    body = (f"csrf_token={token}&kind=complaint&category={category_id()}&title=Jalan%FF%FE+rusak"
            "&body=Lubang+besar+%C3%28+di+jalan+raya+depan+pasar+sudah+lama"
            "&name=Siti%C0%AF&email=siti%40example.id")
    response = client.post("/lapor", data=body.encode("ascii"),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 422)


def test_repeated_fields_do_not_break_the_form(demo, client, app):
    data = list(report_form(category=category_id()).items())
    data += [("title", "Judul kedua"), ("category", "abc"), ("kind", "complaint"),
             ("csrf_token", csrf_token(client, "/lapor"))]
    from werkzeug.datastructures import MultiDict

    response = client.post("/lapor", data=MultiDict(data), content_type="multipart/form-data")
    assert response.status_code in (302, 422)


# --------------------------------------------------------------------------- failures
def test_failed_commit_leaves_no_report_and_no_file(demo, client, app, monkeypatch):
    real_commit = db.session.commit
    failures = []

    def commit_failing_once():
        if not failures:
            failures.append(1)
            raise SQLAlchemyError("could not commit: the database went away")
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit_failing_once)
    response = file_report(client, **TYPED, category=category_id(), attachments=[
        (io.BytesIO(jpeg_bytes()), "foto.jpg"),
        (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "surat.pdf")])
    monkeypatch.undo()

    assert failures, "the view never committed"
    assert 500 <= response.status_code < 600
    html = response.get_data(as_text=True)
    assert "Traceback" not in html and "SQLAlchemyError" not in html
    assert "database went away" not in html
    assert nothing_saved(app)
    # What was typed is still there to send again (only the files must be chosen again).
    page = page_of(response)
    assert_kept(page, TYPED)
    assert page.selected["category"] == category_id()

    # Sending again works.
    response = file_report(client, **TYPED, category=category_id())
    assert response.status_code == 302
    assert count(Report) == 1


def test_failure_while_writing_the_report_leaves_no_file(demo, client, app, monkeypatch):
    """The files are written before the report's rows reach the database; if the database
    refuses them (a constraint, a dropped connection), the files go too."""
    real_flush = db.session.flush

    def flush_failing():
        if db.session.new and any(isinstance(o, Attachment) for o in db.session.new):
            raise SQLAlchemyError("could not write the attachment rows")
        return real_flush()

    monkeypatch.setattr(db.session, "flush", flush_failing)
    response = file_report(client, **TYPED, category=category_id(), attachments=[
        (io.BytesIO(jpeg_bytes()), "foto.jpg")])
    monkeypatch.undo()

    assert 500 <= response.status_code < 600
    assert "Traceback" not in response.get_data(as_text=True)
    db.session.rollback()
    assert nothing_saved(app)


# --------------------------------------------------------------------------- tracking
@pytest.fixture
def low_tracking_limit(app):
    app.config["TRACKING_LOOKUP_LIMIT"] = "3 per minute"
    return app


WRONG_CODE = ("No report has this tracking code. Check the code (it has 15 letters and digits, "
              "like ABCDE-FGH23-45678) and try again.")


def track(client, code: str):
    return client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"), "code": code})


def test_wrong_code_gives_404_with_a_message(demo, client, app):
    for wrong in ("ABCDE-FGH23-45678", "hello", "' OR 1=1 --", "ABCDE\x00FGH23\x0045678",
                  "\u0663" * 15, "A" * 64):
        response = track(client, wrong)
        assert response.status_code == 404
        page = page_of(response)
        assert page.errors.get("code"), page.errors
        assert "code" in page.invalid
        assert page.errors["code"] == [translated(app, WRONG_CODE)]
    assert count(Report) == 0

    # Only control characters: nothing was typed, which is not a guess but a form error.
    response = track(client, "\x00" * 10)
    assert response.status_code == 422
    assert page_of(response).errors["code"] == [
        translated(app, "Type the tracking code you received.")]
    assert track(client, "A" * 65).status_code == 422


def test_wrong_codes_are_limited_but_right_codes_are_not(demo, client, low_tracking_limit):
    file_report(client, category=category_id())
    code = receipt_code(client)

    for _ in range(2):
        assert track(client, "ABCDE-FGH23-45678").status_code == 404
    for _ in range(5):  # right codes, more than the limit: never counted
        assert track(client, code).status_code == 302
    for _ in range(4):  # empty input is a form error, not a guess
        assert track(client, "").status_code == 422
    assert track(client, "hello").status_code == 404  # the third wrong one

    blocked = track(client, "ABCDE-FGH23-45679")
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    title, message = MESSAGES[429]
    assert translated(low_tracking_limit, title) in html
    assert translated(low_tracking_limit, message) in html
    # Locked out means locked out: a right code must not tell a guesser they hit one.
    assert track(client, code).status_code == 429
    assert client.get("/lacak").status_code == 200


def test_tracking_limit_is_per_address(demo, client, low_tracking_limit):
    for _ in range(3):
        track(client, "ABCDE-FGH23-45678")
    assert track(client, "ABCDE-FGH23-45678").status_code == 429
    other = client.post("/lacak", environ_base={"REMOTE_ADDR": "10.1.2.3"}, data={
        "csrf_token": csrf_token(client, "/lacak"), "code": "ABCDE-FGH23-45678"})
    assert other.status_code == 404
