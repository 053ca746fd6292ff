"""Similar public reports offered while filing, and supporting one: what may be offered (and
what never), at most five, best first, masked text, and one support per account or browser."""
import itertools
from dataclasses import fields
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.domain import DomainError
from portal.domain.duplicates import similarity
from portal.domain.support import (
    THRESHOLD,
    SimilarReport,
    _score,
    similar_public_reports,
    support_report,
    supporter_for,
)
from portal.extensions import db
from portal.models import ReportStatus, ReportSupport, User
from tests.similar_helpers import category_id, district_id, make_report

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
S = ReportStatus

POTHOLE = ("Jalan rusak di depan Pasar Cikupa",
           "Lubang besar di Jalan Raya Serang km 24 depan Pasar Cikupa sudah dua minggu, "
           "membahayakan pengendara motor.")
POTHOLE_AGAIN = ("Jalan berlubang depan Pasar Cikupa",
                 "Jalan Raya Serang km 24 di depan pasar berlubang besar, sudah 2 minggu belum "
                 "diperbaiki, banyak motor jatuh.")


@pytest.fixture
def report(demo, tmp_path):
    def make(title=POTHOLE_AGAIN[0], body=POTHOLE_AGAIN[1], *, created=NOW - DAY, **options):
        return make_report(title, body, created=created, store_path=tmp_path / "uploads",
                           **options)
    return make


def offered(title=POTHOLE[0], body=POTHOLE[1], *, district="Cikupa", category="INFRASTRUKTUR",
            supporter=None, limit=5) -> list[SimilarReport]:
    return similar_public_reports(title, body, category_id(category), district_id(district),
                                  now=NOW, limit=limit, supporter=supporter)


def numbers(similar) -> list[str]:
    return [item.number for item in similar]


# --------------------------------------------------------------------------- what is offered
def test_only_open_verified_public_reports_of_the_same_category_and_kecamatan(report):
    shown = {
        status: report(status=status)
        for status in (S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS, S.ANSWERED, S.REOPENED)
    }
    hidden = {
        "submitted": report(status=S.SUBMITTED),
        "postponed": report(status=S.POSTPONED),
        "not in authority": report(status=S.NOT_IN_AUTHORITY),
        "completed": report(status=S.COMPLETED),
        "archived": report(status=S.ARCHIVED),
        "confidential": report(confidential=True),
        "confidential and anonymous": report(confidential=True, anonymous=True),
        "other kecamatan": report(district="Balaraja"),
        "other category": report(category="LINGKUNGAN"),
        "older than 90 days": report(created=NOW - 91 * DAY),
    }
    db.session.commit()
    found = numbers(offered(limit=50))
    assert sorted(found) == sorted(r.public_number for r in shown.values())
    for why, hidden_report in hidden.items():
        assert hidden_report.public_number not in found, why


def test_an_anonymous_report_is_offered_without_anything_about_its_reporter(report):
    anonymous = report(anonymous=True, name="Budi Santoso", email="budi.s@example.id",
                       phone="081311112222", nik="3603011203850007")
    db.session.commit()
    [item] = offered()
    assert item.number == anonymous.public_number
    assert {f.name for f in fields(SimilarReport)} == {
        "number", "title", "excerpt", "category", "district", "status", "filed_at",
        "supporters", "score", "supported"}
    public_text = " ".join(str(getattr(item, f.name)) for f in fields(SimilarReport))
    for secret in ("Budi", "budi.s@example.id", "081311112222", "3603011203850007"):
        assert secret not in public_text


def test_nothing_without_a_kecamatan_a_category_or_a_title(report):
    report()
    db.session.commit()
    cat, dist = category_id(), district_id()
    assert similar_public_reports(*POTHOLE, cat, None, now=NOW) == []
    assert similar_public_reports(*POTHOLE, None, dist, now=NOW) == []
    assert similar_public_reports("Jal", POTHOLE[1], cat, dist, now=NOW) == []
    assert similar_public_reports(*POTHOLE, -1, dist, now=NOW) == []


def test_a_different_problem_in_the_same_place_is_not_offered(report):
    report("Drainase tersumbat di Perumahan Citra Raya",
           "Saluran air di Citra Raya tersumbat sampah sehingga banjir setiap hujan.")
    report("Jembatan retak di Desa Talaga",
           "Jembatan penghubung desa Talaga retak dan berbahaya dilalui truk.")
    db.session.commit()
    assert offered() == []


def test_at_most_five_best_first(report):
    near = report(*POTHOLE_AGAIN)
    exact = report(*POTHOLE, created=NOW - 10 * DAY)
    for day in range(2, 8):
        report("Jalan Raya Serang km 24 rusak parah",
               f"Aspal hancur dan berlubang di km 24 dekat pasar Cikupa, sudah {day} minggu, "
               "mohon segera diperbaiki.", created=NOW - day * DAY)
    db.session.commit()
    similar = offered()
    assert len(similar) == 5
    assert numbers(similar)[:2] == [exact.public_number, near.public_number]
    scores = [item.score for item in similar]
    assert scores == sorted(scores, reverse=True) and min(scores) >= THRESHOLD


def test_while_only_the_title_is_typed_the_report_is_found(report):
    wanted = report(*POTHOLE_AGAIN)
    db.session.commit()
    assert numbers(offered(POTHOLE[0], "")) == [wanted.public_number]


def test_the_excerpt_and_title_hide_personal_data_typed_into_the_text(report):
    report("Jalan rusak, hubungi 0812-3456-7890",
           "Saya warga NIK 3603124501900003, e-mail siti.rahma@example.id, WA +62 812 9876 "
           "5432. Jalan depan Pasar Cikupa berlubang besar sudah dua minggu.")
    db.session.commit()
    [item] = offered("Jalan rusak depan Pasar Cikupa", POTHOLE[1])
    text = item.title + " " + item.excerpt
    for secret in ("0812-3456-7890", "3603124501900003", "siti.rahma@example.id",
                   "812 9876 5432"):
        assert secret not in text
    # The markers in the portal's language (Bahasa Indonesia by default).
    assert "[NIK disembunyikan]" in item.excerpt
    assert "[nomor telepon disembunyikan]" in item.title
    assert len(item.excerpt) <= 160


def test_counts_supporters_and_marks_the_ones_this_supporter_gave(report):
    supported, other = report(*POTHOLE_AGAIN), report(*POTHOLE)
    support_report(supported, browser_token="a" * 43, now=NOW)
    support_report(supported, browser_token="b" * 43, now=NOW)
    support_report(other, browser_token="b" * 43, now=NOW)
    db.session.commit()
    by_number = {item.number: item for item in offered(supporter=supporter_for(None, "a" * 43))}
    assert by_number[supported.public_number].supporters == 2
    assert by_number[supported.public_number].supported is True
    assert by_number[other.public_number].supporters == 1
    assert by_number[other.public_number].supported is False


# --------------------------------------------------------------------------- the threshold
# Fifteen reports in one category and kecamatan (infrastructure in Cikupa), six problems.
# THRESHOLD is chosen on them: most pairs about the same problem reach it, few others do.
HAND_MADE = {
    "pothole": [
        POTHOLE, POTHOLE_AGAIN,
        ("Jalan Raya Serang km 24 rusak parah",
         "Aspal hancur dan berlubang di km 24 dekat pasar Cikupa, mohon segera diperbaiki."),
        ("Lubang di jalan dekat pasar Cikupa",
         "Ada lubang dalam di jalan raya dekat pasar, kemarin ada pengendara jatuh. Tolong "
         "ditambal."),
    ],
    "street light": [
        ("Lampu jalan mati di Jalan Raya Cikupa",
         "Sudah seminggu lampu jalan di depan pasar mati dan jalan gelap."),
        ("PJU mati sepanjang Jl. Raya Cikupa",
         "Lampu penerangan jalan umum mati semua dari pasar sampai pertigaan, rawan begal "
         "malam hari."),
        ("Penerangan jalan padam di Cikupa",
         "Lampu-lampu jalan di Jalan Raya Cikupa padam sejak minggu lalu, gelap gulita malam "
         "hari."),
    ],
    "drainage": [
        ("Drainase tersumbat di Perumahan Citra Raya",
         "Saluran air di Citra Raya tersumbat sampah sehingga banjir setiap hujan."),
        ("Got mampet di Citra Raya blok F",
         "Selokan di blok F Citra Raya mampet penuh sampah, air meluap ke jalan kalau hujan."),
        ("Banjir karena saluran tersumbat di Citra Raya",
         "Setiap hujan jalan di perumahan Citra Raya banjir karena drainase tersumbat sampah."),
    ],
    "bridge": [
        ("Jembatan retak di Desa Talaga",
         "Jembatan penghubung desa Talaga retak dan berbahaya dilalui truk."),
        ("Jembatan Talaga hampir ambruk",
         "Jembatan di Talaga retak besar di tengah, truk masih lewat, takut ambruk."),
    ],
    "Bitung road": [
        ("Perbaikan jalan di Bitung", "Jalan di Bitung rusak sejak lama, mohon diperbaiki oleh "
                                      "dinas."),
        ("Jalan Bitung Jaya rusak berat",
         "Jalan utama Bitung Jaya rusak berat dan berdebu, sudah setahun tidak diperbaiki."),
    ],
    "pavement": [
        ("Trotoar rusak di depan SMPN 1 Cikupa",
         "Trotoar di depan sekolah SMPN 1 Cikupa hancur, anak-anak terpaksa berjalan di badan "
         "jalan."),
    ],
}


@pytest.mark.parametrize("title_only", [False, True], ids=["title and text", "title only"])
def test_the_threshold_on_the_hand_made_set(title_only):
    items = [(topic, title, body) for topic, texts in HAND_MADE.items() for title, body in texts]
    same, different = [], []
    for (topic_a, title_a, body_a), (topic_b, title_b, body_b) in itertools.permutations(items, 2):
        score = _score(title_a, "" if title_only else body_a, title_b, body_b)
        (same if topic_a == topic_b else different).append(score >= THRESHOLD)
    assert sum(same) / len(same) >= 0.9  # true duplicates found
    assert sum(different) / len(different) <= 0.15  # other problems rarely offered


def test_score_is_the_shared_similarity():
    assert _score(*POTHOLE, *POTHOLE_AGAIN) == similarity(*POTHOLE, *POTHOLE_AGAIN)


# --------------------------------------------------------------------------- supporting
def supporters(report) -> int:
    return db.session.scalar(select(func.count()).select_from(ReportSupport)
                             .where(ReportSupport.report_id == report.id))


def citizen(email="warga@example.id") -> User:
    user = User(email=email, name="Warga", password_hash="x", is_staff=False)
    db.session.add(user)
    db.session.flush()
    return user


def test_once_per_browser(report):
    target = report()
    first = support_report(target, browser_token="token-of-browser-one-0123456789", now=NOW)
    again = support_report(target, browser_token="token-of-browser-one-0123456789", now=NOW)
    other = support_report(target, browser_token="token-of-browser-two-0123456789", now=NOW)
    db.session.commit()
    assert (first.counted, again.counted, other.counted) == (True, False, True)
    assert other.supporters == 2 and supporters(target) == 2
    row = db.session.scalar(select(ReportSupport).where(ReportSupport.report_id == target.id)
                            .order_by(ReportSupport.id))
    assert row.user_id is None and len(row.browser_hash) == 32
    assert b"browser-one" not in row.browser_hash  # a keyed hash, not the token


def test_once_per_account_from_any_browser(report):
    target, user = report(), citizen()
    first = support_report(target, user=user, browser_token="laptop-token-0123456789", now=NOW)
    again = support_report(target, user=user, browser_token="phone-token-0123456789", now=NOW)
    without_cookie = support_report(target, user=user, now=NOW)
    db.session.commit()
    assert (first.counted, again.counted, without_cookie.counted) == (True, False, False)
    assert supporters(target) == 1


def test_an_account_that_already_supported_from_this_browser_as_a_guest_counts_once(report):
    target, user = report(), citizen()
    support_report(target, browser_token="shared-token-0123456789", now=NOW)
    signed_in = support_report(target, user=user, browser_token="shared-token-0123456789",
                               now=NOW)
    db.session.commit()
    assert signed_in.counted is False and supporters(target) == 1


def test_a_second_support_leaves_the_transaction_usable(report):
    """The database skips the row its unique constraint already holds (the same as two
    clicks at the same moment): no IntegrityError, and the request can still commit."""
    target = report()
    db.session.add(ReportSupport(report_id=target.id, user_id=citizen().id, created_at=NOW))
    db.session.commit()
    user = db.session.scalar(select(User).where(User.email == "warga@example.id"))
    result = support_report(target, user=user, now=NOW)
    db.session.commit()
    assert result.counted is False and supporters(target) == 1


@pytest.mark.parametrize("options", [
    {"status": S.SUBMITTED}, {"status": S.COMPLETED}, {"status": S.ARCHIVED},
    {"confidential": True},
], ids=["unverified", "completed", "archived", "confidential"])
def test_only_open_public_reports_can_be_supported(report, options):
    target = report(**options)
    with pytest.raises(DomainError):
        support_report(target, browser_token="some-browser-token-0123456789", now=NOW)
    assert supporters(target) == 0


def test_an_anonymous_public_report_can_be_supported(report):
    target = report(anonymous=True)
    assert support_report(target, browser_token="some-browser-token-0123456789",
                          now=NOW).counted


def test_a_supporter_is_needed(report):
    with pytest.raises(DomainError):
        support_report(report(), now=NOW)
