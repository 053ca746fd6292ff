"""The public feed through its pages (/laporan, /laporan/<number>): what is public and what
never is, personal data masked on a table of real-looking Indonesian samples (staff still see
the original), search and every filter, keyset pages without duplicates or gaps, sorting by
support, supporting once, the anonymous reporter nowhere, and a fixed number of statements
per feed page."""
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import event, select

from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import (
    EventKind,
    Institution,
    Report,
    ReportKind,
    ReportStatus,
    ReportSupport,
    User,
)
from tests.helpers import csrf_token
from tests.public_feed_helpers import (
    NOW,
    REPORTER,
    answer,
    filed,
    listed,
    next_link,
    set_support_count,
    walk,
)
from tests.similar_helpers import category_id, district_id

S = ReportStatus
DAY = timedelta(days=1)
ADMIN = "admin@tangerangkab.example.id"


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def feed(client, **params) -> str:
    response = client.get("/laporan", query_string=params)
    assert response.status_code == 200
    return html_of(response)


# ----------------------------------------------------------------------------- visibility
PUBLIC = [S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS, S.ANSWERED, S.COMPLETED, S.POSTPONED,
          S.NOT_IN_AUTHORITY, S.REOPENED]


def test_every_verified_public_report_is_listed_and_readable(demo, client):
    numbers = [filed(f"Laporan nomor {i} tentang jalan", status=status,
                     created=NOW - i * DAY).public_number for i, status in enumerate(PUBLIC)]
    db.session.commit()
    assert listed(feed(client)) == numbers  # newest first
    for number in numbers:
        response = client.get(f"/laporan/{number}")
        assert response.status_code == 200
        assert number in html_of(response)


@pytest.mark.parametrize("options", [
    {"status": S.SUBMITTED},
    {"status": S.ARCHIVED},
    {"confidential": True},
    {"confidential": True, "anonymous": True},
    {"status": S.COMPLETED, "confidential": True},
], ids=["unverified", "archived", "confidential", "confidential-anonymous",
        "completed-confidential"])
def test_a_report_that_is_not_public_is_neither_listed_nor_reachable(demo, client, options):
    hidden = filed("Rahasia: pungli di kantor kecamatan", **options)
    visible = filed("Jalan rusak di depan Pasar Cikupa")
    db.session.commit()
    html = feed(client)
    assert listed(html) == [visible.public_number]
    assert "pungli" not in html
    assert feed(client, q="pungli").count("feed-item") == 0
    refused = client.get(f"/laporan/{hidden.public_number}")
    unknown = client.get("/laporan/LPR-2026-9999999")
    assert refused.status_code == unknown.status_code == 404
    # The same page for a number that exists and for one that does not: no oracle.
    assert html_of(refused).replace(hidden.public_number, "") == \
        html_of(unknown).replace("LPR-2026-9999999", "")


def test_a_report_archived_as_a_duplicate_is_not_public(demo, client):
    from portal.models import ArchiveReason

    original = filed("Jalan rusak di depan Pasar Cikupa")
    copy = filed("Jalan rusak depan Pasar Cikupa lagi")
    copy.status, copy.archive_reason = S.ARCHIVED, ArchiveReason.DUPLICATE
    copy.duplicate_of = original
    db.session.commit()
    assert listed(feed(client)) == [original.public_number]
    assert client.get(f"/laporan/{copy.public_number}").status_code == 404


# ----------------------------------------------------------------------------- masking
# Real-looking samples a reporter might type, and what must not reach the public.
SAMPLES = [
    ("NIK saya 3603124501900003 mohon dibantu", "3603124501900003"),
    ("NIK 3603 1245 0190 0003 sesuai KTP", "3603 1245 0190 0003"),
    ("nomor KK 36.03.12.450190.0003", "36.03.12.450190.0003"),
    ("NIK: 3603-1245-0190-0003", "3603-1245-0190-0003"),
    ("hubungi saya di 0812-3456-7890 kapan saja", "0812-3456-7890"),
    ("WA +62 812 3456 7890", "+62 812 3456 7890"),
    ("telepon 081234567890", "081234567890"),
    ("kantor (021) 5556 7890", "5556 7890"),
    ("atau 62 857 1122 3344", "857 1122 3344"),
    ("kirim ke budi.santoso@gmail.com ya", "budi.santoso@gmail.com"),
    ("email budi @ yahoo.co.id", "budi @ yahoo.co.id"),
    ("saya Siti Rahmawati warga RT 02", "Siti Rahmawati"),
    ("ibu SITI RAHMAWATI sudah lapor", "SITI RAHMAWATI"),
    ("tanya rahmawati di pos ronda", "rahmawati"),
]


@pytest.mark.parametrize("text, secret", SAMPLES, ids=[s for _, s in SAMPLES])
def test_personal_data_in_the_text_is_masked_on_public_pages(demo, client, text, secret):
    report = filed(f"Pelayanan buruk, {text}", f"Sudah dua minggu tidak ada tanggapan. {text}.",
                   name=REPORTER)
    db.session.commit()
    listing, page = feed(client), html_of(client.get(f"/laporan/{report.public_number}"))
    assert report.public_number in listing
    for html in (listing, page):
        assert secret not in html
        assert secret.lower() not in html.lower()
    assert "Sudah dua minggu tidak ada tanggapan" in page
    # Searching the secret finds nothing.
    assert listed(feed(client, q=secret)) == []


def test_staff_still_see_the_original_text(demo, client, app):
    report = filed("Blangko KTP kosong", "NIK saya 3603124501900003, telepon 0812-3456-7890.",
                   category="ADMINDUK")
    db.session.commit()
    assert "3603124501900003" not in html_of(client.get(f"/laporan/{report.public_number}"))
    staff = app.test_client()
    staff.post("/staf/masuk", data={"csrf_token": csrf_token(staff, "/staf/masuk"),
                                    "email": ADMIN, "password": DEMO_PASSWORD})
    html = html_of(staff.get(f"/staf/laporan/{report.public_number}"))
    assert "3603124501900003" in html and "0812-3456-7890" in html


def test_the_address_and_the_reporter_are_never_shown(demo, client):
    report = filed(name="Bambang Sutejo", email="bambang.sutejo@example.id",
                   phone="081311112222", nik="3603124501900003", address="Jl. Kenanga No. 12")
    db.session.commit()
    page = html_of(client.get(f"/laporan/{report.public_number}"))
    listing = feed(client)
    for html in (page, listing):
        for secret in ("Bambang", "Sutejo", "bambang.sutejo", "081311112222",
                       "3603124501900003", "Kenanga"):
            assert secret not in html
    assert "Talaga" in page and "Cikupa" in page  # the village and kecamatan are shown


def test_an_anonymous_reporter_is_nowhere_in_the_feed_or_the_page(demo, client):
    report = filed("Pungutan liar di sekolah",
                   "Anak saya diminta membayar seragam. Saya Dewi Lestari, orang tua murid.",
                   anonymous=True, name="Dewi Lestari", email="dewi.lestari@example.id",
                   phone="085711223344", nik="3603124501900009", category="PENDIDIKAN")
    db.session.commit()
    client.get("/bahasa/en")
    page = html_of(client.get(f"/laporan/{report.public_number}"))
    listing = feed(client)
    for html in (page, listing):
        for secret in ("Dewi", "Lestari", "dewi.lestari", "085711223344", "3603124501900009"):
            assert secret not in html
    assert '<dd id="reporter">Anonymous</dd>' in page


# ----------------------------------------------------------------------------- answers
def test_the_published_answers_are_shown_masked_without_staff_names(demo, client):
    officer = db.session.scalar(select(User).where(User.email == ADMIN))
    report = filed("Lampu jalan mati", "Lampu jalan di depan rumah Siti Rahmawati mati.",
                   status=S.ANSWERED, unit_code="TNG-DBMSDA")
    answer(report, "Lampu sudah diganti. Terima kasih Ibu Siti, info lanjut 021-5556-7890.",
           actor=officer)
    answer(report, "Catatan internal: tunggu anggaran.", kind=EventKind.NOTE, visible=False,
           actor=officer)
    answer(report, "Petugas sudah survei lokasi.", kind=EventKind.FOLLOW_UP, actor=officer)
    db.session.commit()
    html = html_of(client.get(f"/laporan/{report.public_number}"))
    assert "Lampu sudah diganti" in html
    assert "Dinas Bina Marga dan Sumber Daya Air" in html
    assert "021-5556-7890" not in html and "Siti" not in html
    assert "Catatan internal" not in html and "survei lokasi" not in html
    assert officer.name not in html


# ----------------------------------------------------------------------------- search
def test_search_finds_words_of_the_title_and_the_text(demo, client, app):
    pothole = filed("Jalan berlubang di Cikupa", "Kerusakan jalan membuat motor jatuh.")
    rubbish = filed("Sampah menumpuk", "Sampah di TPS tidak diangkut seminggu.",
                    category="LINGKUNGAN")
    db.session.commit()
    assert listed(feed(client, q="berlubang")) == [pothole.public_number]
    assert listed(feed(client, q="sampah diangkut")) == [rubbish.public_number]
    assert listed(feed(client, q="sampah motor")) == []  # every word must be there
    assert listed(feed(client, q="JALAN")) == [pothole.public_number]
    assert listed(feed(client, q="kereta")) == []
    if db.engine.dialect.name == "postgresql":  # the Indonesian stemmer: rusak ~ kerusakan
        assert listed(feed(client, q="rusak")) == [pothole.public_number]
        assert listed(feed(client, q='"tidak diangkut"')) == [rubbish.public_number]
        assert listed(feed(client, q="sampah -TPS")) == []
    # Search syntax never breaks the page.
    for odd in ('"', "a & b | !c", "100%", "_", "(", "':*", "\\"):
        assert client.get("/laporan", query_string={"q": odd}).status_code == 200


def test_postgresql_search_is_indonesian_full_text(demo, client):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL text search")
    repaired = filed("Jembatan sudah diperbaiki", "Terima kasih, jembatan penghubung diperbaiki.")
    filed("Sekolah baru", "Gedung sekolah baru diresmikan.", category="PENDIDIKAN")
    db.session.commit()
    assert listed(feed(client, q="perbaikan jembatan")) == [repaired.public_number]


# ----------------------------------------------------------------------------- filters
def test_every_filter(demo, client):
    a = filed("Jalan rusak di Cikupa", kind=ReportKind.COMPLAINT, created=NOW - 10 * DAY,
              unit_code="TNG-DBMSDA")
    b = filed("Usul taman kota di Balaraja", kind=ReportKind.ASPIRATION, district="Balaraja",
              category="LINGKUNGAN", created=NOW - 5 * DAY, status=S.COMPLETED)
    c = filed("Berapa biaya akta kelahiran", kind=ReportKind.INFORMATION_REQUEST,
              category="ADMINDUK", district="Tigaraksa", created=NOW - DAY,
              status=S.IN_PROGRESS)
    db.session.commit()
    dbmsda = db.session.scalar(select(Institution.id).where(Institution.code == "TNG-DBMSDA"))
    regency = db.session.scalar(select(Institution.id)
                                .where(Institution.code == "KAB-TANGERANG"))
    cases = [
        ({}, [c, b, a]),
        ({"kind": "aspiration"}, [b]),
        ({"kind": "information_request"}, [c]),
        ({"category": category_id("INFRASTRUKTUR")}, [a]),
        ({"category": category_id("ADMINDUK")}, [c]),
        ({"district": district_id("Balaraja")}, [b]),
        ({"unit": dbmsda}, [a]),
        ({"unit": regency}, [c, b, a]),  # the institution: its units' reports too
        ({"status": "completed"}, [b]),
        ({"status": "in_progress"}, [c]),
        ({"from": (NOW - 6 * DAY).date().isoformat()}, [c, b]),
        ({"to": (NOW - 5 * DAY).date().isoformat()}, [b, a]),
        ({"from": (NOW - 5 * DAY).date().isoformat(),
          "to": (NOW - 5 * DAY).date().isoformat()}, [b]),
        ({"kind": "complaint", "district": district_id("Cikupa"), "q": "jalan"}, [a]),
        ({"status": "submitted"}, [c, b, a]),  # not a public state: ignored
        ({"category": "abc", "unit": "-1", "district": "99999999999"}, [c, b, a]),
    ]
    for params, expected in cases:
        assert listed(feed(client, **params)) == [r.public_number for r in expected], params


def test_a_date_that_cannot_be_read_is_explained_and_left_out(demo, client):
    report = filed()
    db.session.commit()
    client.get("/bahasa/en")
    html = feed(client, **{"from": "31-12-2026", "q": "jalan"})
    assert "Write the date as YYYY-MM-DD" in html
    assert 'aria-invalid="true"' in html and 'value="31-12-2026"' in html
    assert listed(html) == [report.public_number]
    html = feed(client, **{"from": "2026-11-20", "to": "2026-11-01"})
    assert "The end of the period is before its start." in html


# ----------------------------------------------------------------------------- keyset pages
def test_pages_follow_each_other_without_duplicates_or_gaps_under_ties(demo, client):
    reports = []
    for i in range(45):  # groups of three share the same instant
        reports.append(filed(f"Laporan jalan nomor {i}", created=NOW - (i // 3) * DAY))
    db.session.commit()
    expected = [r.public_number for r in sorted(reports, key=lambda r: (r.created_at, r.id),
                                                reverse=True)]
    pages = walk(client, "/laporan")
    assert [len(p) for p in pages] == [20, 20, 5]
    assert sum(pages, []) == expected
    # A filtered, searched walk keeps its filters on every page.
    pages = walk(client, f"/laporan?q=jalan&district={district_id('Cikupa')}")
    assert sum(pages, []) == expected


def test_sorted_by_support_with_ties_broken_by_number(demo, client):
    reports = [filed(f"Laporan nomor {i}", created=NOW - i * DAY) for i in range(25)]
    for i, report in enumerate(reports):
        set_support_count(report, i % 4)  # many ties
    db.session.commit()
    counts = {r.id: i % 4 for i, r in enumerate(reports)}
    expected = [r.public_number for r in sorted(reports, key=lambda r: (counts[r.id], r.id),
                                                reverse=True)]
    pages = walk(client, "/laporan?sort=support")
    assert [len(p) for p in pages] == [20, 5]
    assert sum(pages, []) == expected


def test_a_cursor_that_cannot_be_read_starts_at_the_first_page(demo, client):
    report = filed()
    db.session.commit()
    for cursor in ("x", "1-", "-1", "99999999999999999999-1", "1-1-1"):
        assert listed(feed(client, after=cursor)) == [report.public_number]
        assert listed(feed(client, after=cursor, sort="support")) == [report.public_number]


def test_reports_filed_between_pages_do_not_shift_the_next_page(demo, client):
    reports = [filed(f"Laporan nomor {i}", created=NOW - i * DAY) for i in range(21)]
    db.session.commit()
    first = client.get("/laporan").get_data(as_text=True)
    filed("Laporan terbaru", created=NOW + DAY)
    db.session.commit()
    assert listed(client.get(next_link(first)).get_data(as_text=True)) == \
        [reports[20].public_number]


def test_the_feed_page_runs_the_same_statements_for_few_and_many_reports(demo, client):
    def statements(path: str) -> int:
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    feed_path = f"/laporan?sort=support&district={district_id('Cikupa')}"
    search_path = "/laporan?q=jalan"
    for i in range(3):
        filed(f"Jalan rusak nomor {i}", anonymous=bool(i % 2))
    db.session.commit()
    few, few_searched = statements(feed_path), statements(search_path)
    for i in range(22):
        filed(f"Jalan rusak lagi nomor {i}", anonymous=bool(i % 2))
    db.session.commit()
    assert statements(feed_path) == few
    # A search on PostgreSQL may ask twice (the recent window, then the whole index).
    assert statements(search_path) <= few_searched


# ----------------------------------------------------------------------------- support
def support(client, number: str):
    token = csrf_token(client, "/lacak")  # the page has no form once supported
    return client.post(f"/laporan/{number}/dukung",
                       data={"csrf_token": token, "next": f"/laporan/{number}#support"})


def shown_supporters(client, number: str) -> int:
    html = client.get(f"/laporan/{number}").get_data(as_text=True)
    return int(html.split('id="supporters">', 1)[1].split("<", 1)[0])


def test_support_from_the_public_page_counts_once_per_browser_and_account(demo, client, app):
    report = filed()
    db.session.commit()
    number = report.public_number
    response = support(client, number)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/laporan/{number}#support")
    assert shown_supporters(client, number) == 1
    page = client.get(f"/laporan/{number}").get_data(as_text=True)
    assert 'id="supported"' in page and "data-support" not in page
    support(client, number)  # the same browser again
    assert shown_supporters(client, number) == 1

    other = app.test_client()
    support(other, number)
    assert shown_supporters(other, number) == 2

    citizen = app.test_client()
    citizen.post("/akun/daftar", data={
        "csrf_token": csrf_token(citizen, "/akun/daftar"), "name": "Warga Cikupa",
        "email": "warga@example.id", "password": "kata-sandi-panjang-2026",
        "password_confirm": "kata-sandi-panjang-2026"})
    support(citizen, number)
    support(citizen, number)
    assert shown_supporters(citizen, number) == 3
    assert db.session.scalar(select(Report.support_count).where(Report.id == report.id)) == 3
    assert len(db.session.scalars(select(ReportSupport)).all()) == 3
    # The feed shows the same count and sorts by it.
    other_report = filed("Laporan lain tanpa dukungan", created=NOW + DAY)
    db.session.commit()
    assert listed(feed(client, sort="support")) == [number, other_report.public_number]
    assert listed(feed(client)) == [other_report.public_number, number]


def test_a_completed_report_shows_its_count_but_no_support_button(demo, client):
    report = filed(status=S.COMPLETED)
    set_support_count(report, 4)
    db.session.commit()
    html = client.get(f"/laporan/{report.public_number}").get_data(as_text=True)
    assert 'id="supporters">4<' in html and "data-support" not in html


# ----------------------------------------------------------------------------- links
def test_the_feed_is_linked_from_the_navigation_and_the_home_page(demo, client):
    home = client.get("/").get_data(as_text=True)
    assert home.count('href="/laporan"') >= 2  # the navigation and the home page's section
