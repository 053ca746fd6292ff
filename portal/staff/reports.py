"""The weekly report page (and its CSV and XLSX downloads) on the staff blueprint, and the
offline-unit notice on the inbox of institution admins."""
from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from portal.domain import DomainError
from portal.domain.charts import Series, grouped_bar_chart
from portal.domain.offline import offline_units
from portal.domain.weekly_report import (
    last_week,
    parse_week,
    readable_institutions,
    record_export,
    to_csv,
    to_xlsx,
    weekly_report,
)
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Institution, InstitutionKind, Role
from portal.models.types import utcnow
from portal.staff.decorators import staff_required
from portal.staff.views import _actor, blueprint

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chart(report):
    rows = report.rows
    return grouped_bar_chart(
        chart_id="weekly-chart",
        title=str(_l("Received and answered reports per unit, week %(week)s",
                     week=report.week.code)),
        description=str(_l("A bar chart; the same numbers are in the table below.")),
        categories=[row.unit.name if row.unit else str(_l("Not yet at a unit")) for row in rows],
        series=[Series(str(_l("Received")), "bar-received"),
                Series(str(_l("Answered")), "bar-answered")],
        values=[[row.received, row.answered] for row in rows])


@blueprint.get("/laporan-mingguan")
@staff_required
def weekly_report_page():
    user = _actor()
    institutions = readable_institutions(user)
    if not institutions:
        abort(403)
    code = request.args.get("institution")
    institution = institutions[0]
    if code:
        chosen = db.session.scalar(select(Institution).where(
            Institution.code == code, Institution.kind == InstitutionKind.INSTITUTION))
        if chosen is None:
            abort(404)
        if chosen not in institutions:
            abort(403)
        institution = chosen
    now = utcnow()
    problem = None
    week = last_week(now)
    if request.args.get("week"):
        try:
            week = parse_week(request.args["week"], now=now)
        except DomainError as error:
            problem = _l("%(problem)s Showing last week instead.", problem=error.message)
    report = weekly_report(institution, week, now=now)
    file_format = request.args.get("format")
    if file_format in ("csv", "xlsx"):
        record_export(report, actor=user, file_format=file_format, now=now)
        db.session.commit()
        name = f"laporan-mingguan-{institution.code}-{week.code}.{file_format}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if file_format == "csv":
            return Response(to_csv(report), mimetype="text/csv", headers=headers)
        return Response(to_xlsx(report), mimetype=XLSX_TYPE, headers=headers)
    return render_template("staff/weekly_report.html", report=report, problem=problem,
                           institutions=institutions, chart=_chart(report))


@blueprint.context_processor
def offline_notice():
    """Institution admins see their offline units on the inbox."""
    from flask import request as current_request

    if current_request.endpoint != "staff.inbox" or not (
            current_user.is_authenticated and current_user.is_staff):
        return {}
    # The nav already loaded the memberships and their nodes: no query until offline_units.
    institutions = sorted({m.institution for m in current_user.memberships
                           if m.role is Role.INSTITUTION_ADMIN
                           and m.institution.kind is InstitutionKind.INSTITUTION},
                          key=lambda inst: (inst.name, inst.id))
    if not institutions:
        return {}
    now = utcnow()
    return {"offline_units": [item for inst in institutions
                              for item in offline_units(inst, now=now)]}
