"""Possible duplicates on the staff side: the queue (/staf/duplikat) and "not a duplicate".

"Mark as duplicate of this" is the workflow's archive action (staff.act, reason duplicate);
the panel on the report page is filled in views._render_report.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from portal.domain import DomainError
from portal.domain import duplicates as domain
from portal.extensions import db
from portal.forms import PortalForm, choice_id
from portal.i18n import lazy_gettext as _l
from portal.models import Certainty, DuplicateReason
from portal.models.types import utcnow
from portal.staff.decorators import staff_required
from portal.staff.views import _load_report, blueprint

CERTAINTY = {
    Certainty.CERTAIN: _l("Certain"),
    Certainty.LIKELY: _l("Likely"),
}
REASON = {
    DuplicateReason.EXTERNAL_ID.value: _l("same id in another system"),
    DuplicateReason.SAME_TEXT.value: _l("same text"),
    DuplicateReason.SAME_REPORTER.value: _l("same reporter"),
    DuplicateReason.SAME_PLACE.value: _l("same category and kecamatan"),
    domain.ShownReason.SIMILAR_TEXT: _l("similar text"),
}


class DismissForm(PortalForm):
    candidate = IntegerField(widget=HiddenInput(), filters=[choice_id], validators=[
        InputRequired(message=_l("This form is incomplete. Reload the page and try again."))])
    back = HiddenField(validators=[Optional()])  # "queue": return to the queue


@blueprint.context_processor
def duplicate_globals():
    signed_in = current_user.is_authenticated and current_user.is_staff
    return {"can_review_duplicates": signed_in and domain.may_review_any(
        current_user._get_current_object()),
        "duplicate_certainty": CERTAINTY, "duplicate_reason": REASON}


@blueprint.get("/duplikat")
@staff_required
def duplicates_queue():
    user = current_user._get_current_object()
    if not domain.may_review_any(user):
        abort(403)
    raw_after = request.args.get("after", "")
    after = domain.QueueCursor.decode(raw_after) if raw_after else None
    problem = _l("The page link was not understood: showing the first page.") \
        if raw_after and after is None else None
    page = domain.queue_page(user, after)
    next_url = url_for("staff.duplicates_queue", after=page.next_cursor.encode()) \
        if page.next_cursor else None
    return render_template("staff/duplicates.html", page=page, next_url=next_url,
                           first_url=url_for("staff.duplicates_queue") if after else None,
                           problem=problem)


@blueprint.post("/laporan/<number>/bukan-duplikat")
@staff_required
def dismiss_duplicate(number: str):
    report = _load_report(number)
    user = current_user._get_current_object()
    if not domain.may_review(user, report):
        abort(403)
    form = DismissForm()
    back_to_queue = form.back.data == "queue"
    target = url_for("staff.duplicates_queue") if back_to_queue else \
        url_for("staff.report", number=number, _anchor="duplicates")
    if not form.validate_on_submit():
        flash(_l("This form is incomplete. Reload the page and try again."), "error")
        return redirect(target)
    try:
        domain.dismiss_candidate(form.candidate.data, report, actor=user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(target)
    db.session.commit()
    flash(_l("Noted: not a duplicate. This pair will not be suggested again."), "success")
    return redirect(target)
