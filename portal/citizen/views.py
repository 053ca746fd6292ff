"""The citizen's side: choose, file, get the code, track."""
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from wtforms.fields.choices import SelectChoice

from portal.citizen.forms import ReportForm, TrackForm
from portal.domain import DomainError
from portal.domain.filing import ReportDraft, draft_problems, file_report, jakarta_today
from portal.domain.tracking import find_report_by_tracking_code
from portal.domain.uploads import UploadRejected, prepare_upload
from portal.errors import MESSAGES
from portal.extensions import db, limiter
from portal.i18n import SESSION_KEY
from portal.i18n import lazy_gettext as _l
from portal.labels import KIND, KIND_HINT
from portal.models import Category, District, Report, ReportEvent, ReportKind
from portal.models.types import utcnow
from portal.storage import AttachmentStore

blueprint = Blueprint("citizen", __name__)

JUST_FILED = "just_filed"
TRACKED = "tracked_reports"


@blueprint.get("/")
def home():
    return render_template("citizen/home.html", kinds=list(ReportKind), track_form=TrackForm())


@blueprint.get("/bahasa/<lang>")
def set_language(lang: str):
    if lang in current_app.config["PORTAL_LANGUAGES"]:
        session[SESSION_KEY] = lang
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        target = url_for("citizen.home")
    return redirect(target)


def _fill_choices(form: ReportForm) -> None:
    locale = str(get_locale())
    form.kind.choices = [SelectChoice(k.value, KIND[k]) for k in ReportKind]
    categories = db.session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.id)
    ).all()
    form.category.choices = [SelectChoice("", _l("— choose a category —"))] + [
        SelectChoice(c.id, c.name_for(locale)) for c in categories
    ]
    districts = db.session.scalars(select(District).order_by(District.name)).all()
    form.district.choices = [SelectChoice("", _l("— choose a kecamatan —"))] + [
        SelectChoice(d.id, d.name) for d in districts
    ]


def _prepared_uploads(form: ReportForm) -> list:
    """Read and check every chosen file; errors go onto the form's attachment field."""
    files = [f for f in (form.attachments.data or []) if f and f.filename]
    max_files = current_app.config["MAX_ATTACHMENTS"]
    max_bytes = current_app.config["MAX_ATTACHMENT_BYTES"]
    if len(files) > max_files:
        form.attachments.errors = [_l("Choose at most %(count)s files.", count=max_files)]
        return []
    prepared, errors = [], []
    for storage in files:
        data = storage.stream.read(max_bytes + 1)
        try:
            prepared.append(prepare_upload(storage.filename, data, max_bytes))
        except UploadRejected as rejection:
            errors.append(rejection.message)
    if errors:
        form.attachments.errors = errors
    return prepared


def _draft_from(form: ReportForm, leave_out: frozenset[str] = frozenset()) -> ReportDraft:
    """The draft as typed; the fields named in ``leave_out`` count as not given."""
    def value(field):
        return None if field.name in leave_out else field.data

    kind = value(form.kind)
    return ReportDraft(
        kind=ReportKind(kind) if kind else None,
        title=value(form.title),
        body=value(form.body),
        category_id=value(form.category),
        district_id=value(form.district),
        village=value(form.village),
        address=value(form.address),
        event_date=value(form.event_date),
        is_anonymous=form.is_anonymous.data,
        is_confidential=form.is_confidential.data,
        name=value(form.name),
        email=value(form.email),
        phone=value(form.phone),
        nik=value(form.nik),
    )


def _add_rule_problems(form: ReportForm, now) -> None:
    """The rules about the report as a whole, checked on what the form accepted, so that every
    problem is shown in one go; a field the form already refused keeps its own message."""
    refused = frozenset(field.name for field in form if field.errors)
    for name, message in draft_problems(_draft_from(form, leave_out=refused), now).items():
        if name not in refused:
            _add_error(form, name, message)


def _not_saved(form: ReportForm):
    """The database failed: nothing was kept; the form comes back as typed, to send again."""
    db.session.rollback()
    current_app.logger.exception("a report could not be saved")
    form.form_errors.append(MESSAGES[500][1])
    return _render_form(form), 503


def _add_error(form: ReportForm, field: str | None, message) -> None:
    target = getattr(form, field, None) if field else None
    if target is None:
        form.form_errors.append(message)
    else:
        target.errors = list(target.errors) + [message]


@blueprint.route("/lapor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FILING_LIMIT"], methods=["POST"])
def new_report():
    form = ReportForm()
    _fill_choices(form)
    if request.method == "GET":
        requested = request.args.get("kind")
        if requested in {k.value for k in ReportKind}:
            form.kind.data = requested
        return _render_form(form)

    now = utcnow()
    valid = form.validate()
    uploads = _prepared_uploads(form)
    _add_rule_problems(form, now)
    if not valid or any(field.errors for field in form) or form.form_errors:
        return _render_form(form), 422
    try:
        filed = file_report(
            _draft_from(form), uploads,
            store=AttachmentStore(current_app.config["UPLOAD_FOLDER"]), now=now,
        )
    except DomainError as error:
        db.session.rollback()
        _add_error(form, error.field, error.message)
        return _render_form(form), 422
    except SQLAlchemyError:  # file_report has already removed the files it wrote
        return _not_saved(form)
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        store = AttachmentStore(current_app.config["UPLOAD_FOLDER"])
        for name in filed.stored_names:
            store.delete(name)
        return _not_saved(form)
    session[JUST_FILED] = {"number": filed.report.public_number, "code": filed.tracking_code,
                           "email": filed.code_mailed_to_reporter}
    return redirect(url_for("citizen.filed"))


def _render_form(form: ReportForm):
    had_files = request.method == "POST" and any(
        f and f.filename for f in request.files.getlist(form.attachments.name)
    )
    return render_template(
        "citizen/new_report.html", form=form, kind_hints=KIND_HINT,
        had_files=had_files, today=jakarta_today(utcnow()).isoformat(),
    )


@blueprint.get("/lapor/terkirim")
def filed():
    receipt = session.pop(JUST_FILED, None)
    return render_template("citizen/filed.html", receipt=receipt)


@blueprint.route("/lacak", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TRACKING_LOOKUP_LIMIT"], methods=["POST"],
               # Only a wrong code (404) counts: a reporter who knows their code is never
               # locked out by looking it up often.
               deduct_when=lambda response: response.status_code == 404)
def track():
    form = TrackForm()
    if form.validate_on_submit():
        report = find_report_by_tracking_code(form.code.data)
        if report is None:
            form.code.errors = [_l(
                "No report has this tracking code. Check the code (it has 15 letters and digits, "
                "like ABCDE-FGH23-45678) and try again."
            )]
            return render_template("citizen/track.html", form=form), 404
        tracked = [n for n in session.get(TRACKED, []) if n != report.id][-9:]
        session[TRACKED] = tracked + [report.id]
        return redirect(url_for("citizen.tracked_report", number=report.public_number))
    status = 422 if request.method == "POST" else 200
    return render_template("citizen/track.html", form=form), status


@blueprint.get("/lacak/<number>")
def tracked_report(number: str):
    report = db.session.scalar(select(Report).where(Report.public_number == number))
    if report is None or report.id not in session.get(TRACKED, []):
        flash(_l("Type your tracking code to see this report."), "info")
        return redirect(url_for("citizen.track"))
    events = db.session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.visible_to_reporter.is_(True))
        .order_by(ReportEvent.created_at, ReportEvent.id)
    ).all()
    return render_template("citizen/tracked_report.html", report=report, events=events)


@blueprint.get("/lacak/keluar")
def forget_tracked():
    session.pop(TRACKED, None)
    return redirect(url_for("citizen.home"))

