"""Terminal commands: demo data and the outbox worker."""
import time

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db, mail
from portal.models.types import utcnow

demo_cli = AppGroup("demo", help="Demo data for trying the portal.")
outbox_cli = AppGroup("outbox", help="The mail outbox.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the Kabupaten Tangerang demo tree, categories and staff (idempotent)."""
    from portal.demo import load_demo_data

    summary = load_demo_data()
    db.session.commit()
    click.echo(
        f"demo data: {summary['created']} rows created, {summary['existing']} already there"
    )


@outbox_cli.command("send")
@click.option("--limit", default=100, show_default=True)
def outbox_send(limit: int) -> None:
    """Send the mail that is due once."""
    from portal.outbox import send_due

    result = send_due(mail, now=utcnow(), limit=limit)
    click.echo(f"sent {result.sent}, deferred {result.deferred}, failed {result.failed}")


@outbox_cli.command("work")
@click.option("--interval", default=5.0, show_default=True, help="seconds between rounds")
def outbox_work(interval: float) -> None:
    """Send due mail every few seconds until stopped (the development worker)."""
    from portal.outbox import send_due

    while True:
        try:
            result = send_due(mail, now=utcnow())
            if result.sent or result.deferred or result.failed:
                click.echo(f"outbox: sent {result.sent}, deferred {result.deferred}, "
                           f"failed {result.failed}")
        except Exception as exc:  # keep the worker alive through a database restart
            db.session.rollback()
            click.echo(f"outbox: {type(exc).__name__}: {exc}", err=True)
        db.session.remove()
        time.sleep(interval)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(outbox_cli)
