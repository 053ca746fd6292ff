"""The public statistics page, /statistik: counts and rates for the whole portal or one
institution over a range of months, charts drawn on the server, every table as CSV.

Registered on the citizen blueprint (portal/citizen/views.py's ``blueprint``). The page shows
aggregates only: no report's title, text, number, place or reporter.
"""
from flask import Response, abort, render_template, request
from flask_babel import get_locale
from sqlalchemy import select

from portal.citizen.views import blueprint
from portal.domain import DomainError
from portal.domain.charts import Series, bar_chart, line_chart
from portal.domain.statistics import (
    default_period,
    parse_period,
    compute_statistics,
    tables,
    to_csv,
)
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Institution, InstitutionKind
from portal.models.types import utcnow

NATIONAL = "national"


def all_institutions() -> list[Institution]:
    return list(db.session.scalars(select(Institution).where(
        Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.name,
                                                                  Institution.id)))


def read_period(problems: list, *, now):
    """The period of the query string, or the last 12 months with a message."""
    start, end = request.args.get("start", ""), request.args.get("end", "")
    if not start.strip() and not end.strip():
        return default_period(now)
    try:
        return parse_period(start, end, now=now)
    except DomainError as error:
        problems.append(str(_l("%(problem)s Showing the last 12 months instead.",
                           problem=error.message)))
        return default_period(now)


CHART_BARS = 15  # a longer list is drawn as its top bars and one bar for the rest


def _bars(lines) -> tuple[list[str], list[int]]:
    """Labels and values of a bar chart: every line, or the CHART_BARS - 1 lines with the most
    reports and one bar adding up the others (273 institutions are not a readable picture;
    the table next to it has them all)."""
    if len(lines) <= CHART_BARS:
        return [line.label for line in lines], [line.counts.received for line in lines]
    ranked = sorted(lines, key=lambda line: -line.counts.received)
    top, rest = ranked[:CHART_BARS - 1], ranked[CHART_BARS - 1:]
    return ([line.label for line in top] + [str(_l("%(count)d others", count=len(rest)))],
            [line.counts.received for line in top] + [sum(line.counts.received
                                                          for line in rest)])


def charts_for(stats, figures: dict) -> dict:
    """An SVG chart for each table that has one (the table holds the same numbers)."""
    plain = str(_l("A bar chart; the same numbers are in the table next to it."))
    charts = {}
    for name, lines in (("kind", stats.by_kind), ("category", stats.by_category),
                        ("unit", stats.by_unit), ("district", stats.by_place),
                        ("channel", stats.by_channel)):
        labels, values = _bars(lines)
        charts[name] = bar_chart(
            chart_id=f"chart-{name}", title=figures[name].title, description=plain,
            labels=labels, values=values, name=str(_l("Reports")))
    months = [line.label for line in stats.by_month]
    charts["month"] = line_chart(
        chart_id="chart-month", title=figures["month"].title,
        description=str(_l("A line chart of the reports received and completed per month; "
                           "the same numbers are in the table next to it.")),
        labels=months,
        series=[Series(str(_l("Reports")), "line-1"), Series(str(_l("Completed")), "line-2")],
        values=[[line.counts.received for line in stats.by_month],
                [line.counts.completed for line in stats.by_month]])
    if stats.top_categories:
        charts["top_categories"] = line_chart(
            chart_id="chart-top-categories", title=figures["top_categories"].title,
            description=str(_l("A line chart of the reports per month in the categories with "
                               "the most reports; the same numbers are in the table next "
                               "to it.")),
            labels=[month.strftime("%Y-%m") for month in stats.period.months],
            series=[Series(line.label, f"line-{i + 1}")
                    for i, line in enumerate(stats.top_categories)],
            values=[[stats.top_by_month[month][line.key] for month in stats.period.months]
                    for line in stats.top_categories])
    return charts


def csv_response(table, filename: str) -> Response:
    return Response(to_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/statistik")
def statistics_page():
    now = utcnow()
    problems: list = []  # plain text (a lazy string would be rendered unescaped)
    institutions = all_institutions()
    code = request.args.get("institution", "").strip()
    institution = None
    if code and code != NATIONAL:
        institution = next((inst for inst in institutions if inst.code == code), None)
        if institution is None:
            problems.append(str(_l("No institution has the code %(code)s: showing the whole "
                               "portal instead.", code=code[:40])))
    period = read_period(problems, now=now)
    stats = compute_statistics(institution, period, now=now, locale=str(get_locale()),
                               unit_medians=False)
    figures = tables(stats, staff=False)
    if request.args.get("format") == "csv":
        name = request.args.get("table", "")
        if name not in figures:
            abort(404)
        if not problems:
            scope = institution.code if institution else NATIONAL
            return csv_response(figures[name], f"statistik-{name}-{scope}-"
                                f"{period.start_code}-{period.end_code}.csv")
    return render_template("citizen/statistics.html", stats=stats, figures=figures,
                           charts=charts_for(stats, figures), problems=problems,
                           institutions=institutions, national=NATIONAL, staff=False,
                           endpoint="citizen.statistics_page")
