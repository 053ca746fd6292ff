"""Guards for the staff workspace."""
from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.i18n import lazy_gettext as _l


def staff_required(view):
    """Anonymous visitors are sent to the sign-in page (and back afterwards); a signed-in
    citizen is refused with 403: the workspace is for staff only."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            flash(_l("Sign in to use the staff workspace."), "info")
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("staff.login", next=target.rstrip("?") if target else None))
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
