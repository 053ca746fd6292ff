"""The deadline pages of the administration: an institution's working-day policy and the days
off admins add (cuti bersama, regional days). Registered on the ``staff_admin`` blueprint.

Thin views as in portal/staff/admin.py: parse the form, call one function of
portal.domain.deadline_admin (which checks the scope and calls portal.domain.deadlines), commit
once, redirect or re-render with the errors next to the fields. The one exception: a new webhook
secret is shown in the answer to the post that made it (never stored in the session, a flash
message or a page that can be reloaded later), like a password shown once.
"""
from flask import flash, make_response, redirect, render_template, request, url_for
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.domain import deadline_admin
from portal.domain.calendar import jakarta_date
from portal.domain.deadlines import DEFAULT_POLICY, MAX_POLICY_DAYS, POLICY_FIELDS, Policy
from portal.forms import PortalForm, clean_text
from portal.i18n import lazy_gettext as _l
from portal.i18n import ngettext
from portal.models.types import utcnow
from portal.staff.admin import _act, _actor, _attempt, _lookup, blueprint

# --------------------------------------------------------------------------- forms
POLICY_LABELS = {
    "verification_days": _l("Verification by the institution admin"),
    "follow_up_days": _l("Follow-up by the unit"),
    "urgent_follow_up_days": _l("Follow-up by the unit, urgent categories"),
    "information_answer_days": _l("Answer to an information request"),
    "information_extension_days": _l("Extension of an information request (once, with a "
                                     "written reason)"),
    "auto_complete_days": _l("Completion of an answered report the reporter does not reply to"),
}


class _DaysRange(NumberRange):
    """The range, checked only for a number (text that is no number already has its error)."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


def _days_field(name: str) -> IntegerField:
    lowest = 0 if name == "information_extension_days" else 1
    return IntegerField(POLICY_LABELS[name], validators=[
        InputRequired(message=_l("Give a number of working days.")),
        _DaysRange(min=lowest, max=MAX_POLICY_DAYS,
                   message=_l("Give a number of working days from %(low)s to %(high)s.",
                              low=lowest, high=MAX_POLICY_DAYS))])


class PolicyForm(PortalForm):
    verification_days = _days_field("verification_days")
    follow_up_days = _days_field("follow_up_days")
    urgent_follow_up_days = _days_field("urgent_follow_up_days")
    information_answer_days = _days_field("information_answer_days")
    information_extension_days = _days_field("information_extension_days")
    auto_complete_days = _days_field("auto_complete_days")


class HolidayForm(PortalForm):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Give the date."))])
    name = StringField(_l("Name of the holiday"), filters=[clean_text], validators=[
        DataRequired(message=_l("Name the holiday.")),
        Length(max=120, message=_l("Use at most %(max)d characters."))])


class WebhookForm(PortalForm):
    webhook_url = StringField(_l("Address of the webhook"), filters=[clean_text], validators=[
        DataRequired(message=_l("Give the address of the webhook.")),
        Length(max=500, message=_l("Use at most %(max)d characters."))])


# --------------------------------------------------------------------------- pages
@blueprint.get("/tenggat")
def deadlines():
    return render_template("staff/admin/deadlines.html",
                           summaries=deadline_admin.summaries(_actor(), now=utcnow()))


def _render_scope(scope, policy_form: PolicyForm, holiday_form: HolidayForm, status: int = 200,
                  *, webhook_form: WebhookForm | None = None, new_secret: str | None = None):
    today = jakarta_date(utcnow())
    _, own = deadline_admin.current_policy(scope)
    if webhook_form is None and not scope.is_national:
        webhook_form = WebhookForm(formdata=None, data={
            "webhook_url": scope.institution.webhook_url or ""})
    response = make_response(render_template(
        "staff/admin/deadlines_scope.html", scope=scope, own_policy=own,
        policy_form=policy_form, holiday_form=holiday_form, defaults=DEFAULT_POLICY,
        fields=POLICY_FIELDS, holidays=deadline_admin.holidays(scope, since=today),
        inherited=deadline_admin.inherited_holidays(scope, since=today),
        changes=deadline_admin.calendar_changes(scope), webhook_form=webhook_form,
        new_secret=new_secret), status)
    # The page may show a new webhook secret: no copy of it in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _policy_form_for(scope) -> PolicyForm:
    policy, _ = deadline_admin.current_policy(scope)
    return PolicyForm(data={name: getattr(policy, name) for name in POLICY_FIELDS})


@blueprint.route("/tenggat/<scope_key>", methods=["GET", "POST"])
def deadline_scope(scope_key: str):
    scope = _lookup(deadline_admin.get_scope, scope_key)
    if request.method == "GET":
        return _render_scope(scope, _policy_form_for(scope), HolidayForm(formdata=None))
    form = PolicyForm()
    if form.validate():
        policy = Policy(**{name: form[name].data for name in POLICY_FIELDS})
        _, done = _attempt(form, lambda: deadline_admin.save_policy(
            _actor(), scope_key, policy, now=utcnow()))
        if done:
            flash(_l("Deadlines saved. They apply to clocks that start from now on; running "
                     "clocks keep the days they started with."), "info")
            return redirect(url_for("staff_admin.deadline_scope", scope_key=scope_key))
    return _render_scope(scope, form, HolidayForm(formdata=None), 422)


@blueprint.post("/tenggat/<scope_key>/libur")
def holiday_add(scope_key: str):
    scope = _lookup(deadline_admin.get_scope, scope_key)
    form = HolidayForm()
    if form.validate():
        change, done = _attempt(form, lambda: deadline_admin.add_holiday(
            _actor(), scope_key, form.day.data, form.name.data, now=utcnow()))
        if done:
            if change.will_move:
                flash(ngettext("Holiday added. %(num)d open deadline will move within a few "
                               "minutes.",
                               "Holiday added. %(num)d open deadlines will move within a few "
                               "minutes.", change.will_move), "info")
            else:
                flash(_l("Holiday added. No open deadline counts this day."), "info")
            return redirect(url_for("staff_admin.deadline_scope", scope_key=scope_key))
    return _render_scope(scope, _policy_form_for(scope), form, 422)


@blueprint.post("/tenggat/<scope_key>/libur/<int:holiday_id>/hapus")
def holiday_remove(scope_key: str, holiday_id: int):
    _lookup(deadline_admin.get_scope, scope_key)
    change, done = _act(lambda: deadline_admin.remove_holiday(
        _actor(), scope_key, holiday_id, now=utcnow()), _l("Holiday removed."))
    if done and change.will_move:
        flash(ngettext("%(num)d open deadline will move back within a few minutes.",
                       "%(num)d open deadlines will move back within a few minutes.",
                       change.will_move), "info")
    return redirect(url_for("staff_admin.deadline_scope", scope_key=scope_key))


# --------------------------------------------------------------------------- the webhook
def _scope_page(scope_key: str):
    return redirect(url_for("staff_admin.deadline_scope", scope_key=scope_key) + "#webhook")


@blueprint.post("/tenggat/<scope_key>/webhook")
def webhook_save(scope_key: str):
    scope = _lookup(deadline_admin.webhook_scope, scope_key)
    form = WebhookForm()
    if form.validate():
        change, done = _attempt(form, lambda: deadline_admin.set_webhook(
            _actor(), scope_key, form.webhook_url.data, now=utcnow()))
        if done and change.secret:
            return _render_scope(scope, _policy_form_for(scope), HolidayForm(formdata=None),
                                 new_secret=change.secret)
        if done:
            flash(_l("Webhook saved. Its secret is unchanged."), "info")
            return _scope_page(scope_key)
    return _render_scope(scope, _policy_form_for(scope), HolidayForm(formdata=None), 422,
                         webhook_form=form)


@blueprint.post("/tenggat/<scope_key>/webhook/rahasia")
def webhook_rotate(scope_key: str):
    scope = _lookup(deadline_admin.webhook_scope, scope_key)
    change, done = _act(lambda: deadline_admin.rotate_webhook_secret(
        _actor(), scope_key, now=utcnow()), _l("A new secret was made; the old one no longer "
                                               "works."))
    if not done:
        return _scope_page(scope_key)
    return _render_scope(scope, _policy_form_for(scope), HolidayForm(formdata=None),
                         new_secret=change.secret)


@blueprint.post("/tenggat/<scope_key>/webhook/hapus")
def webhook_remove(scope_key: str):
    _lookup(deadline_admin.webhook_scope, scope_key)
    _act(lambda: deadline_admin.remove_webhook(_actor(), scope_key, now=utcnow()),
         _l("Webhook removed: deadline notices go by e-mail only."))
    return _scope_page(scope_key)
