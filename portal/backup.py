"""Backup and restore: the database and the attachment files, as one folder.

    flask backup DIR     # DIR/manifest.json, DIR/database.pgdump or DIR/database.sqlite3,
                         # DIR/uploads/ (every stored attachment file)
    flask restore DIR    # into the configured, empty database and upload folder

PostgreSQL is dumped with ``pg_dump --format=custom`` and restored with ``pg_restore``: every
table, sequence, index and type exactly, the encrypted identity columns as the ciphertext they
are (a backup names nobody; restoring it needs the same IDENTITY_KEYS). SQLite is copied with
its online backup API. The manifest keeps the schema revision, the row count of every table
and the SHA-256 of every attachment file; restore checks them all and fails loudly on any
difference. The upload folder is a local (or NFS-mounted) directory; see docs/DEPLOYMENT.md.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from portal.extensions import db

MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"
UPLOADS = "uploads"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


class BackupError(RuntimeError):
    pass


def _pg_tool(name: str) -> str:
    """pg_dump/pg_restore of the server's major version when installed beside it."""
    candidate = PG_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found (install postgresql-client, or set PG_BIN)")
    return found


def _libpq(url) -> tuple[list[str], dict]:
    """Connection options for pg_dump/pg_restore, the password in the environment only."""
    url = make_url(url)
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _table_counts(conn) -> dict[str, int]:
    names = sorted(inspect(conn).get_table_names())
    # The table names are quoted by SQLAlchemy, not put into the SQL text by hand.
    return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in names}


def _snapshot_facts(conn) -> tuple[dict[str, int], str | None, list[str]]:
    """Row counts per table, the schema revision and the attachment files, as ``conn`` sees
    them."""
    counts = _table_counts(conn)
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in counts else None
    names = list(conn.execute(text("SELECT stored_name FROM attachment ORDER BY id")).scalars()) \
        if "attachment" in counts else []
    return counts, revision, names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(target: str | os.PathLike) -> dict:
    """Write the backup into the folder ``target`` (created; must be empty)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    engine = db.engine
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    (target / UPLOADS).mkdir()

    db.session.remove()
    if engine.dialect.name == "postgresql":
        # The counts, the file list and the dump all read one snapshot (exported to pg_dump),
        # so that a backup taken while citizens file reports is consistent with itself.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revision, names = _snapshot_facts(conn)
            args, env = _libpq(engine.url)
            subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl",
                            f"--snapshot={snapshot}", "--file", str(target / PG_DUMP_FILE),
                            *args], check=True, env=env)
            conn.rollback()
        database_file = PG_DUMP_FILE
    elif engine.dialect.name == "sqlite":
        source = sqlite3.connect(engine.url.database)
        copy = sqlite3.connect(target / SQLITE_FILE)
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
        database_file = SQLITE_FILE
        copy_engine = create_engine(f"sqlite:///{target / SQLITE_FILE}")
        with copy_engine.connect() as conn:  # the facts of the copy itself
            counts, revision, names = _snapshot_facts(conn)
        copy_engine.dispose()
    else:  # pragma: no cover
        raise BackupError(f"no backup for {engine.dialect.name}")

    files, missing = {}, []
    for name in names:
        source = uploads / name
        if not source.exists():
            missing.append(name)
            continue
        shutil.copy2(source, target / UPLOADS / name)
        files[name] = _sha256(target / UPLOADS / name)
    manifest = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dialect": engine.dialect.name,
        "database_file": database_file,
        "revision": revision,
        "tables": counts,
        "files": files,
        "files_missing_at_backup": missing,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _database_is_empty() -> bool:
    return not inspect(db.engine).get_table_names()


def restore(source: str | os.PathLike) -> dict:
    """Restore the backup in ``source`` into the configured database, which must have no
    tables yet (a new database: ``createdb``, or a new SQLite path), and the upload folder."""
    source = Path(source)
    manifest = json.loads((source / MANIFEST).read_text())
    engine = db.engine
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(f"the backup is of {manifest['dialect']}, the configured database "
                          f"is {engine.dialect.name}")
    if not _database_is_empty():
        raise BackupError("the configured database already has tables: restore into a new, "
                          "empty database")
    db.session.remove()
    if engine.dialect.name == "postgresql":
        engine.dispose()
        args, env = _libpq(engine.url)
        subprocess.run([_pg_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error",
                        "--single-transaction", *args, str(source / PG_DUMP_FILE)],
                       check=True, env=env)
    else:
        engine.dispose()
        backup_db = sqlite3.connect(source / SQLITE_FILE)
        live = sqlite3.connect(engine.url.database)
        with live:
            backup_db.backup(live)
        live.close()
        backup_db.close()

    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    uploads.mkdir(parents=True, exist_ok=True)
    for name, digest in manifest["files"].items():
        destination = uploads / name
        shutil.copy2(source / UPLOADS / name, destination)
        if _sha256(destination) != digest:
            raise BackupError(f"attachment file {name} differs from the backup's checksum")

    with engine.connect() as conn:
        counts, revision, _ = _snapshot_facts(conn)
    if counts != manifest["tables"]:
        different = {name: (manifest["tables"].get(name), counts.get(name))
                     for name in set(counts) | set(manifest["tables"])
                     if counts.get(name) != manifest["tables"].get(name)}
        raise BackupError(f"row counts differ after restore (backup, restored): {different}")
    if revision != manifest["revision"]:
        raise BackupError("the schema revision differs after restore")
    return manifest


def orphan_files(older_than_seconds: float = 3600) -> list[Path]:
    """Files in the upload folder that no attachment row names, older than the given age:
    left by a filing whose worker died between writing its files and committing (the
    transaction rolled back; the files cannot be). Partial writes (``.name.part``) too. The
    age keeps a filing that is being committed right now out of it."""
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if not uploads.exists():
        return []
    known = set(db.session.execute(text("SELECT stored_name FROM attachment")).scalars())
    limit = datetime.now().timestamp() - older_than_seconds
    return sorted(path for path in uploads.iterdir()
                  if path.is_file() and path.name not in known and path.stat().st_mtime < limit)


# --------------------------------------------------------------------------- commands
import click  # noqa: E402
from flask.cli import AppGroup  # noqa: E402

uploads_cli = AppGroup("uploads", help="The attachment files.")


@uploads_cli.command("sweep")
@click.option("--older-than", default=60, show_default=True,
              help="minutes: only files at least this old")
@click.option("--dry-run", is_flag=True, help="list them, delete nothing")
def uploads_sweep(older_than: int, dry_run: bool) -> None:
    """Delete attachment files that no report names (left by a worker killed mid-filing)."""
    orphans = orphan_files(older_than * 60)
    for path in orphans:
        click.echo(f"{'would delete' if dry_run else 'deleted'} {path.name}")
        if not dry_run:
            path.unlink(missing_ok=True)
    click.echo(f"{len(orphans)} orphan file(s){' found' if dry_run else ' deleted'}")


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False))
def backup_command(directory: str) -> None:
    """Back up the database and the attachment files into DIRECTORY (new or empty)."""
    try:
        manifest = backup(directory)
    except (BackupError, subprocess.CalledProcessError) as error:
        raise click.ClickException(str(error))
    reports = manifest["tables"].get("report", 0)
    click.echo(f"backup in {directory}: {manifest['dialect']} at revision "
               f"{manifest['revision']}, {len(manifest['tables'])} tables, {reports} reports, "
               f"{len(manifest['files'])} attachment files")
    if manifest["files_missing_at_backup"]:
        click.echo(f"warning: {len(manifest['files_missing_at_backup'])} attachment files "
                   "were missing from the upload folder", err=True)


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def restore_command(directory: str) -> None:
    """Restore DIRECTORY (made by `flask backup`) into the configured database, which must be
    new and empty, and the upload folder; checks every table's row count and every file."""
    try:
        manifest = restore(directory)
    except (BackupError, subprocess.CalledProcessError) as error:
        raise click.ClickException(str(error))
    click.echo(f"restored {directory}: {len(manifest['tables'])} tables, "
               f"{manifest['tables'].get('report', 0)} reports, {len(manifest['files'])} "
               "attachment files; row counts and checksums match")
