"""The deadline clock on the pages: a badge with a word (not colour alone) on the staff inbox rows
and the staff report page; on the reporter's tracking page only the date, in the reporter's terms.

Time is frozen on Thursday 20 August 2026, 12:00 in Jakarta (Monday the 17th was Independence
Day, a national holiday)."""
import re
from datetime import datetime, timezone
from html import unescape

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.domain.filing import ReportDraft, file_report
from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import Category, ReportKind, User
from portal.storage import AttachmentStore
from tests.helpers import csrf_token

ADMIN = "admin@tangerangkab.example.id"
NOW = "2026-08-20 05:00:00"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def frozen(demo):
    with freeze_time(NOW):
        yield demo


@pytest.fixture
def reports(frozen, tmp_path):
    store = AttachmentStore(tmp_path / "uploads")
    category_id = db.session.scalar(select(Category.id).where(Category.code == "ADMINDUK"))
    admin = db.session.scalar(select(User).where(User.email == ADMIN))

    def filed(title: str, at: datetime):
        draft = ReportDraft(kind=ReportKind.COMPLAINT, title=title, body="Isi laporan.",
                            category_id=category_id, name="Warga", email="warga@example.id")
        return file_report(draft, [], store=store, now=at)

    made = {
        # verification time over on Thursday 13 August
        "red": filed("Laporan merah", utc(2026, 8, 10, 3, 0)),
        # Tuesday 18: 19, 20, 21 -> Friday 21, the next working day
        "yellow": filed("Laporan kuning", utc(2026, 8, 18, 3, 0)),
        # today: 21, 24, (25 is the Prophet's Birthday), 26 -> Wednesday 26
        "green": filed("Laporan hijau", utc(2026, 8, 20, 3, 0)),
        "none": filed("Laporan dijawab", utc(2026, 8, 19, 3, 0)),
    }
    for action in (Action.VERIFY, Action.ANSWER):
        perform(made["none"].report, action, actor=admin, now=utc(2026, 8, 19, 4, 0),
                expected_version=None, data=ActionInput(message="Sudah selesai."))
    db.session.commit()
    return {key: (f.report.public_number, f.tracking_code) for key, f in made.items()}


def signed_in(app, email: str):
    client = app.test_client()
    client.get("/bahasa/en")
    token = csrf_token(client, "/staf/masuk")
    response = client.post("/staf/masuk", data={"csrf_token": token, "email": email,
                                                "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def row_of(html: str, number: str) -> str:
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.DOTALL):
        if number in row:
            return " ".join(re.sub(r"<[^>]+>", " ", row).split())
    raise AssertionError(f"no row for {number}")


def test_inbox_rows_show_the_clock_in_words(frozen, reports):
    client = signed_in(frozen, ADMIN)
    html = unescape(client.get("/staf/").get_data(as_text=True))
    assert "Deadline" in html
    assert "Overdue · due 13 Aug 2026" in row_of(html, reports["red"][0])
    assert "Due soon · due 21 Aug 2026" in row_of(html, reports["yellow"][0])
    assert "On time · due 26 Aug 2026" in row_of(html, reports["green"][0])
    assert "No deadline running" in row_of(html, reports["none"][0])
    assert 'class="clock clock-red"' in html and 'class="clock clock-yellow"' in html


def test_report_page_shows_the_clock_and_its_basis(frozen, reports):
    client = signed_in(frozen, ADMIN)
    html = unescape(client.get(f"/staf/laporan/{reports['red'][0]}").get_data(as_text=True))
    deadline = re.search(r'<dd id="deadline">(.*?)</dd>', html, flags=re.DOTALL).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", deadline).split())
    assert "Overdue" in text and "Verification" in text
    assert "Until the end of 13 Aug 2026 (3 working days)." in text


def test_clarification_and_extension_forms_appear_where_they_apply(frozen, reports):
    client = signed_in(frozen, ADMIN)
    html = client.get(f"/staf/laporan/{reports['green'][0]}").get_data(as_text=True)
    assert 'id="action-request_clarification"' in html
    assert 'id="action-extend"' not in html  # a complaint, not an information request
    number = reports["green"][0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    version = re.search(r'id="request_clarification-version"[^>]*value="(\d+)"', html).group(1)
    response = client.post(f"/staf/laporan/{number}/tindakan/request_clarification",
                           data={"csrf_token": token, "version": version,
                                 "message": "Di kecamatan mana?"})
    assert response.status_code == 302
    html = unescape(client.get(f"/staf/laporan/{number}").get_data(as_text=True))
    assert "Paused: waiting for the reporter" in html
    assert 'id="action-request_clarification"' not in html


def track(app, code: str, number: str) -> str:
    client = app.test_client()
    client.get("/bahasa/en")
    token = csrf_token(client, "/lacak")
    assert client.post("/lacak", data={"csrf_token": token, "code": code}).status_code == 302
    return unescape(client.get(f"/lacak/{number}").get_data(as_text=True))


def test_the_reporter_sees_the_date_not_the_colour(frozen, reports):
    number, code = reports["red"]
    html = track(frozen, code, number)
    assert "Your report is to be checked by 13 Aug 2026." in html
    assert "Overdue" not in html and "clock-red" not in html
    number, code = reports["none"]
    assert 'id="deadline"' not in track(frozen, code, number)
