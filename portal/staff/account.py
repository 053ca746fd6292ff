"""The staff member's own account: changing the password (every other session ends)."""
from flask import redirect, url_for

from portal.extensions import limiter
from portal.staff.decorators import staff_required
from portal.staff.views import blueprint
from portal.web import change_password_view, password_change_limit


@blueprint.route("/sandi", methods=["GET", "POST"])
@staff_required
@limiter.limit(password_change_limit, methods=["POST"])
def password():
    return change_password_view("staff/password.html", lambda: redirect(url_for("staff.inbox")))
