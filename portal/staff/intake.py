"""Staff intake (/staf/laporan/baru): a staff member logs a report a citizen gave by phone, SMS,
WhatsApp, social media, e-mail or at the desk (portal/domain/intake.py).

Thin view as in the citizen's filing form: every problem shown at once next to its field,
everything typed kept. After saving, the tracking code goes through the session to one result
page (post/redirect/get: reloading the form's answer cannot file the report twice) and is shown
there once, for the staff member to pass on; the page pops it.
"""
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.domain import DomainError, intake
from portal.domain.filing import ReportDraft, jakarta_today
from portal.domain.permissions import can_view
from portal.errors import MESSAGES
from portal.extensions import db
from portal.forms import PortalForm, choice_id, clean_lower, clean_text
from portal.i18n import lazy_gettext as _l
from portal.labels import CHANNEL, KIND
from portal.models import Category, Channel, Report, ReportKind
from portal.models.types import utcnow
from portal.place_fields import prepare_district_fields, resolve_district_fields
from portal.staff.decorators import staff_required
from portal.staff.views import blueprint
from portal.storage import AttachmentStore
from portal.web import add_form_error

JUST_LOGGED = "intake_logged"


class IntakeForm(PortalForm):
    channel = RadioField(_l("How did the report come in?"),
                         validators=[DataRequired(message=_l("Choose the channel the report "
                                                             "came through."))])
    channel_link = StringField(_l("Link to the post or message (social media)"),
                               filters=[clean_text], validators=[Optional()])
    institution = SelectField(_l("Institution that receives the report"), coerce=choice_id,
                              validators=[DataRequired(message=_l("Choose an institution."))])
    kind = RadioField(_l("What does the citizen send?"),
                      validators=[DataRequired(message=_l("Choose what the citizen sends."))])
    title = StringField(_l("Title"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a short title.")),
        Length(min=5, max=200, message=_l("The title must be 5 to 200 characters long."))])
    body = TextAreaField(_l("What the citizen reports"), filters=[clean_text], validators=[
        DataRequired(message=_l("Describe the report.")),
        Length(min=20, max=10000,
               message=_l("The description must be 20 to 10,000 characters long."))])
    category = SelectField(_l("Category"), coerce=choice_id,
                           validators=[DataRequired(message=_l("Choose a category."))])
    district = SelectField(_l("Kecamatan"), coerce=choice_id, validators=[Optional()])
    # With many kecamatan the form asks for the name instead (portal/place_fields.py).
    district_name = StringField(_l("Kecamatan"), filters=[clean_text],
                                validators=[Optional(), Length(max=120)])
    regency = StringField(_l("Regency or city (optional)"), filters=[clean_text],
                          validators=[Optional(), Length(max=200)])
    village = StringField(_l("Village (desa/kelurahan)"), filters=[clean_text],
                          validators=[Optional(), Length(max=120)])
    address = StringField(_l("Address or landmark"), filters=[clean_text],
                          validators=[Optional(), Length(max=500)])
    event_date = DateField(_l("Date of the event"), validators=[Optional()])
    is_confidential = BooleanField(_l("Confidential: the citizen asks to keep the content "
                                      "from the public"))
    is_anonymous = BooleanField(_l("Anonymous: the citizen asks to hide their identity from "
                                   "the officers who handle it"))
    name = StringField(_l("Citizen's full name"), filters=[clean_text],
                       validators=[Optional(), Length(max=200)])
    email = StringField(_l("Citizen's e-mail"), filters=[clean_lower], validators=[
        Optional(), Length(max=254),
        Email(message=_l("This is not a valid e-mail address."), check_deliverability=False)])
    phone = StringField(_l("Citizen's phone / WhatsApp"), filters=[clean_text],
                        validators=[Optional(), Length(max=32)])
    nik = StringField(_l("NIK (optional)"), filters=[clean_text],
                      validators=[Optional(), Length(max=32)])


def _actor():
    return current_user._get_current_object()


@blueprint.context_processor
def intake_link():
    signed_in = current_user.is_authenticated and current_user.is_staff
    return {"can_log_intake": signed_in and intake.may_log(_actor())}


def _fill_choices(form: IntakeForm, user) -> None:
    locale = str(get_locale())
    form.channel.choices = [SelectChoice(c.value, CHANNEL[c]) for c in intake.INTAKE_CHANNELS]
    form.kind.choices = [SelectChoice(k.value, KIND[k]) for k in ReportKind]
    form.institution.choices = [SelectChoice(i.id, i.name)
                                for i in intake.receiving_institutions(user)]
    categories = db.session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.id)).all()
    form.category.choices = [SelectChoice("", _l("— choose a category —"))] + [
        SelectChoice(c.id, c.name_for(locale)) for c in categories]
    prepare_district_fields(form)


def _channel(value) -> Channel | None:
    try:
        return Channel(value)
    except ValueError:
        return None


def _draft_from(form: IntakeForm, leave_out: frozenset[str] = frozenset()) -> ReportDraft:
    """The draft as typed; the fields named in ``leave_out`` count as not given."""
    def value(field):
        return None if field.name in leave_out else field.data

    kind = value(form.kind)
    return ReportDraft(
        kind=ReportKind(kind) if kind in {k.value for k in ReportKind} else None,
        title=value(form.title) or "", body=value(form.body) or "",
        category_id=value(form.category), district_id=value(form.district),
        village=value(form.village), address=value(form.address),
        event_date=value(form.event_date), is_anonymous=form.is_anonymous.data,
        is_confidential=form.is_confidential.data, name=value(form.name),
        email=value(form.email), phone=value(form.phone), nik=value(form.nik))


def _render(form: IntakeForm, status: int = 200):
    return render_template("staff/intake.html", form=form,
                           today=jakarta_today(utcnow()).isoformat()), status


@blueprint.route("/laporan/baru", methods=["GET", "POST"])
@staff_required
def intake_form():
    user = _actor()
    if not intake.may_log(user):
        abort(403)
    form = IntakeForm()
    _fill_choices(form, user)
    if request.method == "GET":
        if len(form.institution.choices) == 1:
            form.institution.data = form.institution.choices[0].value
        return _render(form)

    now = utcnow()
    form.validate()
    resolve_district_fields(form)
    refused = frozenset(field.name for field in form if field.errors)
    problems = intake.intake_problems(
        user, _draft_from(form, leave_out=refused), channel=_channel(form.channel.data),
        link=form.channel_link.data, institution_id=form.institution.data, now=now)
    for name, message in problems.items():
        if name not in refused:
            add_form_error(form, name, message)
    if any(field.errors for field in form) or form.form_errors:
        return _render(form, 422)
    try:
        filed = intake.log_report(
            user, _draft_from(form), channel=_channel(form.channel.data),
            link=form.channel_link.data, institution_id=form.institution.data, now=now,
            store=AttachmentStore(current_app.config["UPLOAD_FOLDER"]))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        add_form_error(form, error.field, error.message)
        return _render(form, 422)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("a logged report could not be saved")
        form.form_errors.append(MESSAGES[500][1])
        return _render(form, 503)
    session[JUST_LOGGED] = {"number": filed.report.public_number, "code": filed.tracking_code,
                            "email": filed.code_mailed_to_reporter,
                            "channel": filed.report.channel.value}
    return redirect(url_for("staff.intake_done"))


@blueprint.get("/laporan/baru/tercatat")
@staff_required
def intake_done():
    if not intake.may_log(_actor()):
        abort(403)
    receipt = session.pop(JUST_LOGGED, None)
    report = None
    if receipt:
        report = db.session.scalar(select(Report).where(Report.public_number == receipt["number"]))
        if report is not None and not can_view(_actor(), report):
            report = None
    return render_template("staff/intake_done.html", receipt=receipt, report=report,
                           channel=_channel(receipt["channel"]) if receipt else None,
                           channel_labels=CHANNEL)
