"""The national feed, in the domain: rows filed through the web form's rules, once per external
id and source (also in a race), bad rows refused with their line and every reason while the good
ones are kept; the file readers (JSON lines, CSV, BOM); the sources and their keys."""
import codecs
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.domain import DomainError, feed
from portal.domain.administration import NotAllowed
from portal.domain.feed import RowStatus
from portal.domain.feed_files import CSV, JSONL, FeedFileError, detect_format, read_rows
from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Channel,
    EventKind,
    OutboxMessage,
    Report,
    ReporterIdentity,
    ReportKind,
    ReportStatus,
)
from portal.storage import AttachmentStore
from tests.helpers import node, user

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
DATA = Path(__file__).resolve().parent.parent / "data"
NATIONAL_ADMIN = "admin.nasional@lapor.example.id"


@pytest.fixture
def source(demo):
    issued = feed.add_source(None, code="lapor-nasional", name="LAPOR! Nasional", now=NOW)
    db.session.commit()
    return issued.source


@pytest.fixture
def store(tmp_path):
    return AttachmentStore(tmp_path / "uploads")


def row(external_id="NAS-1", **fields) -> dict:
    data = {"external_id": external_id, "kind": "complaint",
            "title": "Jalan berlubang di depan pasar",
            "body": "Lubang besar di jalan raya depan pasar sudah dua minggu dibiarkan.",
            "category": "INFRASTRUKTUR"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def import_file(source, store, name: str, now=NOW):
    with open(DATA / name, "rb") as file:
        fmt = detect_format(name, b"")
        summary = feed.import_rows(source, read_rows(file, fmt), now=now, store=store)
    db.session.commit()
    return summary


def feed_reports() -> list[Report]:
    return list(db.session.scalars(select(Report).where(Report.source_id.is_not(None))
                                   .order_by(Report.id)))


# ----------------------------------------------------------------------------- idempotence
def test_the_same_file_twice_makes_one_report_per_external_id(source, store):
    first = import_file(source, store, "national_feed.jsonl")
    assert [(o.line, o.status) for o in first.outcomes] == [
        (1, RowStatus.CREATED), (2, RowStatus.CREATED), (3, RowStatus.INVALID),
        (4, RowStatus.INVALID), (6, RowStatus.CREATED), (7, RowStatus.EXISTS),
        (8, RowStatus.INVALID)]  # line 5 is blank; line 7 repeats line 1's id
    numbers = {o.external_id: o.number for o in first.outcomes if o.number}
    assert first.outcomes[5].number == numbers["LPR-NAS-0001"]

    second = import_file(source, store, "national_feed.jsonl")
    assert (second.created, second.existing, second.invalid) == (0, 4, 3)
    assert {o.external_id: o.number for o in second.outcomes if o.number} == numbers
    reports = feed_reports()
    assert sorted(r.external_id for r in reports) == ["LPR-NAS-0001", "LPR-NAS-0002",
                                                      "LPR-NAS-0005"]
    assert all(r.source_id == source.id and r.channel is Channel.NATIONAL_FEED for r in reports)


def test_another_source_may_use_the_same_external_id(source, store):
    other = feed.add_source(None, code="SMS-GATEWAY", name="SMS", now=NOW).source
    assert feed.import_rows(source, [row()], now=NOW, store=store).created == 1
    assert feed.import_rows(other, [row()], now=NOW, store=store).created == 1
    db.session.commit()
    assert len(feed_reports()) == 2


def test_a_race_lost_to_another_import_is_exists_and_keeps_the_other_rows(
        source, store, monkeypatch):
    """Another import filed NAS-1 after this one looked: the unique constraint refuses it, only
    its SAVEPOINT is rolled back, and the rows before and after it are saved."""
    feed.import_rows(source, [row("NAS-1")], now=NOW, store=store)
    db.session.commit()
    real = feed._numbers_of
    calls = []

    def looked_too_early(src, ids):
        calls.append(sorted(ids))
        return {} if len(calls) == 1 else real(src, ids)

    monkeypatch.setattr(feed, "_numbers_of", looked_too_early)
    summary = feed.import_rows(source, [row("NAS-0"), row("NAS-1"), row("NAS-2")], now=NOW,
                               store=store)
    db.session.commit()
    assert [o.status for o in summary.outcomes] == [RowStatus.CREATED, RowStatus.EXISTS,
                                                    RowStatus.CREATED]
    assert calls[1] == ["NAS-1"]  # the number looked up after the refusal
    assert summary.outcomes[1].number == real(source, ["NAS-1"])["NAS-1"]
    assert sorted(r.external_id for r in feed_reports()) == ["NAS-0", "NAS-1", "NAS-2"]


# ----------------------------------------------------------------------------- bad rows
def test_bad_rows_are_reported_with_their_line_and_every_reason(source, store):
    summary = import_file(source, store, "national_feed.jsonl")
    bad = {o.line: o for o in summary.bad_rows}
    assert sorted(bad) == [3, 4, 8]
    assert {p.field for p in bad[3].problems} == {"title", "body", "category"}
    with force_locale("en"):  # what the CLI and the API print
        assert "title: The title must be 5 to 200 characters long; body: " in bad[3].reason()
        assert bad[4].reason().startswith("Not valid JSON: Expecting ',' delimiter")
    assert [p.field for p in bad[8].problems] == ["external_id"]
    assert bad[8].external_id is None


@pytest.mark.parametrize("fields, field", [
    ({"external_id": "x" * 65}, "external_id"),
    ({"external_id": ["NAS-1"]}, "external_id"),
    ({"kind": "keluhan"}, "kind"),
    ({"kind": None}, "kind"),
    ({"title": "Jln"}, "title"),
    ({"title": 12345}, "title"),
    ({"body": "pendek"}, "body"),
    ({"category": "TIDAK-ADA"}, "category"),
    ({"category": None}, "category"),
    ({"institution": "TNG-DISDUKCAPIL"}, "institution"),  # a unit, not an institution
    ({"institution": "ENTAH"}, "institution"),
    ({"kecamatan": "Atlantis"}, "district"),
    ({"event_date": "02/11/2026"}, "event_date"),
    ({"event_date": "2026-11-30"}, "event_date"),  # after NOW
    ({"created_at": "2026-12-01T00:00:00+07:00"}, "created_at"),
    ({"created_at": "kemarin"}, "created_at"),
    ({"event_date": "2026-11-20", "created_at": "2026-11-19"}, "event_date"),
    ({"is_anonymous": "mungkin"}, "is_anonymous"),
    ({"is_confidential": 2}, "is_confidential"),
    ({"reporter_email": "bukan-email"}, "reporter_email"),
    ({"reporter_phone": "telepon saya"}, "reporter_phone"),
    ({"reporter_name": "x" * 201}, "reporter_name"),
    ({"titel": "Salah ketik"}, None),
    ({"email": "a@example.id", "reporter_email": "b@example.id"}, "reporter_email"),
])
def test_each_rule_refuses_the_row_next_to_its_field(source, store, fields, field):
    summary = feed.import_rows(source, [row(**fields)], now=NOW, store=store)
    assert summary.invalid == 1, summary.outcomes[0]
    assert field in [p.field for p in summary.outcomes[0].problems]
    assert not feed_reports()


def test_a_bad_is_anonymous_never_files_a_named_report(source, store):
    summary = feed.import_rows(source, [row(is_anonymous="anonim", reporter_name="Budi")],
                               now=NOW, store=store)
    assert summary.invalid == 1 and not feed_reports()


def test_reasons_never_repeat_a_value_of_the_row(source, store):
    """A shifted column puts a reporter's name where a code belongs: the reason names the
    field, never the value."""
    secret = "Sutrisno Wibowo"
    summary = feed.import_rows(source, [row(category=secret, kecamatan=secret,
                                            institution=secret, kind=secret,
                                            event_date=secret, is_anonymous=secret,
                                            reporter_email=secret, created_at=secret)],
                               now=NOW, store=store)
    reason = summary.outcomes[0].reason()
    assert len(summary.outcomes[0].problems) == 8 and secret not in reason


def test_a_field_named_twice_in_one_json_object_is_refused():
    with pytest.raises(ValueError, match="twice"):
        feed.loads_json('{"is_anonymous": true, "is_anonymous": false}')


# ----------------------------------------------------------------------------- the report
def test_a_feed_report_goes_through_filing(source, store):
    summary = feed.import_rows(source, [
        row("A", institution="kab-tangerang", category="LAINNYA", kecamatan="Kec. Cikupa",
            kind="Permintaan Informasi", created_at="2026-11-20T09:30:00",
            event_date="2026-11-19", is_confidential="ya", reporter_name="Bambang",
            reporter_email="Bambang@Example.ID"),
        row("B", category="ADMINDUK", kind="aspirasi", is_anonymous=True,
            reporter_name="Rahasia", reporter_phone="0812 1111 2222"),
        row("C", category="LAINNYA"),
    ], now=NOW, store=store)
    db.session.commit()
    assert summary.created == 3, [o.reason() for o in summary.outcomes]
    a, b, c = feed_reports()
    # The institution named in the row; else the category's (as on the web); else national.
    assert a.current_institution.code == "KAB-TANGERANG"
    assert b.current_institution.code == "KAB-TANGERANG"
    assert c.current_institution.code == "KEMENPANRB"
    assert a.kind is ReportKind.INFORMATION_REQUEST and b.kind is ReportKind.ASPIRATION
    assert a.district.name == "Cikupa" and a.is_confidential and not a.is_anonymous
    # Filed nationally on 20 November, 09:30 Jakarta; its clock starts on arrival, here.
    assert a.created_at == datetime(2026, 11, 20, 2, 30, tzinfo=timezone.utc)
    assert c.created_at == NOW and a.public_number.startswith("LPR-2026-")
    for report in (a, b, c):
        assert report.status is ReportStatus.SUBMITTED and report.due_at is not None
        assert report.clock_started_at == NOW
        assert [e.kind for e in report.events] == [EventKind.SUBMITTED]
    identities = {i.report_id: i for i in db.session.scalars(select(ReporterIdentity))}
    assert identities[a.id].email == "bambang@example.id"
    assert b.is_anonymous and identities[b.id].name == "Rahasia"
    assert c.id not in identities  # the national system keeps in touch with that reporter
    # The tracking code stays unknown: no receipt mail carries it.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # Nor do later mails point Bambang to a tracking page he cannot open: the national
    # system keeps in touch with him.
    perform(a, Action.REQUEST_CLARIFICATION, actor=user("admin@tangerangkab.example.id"),
            now=NOW, expected_version=a.version,
            data=ActionInput(message="Mohon lampirkan foto lokasi.", visible_to_reporter=True))
    db.session.commit()
    assert a.status is ReportStatus.SUBMITTED and a.clock_paused_at == NOW
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_source_records_its_last_use_and_a_disabled_one_imports_nothing(source, store):
    later = NOW.replace(hour=5)
    feed.import_rows(source, [row()], now=later, store=store)
    db.session.commit()
    assert source.last_used_at == later
    feed.set_active(None, source.id, active=False, now=later)
    with pytest.raises(DomainError):
        feed.import_rows(source, [row("NAS-2")], now=later, store=store)


# ----------------------------------------------------------------------------- file readers
def test_csv_with_a_byte_order_mark_semicolons_and_a_multi_line_body(source, store):
    text = ("external_id;kind;title;body;category;kecamatan;is_anonymous\r\n"
            'S-1;pengaduan;Truk tanah lewat siang;"Truk tanah lewat jalan raya siang hari,\r\n'
            'di luar jam yang diizinkan.";PERHUBUNGAN;Cikupa;tidak\r\n'
            "\r\n"
            "S-2;complaint;Jln;pendek;PERHUBUNGAN;;\r\n"
            "S-3;complaint;Sampah menumpuk di pasar;Sampah di pasar Cisoka tidak diangkut "
            "seminggu.;LINGKUNGAN;Cisoka;1;lebih\r\n")
    raw = codecs.BOM_UTF8 + text.encode("utf-8")
    assert detect_format(None, raw.splitlines(True)[0]) == CSV
    rows = list(read_rows(raw.splitlines(True), CSV))
    assert [r.line for r in rows] == [2, 5, 6]  # line 4 is blank; S-1 spans lines 2 and 3
    assert rows[0].data["body"].endswith("di luar jam yang diizinkan.")
    assert rows[2].problem is not None  # more values than columns
    summary = feed.import_rows(source, rows, now=NOW, store=store)
    assert [(o.line, o.status) for o in summary.outcomes] == [
        (2, RowStatus.CREATED), (5, RowStatus.INVALID), (6, RowStatus.INVALID)]


def test_the_csv_sample_file(source, store):
    summary = import_file(source, store, "national_feed.csv")
    assert [(o.line, o.status) for o in summary.outcomes] == [
        (2, RowStatus.CREATED), (4, RowStatus.CREATED), (5, RowStatus.INVALID),
        (6, RowStatus.CREATED)]
    assert {p.field for p in summary.outcomes[2].problems} == {
        "body", "district", "event_date", "is_anonymous", "reporter_email"}


def test_json_lines_with_a_byte_order_mark_and_bad_lines():
    raw = [codecs.BOM_UTF8 + b'{"external_id": "J-1"}\n', b"\n", b"[1, 2]\n",
           b'{"external_id": "J-2"\n', b'{"a": "\xff"}\n', b'{"external_id": "J-3"}']
    assert detect_format("kiriman.txt", raw[0]) == JSONL
    rows = list(read_rows(raw, JSONL))
    assert [(r.line, r.data is not None) for r in rows] == [
        (1, True), (3, False), (4, False), (5, False), (6, True)]
    assert rows[0].data == {"external_id": "J-1"}
    assert "not a JSON object" in str(rows[1].problem)
    assert "Not valid JSON" in str(rows[2].problem)
    assert "UTF-8" in str(rows[3].problem)


def test_files_that_cannot_be_read_at_all():
    with pytest.raises(FeedFileError, match="JSON array"):
        detect_format(None, b'[{"external_id": "x"}]')
    with pytest.raises(FeedFileError, match="Unknown column"):
        list(read_rows([b"external_id,judul\n", b"x,y\n"], CSV))
    with pytest.raises(FeedFileError, match="external_id"):
        list(read_rows([b"title,body\n"], CSV))
    assert list(read_rows([], CSV)) == []


# ----------------------------------------------------------------------------- sources and keys
def test_keys_work_until_rotated_or_disabled_and_every_change_is_audited(source):
    assert source.code == "LAPOR-NASIONAL" and source.is_active
    rotated = feed.rotate_key(None, source.id, now=NOW)
    db.session.commit()
    new_key = rotated.key
    assert new_key.startswith("lpf_") and len(new_key) > 40
    assert source.key_hint == new_key[:10]
    assert feed.authenticate(new_key) == source
    assert feed.authenticate(new_key + "x") is None and feed.authenticate("") is None
    assert source.api_key_hash == feed.hash_key(new_key)  # only the hash is kept

    admin = user(NATIONAL_ADMIN)
    feed.set_active(admin, source.id, active=False, now=NOW)
    assert feed.authenticate(new_key) is None
    feed.set_active(admin, source.id, active=True, now=NOW)
    assert feed.authenticate(new_key) == source
    db.session.commit()
    details = list(db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == AuditAction.FEED_SOURCE_CHANGED)
        .order_by(AuditEntry.id)))
    assert [d.split(": ", 1)[1].split(" ")[0] for d in details] == [
        "added", "new", "disabled", "enabled"]
    assert not any(new_key in d for d in details)


def test_the_old_key_stops_working_when_rotated(demo):
    issued = feed.add_source(None, code="KEMENKES", name="Kemenkes", now=NOW)
    old = issued.key
    assert feed.authenticate(old) == issued.source
    feed.rotate_key(None, issued.source.id, now=NOW)
    assert feed.authenticate(old) is None


@pytest.mark.parametrize("code, name, field", [
    ("x", "Satu huruf", "code"), ("LAPOR NASIONAL", "Spasi", "code"), ("OK-CODE", "", "name"),
    ("LAPOR-NASIONAL", "Sudah ada", "code")])
def test_bad_sources_are_refused(source, code, name, field):
    with pytest.raises(DomainError) as refused:
        feed.add_source(None, code=code, name=name, now=NOW)
    assert refused.value.field == field


def test_only_the_national_admin_manages_sources(source):
    regency_admin = user("admin@tangerangkab.example.id")
    for attempt in (lambda: feed.list_sources(regency_admin),
                    lambda: feed.add_source(regency_admin, code="X1", name="X", now=NOW),
                    lambda: feed.rotate_key(regency_admin, source.id, now=NOW),
                    lambda: feed.set_active(regency_admin, source.id, active=False, now=NOW)):
        with pytest.raises(NotAllowed):
            attempt()
    assert feed.list_sources(user(NATIONAL_ADMIN)) == [source]
    assert node("KEMENPANRB") is not None


def test_import_rows_never_commits(source, store):
    """The caller commits: a rollback after the import leaves nothing (under SQLite's driver
    an outermost SAVEPOINT would commit on its release if no transaction were open yet)."""
    db.session.commit()
    summary = feed.import_rows(source, [row("NAS-1"), row("NAS-2")], now=NOW, store=store)
    assert summary.created == 2
    db.session.rollback()
    assert not feed_reports()
    assert db.session.get(type(source), source.id).last_used_at is None
