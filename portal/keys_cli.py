"""`flask keys`: the keys that encrypt reporter identities at rest (portal/crypto.py)."""
import click
from flask.cli import AppGroup

from portal.extensions import db

keys_cli = AppGroup("keys", help="The keys that encrypt reporter identities (IDENTITY_KEYS).")


@keys_cli.command("new")
def keys_new() -> None:
    """Print a new random key, to put first in IDENTITY_KEYS."""
    from portal.crypto import new_key

    click.echo(new_key())


@keys_cli.command("rotate-identities")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def rotate_identities_command(batch_size: int) -> None:
    """Re-encrypt every reporter identity (and outbox mail) with the first key of IDENTITY_KEYS.

    Put the new key first (IDENTITY_KEYS=new,old), restart the app, run this, then drop the old
    key. Batched and committed batch by batch; running it again changes nothing."""
    from portal.crypto import rotate_identities

    try:
        rotated, unchanged = rotate_identities(batch_size=batch_size, commit=db.session.commit)
    except RuntimeError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"rows re-encrypted with the first key: {rotated}; "
               f"already under it: {unchanged}")
