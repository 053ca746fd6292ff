"""The supervisor's dashboard (/staf/pengawasan): red reports and per-unit counts."""
from flask import abort, render_template
from flask_login import current_user

from portal.domain.supervision import may_supervise, supervision_dashboard
from portal.models.types import utcnow
from portal.staff.decorators import staff_required
from portal.staff.views import blueprint


@blueprint.context_processor
def supervision_globals():
    signed_in = current_user.is_authenticated and current_user.is_staff
    return {"can_supervise": signed_in and may_supervise(current_user._get_current_object())}


@blueprint.get("/pengawasan")
@staff_required
def supervision():
    user = current_user._get_current_object()
    if not may_supervise(user):
        abort(403)
    return render_template("staff/supervision.html",
                           dashboard=supervision_dashboard(user, now=utcnow()))
