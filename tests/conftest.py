"""Test harness: every test that uses ``app`` runs on SQLite and again on a real PostgreSQL.

The PostgreSQL cluster is a throw-away one started here (initdb + pg_ctl from the PostgreSQL 15
server on the machine) on a free loopback port, and removed afterwards. Where no server is
installed the PostgreSQL run is skipped with a message, except under CI=true, where it fails.
The same holds for Chromium and the browser tests.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db

IN_CI = os.environ.get("CI") == "true"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DATABASES = [name for name in os.environ.get("PORTAL_TEST_DATABASES", "sqlite,postgresql").split(",")
             if name]


def unavailable(reason: str):
    """Skip, except under CI=true where a missing real part is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- PostgreSQL
class ThrowawayPostgres:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log",
                  "-w", "start")

    def stop(self) -> None:
        try:
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    if not (PG_BIN / "initdb").exists():
        unavailable(f"PostgreSQL server not installed ({PG_BIN}/initdb missing)")
    server = ThrowawayPostgres(Path(tempfile.mkdtemp(prefix="portal-pg-")))
    try:
        server.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        server.stop()
        unavailable(f"could not start PostgreSQL: {exc} {detail.decode(errors='replace')}")
    yield server
    server.stop()


# --------------------------------------------------------------------------- databases
def _upgrade_to_head(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    """A database at the head migration, once per session and per kind of database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create_database("portal_test")
    _upgrade_to_head(url)
    return url


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: mail waits in the outbox unless a test starts a sink
        "PUBLIC_BASE_URL": "http://portal.test",
        # scrypt costs ~0.1 s a hash; production keeps it, the tests need speed, not strength.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


class IsolatedClient(FlaskClient):
    """Each request in its own application context, as under a real server.

    The ``app`` fixture keeps one context open for the test's own queries, and Flask would
    reuse it for test requests: ``g`` (Flask-Login's user, Flask-WTF's token, the locale) and
    the database session would be shared by every client and request. Afterwards the test's
    own session forgets what it had loaded, so that it reads what the request committed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(app):
    """The demo tree, categories and staff accounts, committed."""
    from portal.demo import load_demo_data

    load_demo_data()
    db.session.commit()
    return app


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --------------------------------------------------------------------------- mail
class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink(app):
    sink = SmtpSink()
    sink.start()
    app.config["MAIL_PORT"] = sink.port
    app.config["MAIL_SUPPRESS_SEND"] = False  # Flask-Mail sends nothing under TESTING otherwise
    from portal.extensions import mail

    mail.init_app(app)  # Flask-Mail reads its settings at init
    yield sink
    sink.stop()


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not installed at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"],
    }


@pytest.fixture(scope="session")
def base_url():
    """Pages use ``live_server.url`` (a new port per test). Defined here because
    pytest-playwright 0.10's fallback ``base_url`` fixture is an instance method, which
    pytest 9 deprecates with a warning (an error under filterwarnings=error)."""
    return None


@pytest.fixture
def live_server(app):
    """The app served over HTTP from a thread, for the browser."""
    app.config["WTF_CSRF_SSL_STRICT"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)
    time.sleep(0)
