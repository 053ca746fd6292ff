"""Filters and globals the templates share."""
from flask import Flask, g, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale

from portal import labels
from portal.domain.calendar import last_day_before


def deadline_clock(report):
    """The report's staff clock as pages show it (state, kind, last allowed day), or None.
    One reader per request: the days off are read once for a whole list."""
    from portal.domain.deadlines import ClockReader
    from portal.models.types import utcnow

    reader = g.get("_clock_reader")
    if reader is None:
        reader = g._clock_reader = ClockReader(utcnow())
    return reader.read(report)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_datetime"] = lambda value: (
        format_datetime(value, "d MMM yyyy, HH:mm") + " WIB" if value else ""
    )
    app.jinja_env.filters["local_date"] = lambda value: format_date(value, "d MMM yyyy") if value else ""
    # A figure that has no value (no reports to take a rate or a median of): a dash. A filter,
    # not a macro: the statistics tables have thousands of cells.
    app.jinja_env.filters["or_dash"] = lambda value: "—" if value is None else value
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["deadline_clock"] = deadline_clock
    # A stored due_at (the midnight ending the last allowed day) as that last day.
    app.jinja_env.filters["local_due_date"] = lambda value: (
        format_date(last_day_before(value), "d MMM yyyy") if value else "")

    @app.context_processor
    def inject_locale():
        # Mail is rendered outside requests too (workers, CLI): no path there.
        path = request.full_path.rstrip("?") if has_request_context() else "/"
        return {"current_locale": str(get_locale()), "current_path": path}
