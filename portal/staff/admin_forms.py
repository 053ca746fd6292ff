"""Forms of the institution admin's pages. Field rules live here; rules about the tree, the
roles and uniqueness live in portal/domain/administration.py."""
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm, choice_id, clean_lower, clean_text, clean_upper
from portal.i18n import lazy_gettext as _l


def _code_field(label):
    return StringField(label, filters=[clean_upper], validators=[
        DataRequired(message=_l("Write a code.")),
        Length(max=40, message=_l("Use at most %(max)d characters."))])


def _node_field(label=None):
    return SelectField(label or _l("Institution or unit"), coerce=choice_id,
                       validators=[DataRequired(message=_l("Choose an institution or a unit."))])


def _role_field():
    return SelectField(_l("Role"), validators=[DataRequired(message=_l("Choose a role."))])


class UnitForm(PortalForm):
    institution = SelectField(_l("Institution"), coerce=choice_id,
                              validators=[DataRequired(message=_l("Choose an institution."))])
    name = StringField(_l("Name of the unit"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    code = _code_field(_l("Code"))


class RenameUnitForm(PortalForm):
    name = StringField(_l("Name of the unit"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])


class StaffForm(PortalForm):
    name = StringField(_l("Full name"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    email = StringField(_l("E-mail"), filters=[clean_lower], validators=[
        DataRequired(message=_l("Write an e-mail address.")),
        Length(max=254, message=_l("Use at most %(max)d characters."))])
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(message=_l("Choose an initial password.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    role = _role_field()
    node = _node_field()


class GrantForm(PortalForm):
    role = _role_field()
    node = _node_field()


class CategoryForm(PortalForm):
    code = _code_field(_l("Code"))
    name_id = StringField(_l("Name in Indonesian"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=120, message=_l("Use at most %(max)d characters."))])
    name_en = StringField(_l("Name in English"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=120, message=_l("Use at most %(max)d characters."))])
    default_unit = SelectField(_l("Default unit"), coerce=choice_id, validators=[Optional()])
    is_urgent = BooleanField(_l("Urgent: reports in it get the short deadline"))
    is_active = BooleanField(_l("Active: citizens can choose it"), default=True)


class TemplateForm(PortalForm):
    institution = SelectField(_l("Institution"), coerce=choice_id,
                              validators=[DataRequired(message=_l("Choose an institution."))])
    title = StringField(_l("Title"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a title.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])
    body = TextAreaField(_l("Text of the answer"), validators=[
        DataRequired(message=_l("Write the text of the answer.")),
        Length(max=10000, message=_l("Use at most %(max)d characters."))])
    preview = SubmitField(_l("Show preview"))
    save = SubmitField(_l("Save template"))
