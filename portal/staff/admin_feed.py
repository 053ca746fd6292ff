"""The feed sources page of the administration (national administrator only): the systems that
send reports in bulk, their API keys (made, replaced), disabling and enabling them. Registered
on the ``staff_admin`` blueprint.

Thin views as in portal/staff/admin.py. A new API key is shown in the answer to the post that
made it, never stored in the session, a flash message or a page that can be reloaded later,
like a webhook secret; the answer is not cached.
"""
from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.domain import feed
from portal.forms import PortalForm, clean_text, clean_upper
from portal.i18n import lazy_gettext as _l
from portal.models.types import utcnow
from portal.staff.admin import _act, _actor, _attempt, _lookup, blueprint


class FeedSourceForm(PortalForm):
    code = StringField(_l("Code"), filters=[clean_upper], validators=[
        DataRequired(message=_l("Write a code.")),
        Length(max=40, message=_l("Use at most %(max)d characters."))])
    name = StringField(_l("Name of the sending system"), filters=[clean_text], validators=[
        DataRequired(message=_l("Write a name.")),
        Length(max=200, message=_l("Use at most %(max)d characters."))])


@blueprint.context_processor
def feed_sources_link():
    """The administration's index links to this page for the national administrator only."""
    return {"may_manage_feed": feed.may_manage_sources(current_user)
            if current_user.is_authenticated else False}


def _render(form: FeedSourceForm, status: int = 200, *, issued: feed.IssuedKey | None = None):
    response = make_response(render_template(
        "staff/admin/feed_sources.html", sources=_lookup(feed.list_sources), form=form,
        issued=issued, endpoint=current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        + url_for("feed_api.post_reports")), status)
    response.headers["Cache-Control"] = "no-store"  # it may show a new key
    return response


@blueprint.route("/feed", methods=["GET", "POST"])
def feed_sources():
    _lookup(feed.list_sources)  # 403 for anyone but the national administrator
    if request.method == "GET":
        return _render(FeedSourceForm(formdata=None))
    form = FeedSourceForm()
    if form.validate():
        issued, done = _attempt(form, lambda: feed.add_source(
            _actor(), code=form.code.data, name=form.name.data, now=utcnow()))
        if done:
            return _render(FeedSourceForm(formdata=None), issued=issued)
    return _render(form, 422)


@blueprint.post("/feed/<int:source_id>/kunci")
def feed_key(source_id: int):
    issued, done = _act(lambda: feed.rotate_key(_actor(), source_id, now=utcnow()),
                        _l("A new API key was made; the old one no longer works."))
    if not done:
        return redirect(url_for("staff_admin.feed_sources"))
    return _render(FeedSourceForm(formdata=None), issued=issued)


@blueprint.post("/feed/<int:source_id>/nonaktifkan")
def feed_disable(source_id: int):
    _act(lambda: feed.set_active(_actor(), source_id, active=False, now=utcnow()),
         _l("Feed source disabled: its key is refused. Its reports stay."))
    return redirect(url_for("staff_admin.feed_sources"))


@blueprint.post("/feed/<int:source_id>/aktifkan")
def feed_enable(source_id: int):
    _act(lambda: feed.set_active(_actor(), source_id, active=True, now=utcnow()),
         _l("Feed source enabled again."))
    return redirect(url_for("staff_admin.feed_sources"))
