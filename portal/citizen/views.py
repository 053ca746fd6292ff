"""The citizen's side: choose, file, get the code, track, reply, rate; optional accounts."""
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from portal.citizen.forms import (
    AcceptAnswerForm,
    CitizenLoginForm,
    RatingForm,
    RegisterForm,
    ReplyForm,
    ReportForm,
    TrackForm,
)
from portal.domain import DomainError, duplicates, places
from portal.domain.accounts import SignInRefused, authenticate, register_citizen
from portal.domain.filing import ReportDraft, draft_problems, file_report, jakarta_today
from portal.domain.reporter import is_citizen, owns_report, reports_of
from portal.domain.support import similar_public_reports, support_report, supporter_for
from portal.domain.tracking import find_report_by_tracking_code
from portal.domain.uploads import UploadRejected, prepare_upload
from portal.domain.workflow import (
    REPLY_WINDOW,
    rate_report,
    reporter_accepts_answer,
    reporter_may_reply,
    reporter_reply,
)
from portal.errors import MESSAGES
from portal.extensions import db, limiter
from portal.forms import choice_id
from portal.i18n import SESSION_KEY
from portal.i18n import lazy_gettext as _l
from portal.labels import KIND, KIND_HINT
from portal.models import (
    Attachment,
    Category,
    Report,
    ReportEvent,
    ReportKind,
    ReportRating,
    ReportStatus,
)
from portal.models.types import utcnow
from portal.place_fields import prepare_district_fields, resolve_district_fields
from portal.storage import AttachmentStore
from portal.web import (
    add_form_error,
    attachment_response,
    change_password_view,
    local_path,
    password_change_limit,
)

blueprint = Blueprint("citizen", __name__)

JUST_FILED = "just_filed"
CHECK = "check"  # the filing form's "Check for similar reports" button
SUPPORT_COOKIE = "lapor_dukung"  # a random token per browser, signed; its keyed hash is kept
SUPPORT_COOKIE_AGE = 365 * 24 * 3600
PUBLIC_REPORT_ENDPOINT = "citizen.public_report"
TRACKED = "tracked_reports"
MY_REPORTS_PER_PAGE = 20


def _reporter_action_limit() -> str:
    return current_app.config.get("REPORTER_ACTION_LIMIT", "20 per hour")


def _signed_in_citizen():
    """The signed-in citizen account (the real object, not the proxy), or None."""
    return current_user._get_current_object() if is_citizen(current_user) else None


@blueprint.get("/")
def home():
    return render_template("citizen/home.html", kinds=list(ReportKind), track_form=TrackForm())


@blueprint.get("/bahasa/<lang>")
def set_language(lang: str):
    if lang in current_app.config["PORTAL_LANGUAGES"]:
        session[SESSION_KEY] = lang
    return redirect(local_path(request.args.get("next")) or url_for("citizen.home"))


def _fill_choices(form: ReportForm) -> None:
    locale = str(get_locale())
    form.kind.choices = [SelectChoice(k.value, KIND[k]) for k in ReportKind]
    categories = db.session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.id)
    ).all()
    form.category.choices = [SelectChoice("", _l("— choose a category —"))] + [
        SelectChoice(c.id, c.name_for(locale)) for c in categories
    ]
    prepare_district_fields(form)


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
            add_form_error(form, name, message)


def _not_saved(form: ReportForm):
    """The database failed: nothing was kept; the form comes back as typed, to send again."""
    db.session.rollback()
    current_app.logger.exception("a report could not be saved")
    form.form_errors.append(MESSAGES[500][1])
    return _render_form(form), 503


def _similar_limit() -> str:
    return current_app.config.get("SIMILAR_LOOKUP_LIMIT", "60 per minute")


def _checking() -> bool:
    """The filing form was sent with "Check for similar reports", not to be filed."""
    return request.method == "POST" and CHECK in request.form


@blueprint.route("/lapor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FILING_LIMIT"], methods=["POST"],
               exempt_when=_checking)
@limiter.shared_limit(_similar_limit, scope="similar-reports", methods=["POST"],
                      exempt_when=lambda: not _checking())
def new_report():
    form = ReportForm()
    _fill_choices(form)
    if _checking():  # no JavaScript: the same form back, as typed, with the similar reports
        resolve_district_fields(form)
        return _render_form(form, checked=True, similar=similar_public_reports(
            form.title.data, form.body.data, form.category.data, form.district.data,
            now=utcnow(), supporter=_supporter()))
    if request.method == "GET":
        requested = request.args.get("kind")
        if requested in {k.value for k in ReportKind}:
            form.kind.data = requested
        account = _signed_in_citizen()
        if account is not None:
            form.name.data = account.name
            form.email.data = account.email
        return _render_form(form)

    now = utcnow()
    valid = form.validate()
    resolve_district_fields(form)
    uploads = _prepared_uploads(form)
    _add_rule_problems(form, now)
    if not valid or any(field.errors for field in form) or form.form_errors:
        return _render_form(form), 422
    try:
        filed = file_report(
            _draft_from(form), uploads,
            store=AttachmentStore(current_app.config["UPLOAD_FOLDER"]), now=now,
            account=_signed_in_citizen(),
        )
    except DomainError as error:
        db.session.rollback()
        add_form_error(form, error.field, error.message)
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
                           "email": filed.code_mailed_to_reporter,
                           "account": _signed_in_citizen() is not None}
    return redirect(url_for("citizen.filed"))


def _render_form(form: ReportForm, *, similar=(), checked: bool = False):
    had_files = request.method == "POST" and any(
        f and f.filename for f in request.files.getlist(form.attachments.name)
    )
    return render_template(
        "citizen/new_report.html", form=form, kind_hints=KIND_HINT,
        had_files=had_files, today=jakarta_today(utcnow()).isoformat(),
        **_similar_context(similar, checked),
    )


# ----------------------------------------------------------------------------- similar reports
def _support_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="lapor-support-browser")


def _browser_token() -> str | None:
    """This browser's support token, from its signed cookie; None without a valid one."""
    value = request.cookies.get(SUPPORT_COOKIE)
    if not value:
        return None
    try:
        token = _support_serializer().loads(value)
    except BadSignature:
        return None
    return token if isinstance(token, str) and 20 <= len(token) <= 100 else None


def _supporter():
    return supporter_for(_signed_in_citizen(), _browser_token())


def _similar_context(similar, checked: bool) -> dict:
    # The public page of a report comes with the public feed; until then, no link.
    endpoint = PUBLIC_REPORT_ENDPOINT if PUBLIC_REPORT_ENDPOINT in current_app.view_functions \
        else None
    return {"similar": similar, "checked": checked, "detail_endpoint": endpoint}


@blueprint.get("/lapor/kecamatan")
@limiter.limit(lambda: current_app.config.get("DISTRICT_SUGGEST_LIMIT", "120 per minute"))
def district_suggestions():
    """At most 20 kecamatan names starting with ?q= (JSON), for the type-ahead list of the
    forms that ask for the kecamatan as text (static/js/district.js)."""
    response = jsonify(places.suggest_districts(request.args.get("q", "")[:120]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/lapor/serupa")
@limiter.shared_limit(_similar_limit, scope="similar-reports")
def similar_reports():
    """The similar reports for what is typed so far, as an HTML fragment (or nothing), for
    the filing page's script."""
    args = request.args
    similar = similar_public_reports(
        args.get("title", "")[:200], args.get("body", "")[:1000],
        choice_id(args.get("category_id")), choice_id(args.get("district_id")),
        now=utcnow(), supporter=_supporter())
    response = current_app.make_response(
        render_template("citizen/_similar.html", **_similar_context(similar, False)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _support_answer(message, category: str, status: int = 200):
    """The filing page's script gets the message alone; a plain form goes back to the page."""
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template("citizen/_support_message.html", message=message,
                               category=category), status
    flash(message, category)
    return redirect(local_path(request.form.get("next")) or url_for("citizen.new_report"))


@blueprint.post("/laporan/<number>/dukung")
@limiter.limit(lambda: current_app.config.get("SUPPORT_LIMIT", "30 per hour"))
def support(number: str):
    report = db.session.scalar(select(Report).where(Report.public_number == number))
    if report is None:
        abort(404)
    account = _signed_in_citizen()
    token, new_token = _browser_token(), None
    if account is None and token is None:  # a guest's first support: a token for this browser
        token = new_token = secrets.token_urlsafe(32)
    try:
        result = support_report(report, user=account, browser_token=token, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _support_answer(error.message, "error", 422)
    if result.counted:
        response = _support_answer(_l("Thank you, your support was counted."), "success")
    else:
        response = _support_answer(
            _l("You have already supported this report; it is counted once."), "info")
    if new_token is not None:
        response = current_app.make_response(response)
        response.set_cookie(
            SUPPORT_COOKIE, _support_serializer().dumps(new_token), max_age=SUPPORT_COOKIE_AGE,
            httponly=True, samesite="Lax", path="/",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


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


def _authorised_report(number: str) -> Report | None:
    """The report, if this visitor typed its tracking code in this session or filed it with
    the signed-in citizen account; None otherwise (also when there is no such report)."""
    report = db.session.scalar(select(Report).where(Report.public_number == number))
    if report is None:
        return None
    if report.id in session.get(TRACKED, []) or owns_report(current_user, report):
        return report
    return None


def _to_tracking_form():
    flash(_l("Type your tracking code to see this report."), "info")
    return redirect(url_for("citizen.track"))


def _render_tracked(report: Report, *, reply_form: ReplyForm | None = None,
                    rating_form: RatingForm | None = None, status: int = 200):
    now = utcnow()
    events = db.session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.visible_to_reporter.is_(True))
        .order_by(ReportEvent.created_at, ReportEvent.id)
    ).all()
    rating = db.session.scalar(select(ReportRating).where(ReportRating.report_id == report.id))
    answered = report.status is ReportStatus.ANSWERED
    may_reply = reporter_may_reply(report, now)
    return render_template(
        "citizen/tracked_report.html",
        report=report,
        events=events,
        rating=rating,
        reply_form=(reply_form or ReplyForm(formdata=None)) if may_reply else None,
        reply_until=(report.answered_at + REPLY_WINDOW
                     if answered and report.answered_at and may_reply else None),
        accept_form=AcceptAnswerForm(formdata=None) if answered else None,
        rating_form=(rating_form or RatingForm(formdata=None))
        if report.status is ReportStatus.COMPLETED and rating is None else None,
        tracked_on_device=report.id in session.get(TRACKED, []),
        # Archived as a duplicate: the progress of the report it is handled with.
        followed=duplicates.followed_progress(report),
    ), status


def _refused(report: Report, error: DomainError, form, **forms):
    """A rule said no: next to the field (422, the typed text kept), or at the top."""
    db.session.rollback()
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        flash(error.message, "error")
        return redirect(url_for("citizen.tracked_report", number=report.public_number))
    target.errors = list(target.errors) + [error.message]
    return _render_tracked(report, status=422, **forms)


def _changed_meanwhile(report: Report, form, **forms):
    db.session.rollback()
    form.form_errors.append(_l("Your report was changed at the same moment. Check its new "
                               "state below and send again."))
    return _render_tracked(report, status=409, **forms)


@blueprint.get("/lacak/<number>")
def tracked_report(number: str):
    report = _authorised_report(number)
    if report is None:
        return _to_tracking_form()
    return _render_tracked(report)


@blueprint.get("/lacak/<number>/lampiran/<int:attachment_id>")
def attachment(number: str, attachment_id: int):
    """The reporter's own file, for the visitor who typed the tracking code in this session or
    the citizen account that filed it; nobody else (staff download theirs in the workspace)."""
    report = _authorised_report(number)
    if report is None:
        return _to_tracking_form()
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.report_id != report.id:
        abort(404)
    return attachment_response(item)


@blueprint.post("/lacak/<number>/balas")
@limiter.limit(_reporter_action_limit)
def reply(number: str):
    report = _authorised_report(number)
    if report is None:
        return _to_tracking_form()
    form = ReplyForm()
    if not form.validate():
        return _render_tracked(report, reply_form=form, status=422)
    try:
        event = reporter_reply(report, form.message.data, now=utcnow())
        db.session.commit()
    except DomainError as error:
        return _refused(report, error, form, reply_form=form)
    except StaleDataError:
        return _changed_meanwhile(report, form, reply_form=form)
    if event.status_after is ReportStatus.REOPENED:
        flash(_l("Your reply has been sent and your report has been reopened: the unit will "
                 "look at it again."), "success")
    else:
        flash(_l("Your reply has been sent."), "success")
    return redirect(url_for("citizen.tracked_report", number=report.public_number))


@blueprint.post("/lacak/<number>/selesai")
@limiter.limit(_reporter_action_limit)
def accept_answer(number: str):
    report = _authorised_report(number)
    if report is None:
        return _to_tracking_form()
    form = AcceptAnswerForm()
    if form.validate():
        try:
            reporter_accepts_answer(report, now=utcnow())
            db.session.commit()
        except DomainError as error:
            return _refused(report, error, form)
        except StaleDataError:
            db.session.rollback()
            flash(_l("Your report was changed at the same moment. Check its new state and "
                     "try again."), "error")
        else:
            flash(_l("Thank you. Your report is completed. Please rate how it was handled."),
                  "success")
    return redirect(url_for("citizen.tracked_report", number=report.public_number))


@blueprint.post("/lacak/<number>/nilai")
@limiter.limit(_reporter_action_limit)
def rate(number: str):
    report = _authorised_report(number)
    if report is None:
        return _to_tracking_form()
    form = RatingForm()
    if not form.validate():
        return _render_tracked(report, rating_form=form, status=422)
    try:
        rate_report(report, form.score.data, form.comment.data, now=utcnow())
        db.session.commit()
    except DomainError as error:
        return _refused(report, error, form, rating_form=form)
    except IntegrityError:
        # Two ratings at the same moment: the unique constraint keeps the first.
        db.session.rollback()
        flash(_l("This report has already been rated."), "error")
    else:
        flash(_l("Thank you for your rating."), "success")
    return redirect(url_for("citizen.tracked_report", number=report.public_number))


@blueprint.post("/lacak/keluar")
def forget_tracked():
    session.pop(TRACKED, None)
    return redirect(url_for("citizen.home"))


# ----------------------------------------------------------------------------- accounts
def _to_citizen_login():
    flash(_l("Sign in with your citizen account to see your reports."), "info")
    return redirect(url_for("citizen.login", next=url_for("citizen.my_reports")))


@blueprint.route("/akun/daftar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("ACCOUNT_LIMIT", "30 per hour"), methods=["POST"])
def register():
    if _signed_in_citizen() is not None:
        return redirect(url_for("citizen.my_reports"))
    form = RegisterForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("citizen/register.html", form=form), status
    try:
        user = register_citizen(name=form.name.data, email=form.email.data,
                                password=form.password.data, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        add_form_error(form, error.field, error.message)
        return render_template("citizen/register.html", form=form), 422
    except IntegrityError:  # the same address registered at the same moment
        db.session.rollback()
        add_form_error(form, "email", _l("An account with this e-mail address already exists. "
                                     "Sign in instead."))
        return render_template("citizen/register.html", form=form), 422
    login_user(user)
    flash(_l("Your account is ready. Reports you send while signed in appear under My reports."),
          "success")
    return redirect(url_for("citizen.my_reports"))


@blueprint.route("/akun/masuk", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("CITIZEN_LOGIN_LIMIT", "10 per minute"),
               methods=["POST"])
def login():
    next_url = local_path(request.args.get("next"))
    if _signed_in_citizen() is not None:
        return redirect(next_url or url_for("citizen.my_reports"))
    form = CitizenLoginForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("citizen/login.html", form=form), status
    try:
        result = authenticate(form.email.data, form.password.data, now=utcnow(), staff=False)
    except SignInRefused as refusal:
        db.session.commit()  # keep the failure count and the audit entry
        form.password.errors = [refusal.message]
        return render_template("citizen/login.html", form=form), 401
    db.session.commit()
    login_user(result.user)
    return redirect(next_url or url_for("citizen.my_reports"))


@blueprint.post("/akun/keluar")
def logout():
    logout_user()
    session.pop(TRACKED, None)  # a shared device forgets the reports tracked on it, too
    flash(_l("You have signed out."), "info")
    return redirect(url_for("citizen.home"))


@blueprint.route("/akun/sandi", methods=["GET", "POST"])
@limiter.limit(password_change_limit, methods=["POST"])
def password():
    if _signed_in_citizen() is None:
        return _to_citizen_login()
    return change_password_view("citizen/password.html",
                                lambda: redirect(url_for("citizen.my_reports")))


@blueprint.get("/akun/laporan")
def my_reports():
    account = _signed_in_citizen()
    if account is None:
        return _to_citizen_login()
    page = db.paginate(reports_of(account), page=request.args.get("page", 1, type=int),
                       per_page=MY_REPORTS_PER_PAGE, error_out=False)
    return render_template("citizen/my_reports.html", page=page)
