"""Settings, read from the environment. SQLite under instance/ is the zero-set-up default."""
import os
import secrets
from pathlib import Path

from portal.crypto import keys_from_environment

MB = 1024 * 1024


def _instance_secret(instance_path: str) -> str:
    """A development secret kept under instance/, created on first use.

    Production must set SECRET_KEY; see ``Config.from_environment``.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    env = os.environ
    production = env.get("PORTAL_ENV", "development") == "production"
    secret = env.get("SECRET_KEY")
    if not secret:
        if production:
            raise RuntimeError("SECRET_KEY must be set when PORTAL_ENV=production")
        secret = _instance_secret(instance_path)
    identity_keys = keys_from_environment(production)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'portal.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": secret,
        # Fernet keys for reporter identities at rest (portal/crypto.py): the first encrypts.
        "IDENTITY_KEYS": identity_keys,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Session settings of every PostgreSQL connection (apply_postgresql_options).
        "POSTGRESQL_OPTIONS": env.get("POSTGRESQL_OPTIONS", "-c jit=off"),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_ATTACHMENTS": 5,
        "MAX_ATTACHMENT_BYTES": 10 * MB,
        # Five files of 10 MB plus the form fields; Werkzeug refuses a larger body with 413
        # before reading it.
        "MAX_CONTENT_LENGTH": 51 * MB,
        # Parts of a multipart body (fields and files): the largest form has about 30, five of
        # them files. Werkzeug stops reading at the 101st part with a 413, so a body of
        # thousands of tiny files is refused while it streams, not after.
        "MAX_FORM_PARTS": 100,
        "MAX_FORM_MEMORY_SIZE": 1 * MB,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "PORTAL_LANGUAGES": ["id", "en"],
        "MAIL_SERVER": env.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "8025")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") == "1",
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "LAPOR! <no-reply@lapor.example.id>"),
        "MAIL_TIMEOUT": 10,
        # memory:// counts per process: production sets a Redis URI (redis://host:6379/0) so
        # that every worker and machine shares the counts.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Proxies in front that set X-Forwarded-For/-Proto (nginx: 1); portal/security.py.
        "TRUSTED_PROXY_HOPS": int(env.get("TRUSTED_PROXY_HOPS", "0")),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Said explicitly: Flask-Limiter keeps the last app's setting on its shared instance and
        # would carry a test app's False over to every app made after it.
        "RATELIMIT_ENABLED": True,
        "TRACKING_LOOKUP_LIMIT": env.get("TRACKING_LOOKUP_LIMIT", "10 per 10 minutes"),
        "FILING_LIMIT": env.get("FILING_LIMIT", "20 per hour"),
        # Per client address (portal/security.py: TRUSTED_PROXY_HOPS behind a proxy).
        "STAFF_LOGIN_LIMIT": env.get("STAFF_LOGIN_LIMIT", "10 per minute"),
        "CITIZEN_LOGIN_LIMIT": env.get("CITIZEN_LOGIN_LIMIT", "10 per minute"),
        "PASSWORD_CHANGE_LIMIT": env.get("PASSWORD_CHANGE_LIMIT", "10 per hour"),
        "ACCOUNT_LIMIT": env.get("ACCOUNT_LIMIT", "30 per hour"),  # citizen registrations
        "REPORTER_ACTION_LIMIT": env.get("REPORTER_ACTION_LIMIT", "20 per hour"),  # replies...
        "SUPPORT_LIMIT": env.get("SUPPORT_LIMIT", "30 per hour"),
        "SIMILAR_LOOKUP_LIMIT": env.get("SIMILAR_LOOKUP_LIMIT", "60 per minute"),
        "FEED_API_LIMIT": env.get("FEED_API_LIMIT", "60 per minute"),  # per API key
        # Open311 GeoReport v2 (portal/api/open311.py): filing per API key, reading per address;
        # the jurisdiction_id clients may send (empty: the host of PUBLIC_BASE_URL).
        "OPEN311_API_LIMIT": env.get("OPEN311_API_LIMIT", "60 per minute"),
        "OPEN311_READ_LIMIT": env.get("OPEN311_READ_LIMIT", "120 per minute"),
        "OPEN311_JURISDICTION_ID": env.get("OPEN311_JURISDICTION_ID", ""),
        "OUTBOX_SEND_AFTER_REQUEST": not production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "PASSWORD_HASH_METHOD": "scrypt",
    }


def apply_postgresql_options(config: dict) -> None:
    """Pass POSTGRESQL_OPTIONS to every connection to a PostgreSQL database (libpq's
    ``options``). By default ``jit=off``: the portal's statements are short, and PostgreSQL
    15's JIT compiled the few that its planner thinks costly (the weekly report of a big
    institution at 1,000,000 reports) for 30 to 70 ms each, more than they took to run."""
    options = config.get("POSTGRESQL_OPTIONS")
    if not options or not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return
    engine = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(engine.get("connect_args") or {})
    connect_args.setdefault("options", options)
    engine["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine
