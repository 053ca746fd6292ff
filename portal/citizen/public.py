"""The public feed's pages on the citizen blueprint: every public report, searched and
filtered (/laporan), and one report's public page (/laporan/<number>). The rules, the masking
and the queries are in portal/domain/public_feed.py; supporting is views.py's route."""
from flask import abort, render_template, request, url_for

from portal.citizen.views import PUBLIC_REPORT_ENDPOINT, _supporter, blueprint
from portal.domain import public_feed as feed
from portal.domain.support import PUBLIC_OPEN_STATES, has_supported
from portal.labels import KIND, STATUS
from portal.models import ReportKind

assert PUBLIC_REPORT_ENDPOINT == f"{blueprint.name}.public_report"


@blueprint.get("/laporan")
def public_feed():
    query = feed.parse_query(request.args)
    page = feed.feed_page(query)
    next_url = None
    if page.next_cursor:
        next_url = url_for("citizen.public_feed", **query.filters(), after=page.next_cursor)
    choices = feed.feed_choices()
    listed = {row.id for row in choices.institutions or ()}
    return render_template(
        "citizen/public_feed.html", query=query, page=page, choices=choices,
        # A unit (or kecamatan) from a link, not in the lists: shown by its name.
        unit_name=feed.node_name(query.institution_id)
        if query.institution_id not in listed else None,
        district_name=feed.district_name(query.district_id)
        if choices.districts is None else None,
        kinds=[(k.value, KIND[k]) for k in ReportKind],
        states=[(s.value, STATUS[s]) for s in feed.PUBLIC_STATES],
        next_url=next_url,
        filters_open=bool(query.errors) or bool(set(query.filters()) - {"q"}),
        first_url=url_for("citizen.public_feed", **query.filters()) if query.after else None)


@blueprint.get("/laporan/<number>")
def public_report(number: str):
    report = feed.public_report(number[:40])
    if report is None:  # unknown, not verified, confidential, archived: the same answer
        abort(404)
    return render_template(
        "citizen/public_report.html", report=report,
        may_support=report.status in PUBLIC_OPEN_STATES,
        supported=has_supported(report.report_id, _supporter()))
