"""Staff forms, and the parsing of the inbox's query string into plain filters."""
from dataclasses import dataclass, field
from datetime import date

from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from portal.domain.inbox import InboxFilters, Sort
from portal.domain.paging import Cursor
from portal.domain.workflow import Action
from portal.forms import PortalForm, choice_id, clean_text, clean_upper
from portal.i18n import lazy_gettext as _l
from portal.models import ArchiveReason, ReportKind, ReportStatus


class LoginForm(PortalForm):
    email = StringField(_l("E-mail"), filters=[lambda v: v.strip().lower() if v else v],
                        validators=[DataRequired(message=_l("Type your e-mail address.")),
                                    Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(message=_l("Type your password.")),
                                         Length(max=200)])


class ActionForm(PortalForm):
    """One workflow action on one report. Only the inputs the action needs are rendered.

    Every action's form sits on the same page, so field ids carry the action's name
    (``answer-message``) while the field names stay plain (``message``)."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(
        message=_l("This form is incomplete. Reload the page and try again."))])
    message = TextAreaField(_l("Message"), filters=[clean_text])
    visible_to_reporter = BooleanField(_l("Show this follow-up to the reporter"))
    target_institution_id = SelectField(_l("Unit"), coerce=choice_id, validate_choice=False,
                                        choices=[])
    operator_id = SelectField(_l("Operator"), coerce=choice_id, validate_choice=False,
                              choices=[])
    archive_reason = SelectField(_l("Reason for archiving"), validate_choice=False, choices=[])
    duplicate_of = StringField(_l("Number of the report this one repeats"),
                               description=_l("Only for a duplicate."),
                               filters=[clean_upper], validators=[Optional(), Length(max=24)])

    def __init__(self, action: Action, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        for bound in self:
            bound.id = f"{action.value}-{bound.name}"
            bound.label.field_id = bound.id

    def archive_reason_value(self) -> ArchiveReason | None:
        try:
            return ArchiveReason(self.archive_reason.data)
        except ValueError:
            return None


# ----------------------------------------------------------------------------- inbox filters
@dataclass
class ParsedInboxQuery:
    filters: InboxFilters
    after: Cursor | None
    # The accepted values, as they go back into links and the filter form.
    args: dict[str, str] = field(default_factory=dict)
    problems: list = field(default_factory=list)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_inbox_query(args) -> ParsedInboxQuery:
    """Read the inbox's filters from the query string. A value that cannot be understood is
    dropped with a message; the rest of the filters still apply."""
    values: dict = {}
    accepted: dict[str, str] = {}
    problems: list = []

    def text_of(name: str) -> str:
        return (args.get(name) or "").strip()

    status = text_of("status")
    if status:
        try:
            values["status"] = ReportStatus(status)
            accepted["status"] = status
        except ValueError:
            problems.append(_l("Unknown status “%(value)s”: the status filter was ignored.",
                               value=status[:40]))
    kind = text_of("kind")
    if kind:
        try:
            values["kind"] = ReportKind(kind)
            accepted["kind"] = kind
        except ValueError:
            problems.append(_l("Unknown kind “%(value)s”: the kind filter was ignored.",
                               value=kind[:40]))
    for name, key, message in (
        ("category", "category_id", _l("The category filter was ignored: it must be a number.")),
        ("unit", "unit_id", _l("The unit filter was ignored: it must be a number.")),
    ):
        raw = text_of(name)
        if raw:
            number = choice_id(raw)
            if number is None or number < 0:
                problems.append(message)
            else:
                values[key] = number
                accepted[name] = str(number)
    for name, key in (("from", "created_from"), ("to", "created_to")):
        raw = text_of(name)
        if raw:
            day = _parse_date(raw)
            if day is None:
                problems.append(_l("“%(value)s” is not a date (use YYYY-MM-DD): the date "
                                   "filter was ignored.", value=raw[:40]))
            else:
                values[key] = day
                accepted[name] = day.isoformat()
    text = text_of("q")[:200]
    if text:
        values["text"] = text
        accepted["q"] = text
    sort = text_of("sort")
    if sort:
        try:
            values["sort"] = Sort(sort)
            if values["sort"] is not Sort.NEWEST:
                accepted["sort"] = sort
        except ValueError:
            problems.append(_l("Unknown sort order: the newest reports are shown first."))
    after = None
    raw_after = text_of("after")
    if raw_after:
        after = Cursor.decode(raw_after)
        if after is None:
            problems.append(_l("The page link was not understood: showing the first page."))
    return ParsedInboxQuery(filters=InboxFilters(**values), after=after, args=accepted,
                            problems=problems)
