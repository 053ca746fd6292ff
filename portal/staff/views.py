"""The staff workspace. Issue 3 builds the workflow; this is sign-in and the first inbox."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.i18n import lazy_gettext as _l
from portal.models import User
from portal.staff.forms import LoginForm

blueprint = Blueprint("staff", __name__)


@blueprint.route("/masuk", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("staff.inbox"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data))
        if user is not None and user.is_staff and user.is_active and user.check_password(
            form.password.data
        ):
            login_user(user)
            return redirect(url_for("staff.inbox"))
        form.password.errors = [_l("The e-mail address or the password is wrong.")]
        return render_template("staff/login.html", form=form), 401
    return render_template("staff/login.html", form=form)


@blueprint.post("/keluar")
@login_required
def logout():
    logout_user()
    return redirect(url_for("citizen.home"))


@blueprint.get("/")
@login_required
def inbox():
    return render_template("staff/inbox.html")
