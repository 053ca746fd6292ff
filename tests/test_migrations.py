"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db


@contextmanager
def app_on(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def head_revision() -> str:
    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    return heads[0]


def recorded_revisions() -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def schema_differences() -> list:
    """What autogenerate would write into a new migration; [] when models and database agree.

    Nothing is filtered out: the alembic_version table is alembic's own and compare_metadata
    leaves it alone by itself. Types and server defaults are compared too.
    """
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def check_constraints(url: str) -> set[tuple[str, str, str]]:
    """(table, name, SQL) of every CHECK constraint, as the database itself reports them.

    compare_metadata does not compare CHECK constraints at all, and the enum columns and the
    rules (only the national node is a root, sent iff sent_at) live in them, so they are
    compared here against a database built straight from the models.
    """
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {
            (table, check["name"], " ".join(check["sqltext"].split()))
            for table in inspector.get_table_names() if table != "alembic_version"
            for check in inspector.get_check_constraints(table)
        }
    finally:
        engine.dispose()


@pytest.fixture
def fresh_database(database_url, request, tmp_path):
    """Returns a function making a new empty database of the same kind as ``database_url``."""
    def make(label: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'{label}.db'}"
        server = request.getfixturevalue("pg_server")
        return server.create_database(f"{label}_{uuid.uuid4().hex[:8]}")
    return make


def test_empty_database_is_upgraded_to_the_single_head(database_url):
    with app_on(database_url):
        assert recorded_revisions() == [head_revision()]
        tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_models_and_migrations_agree(database_url):
    with app_on(database_url):
        differences = schema_differences()
    assert differences == [], "the models differ from the migrations; run `flask db migrate`"


def test_check_constraints_match_the_models(database_url, fresh_database):
    from_models = fresh_database("from_models")
    with app_on(from_models):
        db.metadata.create_all(db.engine)
    expected = check_constraints(from_models)
    assert any(name == "ck_outbox_message_sent_iff_sent_at" for _, name, _ in expected)
    assert check_constraints(database_url) == expected


def test_downgrade_to_base_and_upgrade_again(fresh_database):
    url = fresh_database("round_trip")
    with app_on(url):
        upgrade()
        head = head_revision()
        assert recorded_revisions() == [head]

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        assert recorded_revisions() == []

        upgrade()
        assert recorded_revisions() == [head]
        assert schema_differences() == []


def test_the_busy_tables_are_vacuumed_after_a_fixed_number_of_changes(database_url):
    """PostgreSQL: the tables whose index-only scans the pages read are autovacuumed after a
    fixed number of changed rows rather than 20 % of the table (migration 0020): the summary
    tables, whose current month every refresh rewrites, the reports and their events."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with app_on(database_url):
        options = dict(db.session.execute(text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('stat_month_summary', 'stat_month_duration', 'report', 'report_event')")).all())
    for table, rows in (("stat_month_summary", 1000), ("stat_month_duration", 1000),
                        ("report", 2000), ("report_event", 10000)):
        assert set(options[table]) == {
            "autovacuum_vacuum_scale_factor=0", f"autovacuum_vacuum_threshold={rows}",
            "autovacuum_vacuum_insert_scale_factor=0",
            f"autovacuum_vacuum_insert_threshold={rows}"}, table
