"""Error pages in the user's language; a failed request never leaves a half-done transaction."""
from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.i18n import lazy_gettext as _l

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (
        _l("Upload too large"),
        _l("The files together are larger than the portal accepts (5 files of at most 10 MB "
           "each). Go back, choose smaller files and send again."),
    ),
    429: (
        _l("Too many attempts"),
        _l("You have tried too often in a short time. Please wait a few minutes and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side and nothing was saved. Please try again in a moment."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("The portal cannot reach its database for a moment, so nothing was saved. Please "
           "try again in a minute."),
    ),
}
# Seconds a client is told to wait after a 503 (the database restarting, a failover).
RETRY_AFTER = 30


def _database_unavailable(error: Exception) -> bool:
    """The database could not be reached (down, restarting, a dropped connection), as opposed
    to a bug in a query."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def render_error(code: int, detail=None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("Your session has expired, so the form could not be sent. Go back, reload the page "
               "and send it again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    @app.teardown_appcontext
    def end_session_quietly(exc):
        """End the request's database session before Flask-SQLAlchemy does (teardowns run
        last registered first). When the server went away after the page was rendered (a
        restart, a failover), the closing ROLLBACK fails on the dead connection; that must
        not turn the finished page into a 500. The pool drops the connection (pre-ping)."""
        try:
            db.session.remove()
        except Exception:
            app.logger.warning("closing the database session failed (connection lost)")
            try:
                db.session.registry.clear()
            except Exception:  # pragma: no cover
                pass

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # the connection itself is gone; the pool replaces it (pre-ping)
            app.logger.warning("rollback failed after an error", exc_info=True)
        if _database_unavailable(error):
            app.logger.error("database unavailable: %s", error.__class__.__name__)
            return database_unavailable()
        app.logger.exception("unhandled error")
        return render_error(500)

    def database_unavailable():
        # The page must not touch the database: the navigation asks current_user, whose
        # loader reads the users table, so it is taken as a visitor for this one page.
        g._login_user = app.login_manager.anonymous_user()
        try:
            body, code = render_error(503)
        except Exception:  # the page itself needed the database after all
            app.logger.warning("503 page failed to render", exc_info=True)
            title, message = MESSAGES[503]
            body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"
            code = 503
        return body, code, {"Retry-After": str(RETRY_AFTER)}
