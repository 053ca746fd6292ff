"""A bare Flask application for benchmarks/throughput.py: one route, no database, no
extensions, served by the same gunicorn settings as the portal, so that the portal's figures
can be set against what Flask and gunicorn alone do on this machine. Never part of the portal
(production has no such route)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
