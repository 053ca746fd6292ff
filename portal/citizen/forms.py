"""Citizen forms. Field rules live here; rules about the report as a whole live in the domain."""
from flask_wtf.file import (
    MultipleFileField,  # keeps only real files, never a text value
)
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.forms import PortalForm, choice_id, clean_lower, clean_text
from portal.i18n import lazy_gettext as _l
from portal.models import ReportKind


class ReportForm(PortalForm):
    kind = RadioField(
        _l("What do you want to send?"),
        choices=[SelectChoice(k.value) for k in ReportKind],  # labels set per request
        validators=[DataRequired(message=_l("Choose what you want to send."))],
    )
    title = StringField(
        _l("Title"),
        filters=[clean_text],
        validators=[
            DataRequired(message=_l("Write a short title.")),
            Length(min=5, max=200, message=_l("The title must be 5 to 200 characters long.")),
        ],
    )
    body = TextAreaField(
        _l("Describe what happened"),
        filters=[clean_text],
        validators=[
            DataRequired(message=_l("Describe your report.")),
            Length(min=20, max=10000,
                   message=_l("The description must be 20 to 10,000 characters long.")),
        ],
    )
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
    event_date = DateField(_l("Date of the event"), validators=[Optional()],
                           render_kw={"max": ""})
    attachments = MultipleFileField(_l("Photos or documents (optional)"))
    is_confidential = BooleanField(_l("Confidential: hide the content of my report from the public"))
    is_anonymous = BooleanField(_l("Anonymous: hide my identity from the officers who handle it"))
    name = StringField(_l("Full name"), filters=[clean_text], validators=[Optional(), Length(max=200)])
    email = StringField(
        _l("E-mail"),
        filters=[clean_lower],
        validators=[Optional(), Length(max=254),
                    Email(message=_l("This is not a valid e-mail address."),
                          check_deliverability=False)],
    )
    phone = StringField(_l("Phone / WhatsApp"), filters=[clean_text],
                        validators=[Optional(), Length(max=32)])
    nik = StringField(_l("NIK (optional)"), filters=[clean_text], validators=[Optional(), Length(max=32)])

class TrackForm(PortalForm):
    code = StringField(
        _l("Tracking code"),
        filters=[clean_text],
        validators=[DataRequired(message=_l("Type the tracking code you received.")),
                    Length(max=64)],
    )


class ReplyForm(PortalForm):
    """The reporter's clarification or objection, on the tracking page."""

    message = TextAreaField(
        _l("Your reply"),
        filters=[clean_text],
        validators=[DataRequired(message=_l("Write your reply.")),
                    Length(max=10000, message=_l("The message is too long (at most 10,000 "
                                                 "characters)."))],
    )


class AcceptAnswerForm(PortalForm):
    """"I am satisfied, close my report": nothing but the CSRF token."""


RATING_CHOICES = [
    SelectChoice(1, _l("1 – very poor")),
    SelectChoice(2, _l("2 – poor")),
    SelectChoice(3, _l("3 – fair")),
    SelectChoice(4, _l("4 – good")),
    SelectChoice(5, _l("5 – very good")),
]


class RatingForm(PortalForm):
    # The domain checks the range (rate_report); a value that is not a number arrives as -1.
    score = RadioField(_l("How well was your report handled?"), choices=RATING_CHOICES,
                       coerce=choice_id, validate_choice=False)
    comment = TextAreaField(
        _l("Comment (optional)"),
        filters=[clean_text],
        validators=[Optional(), Length(max=2000, message=_l(
            "The comment is too long (at most 2,000 characters)."))],
    )


class RegisterForm(PortalForm):
    name = StringField(_l("Full name"), filters=[clean_text],
                       validators=[DataRequired(message=_l("Write your name.")),
                                   Length(max=200)])
    email = StringField(_l("E-mail"), filters=[clean_lower],
                        validators=[DataRequired(message=_l("Type your e-mail address.")),
                                    Length(max=254)])
    # The password rules (length) live in portal.domain.accounts.
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Choose a password.")),
                                         Length(max=200)])
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(message=_l("Type the password again.")),
                    EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class CitizenLoginForm(PortalForm):
    email = StringField(_l("E-mail"), filters=[clean_lower],
                        validators=[DataRequired(message=_l("Type your e-mail address.")),
                                    Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Type your password.")),
                                         Length(max=200)])
