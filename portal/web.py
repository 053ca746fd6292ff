"""Small helpers that every door (citizen, staff, administration) uses the same way."""
from urllib.parse import urlsplit


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
