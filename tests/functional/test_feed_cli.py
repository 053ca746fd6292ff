"""``flask feed``: importing a file (summary, bad rows with their line, exit status, batches,
stdin, BOM, CSV) and the source commands (a key printed once)."""
import codecs
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.domain import feed
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, FeedSource, Report

DATA = Path(__file__).resolve().parent.parent / "data"
JSONL_FILE = str(DATA / "national_feed.jsonl")
CSV_FILE = str(DATA / "national_feed.csv")
# The anonymous reporters of the sample files.
SECRETS = ["Rahasia Anonimus Feed", "anonim.feed@example.id", "081211112222",
           "Rahasia Anonimus Csv", "anonim.csv@example.id", "081299990000"]


@pytest.fixture
def source(demo, runner):
    result = runner.invoke(args=["feed", "source-add", "lapor-nasional", "LAPOR! Nasional"])
    assert result.exit_code == 0, result.output
    return result


def report_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def good_row(external_id: str) -> str:
    return json.dumps({"external_id": external_id, "kind": "complaint",
                       "title": "Sampah menumpuk di pasar Cisoka",
                       "body": "Sampah di pasar Cisoka tidak diangkut selama seminggu penuh.",
                       "category": "LINGKUNGAN"})


def test_source_add_prints_the_key_once_and_only_its_hash_is_kept(source):
    key = source.stdout.strip()
    assert key.startswith("lpf_") and "\n" not in key
    assert "shown only this once" in source.stderr
    saved = db.session.scalar(select(FeedSource))
    assert saved.code == "LAPOR-NASIONAL" and saved.api_key_hash == feed.hash_key(key)
    assert feed.authenticate(key) == saved


def test_import_summary_bad_rows_and_exit_status(source, runner):
    result = runner.invoke(args=["feed", "import", JSONL_FILE, "--source", "LAPOR-NASIONAL"])
    assert result.exit_code == 1
    out = result.output
    assert "feed import from LAPOR-NASIONAL (JSON lines): 3 created, 1 already there, " \
           "3 bad rows" in out
    assert "  line 3: title: The title must be 5 to 200 characters long; body: The " \
           "description must be 20 to 10,000 characters long; category: No category has " \
           "this code" in out
    assert "  line 4: Not valid JSON: Expecting ',' delimiter at column 76" in out
    assert "  line 8: external_id: Every row needs the sending system's id for it" in out
    assert "importing" not in out  # no progress bar off a terminal
    assert report_count() == 3

    again = runner.invoke(args=["feed", "import", JSONL_FILE, "--source", "lapor-nasional"])
    assert again.exit_code == 1
    assert "0 created, 4 already there, 3 bad rows" in again.output
    assert report_count() == 3
    for secret in SECRETS:
        assert secret not in out and secret not in again.output


def test_a_clean_file_exits_0(source, runner, tmp_path):
    path = tmp_path / "bersih.jsonl"
    path.write_text("\n".join(good_row(f"OK-{i}") for i in range(3)) + "\n", encoding="utf-8")
    result = runner.invoke(args=["feed", "import", str(path), "--source", "LAPOR-NASIONAL"])
    assert result.exit_code == 0, result.output
    assert "3 created, 0 already there, 0 bad rows" in result.output
    assert "bad rows:" not in result.output


def test_csv_with_a_byte_order_mark_from_stdin(source, runner):
    data = codecs.BOM_UTF8 + Path(CSV_FILE).read_bytes()
    result = runner.invoke(args=["feed", "import", "-", "--source", "LAPOR-NASIONAL"],
                           input=data)
    assert result.exit_code == 1
    assert "(CSV): 3 created, 0 already there, 1 bad row\n" in result.output
    assert "  line 5: body: " in result.output
    for secret in SECRETS:
        assert secret not in result.output
    numbers = set(db.session.scalars(select(Report.external_id)))
    assert numbers == {"CSV-0001", "CSV-0002", "CSV-0004"}


def test_batches_are_committed_and_at_most_50_bad_rows_are_listed(source, runner, tmp_path):
    lines = []
    for i in range(120):
        lines.append(good_row(f"OK-{i}") if i % 2 else '{"external_id": "BAD-%d"}' % i)
    path = tmp_path / "besar.ndjson"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(args=["feed", "import", str(path), "--source", "LAPOR-NASIONAL",
                                 "--batch-size", "7"])
    assert result.exit_code == 1
    assert "60 created, 0 already there, 60 bad rows" in result.output
    listed = [line for line in result.output.splitlines() if line.startswith("  line ")]
    assert len(listed) == 50 and listed[0].startswith("  line 1: kind: ")
    assert listed[-1].startswith("  line 99: ")
    assert "  … and 10 more" in result.output
    assert report_count() == 60


def test_unknown_csv_columns_stop_before_any_row(source, runner, tmp_path):
    path = tmp_path / "kolom.csv"
    path.write_text("external_id,judul,body\nX-1,Judul,Isi laporan\n", encoding="utf-8")
    result = runner.invoke(args=["feed", "import", str(path), "--source", "LAPOR-NASIONAL"])
    assert result.exit_code == 1
    assert "Unknown column(s): 'judul'" in result.output
    assert report_count() == 0


def test_unknown_or_disabled_sources_import_nothing(source, runner):
    result = runner.invoke(args=["feed", "import", JSONL_FILE, "--source", "ENTAH"])
    assert result.exit_code != 0 and "no feed source with the code 'ENTAH'" in result.output
    disabled = runner.invoke(args=["feed", "source-disable", "LAPOR-NASIONAL"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    result = runner.invoke(args=["feed", "import", JSONL_FILE, "--source", "LAPOR-NASIONAL"])
    assert result.exit_code != 0 and "is disabled" in result.output
    assert report_count() == 0
    assert runner.invoke(args=["feed", "source-enable", "LAPOR-NASIONAL"]).exit_code == 0
    assert "active" in runner.invoke(args=["feed", "sources"]).output


def test_source_key_rotates(source, runner):
    old = source.stdout.strip()
    result = runner.invoke(args=["feed", "source-key", "LAPOR-NASIONAL"])
    assert result.exit_code == 0
    new = result.stdout.strip()
    assert new != old and feed.authenticate(old) is None and feed.authenticate(new)
    assert runner.invoke(args=["feed", "source-key", "ENTAH"]).exit_code != 0
    again = runner.invoke(args=["feed", "source-add", "LAPOR-NASIONAL", "Lagi"])
    assert again.exit_code != 0 and "exists already" in again.output
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == [AuditAction.FEED_SOURCE_CHANGED] * 2


def test_the_progress_bar_shows_on_a_terminal(source, runner, monkeypatch, tmp_path):
    path = tmp_path / "bersih.jsonl"
    path.write_text(good_row("OK-1") + "\n", encoding="utf-8")
    import portal.feed_cli as feed_cli

    monkeypatch.setattr(feed_cli, "_on_terminal", lambda: True)
    shown = []
    real = feed_cli.click.progressbar

    def spy(**kwargs):
        shown.append(kwargs["length"])
        return real(**kwargs)

    monkeypatch.setattr(feed_cli.click, "progressbar", spy)
    result = runner.invoke(args=["feed", "import", str(path), "--source", "LAPOR-NASIONAL"])
    assert result.exit_code == 0, result.output
    assert shown == [1]
