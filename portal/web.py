"""Small helpers that every door (citizen, staff, administration) uses the same way."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, render_template, request, send_file
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


def attachment_response(item):
    """An attachment as a download: from the store under its random name (never a path the user
    chose), ``Content-Disposition: attachment`` with a neutral name (the reporter's file name
    may name them), its checked type, nosniff, a sandboxing policy, never cached."""
    from portal.storage import AttachmentStore

    path = AttachmentStore(current_app.config["UPLOAD_FOLDER"]).path_for(item.stored_name)
    if not path.is_file():
        abort(404)
    extension = item.stored_name.rsplit(".", 1)[-1] if "." in item.stored_name else "bin"
    response = send_file(path, mimetype=item.content_type, as_attachment=True,
                         download_name=f"lampiran-{item.id}.{extension}", conditional=False,
                         etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response
