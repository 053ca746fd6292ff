"""The Open311 API keys page of the administration (/staf/kelola/api): an institution admin
issues a key to a channel that files reports for its citizens (an SMS gateway, a mobile app, a
social-media desk), renews it, disables and enables it. The national administrator sees every
key. Registered on the ``staff_admin`` blueprint.

Thin views as in portal/staff/admin_feed.py: a new key is shown in the answer to the post that
made it, never stored in the session or a flash message; the answer is not cached.
"""
from flask import current_app, make_response, redirect, render_template, request, url_for
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.domain import api_clients
from portal.forms import PortalForm, choice_id, clean_text
from portal.i18n import lazy_gettext as _l
from portal.labels import CHANNEL
from portal.models import Channel
from portal.models.types import utcnow
from portal.staff.admin import _act, _actor, _attempt, _lookup, blueprint


class ApiClientForm(PortalForm):
    name = StringField(_l("Name of the system that uses the key"), filters=[clean_text],
                       validators=[DataRequired(message=_l("Write a name.")),
                                   Length(max=200, message=_l("Use at most %(max)d characters."))])
    channel = SelectField(_l("Channel its reports are counted under"),
                          validators=[DataRequired(message=_l("Choose a channel."))])
    institution = SelectField(_l("Institution that receives its reports"), coerce=choice_id,
                              validators=[DataRequired(message=_l("Choose an institution."))])


def _form(*, empty: bool = False) -> ApiClientForm:
    form = ApiClientForm(formdata=None) if empty else ApiClientForm()
    form.channel.choices = [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(channel.value, CHANNEL[channel]) for channel in api_clients.API_CHANNELS]
    institutions = _lookup(api_clients.issuing_institutions)
    form.institution.choices = [SelectChoice(i.id, i.name) for i in institutions]
    return form


def _render(form: ApiClientForm, status: int = 200, *, issued=None):
    response = make_response(render_template(
        "staff/admin/api_clients.html", clients=_lookup(api_clients.list_clients), form=form,
        issued=issued, channel_labels=CHANNEL,
        endpoint=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
            "open311.service_requests", fmt="json")), status)
    response.headers["Cache-Control"] = "no-store"  # it may show a new key
    return response


def _channel(value: str | None) -> Channel | None:
    try:
        return Channel(value)
    except ValueError:
        return None


@blueprint.route("/api", methods=["GET", "POST"])
def api_keys():
    if request.method == "GET":
        return _render(_form(empty=True))
    form = _form()
    if form.validate():
        issued, done = _attempt(form, lambda: api_clients.issue_key(
            _actor(), institution_id=form.institution.data, name=form.name.data,
            channel=_channel(form.channel.data), now=utcnow()))
        if done:
            return _render(_form(empty=True), issued=issued)
    return _render(form, 422)


@blueprint.post("/api/<int:client_id>/kunci")
def api_key_renew(client_id: int):
    issued, done = _act(lambda: api_clients.renew_key(_actor(), client_id, now=utcnow()),
                        _l("A new API key was made; the old one no longer works."))
    if not done:
        return redirect(url_for("staff_admin.api_keys"))
    return _render(_form(empty=True), issued=issued)


@blueprint.post("/api/<int:client_id>/nonaktifkan")
def api_key_disable(client_id: int):
    _act(lambda: api_clients.set_active(_actor(), client_id, active=False, now=utcnow()),
         _l("API key disabled: it is refused. The reports it sent stay."))
    return redirect(url_for("staff_admin.api_keys"))


@blueprint.post("/api/<int:client_id>/aktifkan")
def api_key_enable(client_id: int):
    _act(lambda: api_clients.set_active(_actor(), client_id, active=True, now=utcnow()),
         _l("API key enabled again."))
    return redirect(url_for("staff_admin.api_keys"))
