"""Security headers on every response (portal/security.py), cookies, the proxy setting."""
import pytest

from portal.security import CONTENT_SECURITY_POLICY
from tests.functional.test_staff_workspace import staff_client

PUBLIC_PAGES = ["/", "/lapor", "/lacak", "/akun/masuk", "/akun/daftar", "/staf/masuk",
                "/halaman-yang-tidak-ada"]


def assert_secure_headers(response, *, csp=CONTENT_SECURITY_POLICY):
    headers = response.headers
    assert headers["Content-Security-Policy"] == csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in headers["Permissions-Policy"]


def test_the_policy_allows_no_inline_script_or_style_and_no_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_carries_the_headers(demo, client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_secure_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_every_registered_get_route_carries_the_headers(demo, client):
    """Whatever route exists now or is added later (public feed, statistics, Open311, ...)."""
    for rule in demo.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - set(rule.defaults or {}):
            continue
        response = client.get(rule.rule)
        assert response.status_code < 500, rule.rule
        assert response.headers.get("X-Frame-Options") == "DENY", rule.rule
        assert response.headers.get("X-Content-Type-Options") == "nosniff", rule.rule
        assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "") \
            or "sandbox" in response.headers["Content-Security-Policy"], rule.rule


def test_staff_pages_and_errors_carry_them_too(demo):
    staff = staff_client(demo, "admin.nasional@lapor.example.id")
    assert_secure_headers(staff.get("/staf/"))
    assert_secure_headers(staff.get("/staf/audit"))
    assert_secure_headers(staff.get("/staf/laporan/LPR-2026-9999999"))  # 404 page


def test_hsts_only_over_https(demo, client):
    response = client.get("/", base_url="https://portal.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert_secure_headers(response)


def test_behind_a_trusted_proxy_https_and_the_client_address_come_from_it(app_config):
    from portal import create_app

    app = create_app({**app_config, "TRUSTED_PROXY_HOPS": 1})
    seen = {}

    @app.get("/_whoami")
    def whoami():
        from flask import request

        seen["addr"], seen["secure"] = request.remote_addr, request.is_secure
        return "ok"

    response = app.test_client().get("/_whoami", headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.9", "secure": True}
    assert "Strict-Transport-Security" in response.headers
    # Without the setting the headers are not believed.
    plain = create_app(app_config)
    plain.add_url_rule("/_whoami", view_func=whoami)
    plain.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9",
                                                 "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "127.0.0.1", "secure": False}


def test_session_cookie_is_http_only_and_lax(demo, client):
    client.get("/bahasa/en")
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # development over plain HTTP


def test_production_cookies_are_secure(monkeypatch):
    from portal.config import from_environment

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("IDENTITY_KEYS", "n8s5yJ3wRk4pQhZqkJ2X0m0VYv0cGg2s3bqzV3o8a2E=")
    config = from_environment("/tmp")
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
