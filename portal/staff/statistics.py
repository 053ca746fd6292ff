"""The staff statistics page, /staf/statistik: the public figures and more (per unit: medians,
ratings), for the national admin (the whole portal or any institution) and for the institution
admins and supervisors of an institution (the weekly report's readers). CSV downloads are
recorded in the audit log."""
from flask import abort, render_template, request
from flask_babel import get_locale
from sqlalchemy import select

from portal.citizen.statistics import NATIONAL, charts_for, csv_response, read_period
from portal.domain.privacy import is_national_admin
from portal.domain.statistics import compute_statistics, record_export, tables
from portal.domain.weekly_report import readable_institutions
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Institution, InstitutionKind
from portal.models.types import utcnow
from portal.staff.decorators import staff_required
from portal.staff.views import _actor, blueprint


@blueprint.get("/statistik")
@staff_required
def statistics_page():
    user = _actor()
    institutions = readable_institutions(user)
    national_allowed = is_national_admin(user)
    if not institutions and not national_allowed:
        abort(403)
    now = utcnow()
    problems: list = []  # plain text (a lazy string would be rendered unescaped)
    institution = None if national_allowed else institutions[0]
    code = request.args.get("institution", "").strip()
    if code == NATIONAL and not national_allowed:
        abort(403)
    if code and code != NATIONAL:
        chosen = db.session.scalar(select(Institution).where(
            Institution.code == code, Institution.kind == InstitutionKind.INSTITUTION))
        if chosen is None:
            problems.append(str(_l("No institution has the code %(code)s: showing %(name)s "
                               "instead.", code=code[:40],
                               name=institution.name if institution else _l("the whole portal"))))
        elif chosen not in institutions:
            abort(403)
        else:
            institution = chosen
    period = read_period(problems, now=now)
    stats = compute_statistics(institution, period, now=now, locale=str(get_locale()))
    figures = tables(stats, staff=True)
    if request.args.get("format") == "csv":
        name = request.args.get("table", "")
        if name not in figures:
            abort(404)
        if not problems:
            record_export(stats, figures[name], actor=user, now=now)
            db.session.commit()
            scope = institution.code if institution else NATIONAL
            return csv_response(figures[name], f"statistik-staf-{name}-{scope}-"
                                f"{period.start_code}-{period.end_code}.csv")
    return render_template("staff/statistics.html", stats=stats, figures=figures,
                           charts=charts_for(stats, figures), problems=problems,
                           institutions=institutions, national=NATIONAL if national_allowed
                           else None, staff=True, endpoint="staff.statistics_page")
