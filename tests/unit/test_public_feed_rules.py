"""The public feed's rules: one definition of "public" (SQL and Python agree, and PostgreSQL
uses the partial indexes for it), the reporter's names hidden, the search document built
without personal data at filing and by ``flask public reindex``, and support_count in step
with the support rows (also when the insert finds the row already there)."""
import threading
from datetime import datetime, timezone

import pytest
from flask import current_app
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from portal.domain.masking import mask_names, mask_public_text
from portal.domain.public_feed import (
    NOT_PUBLIC_STATES,
    FeedQuery,
    feed_page,
    is_public,
    public_clause,
    search_text,
)
from portal.domain.support import support_report
from portal.extensions import db
from portal.models import Report, ReportStatus, ReportSupport, User
from portal.models.report import PUBLIC_PREDICATE
from tests.public_feed_helpers import filed

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- "public"
def test_the_python_and_sql_rules_agree_on_every_state(demo):
    reports = [filed(f"Laporan {status.value} {confidential}", status=status,
                     confidential=confidential)
               for status in ReportStatus for confidential in (False, True)]
    db.session.commit()
    in_sql = set(db.session.scalars(select(Report.id).where(public_clause())))
    in_python = {r.id for r in reports if is_public(r)}
    in_index_predicate = set(db.session.scalars(
        select(Report.id).where(text(PUBLIC_PREDICATE))))
    assert in_sql == in_python == in_index_predicate
    assert len(in_python) == len(ReportStatus) - len(NOT_PUBLIC_STATES)


def test_postgresql_pages_through_the_partial_indexes(demo):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    for i in range(30):
        filed(f"Jalan rusak {i}")
    db.session.commit()
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    plans = {}
    for sort in ("newest", "support"):
        statements = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            feed_page(FeedQuery(sort=sort), per_page=5)
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        statement, parameters = statements[0]
        plans[sort] = "\n".join(connection.exec_driver_sql(
            "EXPLAIN " + statement, parameters).scalars())
    assert "ix_report_public_created" in plans["newest"], plans["newest"]
    assert "ix_report_public_support" in plans["support"], plans["support"]
    assert "Sort" not in plans["newest"] and "Sort" not in plans["support"]
    db.session.rollback()


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("text, names, expected", [
    ("Saya Siti Rahmawati, warga Talaga", ["Siti Rahmawati"], "Saya [name hidden], warga Talaga"),
    ("tanya SITI di pos", ["Siti Rahmawati"], "tanya [name hidden] di pos"),
    ("rahmawati sudah lapor", ["Siti Rahmawati"], "[name hidden] sudah lapor"),
    ("Siti  Rahmawati", ["Siti Rahmawati"], "[name hidden]"),  # the whole name: one note
    ("Bapak Ahmad Al Ghazali datang", ["Bapak Ahmad Al Ghazali"], "[name hidden] datang"),
    ("Bapak Bupati dan Ibu Camat", ["Bapak Ahmad"], "Bapak Bupati dan Ibu Camat"),
    ("Al datang, Ahmad pergi", ["Ahmad Al"], "Al datang, [name hidden] pergi"),
    ("Sitiawan dan Siti", ["Siti"], "Sitiawan dan [name hidden]"),  # whole words only
    ("Jalan Muhammad Yamin", ["Muhammad Rizki"], "Jalan [name hidden] Yamin"),
    ("Nur datang", ["Nur Aini"], "[name hidden] datang"),
    ("tanpa nama", [None, ""], "tanpa nama"),
    ("akun Budi dan Siti", ["Siti", "Budi Santoso"], "akun [name hidden] dan [name hidden]"),
    ("nama (Siti.) dan c++", ["Si+ti"], "nama (Siti.) dan c++"),  # regex characters are text
])
def test_the_reporters_names_are_hidden(app, text, names, expected):
    with app.test_request_context("/bahasa/en"):
        from flask_babel import force_locale
        with force_locale("en"):
            assert mask_names(text, names) == expected


def test_search_text_leaves_personal_data_out(app):
    with app.test_request_context():
        words = search_text("Lampu mati, hubungi Siti",
                            "NIK 3603124501900003, HP +62 812-3456-7890, siti@example.id",
                            ["Siti Rahmawati"])
    assert words == "Lampu mati, hubungi NIK , HP ,"
    assert "hidden" not in mask_public_text("0812-3456-7890", blank=True)


# ----------------------------------------------------------------------------- the document
def test_the_search_document_is_built_at_filing_from_the_masked_text(demo):
    report = filed("Lampu mati depan rumah Siti",
                   "Hubungi Rahmawati di 081234567890 atau siti.rahma@example.id")
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        document = db.session.scalar(select(func.cast(Report.search_document, db.Text))
                                     .where(Report.id == report.id))
        assert "'lampu'" in document and "'mati'" in document
    else:
        document = report.search_document
        assert "lampu mati depan rumah" in document
    for secret in ("siti", "rahmawati", "081234567890", "example"):
        assert secret not in document


def test_flask_public_reindex_rebuilds_every_document(demo, runner):
    reports = [filed(f"Laporan jalan Siti nomor {i}") for i in range(5)]
    db.session.execute(Report.__table__.update().values(search_document=None))
    db.session.commit()
    result = runner.invoke(args=["public", "reindex", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "done: 5 reports" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Report)
                             .where(Report.search_document.is_(None))) == 0
    assert [item.number for item in feed_page(FeedQuery(q="jalan")).items] == \
        [r.public_number for r in reversed(reports)]
    assert feed_page(FeedQuery(q="siti")).items == []


# ----------------------------------------------------------------------------- support_count
def count_of(report: Report) -> tuple[int, int]:
    db.session.expire_all()
    rows = db.session.scalar(select(func.count()).select_from(ReportSupport)
                             .where(ReportSupport.report_id == report.id))
    return db.session.scalar(select(Report.support_count).where(Report.id == report.id)), rows


def test_support_count_follows_the_rows_and_leaves_version_and_updated_at(demo):
    report = filed()
    db.session.commit()
    version, updated = report.version, report.updated_at
    first = support_report(report, browser_token="browser-one-0123456789", now=NOW)
    again = support_report(report, browser_token="browser-one-0123456789", now=NOW)
    second = support_report(report, browser_token="browser-two-0123456789", now=NOW)
    db.session.commit()
    assert (first.supporters, again.supporters, second.supporters) == (1, 1, 2)
    assert count_of(report) == (2, 2)
    assert (report.version, report.updated_at) == (version, updated)


def test_the_row_already_there_counts_nothing(demo):
    """The insert's ON CONFLICT DO NOTHING path: what a second click that lost the race
    sees. The count stays with the rows."""
    report = filed()
    user = User(email="warga@example.id", name="Warga", password_hash="x", is_staff=False)
    db.session.add(user)
    db.session.flush()
    db.session.add(ReportSupport(report_id=report.id, user_id=user.id, created_at=NOW))
    db.session.execute(Report.__table__.update().values(support_count=1))
    db.session.commit()
    result = support_report(report, user=user, now=NOW)
    db.session.commit()
    assert result.counted is False and count_of(report) == (1, 1)


def test_two_supports_at_the_same_moment_count_once(demo):
    """PostgreSQL: the second transaction's insert waits for the first's row, then skips
    it; only the first adds one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs two real connections at once")
    report = filed()
    db.session.commit()
    report_id = report.id
    flask_app = current_app._get_current_object()
    results = {}

    def support_in_own_session(name: str, started: threading.Event, hold: threading.Event):
        with flask_app.app_context():
            session = db.session
            target = session.get(Report, report_id)
            results[name] = support_report(target, browser_token="same-browser-0123456789",
                                           now=NOW)
            started.set()
            hold.wait(10)
            session.commit()
            db.session.remove()

    first_started, first_hold = threading.Event(), threading.Event()
    second_started, second_hold = threading.Event(), threading.Event()
    first = threading.Thread(target=support_in_own_session, args=("first", first_started,
                                                                   first_hold))
    first.start()
    assert first_started.wait(10)
    second_hold.set()  # the second commits as soon as its insert returns
    second = threading.Thread(target=support_in_own_session, args=("second", second_started,
                                                                    second_hold))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting on the first's uncommitted row
    first_hold.set()
    first.join(10)
    second.join(10)
    assert results["first"].counted and not results["second"].counted
    with Session(db.engine) as check:
        assert check.scalar(select(Report.support_count).where(Report.id == report_id)) == 1
        assert check.scalar(select(func.count()).select_from(ReportSupport)) == 1
