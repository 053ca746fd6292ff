"""Terminal commands: demo data, the outbox worker, deadlines, reports and the translation
catalogs."""
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db, mail
from portal.feed_cli import feed_cli
from portal.models.types import utcnow
from portal.public_cli import public_cli

demo_cli = AppGroup("demo", help="Demo data for trying the portal.")
outbox_cli = AppGroup("outbox", help="The mail outbox.")
translate_cli = AppGroup("translate", help="The translation catalogs (Bahasa Indonesia, English).")
deadlines_cli = AppGroup("deadlines", help="Working-day deadlines and the days off they skip.")

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
BABEL_CFG = REPO_ROOT / "babel.cfg"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
MESSAGES_POT = TRANSLATIONS_DIR / "messages.pot"
# Besides pybabel's defaults (_, gettext, ngettext, ...): the lazy strings of forms and labels.
EXTRA_KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2")


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
@click.option("--sweep-interval", default=60.0, show_default=True,
              help="seconds between deadline sweeps (0: no sweep)")
def outbox_work(interval: float, sweep_interval: float) -> None:
    """Send due mail every few seconds, and sweep the deadlines every minute, until stopped
    (the development worker)."""
    from portal.outbox import send_due

    last_sweep = None
    while True:
        if sweep_interval > 0 and (last_sweep is None
                                   or time.monotonic() - last_sweep >= sweep_interval):
            last_sweep = time.monotonic()
            try:
                result = _sweep_once()
                if result.mails or result.webhooks or result.completed:
                    click.echo(f"sweep: {result.summary()}")
            except Exception as exc:  # keep the worker alive through a database restart
                db.session.rollback()
                click.echo(f"sweep: {type(exc).__name__}: {exc}", err=True)
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


def _apply_calendar_changes() -> int:
    """Move the deadlines of the pending holiday changes, and commit (the sweep after it must
    see them)."""
    from portal.domain.deadlines import apply_calendar_changes

    def tell(change) -> None:
        verb = "added" if change.added else "removed"
        where = f"at {change.institution.code}" if change.institution else "everywhere"
        click.echo(f"moved {change.moved} deadline(s) for holiday {change.day.isoformat()} "
                   f"({verb} {where})")

    moved = apply_calendar_changes(utcnow(), on_applied=tell)
    db.session.commit()
    return moved


def _sweep_once():
    """The pending holiday changes first, then one round of the deadline sweep, then the
    offline-unit check (one alert per episode)."""
    from portal.domain.offline import alert_offline_units
    from portal.domain.sweep import run_sweep

    _apply_calendar_changes()
    now = utcnow()
    result = run_sweep(now)
    alert_offline_units(now)
    db.session.commit()
    _refresh_statistics()
    return result


def _refresh_statistics() -> int:
    """Bring the statistics summary up to date (the months of the reports changed since the
    last refresh), and commit."""
    from portal.domain.statistics import refresh_summary

    months = refresh_summary(utcnow())
    db.session.commit()
    return months


@deadlines_cli.command("sweep")
def deadlines_sweep() -> None:
    """Queue deadline reminders and red escalations, complete answered reports the reporter
    left without a reply (idempotent; meant for cron every few minutes)."""
    click.echo(f"sweep: {_sweep_once().summary()}")


@deadlines_cli.command("webhook-set")
@click.argument("code")
@click.argument("url", required=False)
@click.option("--secret", help="the signing secret (default: a new random one, printed once)")
def webhook_set(code: str, url: str | None, secret: str | None) -> None:
    """Post an institution's deadline notices to URL, signed (no URL: stop posting)."""
    from portal.domain import DomainError
    from portal.domain.webhooks import set_webhook

    institution = _holiday_place(code)
    try:
        change = set_webhook(institution, url, secret=secret, new_secret=True, actor=None,
                             now=utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message))
    db.session.commit()
    if change.url is None:
        click.echo(f"{code}: no webhook")
    else:
        click.echo(f"{code}: notices go to {change.url}; X-Lapor-Signature secret: "
                   f"{change.secret}")


def _holiday_place(code: str | None):
    """The institution a holiday belongs to (None: everywhere); a ClickException if unknown."""
    from sqlalchemy import select

    from portal.models import Institution

    if not code:
        return None
    institution = db.session.scalar(select(Institution).where(Institution.code == code))
    if institution is None:
        raise click.ClickException(f"no institution with the code {code!r}")
    return institution


def _run_holiday_change(change, day: date, code: str | None, verb: str) -> None:
    from portal.domain import DomainError

    try:
        result = change()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message))
    db.session.commit()
    where = f" for {code} and its units" if code else " everywhere"
    click.echo(f"holiday {day.isoformat()} {verb}{where}; "
               f"{result.will_move} open deadline(s) to move")
    _apply_calendar_changes()  # here and now, rather than at the worker's next sweep


@deadlines_cli.command("holiday-add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name")
@click.option("--institution", "code", help="code of the institution (default: everywhere)")
def holiday_add(day, name: str, code: str | None) -> None:
    """Add a day off (cuti bersama, a regional day) and move the open deadlines it touches
    (with every other pending holiday change)."""
    from portal.domain.deadlines import add_holiday

    day = day.date()
    place = _holiday_place(code)
    _run_holiday_change(
        lambda: add_holiday(day, name, institution=place, actor=None, now=utcnow()),
        day, code, "added")


@deadlines_cli.command("holiday-remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--institution", "code", help="code of the institution (default: everywhere)")
def holiday_remove(day, code: str | None) -> None:
    """Remove an added day off; the open deadlines that skipped it move back."""
    from portal.domain.deadlines import remove_holiday

    day = day.date()
    place = _holiday_place(code)
    _run_holiday_change(
        lambda: remove_holiday(day, institution=place, actor=None, now=utcnow()),
        day, code, "removed")


statistics_cli = AppGroup("statistics", help="The summary behind the statistics pages.")


@statistics_cli.command("rebuild")
def statistics_rebuild() -> None:
    """Recompute the whole statistics summary from the reports (after a restore, or when in
    doubt; the worker and `flask deadlines sweep` keep it up to date otherwise)."""
    from portal.domain.statistics import rebuild_summary

    started = time.monotonic()
    months = rebuild_summary(utcnow())
    db.session.commit()
    click.echo(f"statistics: {months} month(s) rebuilt in {time.monotonic() - started:.1f} s")


@statistics_cli.command("refresh")
def statistics_refresh() -> None:
    """Recompute the months of the reports changed since the last refresh (what the sweep
    does after each round)."""
    click.echo(f"statistics: {_refresh_statistics()} month(s) refreshed")


reports_cli = AppGroup("reports", help="The weekly report and offline units.")


def _institution_by_code(code: str | None):
    from sqlalchemy import select

    from portal.models import Institution, InstitutionKind

    if not code:
        return None
    institution = db.session.scalar(select(Institution).where(
        Institution.code == code, Institution.kind == InstitutionKind.INSTITUTION))
    if institution is None:
        raise click.ClickException(f"no institution with the code {code!r}")
    return institution


@reports_cli.command("weekly")
@click.option("--institution", "code", help="code of one institution (default: all)")
@click.option("--week", "week_text", help="ISO week as YYYY-Www (default: last week)")
def reports_weekly(code: str | None, week_text: str | None) -> None:
    """Keep the week's figures of every institution, then queue its report to the
    supervisors (cron: Monday morning)."""
    from portal.domain import DomainError
    from portal.domain.weekly_report import (
        keep_weekly_reports,
        last_week,
        mail_weekly_reports,
        parse_week,
    )

    now = utcnow()
    institution = _institution_by_code(code)
    try:
        week = parse_week(week_text, now=now) if week_text else last_week(now)
    except DomainError as error:
        raise click.ClickException(str(error.message))
    try:
        kept = keep_weekly_reports(week, now=now,
                                   institutions=[institution] if institution else None)
    except DomainError as error:
        raise click.ClickException(str(error.message))
    db.session.commit()
    queued = mail_weekly_reports(week, now=now, institution=institution)
    db.session.commit()
    click.echo(f"weekly report {week.code}: figures kept for {kept} institution(s), "
               f"{queued} mail(s) queued")


@reports_cli.command("keep-weeks")
@click.option("--institution", "code", help="code of one institution (default: all)")
@click.option("--since", "since_text",
              help="first ISO week as YYYY-Www (default: the week of the oldest report)")
@click.option("--replace", is_flag=True,
              help="recompute weeks already kept too (default: keep only the missing ones)")
def reports_keep_weeks(code: str | None, since_text: str | None, replace: bool) -> None:
    """Keep the figures of every finished week up to last week that are not kept yet (once,
    after upgrading: the weeks before the Monday job kept them); no mail. Each week is
    committed on its own, so an interrupted run resumes where it stopped."""
    from portal.domain import DomainError
    from portal.domain.weekly_report import (
        first_week_with_reports,
        institutions_without_kept_week,
        keep_weekly_reports,
        last_week,
        parse_week,
    )

    now = utcnow()
    institution = _institution_by_code(code)
    chosen = [institution] if institution else None
    try:
        week = parse_week(since_text, now=now) if since_text else first_week_with_reports()
    except DomainError as error:
        raise click.ClickException(str(error.message))
    last = last_week(now)
    weeks = kept = 0
    while week is not None and week.monday <= last.monday:
        started = time.monotonic()
        wanted = chosen if replace else institutions_without_kept_week(week, chosen)
        if wanted is None or wanted:  # None: every institution
            count = keep_weekly_reports(week, now=now, institutions=wanted)
            db.session.commit()
            weeks, kept = weeks + 1, kept + count
            click.echo(f"{week.code}: figures kept for {count} institution(s) in "
                       f"{time.monotonic() - started:.1f} s")
        week = week.following()
    click.echo(f"weeks kept: {weeks}, institution figures kept: {kept}")


@reports_cli.command("offline-check")
@click.option("--institution", "code", help="code of one institution (default: all)")
def reports_offline_check(code: str | None) -> None:
    """Alert the institution admins of units that went offline (once per episode)."""
    from portal.domain.offline import alert_offline_units

    alerted = alert_offline_units(utcnow(), institution=_institution_by_code(code))
    db.session.commit()
    names = ", ".join(item.unit.code for item in alerted) or "none"
    click.echo(f"offline units alerted: {names}")


def pybabel(command: str, *args: str) -> None:
    """Run ``pybabel -q <command>`` with this interpreter's Babel; failures raise ClickException."""
    argv = [sys.executable, "-c",
            "import sys; from babel.messages.frontend import main; sys.exit(main())",
            "-q", command, *args]
    result = subprocess.run(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"pybabel {command} failed:\n{result.stdout}")


def extract_messages(output: Path = MESSAGES_POT) -> None:
    """Extract every translatable text of portal/ (see babel.cfg) into a .pot file."""
    keywords = [option for keyword in EXTRA_KEYWORDS for option in ("-k", keyword)]
    # pybabel skips directories starting with "_" by default, which would lose
    # templates/_macros; only hidden directories and caches are skipped here.
    pybabel("extract", "-F", str(BABEL_CFG), *keywords, "--no-location",
            "--ignore-dirs=.* __pycache__",
            "--sort-output", "--add-comments=TRANSLATORS:", "--project=lapor-portal",
            "--copyright-holder=the lapor-portal authors",
            "-o", str(output), str(REPO_ROOT))


@translate_cli.command("update")
def translate_update() -> None:
    """Extract the texts into messages.pot and merge them into the id and en catalogs."""
    extract_messages()
    pybabel("update", "-i", str(MESSAGES_POT), "-d", str(TRANSLATIONS_DIR))
    click.echo(f"updated {MESSAGES_POT.relative_to(REPO_ROOT)} and the catalogs under "
               f"{TRANSLATIONS_DIR.relative_to(REPO_ROOT)}; translate the new and fuzzy "
               "entries of id/LC_MESSAGES/messages.po, then run `flask translate compile`")


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile the catalogs into the .mo files the portal reads (fuzzy entries are left out)."""
    pybabel("compile", "-d", str(TRANSLATIONS_DIR))
    click.echo(f"compiled the catalogs under {TRANSLATIONS_DIR.relative_to(REPO_ROOT)}")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(translate_cli)
    app.cli.add_command(deadlines_cli)
    app.cli.add_command(statistics_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(feed_cli)  # portal/feed_cli.py: the national feed
    app.cli.add_command(public_cli)  # portal/public_cli.py: the public feed
    from portal.dev_cli import dev_cli

    app.cli.add_command(dev_cli)  # portal/dev_cli.py: flask dev generate
    from portal.backup import backup_command, restore_command, uploads_cli

    app.cli.add_command(backup_command)  # portal/backup.py: flask backup / flask restore
    app.cli.add_command(restore_command)
    app.cli.add_command(uploads_cli)  # flask uploads sweep: files no report names
