"""The database out of reach (down, restarting, a failover): a 503 page in the visitor's
language with Retry-After, nothing saved, and the same app serves again as soon as the
database is back (the pool's pre-ping replaces dead connections; no restart).

The outage is made where the app meets the database: the driver's connect raises the driver's
own OperationalError and the pooled connections are dropped, as after a server restart. The
real restart of PostgreSQL under load is the fault drill ``make faults`` (docs/DEPLOYMENT.md).
"""
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Category, Report
from tests.helpers import csrf_token, report_form

ADMIN = "admin@tangerangkab.example.id"
PASSWORD = "lapor-demo-2026"


@pytest.fixture
def outage(app, monkeypatch):
    engine = db.engine
    real_connect = engine.dialect.connect

    def refuse(*args, **kwargs):
        raise engine.dialect.loaded_dbapi.OperationalError("connection refused (test outage)")

    class Outage:
        def start(self):
            monkeypatch.setattr(engine.dialect, "connect", refuse)
            engine.dispose()  # the open connections die with the server

        def end(self):
            monkeypatch.setattr(engine.dialect, "connect", real_connect)

    yield Outage()
    monkeypatch.setattr(engine.dialect, "connect", real_connect)


def sign_in(client, email=ADMIN):
    token = csrf_token(client, "/staf/masuk")
    response = client.post("/staf/masuk", data={"csrf_token": token, "email": email,
                                               "password": PASSWORD})
    assert response.status_code == 302


def test_pages_answer_503_in_indonesian_and_recover_without_restart(app, demo, client, outage):
    with app.test_request_context(), force_locale("id"):
        title = gettext("Temporarily unavailable")
    sign_in(client)
    assert client.get("/staf/").status_code == 200

    outage.start()
    for path in ("/staf/", "/lapor", "/"):
        response = client.get(path)
        if path == "/" and response.status_code == 200:
            continue  # a page that needs no database stays up
        html = response.get_data(as_text=True)
        assert response.status_code == 503, (path, html[:500])
        assert response.headers["Retry-After"].isdigit()
        assert "Traceback" not in html and "OperationalError" not in html
        assert '<html lang="id"' in html
        assert f"<h1>{title}</h1>" in html

    outage.end()
    assert client.get("/staf/").status_code == 200  # same app, same session, no restart


def test_filing_during_an_outage_saves_nothing_and_the_next_one_is_saved(demo, client, outage):
    category = str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))
    token = csrf_token(client, "/lapor")
    data = {**report_form(category=category), "csrf_token": token}

    outage.start()
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 503
    outage.end()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0

    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
