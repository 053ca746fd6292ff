"""Every PostgreSQL connection gets POSTGRESQL_OPTIONS (jit=off by default); SQLite none."""
import pytest
from sqlalchemy import text

from portal.config import apply_postgresql_options


def test_postgresql_connections_get_the_options_and_sqlite_ones_do_not():
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db",
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
              "POSTGRESQL_OPTIONS": "-c jit=off"}
    apply_postgresql_options(config)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "connect_args": {"options": "-c jit=off"}}
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "SQLALCHEMY_ENGINE_OPTIONS": {},
              "POSTGRESQL_OPTIONS": "-c jit=off"}
    apply_postgresql_options(sqlite)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {}
    off = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db", "POSTGRESQL_OPTIONS": ""}
    apply_postgresql_options(off)
    assert "SQLALCHEMY_ENGINE_OPTIONS" not in off


def test_the_portals_postgresql_sessions_run_with_jit_off(app):
    from portal.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.session.scalar(text("SHOW jit")) == "off"
