"""gunicorn settings for production (``gunicorn -c gunicorn.conf.py wsgi:app``), read from the
environment so that one file serves every machine. See docs/DEPLOYMENT.md."""
import multiprocessing
import os

# nginx on the same machine talks to gunicorn over loopback (or a unix socket: "unix:/run/...").
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Processes: the usual 2 x cores + 1. Each has its own SQLAlchemy pool (5 + 10 overflow).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads per process: requests mostly wait on PostgreSQL, so a few threads keep a core busy.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request that takes longer than this is killed with its worker; its transaction is rolled
# back by PostgreSQL (a report is saved whole or not at all). Uploads reach gunicorn only after
# nginx has buffered the whole body, so slow clients do not count against it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Headers from nginx (X-Forwarded-For/-Proto) are trusted from loopback only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The app is loaded in each worker after the fork (no database connection crosses a fork).
preload_app = False
