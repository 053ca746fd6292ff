"""Rate limits (Flask-Limiter) on filing, sign-in (staff and citizen), the password change and
the answer a limited client gets: the 429 page in the portal's language, JSON for machines.
Tracking-code lookups, replies, support and the APIs have their own tests next to their
features (test_filing_bad_input, test_reporter_side, test_similar_reports, test_feed_api,
test_open311_api)."""
import shutil
import subprocess
import time

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal import create_app
from portal.errors import MESSAGES
from portal.extensions import db
from portal.models import Report
from tests.conftest import IsolatedClient, free_port, unavailable
from tests.functional import test_citizen_accounts as citizens
from tests.functional.test_filing import category_id
from tests.functional.test_filing_bad_input import translated
from tests.functional.test_staff_workspace import OPERATOR
from tests.helpers import csrf_token, file_report


def reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def assert_limited_page(app, response, language="id"):
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    title, message = MESSAGES[429]
    html = response.get_data(as_text=True)
    if language == "id":
        assert translated(app, title) in html and translated(app, message) in html
        assert f'lang="{app.config["BABEL_DEFAULT_LOCALE"]}"' in html
    else:
        with app.test_request_context(), force_locale("en"):
            assert str(title) in html and str(message) in html
        assert 'lang="en"' in html


def test_filing_is_limited_and_the_refused_report_is_not_kept(demo, client):
    demo.config["FILING_LIMIT"] = "2 per hour"
    for _ in range(2):
        assert file_report(client, category=category_id()).status_code == 302
    refused = file_report(client, category=category_id())
    assert_limited_page(demo, refused)
    assert reports() == 2
    # Another address files as usual.
    other = client.post("/lapor", environ_base={"REMOTE_ADDR": "10.9.8.7"}, data={
        "csrf_token": csrf_token(client, "/lapor"), "kind": "complaint",
        "title": "Jalan rusak di depan Pasar Cikupa", "category": category_id(),
        "body": "Lubang besar di jalan raya depan pasar sudah dua minggu dan membahayakan.",
        "is_anonymous": "y"})
    assert other.status_code == 302
    assert reports() == 3


def test_staff_sign_in_is_limited_even_for_the_right_password(demo, client):
    demo.config["STAFF_LOGIN_LIMIT"] = "3 per minute"
    client.get("/bahasa/en")

    def attempt(password):
        return client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                                "email": OPERATOR, "password": password})

    for _ in range(3):
        assert attempt("salah-salah-salah").status_code == 401
    assert_limited_page(demo, attempt("lapor-demo-2026"), language="en")
    assert client.get("/staf/masuk").status_code == 200  # the page itself still opens


def test_citizen_sign_in_is_limited(demo, client):
    demo.config["CITIZEN_LOGIN_LIMIT"] = "2 per minute"
    citizens.register(client, email="warga.batas@example.id")
    citizens.sign_out(client)
    for _ in range(2):
        assert citizens.sign_in(client, "warga.batas@example.id", "bukan-sandinya").status_code \
            == 401
    assert_limited_page(demo, citizens.sign_in(client, "warga.batas@example.id"))


def test_password_change_is_limited(demo, client):
    demo.config["PASSWORD_CHANGE_LIMIT"] = "2 per hour"
    citizens.register(client, email="warga.tebak@example.id")

    def guess(current):
        return client.post("/akun/sandi", data={
            "csrf_token": csrf_token(client, "/akun/sandi"), "current_password": current,
            "new_password": "kata-sandi-baru-2026", "confirm": "kata-sandi-baru-2026"})

    assert guess("tebakan-satu").status_code == 422
    assert guess("tebakan-dua").status_code == 422
    assert_limited_page(demo, guess(citizens.PASSWORD))


def test_a_json_client_gets_json(demo, client):
    demo.config["CITIZEN_LOGIN_LIMIT"] = "1 per minute"
    citizens.sign_in(client, "siapa@example.id", "x")
    limited = client.post("/akun/masuk", headers={"Accept": "application/json"},
                          data={"email": "siapa@example.id", "password": "x",
                                "csrf_token": csrf_token(client, "/akun/masuk")})
    assert limited.status_code == 429 and limited.is_json
    assert "per 1 minute" in limited.get_json()["error"]
    assert limited.headers["Content-Security-Policy"]


# ----------------------------------------------------------------------------- shared storage
@pytest.fixture
def redis_uri(tmp_path):
    """A throw-away redis-server on a free loopback port (skipped where none is installed)."""
    server = shutil.which("redis-server")
    if server is None:
        unavailable("redis-server not installed")
    pytest.importorskip("redis")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _two_workers(app_config, storage: str) -> list[int]:
    """Two sign-in attempts on one "worker" (app), then one on a second, freshly started one."""
    statuses = []
    config = {**app_config, "RATELIMIT_STORAGE_URI": storage, "CITIZEN_LOGIN_LIMIT": "2 per hour"}
    for attempts in (2, 1):
        worker = create_app(config)
        worker.test_client_class = IsolatedClient
        client = worker.test_client()
        for _ in range(attempts):
            statuses.append(citizens.sign_in(client, "siapa@example.id", "salah").status_code)
    return statuses


def test_redis_storage_is_shared_by_the_workers(app, app_config, redis_uri):
    assert _two_workers(app_config, redis_uri) == [401, 401, 429]
    # With memory:// each worker counts on its own: the second one lets the attempt through.
    assert _two_workers(app_config, "memory://") == [401, 401, 401]
