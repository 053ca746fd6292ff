"""The staff workspace: sign-in, the inbox, one report with its actions, the audit log.

Views parse the request into plain data, call one domain function, commit once and redirect,
or render the page again with the error next to the field it is about.
"""
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from portal.domain import DomainError, duplicates, workflow
from portal.domain.accounts import authenticate
from portal.domain.administration import is_administrator
from portal.domain.audit_log import audit_page, may_read_audit_log
from portal.domain.inbox import load_inbox
from portal.domain.paging import Cursor
from portal.domain.permissions import can_view, subtree_ids
from portal.domain.privacy import (
    IdentityHidden,
    may_see_identity,
    reporter_label,
    reveal_identity,
)
from portal.domain.responses import fill_response
from portal.domain.workflow import Action, ActionInput, ActionNotAllowed, StaleReport
from portal.errors import render_error
from portal.extensions import db, limiter
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ArchiveReason,
    Attachment,
    Category,
    Institution,
    InstitutionKind,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    ResponseTemplate,
)
from portal.models.types import utcnow
from portal.staff import labels as staff_labels
from portal.staff.decorators import staff_required
from portal.staff.forms import ActionForm, LoginForm, parse_inbox_query
from portal.web import add_form_error, attachment_response, local_path

blueprint = Blueprint("staff", __name__)

# last_seen_at is written at most this often, so that browsing does not write on every click.
ACTIVITY_RESOLUTION = timedelta(minutes=1)
STALE_MESSAGE = _l("This report was changed by someone else while you were working on it. "
                   "Here is its new state; check it and try again.")


def _actor():
    """The signed-in user as a real model object (domain functions do not take proxies)."""
    return current_user._get_current_object()


@blueprint.before_request
def record_activity():
    if current_user.is_authenticated and current_user.is_staff:
        now = utcnow()
        seen = current_user.last_seen_at
        if seen is None or now - seen >= ACTIVITY_RESOLUTION:
            current_user.last_seen_at = now
            db.session.commit()


@blueprint.after_request
def no_caching(response):
    # Staff pages and files carry reports and sometimes identities: never keep them in a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.context_processor
def staff_globals():
    signed_in = current_user.is_authenticated and current_user.is_staff
    return {"staff_labels": staff_labels,
            "can_read_audit": signed_in and may_read_audit_log(_actor()),
            "can_administer": signed_in and is_administrator(_actor())}


# ----------------------------------------------------------------------------- sign-in
@blueprint.route("/masuk", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("STAFF_LOGIN_LIMIT", "10 per minute"),
               methods=["POST"])
def login():
    next_url = local_path(request.args.get("next"))
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(next_url or url_for("staff.inbox"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            result = authenticate(form.email.data, form.password.data, now=utcnow(), staff=True)
        except DomainError as error:
            db.session.commit()  # the failure count and the audit entry must stay
            form.form_errors.append(error.message)
            return render_template("staff/login.html", form=form), 401
        login_user(result.user)
        db.session.commit()
        return redirect(next_url or url_for("staff.inbox"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/login.html", form=form), status


@blueprint.post("/keluar")
def logout():
    logout_user()
    flash(_l("You have signed out."), "info")
    return redirect(url_for("staff.login"))


# ----------------------------------------------------------------------------- inbox
@blueprint.get("/")
@staff_required
def inbox():
    user = _actor()
    parsed = parse_inbox_query(request.args)
    inbox = load_inbox(user, parsed.filters, parsed.after)
    categories = db.session.scalars(select(Category).order_by(Category.id)).all()
    next_url = None
    if inbox.page.next_cursor is not None:
        next_url = url_for("staff.inbox", **parsed.args, after=inbox.page.next_cursor.encode())
    return render_template(
        "staff/inbox.html", page=inbox.page, parsed=parsed, counts=inbox.counts,
        statuses=list(ReportStatus), kinds=list(ReportKind),
        categories=categories, units=inbox.units, next_url=next_url,
        first_url=url_for("staff.inbox", **parsed.args) if parsed.after else None,
    )


# ----------------------------------------------------------------------------- one report
def _load_report(number: str) -> Report:
    """The report with this public number, if the user may see it; 404 otherwise (a number
    from another unit looks exactly like a number that does not exist)."""
    report = db.session.scalar(
        select(Report).where(Report.public_number == number).options(
            joinedload(Report.category), joinedload(Report.district),
            joinedload(Report.current_institution), joinedload(Report.current_unit),
            joinedload(Report.assigned_operator),
            selectinload(Report.attachments),
            selectinload(Report.events).options(
                joinedload(ReportEvent.actor), joinedload(ReportEvent.target_institution),
                joinedload(ReportEvent.target_user)),
        ))
    if report is None or not can_view(_actor(), report):
        abort(404)
    return report


def _institutions(exclude_id: int | None = None) -> list[Institution]:
    return [i for i in db.session.scalars(
        select(Institution).where(Institution.kind == InstitutionKind.INSTITUTION)
        .order_by(Institution.name)) if i.id != exclude_id]


def _units_of(report: Report) -> list[Institution]:
    if report.current_institution_id is None:
        return []
    return list(db.session.scalars(
        select(Institution).where(
            Institution.kind == InstitutionKind.UNIT,
            Institution.id.in_(subtree_ids({report.current_institution_id})))
        .order_by(Institution.name)))


def _fill_choices(form: ActionForm, report: Report, cache: dict) -> None:
    action = form.action
    form.message.label.text = staff_labels.MESSAGE[action]
    if action in staff_labels.TARGET:
        form.target_institution_id.label.text = staff_labels.TARGET[action]
    if action is Action.ROUTE:
        if "institutions" not in cache:
            cache["institutions"] = _institutions()
        form.target_institution_id.choices = [
            SelectChoice("", _l("— choose an institution —"))] + [
            SelectChoice(i.id, i.name) for i in cache["institutions"]]
    elif action is Action.NOT_IN_AUTHORITY:
        form.target_institution_id.choices = [
            SelectChoice("", _l("— return it to the national administrator —"))] + [
            SelectChoice(i.id, i.name) for i in _institutions(report.current_institution_id)]
    elif action is Action.DISPOSITION:
        form.target_institution_id.choices = [SelectChoice("", _l("— choose a unit —"))] + [
            SelectChoice(u.id, u.name) for u in _units_of(report)]
    elif action is Action.ASSIGN:
        operators = workflow.operators_of_unit(report.current_unit_id) \
            if report.current_unit_id else []
        form.operator_id.choices = [SelectChoice("", _l("— choose an operator —"))] + [
            SelectChoice(u.id, u.name) for u in operators]
    elif action is Action.ARCHIVE:
        form.archive_reason.choices = [SelectChoice("", _l("— choose a reason —"))] + [
            SelectChoice(r.value, staff_labels.ARCHIVE_REASON[r]) for r in ArchiveReason]


def _fresh_form(action: Action, report: Report, **values) -> ActionForm:
    return ActionForm(action, formdata=None, data={"version": report.version, **values})


def _response_templates(report: Report) -> list[ResponseTemplate]:
    return list(db.session.scalars(
        select(ResponseTemplate).where(
            ResponseTemplate.institution_id == report.current_institution_id)
        .order_by(ResponseTemplate.title)))


def _render_report(report: Report, *, status: int = 200, failed: ActionForm | None = None,
                   notice=None, identity=None, revealed: bool = False,
                   answer_text: str | None = None, chosen_template: int | None = None):
    actor = _actor()
    actions = workflow.allowed_actions(actor, report)
    cache: dict = {}
    forms = []
    for action in actions:
        if failed is not None and failed.action is action:
            form = failed
        elif action is Action.ANSWER and answer_text:
            form = _fresh_form(action, report, message=answer_text)
        else:
            form = _fresh_form(action, report)
        _fill_choices(form, report, cache)
        forms.append(form)
    if failed is not None and failed.action not in actions and notice is None:
        notice = _l("This action is not possible for you on this report now.")
    templates = _response_templates(report) if Action.ANSWER in actions else []
    return render_template(
        "staff/report.html", report=report, forms=forms, notice=notice,
        # Possible duplicates (either side) for the admins who decide them, and the copies
        # archived into this report, with their attachments for staff who may see them.
        duplicate_rows=duplicates.open_candidates_of(report, actor),
        may_mark_duplicate=Action.ARCHIVE in actions, copies=duplicates.copies_of(report, actor),
        reporter=reporter_label(report, actor), identity=identity, revealed=revealed,
        may_reveal=may_see_identity(actor, report),
        # File names often name the reporter: they are part of the identity, shown only in
        # the logged reveal, to everyone (every view of an identity is audited).
        show_file_names=revealed and may_see_identity(actor, report),
        templates=templates, chosen_template=chosen_template,
        message_required=workflow.MESSAGE_REQUIRED,
    ), status


@blueprint.get("/laporan/<number>")
@staff_required
def report(number: str):
    report = _load_report(number)
    answer_text, chosen, notice = None, None, None
    raw_template = request.args.get("template", "").strip()
    if raw_template:
        template = (db.session.get(ResponseTemplate, int(raw_template))
                    if raw_template.isdigit() and len(raw_template) < 10 else None)
        if (template is None or template.institution_id != report.current_institution_id
                or Action.ANSWER not in workflow.allowed_actions(_actor(), report)):
            notice = _l("This response template cannot be used for this report.")
        else:
            answer_text = fill_response(template, report, now=utcnow())
            chosen = template.id
    return _render_report(report, notice=notice, answer_text=answer_text,
                          chosen_template=chosen)


@blueprint.post("/laporan/<number>/identitas")
@staff_required
def reveal(number: str):
    report = _load_report(number)
    try:
        identity = reveal_identity(report, actor=_actor(), now=utcnow())
    except IdentityHidden as error:
        db.session.rollback()
        return render_error(403, error.message)
    db.session.commit()
    report = _load_report(number)
    return _render_report(report, identity=identity, revealed=True)


@blueprint.get("/laporan/<number>/lampiran/<int:attachment_id>")
@staff_required
def attachment(number: str, attachment_id: int):
    report = _load_report(number)
    item = db.session.get(Attachment, attachment_id)
    if item is not None and item.report_id != report.id:
        # A copy archived into this report keeps its files: listed on the original's page,
        # downloadable by those who may see the copy too.
        item = duplicates.copy_attachment(report, attachment_id, _actor())
    if item is None:
        abort(404)
    # A download is not the logged "show identity" action: never a file name that may name
    # the reporter (portal/web.py).
    return attachment_response(item)


def _stale(number: str, form: ActionForm):
    """Show the report's new state; keep what the officer typed, against the new version."""
    db.session.rollback()
    report = _load_report(number)
    kept = _fresh_form(form.action, report, message=form.message.data,
                       visible_to_reporter=form.visible_to_reporter.data,
                       target_institution_id=form.target_institution_id.data,
                       operator_id=form.operator_id.data, archive_reason=form.archive_reason.data,
                       duplicate_of=form.duplicate_of.data)
    return _render_report(report, status=409, failed=kept, notice=STALE_MESSAGE)


@blueprint.post("/laporan/<number>/tindakan/<action_name>")
@staff_required
def act(number: str, action_name: str):
    try:
        action = Action(action_name)
    except ValueError:
        abort(404)
    report = _load_report(number)
    form = ActionForm(action)
    if not form.validate_on_submit():
        if form.version.errors:
            form.form_errors.extend(form.version.errors)
        return _render_report(report, status=422, failed=form)
    data = ActionInput(
        message=form.message.data,
        visible_to_reporter=bool(form.visible_to_reporter.data),
        target_institution_id=form.target_institution_id.data,
        operator_id=form.operator_id.data,
        archive_reason=form.archive_reason_value(),
        duplicate_of=form.duplicate_of.data,
    )
    actor = _actor()
    try:
        workflow.perform(report, action, actor=actor, now=utcnow(),
                         expected_version=form.version.data, data=data)
        db.session.commit()
    except (StaleReport, StaleDataError):
        return _stale(number, form)
    except ActionNotAllowed as error:
        db.session.rollback()
        return render_error(403, error.message)
    except DomainError as error:
        db.session.rollback()
        add_form_error(form, error.field, error.message)
        return _render_report(_load_report(number), status=422, failed=form)
    flash(_l("Done: %(action)s.", action=staff_labels.ACTION[action]), "success")
    if not can_view(actor, report):
        # The report left the user's nodes (sent back, not in authority): back to the inbox.
        return redirect(url_for("staff.inbox"))
    return redirect(url_for("staff.report", number=number))


# ----------------------------------------------------------------------------- audit log
@blueprint.get("/audit")
@staff_required
def audit():
    user = _actor()
    if not may_read_audit_log(user):
        abort(403)
    raw_after = request.args.get("after", "")
    after = Cursor.decode(raw_after) if raw_after else None
    problem = _l("The page link was not understood: showing the first page.") \
        if raw_after and after is None else None
    page = audit_page(user, after)
    next_url = url_for("staff.audit", after=page.next_cursor.encode()) \
        if page.next_cursor else None
    return render_template("staff/audit.html", page=page, next_url=next_url,
                           first_url=url_for("staff.audit") if after else None,
                           problem=problem)


from portal.staff import (
    reports,  # noqa: E402,F401  (weekly report routes on this blueprint)
    supervision,  # noqa: E402,F401  (registers /pengawasan)
)
from portal.staff import duplicates as duplicate_views  # noqa: E402,F401  (/duplikat)
from portal.staff import account  # noqa: E402,F401  (/sandi: one's own password)
from portal.staff import intake as intake_views  # noqa: E402,F401  (/laporan/baru)
