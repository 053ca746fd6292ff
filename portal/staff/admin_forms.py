"""Forms of the institution admin's pages. Field rules live here; rules about the tree, the
roles and uniqueness live in portal/domain/administration.py."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.i18n import lazy_gettext as _l
from portal.models import Role

ROLE = {
    Role.NATIONAL_ADMIN: _l("National administrator"),
    Role.INSTITUTION_ADMIN: _l("Institution administrator"),
    Role.LIAISON: _l("Liaison officer (pejabat penghubung)"),
    Role.OPERATOR: _l("Operator"),
    Role.SUPERVISOR: _l("Supervisor (inspektorat)"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the select's own validation says so


def _code_field(label):
    return StringField(label, filters=[_upper], validators=[
        DataRequired(message=_l("Write a code.")),
        Length(max=40, message=_l("Use at most %(max)d characters."))])


def _node_field(label=None):
    return SelectField(label or _l("Institution or unit"), coerce=optional_int,
                       validators=[DataRequired(message=_l("Choose an institution or a unit."))])


def _role_field():
    return SelectField(_l("Role"), validators=[DataRequired(message=_l("Choose a role."))])


class UnitForm(FlaskForm):
    institution = SelectField(_l("Institution"), coerce=optional_int,
                              validators=[DataRequired(message=_l("Choose an institution."))])
    name = StringField(_l("Name of the unit"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    code = _code_field(_l("Code"))


class RenameUnitForm(FlaskForm):
    name = StringField(_l("Name of the unit"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])


class StaffForm(FlaskForm):
    name = StringField(_l("Full name"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    email = StringField(_l("E-mail"), filters=[_lower], validators=[
        DataRequired(message=_l("Write an e-mail address.")),
        Length(max=254, message=_l("Use at most %(max)d characters."))])
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(message=_l("Choose an initial password.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    role = _role_field()
    node = _node_field()


class GrantForm(FlaskForm):
    role = _role_field()
    node = _node_field()


class CategoryForm(FlaskForm):
    code = _code_field(_l("Code"))
    name_id = StringField(_l("Name in Indonesian"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=120, message=_l("Use at most %(max)d characters."))])
    name_en = StringField(_l("Name in English"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=120, message=_l("Use at most %(max)d characters."))])
    default_unit = SelectField(_l("Default unit"), coerce=optional_int, validators=[Optional()])
    is_urgent = BooleanField(_l("Urgent: reports in it get the short deadline"))
    is_active = BooleanField(_l("Active: citizens can choose it"), default=True)


class TemplateForm(FlaskForm):
    institution = SelectField(_l("Institution"), coerce=optional_int,
                              validators=[DataRequired(message=_l("Choose an institution."))])
    title = StringField(_l("Title"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a title.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    body = TextAreaField(_l("Text of the answer"), validators=[
        DataRequired(message=_l("Write the text of the answer.")),
        Length(max=10000, message=_l("Use at most %(max)d characters."))])
    preview = SubmitField(_l("Show preview"))
    save = SubmitField(_l("Save template"))
