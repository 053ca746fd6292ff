"""Filters and globals the templates share."""
from flask import Flask, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale

from portal import labels


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_datetime"] = lambda value: (
        format_datetime(value, "d MMM yyyy, HH:mm") + " WIB" if value else ""
    )
    app.jinja_env.filters["local_date"] = lambda value: format_date(value, "d MMM yyyy") if value else ""
    app.jinja_env.globals["labels"] = labels

    @app.context_processor
    def inject_locale():
        # Mail is rendered outside requests too (workers, CLI): no path there.
        path = request.full_path.rstrip("?") if has_request_context() else "/"
        return {"current_locale": str(get_locale()), "current_path": path}
