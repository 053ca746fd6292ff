"""``flask dev``: development helpers. Registered by portal/cli.py."""
import sys
import time
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db

dev_cli = AppGroup("dev", help="Development helpers (refused in production).")


@dev_cli.command("generate")
@click.option("--reports", required=True, type=click.IntRange(1, 20_000_000),
              help="How many reports to generate.")
@click.option("--seed", default=1, show_default=True, type=int,
              help="The same seed (with the same --reports and --now) gives the same data.")
@click.option("--now", "now_text", default=None, metavar="ISO-DATETIME",
              help="The instant the data ends at (UTC; default: now). Fix it to reproduce.")
@click.option("--no-statistics", is_flag=True,
              help="Do not rebuild the statistics summary afterwards.")
def generate_command(reports: int, seed: int, now_text: str | None, no_statistics: bool) -> None:
    """Fill an empty database with a national tree and N realistic synthetic reports
    (portal/devdata.py). The database must hold no report; the demo data may be there. Staff
    sign in with the demo password."""
    from portal import devdata
    from portal.models.types import utcnow

    if current_app.config.get("PORTAL_ENV") == "production":
        raise click.ClickException("refused: PORTAL_ENV=production (generated data, derivable "
                                   "tracking codes)")
    now = utcnow().replace(microsecond=0)
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("not an ISO date and time", param_hint="--now")
        now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now
    started = time.perf_counter()
    with click.progressbar(length=reports, label="reports", file=sys.stderr,
                           show_pos=True) as bar:
        try:
            summary = devdata.generate(db.session, reports=reports, seed=seed, now=now,
                                       progress=bar.update)
        except devdata.DatabaseNotEmpty as error:
            db.session.rollback()
            raise click.ClickException(f"{error}: generate into an empty database "
                                       "(flask db downgrade base && flask db upgrade)")
    db.session.commit()
    generated = time.perf_counter() - started
    click.echo(f"{summary.reports:,} reports in {generated:.0f} s: "
               f"{summary.institutions} institutions, {summary.units:,} units, "
               f"{summary.districts:,} kecamatan, {summary.staff:,} staff, "
               f"{summary.citizens:,} citizen accounts, {summary.events:,} events, "
               f"{summary.identities:,} identities, {summary.ratings:,} ratings, "
               f"{summary.supports:,} supports, {summary.duplicates:,} duplicates")
    click.echo("kinds: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.by_kind.items())))
    click.echo("statuses: " + ", ".join(f"{k} {v:,}"
                                        for k, v in sorted(summary.by_status.items())))
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        t0 = time.perf_counter()
        with bind.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
        click.echo(f"VACUUM ANALYZE in {time.perf_counter() - t0:.0f} s")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    if not no_statistics:
        t0 = time.perf_counter()
        if devdata.refresh_statistics(db.session, now):
            db.session.commit()
            click.echo(f"statistics summary rebuilt in {time.perf_counter() - t0:.0f} s")
    click.echo(f"staff sign in with the demo password, e.g. "
               f"institution.admin.gen-r001@lapor.example.id; tracking codes: "
               f"portal.devdata.tracking_code({seed}, report id)")
