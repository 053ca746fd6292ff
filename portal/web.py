"""Small helpers that every door (citizen, staff, administration) uses the same way."""
from urllib.parse import urlsplit

from flask import current_app, flash, render_template, request
from flask_login import current_user, login_user


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: no open redirects through ``next``."""
    target = target or ""
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or target.startswith("/\\")
            or parts.scheme or parts.netloc):
        return None
    return target


def add_form_error(form, field: str | None, message) -> None:
    """Show a domain error next to the field it names, or at the top of the form."""
    target = getattr(form, field, None) if field else None
    if target is None or field == "csrf_token" or not hasattr(target, "errors"):
        form.form_errors.append(message)
    else:
        target.errors = list(target.errors) + [message]


def password_change_limit() -> str:
    return current_app.config.get("PASSWORD_CHANGE_LIMIT", "10 per hour")


def change_password_view(template: str, done):
    """The password page of both doors (staff, citizen): the form; or the change made, this
    session signed in again with the account's new session version (every other session of
    the account ends: the user_loader refuses the old version), and ``done()``."""
    from portal.domain import DomainError
    from portal.domain.accounts import MIN_PASSWORD, change_own_password
    from portal.extensions import db
    from portal.forms import PasswordChangeForm
    from portal.i18n import lazy_gettext as _l

    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_own_password(user, current_password=form.current_password.data,
                                new_password=form.new_password.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            add_form_error(form, error.field, error.message)
        else:
            login_user(user)
            flash(_l("Your password has been changed. Other devices are signed out."), "success")
            return done()
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, min_length=MIN_PASSWORD), status
