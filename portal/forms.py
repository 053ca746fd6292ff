"""The base of every form: Flask-WTF with WTForms' own messages in the portal's languages.

WTForms ships no Indonesian catalog, so its built-in messages ("This field is required.",
"Not a valid choice.", ...) would stay English. They are listed here so that extraction puts
them into our catalogs, and ``PortalForm`` asks our catalogs for them.
"""
from flask_babel import get_translations, ngettext
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.i18n import lazy_gettext as _l


def _builtin_messages():  # never called: it only marks WTForms' messages for extraction
    return [
        _l("This field is required."),
        _l("Invalid input."),
        _l("Invalid email address."),
        _l("Not a valid choice."),
        _l("Invalid Choice: could not coerce."),
        _l("Not a valid date value."),
        _l("Not a valid datetime value."),
        _l("Not a valid integer value."),
        _l("Field must be equal to %(other_name)s."),
        _l("Field must be between %(min)d and %(max)d characters long."),
        ngettext("Field must be at least %(min)d character long.",
                 "Field must be at least %(min)d characters long.", 1),
        ngettext("Field cannot be longer than %(max)d character.",
                 "Field cannot be longer than %(max)d characters.", 1),
        ngettext("Field must be exactly %(max)d character long.",
                 "Field must be exactly %(max)d characters long.", 1),
    ]


class _CatalogTranslations:
    """Our catalog, without Flask-Babel's own %-formatting: WTForms formats the text itself."""

    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(singular, plural, n)


class PortalForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CatalogTranslations()


# NUL and the other control characters but tab and line breaks: never meant, refused by
# PostgreSQL in text (NUL), and confusing to whoever reads the report.
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def clean_text(value):
    """Filter for text fields: control characters dropped, surrounding space stripped."""
    return value.translate(_CONTROL_CHARACTERS).strip() if isinstance(value, str) else value


def clean_lower(value):
    return clean_text(value).lower() if isinstance(value, str) else value


def clean_upper(value):
    return clean_text(value).upper() if isinstance(value, str) else value


# Ids are INTEGER columns: a larger number would make PostgreSQL refuse the query itself.
MAX_ID = 2 ** 31 - 1


def choice_id(value):
    """Coerce a select's value to an id: None when empty, -1 (no such row) when it is not a
    number a database column can hold, so that validation, not the database, refuses it."""
    if isinstance(value, int):
        return value
    if value in (None, "", "None"):
        return None
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) < 19 and int(text) <= MAX_ID:
        return int(text)
    return -1


class PasswordChangeForm(PortalForm):
    """Staff and citizens change their own password (rules: portal.domain.accounts)."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Type your current password.")), Length(max=200)])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Choose a new password.")), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(message=_l("Type the new password again.")),
                    EqualTo("new_password", message=_l("The two passwords are not the same."))])
