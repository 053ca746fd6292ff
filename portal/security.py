"""Security headers on every response, the proxy in front, and the 429/413 answers.

One place for what every page, file and API answer carries:

* ``Content-Security-Policy``: scripts, styles, images, fonts and fetches from this site only;
  no inline script or style (the templates have none: behaviour lives in static/js, looks in
  static/css, charts are SVG coloured by class), no plugins, no framing
  (``frame-ancestors 'none'``), forms post only here. A view that sets a stricter policy of
  its own (attachments: ``default-src 'none'; sandbox``) keeps it.
* ``X-Frame-Options: DENY`` for browsers without CSP 2, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` (report numbers and staff paths never leave in a Referer),
  a ``Permissions-Policy`` turning off camera, microphone and location, and
  ``Cross-Origin-Opener-Policy: same-origin``.
* ``Strict-Transport-Security`` only when the request came over HTTPS: ``request.is_secure``,
  which is true behind nginx when gunicorn trusts its ``X-Forwarded-Proto``
  (``forwarded_allow_ips``) or when ``TRUSTED_PROXY_HOPS`` is set (``ProxyFix`` below).

``TRUSTED_PROXY_HOPS`` (default 0): the number of proxies in front of the app that set
``X-Forwarded-For``/``-Proto`` (nginx: 1; a load balancer and nginx: 2). The rate limits count
per client address, so behind a proxy this must be set, or every citizen shares the proxy's
limit; never set it higher than the real number of proxies (a client could then choose its
own address).
"""
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
# Machine clients: their errors are JSON. Pages get the HTML error page in the user's language.
API_PREFIXES = ("/api/", "/open311/")


def wants_json() -> bool:
    if request.path.startswith(API_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def init_app(app: Flask) -> None:
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    def json_or_page(error: HTTPException):
        from portal.errors import render_error

        if wants_json():
            response = jsonify(error=str(error.description or error.name))
            response.status_code = error.code
            return response
        return render_error(error.code)

    # By code, so these come before the HTML handler for every HTTPException (errors.py);
    # the APIs' blueprints answer their own errors first.
    app.register_error_handler(413, json_or_page)
    app.register_error_handler(429, json_or_page)
