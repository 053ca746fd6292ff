"""flask backup / flask restore: a round trip into a new, empty database and upload folder
gives back every row of every table (reports, events, identities still encrypted, attachments,
outbox, audit ...) and every attachment file byte for byte."""
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from portal import create_app
from portal.extensions import db
from portal.models import Attachment, Category, Report
from tests.helpers import file_report, jpeg_bytes

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def every_row(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {table: [tuple(row) for row in conn.execute(
                text(f'SELECT * FROM "{table}" ORDER BY 1'))] for table in tables}
    finally:
        engine.dispose()


@pytest.fixture
def restore_target(app, request, tmp_path):
    """A new, empty database of the same kind, and a new upload folder."""
    url = str(db.engine.url.render_as_string(hide_password=False))
    if db.engine.dialect.name == "postgresql":
        server = request.getfixturevalue("pg_server")
        target = server.create_database("portal_restore")
    else:
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    yield target, tmp_path / "restored-uploads"
    if db.engine.dialect.name == "postgresql":
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "portal_restore" WITH (FORCE)')
    assert url


def test_round_trip_gives_back_every_row_and_every_file(app, demo, client, runner, tmp_path,
                                                        restore_target):
    category = str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))
    photo, scan = jpeg_bytes(), PDF
    assert file_report(client, category=category, attachments=[
        (io.BytesIO(photo), "jalan.jpg"), (io.BytesIO(scan), "surat.pdf")]).status_code == 302
    assert file_report(client, category=category, is_anonymous="y", name="Budi Anonim",
                       email="budi@example.id", title="Lampu jalan mati di Balaraja").status_code == 302
    reports = db.session.scalars(select(Report)).all()
    assert len(reports) == 2
    stored = {a.stored_name: (Path(app.config["UPLOAD_FOLDER"]) / a.stored_name).read_bytes()
              for a in db.session.scalars(select(Attachment))}
    assert len(stored) == 2
    source_url = db.engine.url.render_as_string(hide_password=False)
    before = every_row(source_url)

    backup_dir = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(backup_dir)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["tables"]["report"] == 2 and len(manifest["files"]) == 2
    dump = (backup_dir / manifest["database_file"]).read_bytes()
    assert b"budi@example.id" not in dump and b"Budi Anonim" not in dump  # names nobody

    target_url, target_uploads = restore_target
    restored_app = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": target_url,
                               "UPLOAD_FOLDER": str(target_uploads)})
    with restored_app.app_context():
        result = restored_app.test_cli_runner().invoke(args=["restore", str(backup_dir)])
        assert result.exit_code == 0, result.output
        again = restored_app.test_cli_runner().invoke(args=["restore", str(backup_dir)])
        assert again.exit_code != 0 and "already has tables" in again.output  # never over data
        db.engine.dispose()

    after = every_row(target_url)
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table
    for name, data in stored.items():
        assert (target_uploads / name).read_bytes() == data
    assert photo != b"" and stored  # the photo was re-encoded, but its stored bytes came back


def test_restore_refuses_a_backup_with_a_damaged_file(app, demo, client, runner, tmp_path,
                                                      restore_target):
    category = str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))
    assert file_report(client, category=category, attachments=[
        (io.BytesIO(PDF), "surat.pdf")]).status_code == 302
    backup_dir = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(backup_dir)]).exit_code == 0
    [damaged] = (backup_dir / "uploads").iterdir()
    damaged.write_bytes(damaged.read_bytes() + b"x")

    target_url, target_uploads = restore_target
    restored_app = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": target_url,
                               "UPLOAD_FOLDER": str(target_uploads)})
    with restored_app.app_context():
        result = restored_app.test_cli_runner().invoke(args=["restore", str(backup_dir)])
        db.engine.dispose()
    assert result.exit_code != 0
    assert "differs from the backup's checksum" in result.output


def test_uploads_sweep_deletes_only_old_files_no_report_names(app, demo, client, runner):
    import os
    import time

    category = str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))
    assert file_report(client, category=category, attachments=[
        (io.BytesIO(PDF), "surat.pdf")]).status_code == 302
    folder = Path(app.config["UPLOAD_FOLDER"])
    [kept] = list(folder.iterdir())
    # Left by a worker killed after writing its files and before its commit:
    orphan, partial = folder / ("ab" * 16 + ".jpg"), folder / (".cd" + "0" * 30 + ".pdf.part")
    fresh = folder / ("ef" * 16 + ".png")  # a filing being committed right now
    for path in (orphan, partial, fresh):
        path.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for path in (kept, orphan, partial):
        os.utime(path, (two_hours_ago, two_hours_ago))

    result = runner.invoke(args=["uploads", "sweep", "--dry-run"])
    assert result.exit_code == 0 and "2 orphan file(s) found" in result.output
    assert orphan.exists()
    result = runner.invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted([kept.name, fresh.name])
