"""Languages: Bahasa Indonesia by default, English on request."""
from flask import current_app, request, session
from flask_babel import gettext, lazy_gettext, ngettext  # noqa: F401  (re-exported)

SESSION_KEY = "lang"


def select_locale() -> str:
    languages = current_app.config["PORTAL_LANGUAGES"]
    chosen = session.get(SESSION_KEY) if request else None
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]
