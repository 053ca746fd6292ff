"""``flask public``: the public feed's maintenance. Registered by portal/cli.py."""
import click
from flask.cli import AppGroup

from portal.extensions import db

public_cli = AppGroup("public", help="The public feed of reports.")


@public_cli.command("reindex")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Reports rebuilt and committed at a time.")
def public_reindex(batch_size: int) -> None:
    """Rebuild every report's search document from its masked text.

    Run once after upgrading to the public feed (reports filed before it have none, and the
    feed's search does not find them), and after a change to the masking rules."""
    from portal.domain.public_feed import reindex

    def committed(done: int) -> None:
        db.session.commit()
        click.echo(f"{done:,} reports indexed")

    total = reindex(batch_size, progress=committed)
    db.session.commit()
    click.echo(f"done: {total:,} reports")
