"""Entry point for gunicorn and `flask`: ``gunicorn wsgi:app``."""
from portal import create_app

app = create_app()
