"""The portal's application factory: config -> extensions -> blueprints -> errors -> cli."""
import os

from flask import Flask

from portal import config as config_module
from portal.extensions import babel, csrf, db, limiter, login_manager, mail, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    config_module.apply_postgresql_options(app.config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (registers the tables with the metadata)
    from portal.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from portal.models import User

        user_key, _, version = user_id.partition(":")
        if not user_key.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_key))
        if user is None or user.session_version != int(version):
            return None
        return user


def register_blueprints(app: Flask) -> None:
    from portal.api.feed import blueprint as feed_api
    from portal.api.open311 import blueprint as open311_api
    from portal.citizen import public  # noqa: F401  (adds the public feed's routes to citizen)
    from portal.citizen import statistics  # noqa: F401  (adds /statistik to citizen)
    from portal.citizen.views import blueprint as citizen
    from portal.staff.admin import blueprint as staff_admin
    from portal.staff import statistics as staff_statistics  # noqa: F401  (/staf/statistik)
    from portal.staff.views import blueprint as staff

    app.register_blueprint(citizen)
    app.register_blueprint(staff, url_prefix="/staf")
    app.register_blueprint(staff_admin)  # /staf/kelola
    app.register_blueprint(feed_api)  # /api/feed/v1
    app.register_blueprint(open311_api)  # /open311/v2


def register_template_helpers(app: Flask) -> None:
    from portal import templating

    templating.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from portal import errors

    errors.init_app(app)


def register_security(app: Flask) -> None:
    from portal import security

    security.init_app(app)  # headers on every response, the proxy in front, 413/429 as JSON


def register_commands(app: Flask) -> None:
    from portal import cli
    from portal.keys_cli import keys_cli

    cli.init_app(app)
    app.cli.add_command(keys_cli)  # flask keys new / rotate-identities
