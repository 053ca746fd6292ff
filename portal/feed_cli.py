"""``flask feed``: import a file of reports another system sent (the national LAPOR! feed), and
manage the sending systems and their API keys. Registered by portal/cli.py.

The terminal speaks English: the reasons a row was refused are printed in English whatever the
portal's default language is.
"""
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.models.types import utcnow

feed_cli = AppGroup("feed", help="Reports from other systems (the national LAPOR! feed) and "
                                 "their API keys.")

BATCH_SIZE = 500
LISTED_BAD_ROWS = 50
FORMAT_NAMES = {"jsonl": "JSON lines", "csv": "CSV"}


@contextmanager
def _english():
    with force_locale("en"):
        yield


def _source(code: str):
    from portal.domain import feed

    source = feed.source_by_code(code)
    if source is None:
        raise click.ClickException(f"no feed source with the code {code!r} "
                                   "(add one with `flask feed source-add CODE NAME`)")
    return source


def _count_lines(path: str) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


class _NoBar:
    def update(self, steps: int) -> None:
        pass


def _on_terminal() -> bool:
    return sys.stdout.isatty()


@contextmanager
def _progress(path: str):
    """A progress bar over the file's lines, on a terminal only (never for stdin)."""
    if path == "-" or not _on_terminal():
        yield _NoBar()
        return
    with click.progressbar(length=_count_lines(path), label="importing",
                           show_pos=True) as bar:
        yield bar


@feed_cli.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--source", "code", required=True, help="code of the feed source that sent it")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto",
              show_default=True, help="auto: by the file's extension, else by its first line")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True,
              type=click.IntRange(1, 10_000), help="rows per commit")
def feed_import(path: str, code: str, fmt: str, batch_size: int) -> None:
    """Import FILE (JSON lines or CSV, UTF-8; "-" for stdin). Rows imported before are
    skipped; bad rows are listed with their line, and the exit status is 1 if there were any."""
    from portal.domain import DomainError, feed
    from portal.domain.feed_files import FeedFileError, detect_format, read_rows
    from portal.storage import AttachmentStore

    with _english():
        source = _source(code)
        if not source.is_active:
            raise click.ClickException(f"the feed source {source.code} is disabled")
        code = source.code
        store = AttachmentStore(current_app.config["UPLOAD_FOLDER"])
        counts = {feed.RowStatus.CREATED: 0, feed.RowStatus.EXISTS: 0, feed.RowStatus.INVALID: 0}
        bad: list = []
        stopped = None
        with click.open_file(path, "rb") as stream, _progress(path) as bar:
            first = stream.readline()
            try:
                fmt = detect_format(None if path == "-" else path, first) if fmt == "auto" \
                    else fmt
            except FeedFileError as error:
                raise click.ClickException(str(error.message))
            done = 0

            def import_batch(batch) -> None:
                nonlocal done
                try:
                    summary = feed.import_rows(source, batch, now=utcnow(), store=store)
                    db.session.commit()
                except (DomainError, SQLAlchemyError) as error:
                    db.session.rollback()
                    reason = error.message if isinstance(error, DomainError) else \
                        type(error).__name__
                    raise click.ClickException(
                        f"stopped at line {batch[0].line}: {reason}; "
                        f"{counts[feed.RowStatus.CREATED]} report(s) were saved before")
                for outcome in summary.outcomes:
                    counts[outcome.status] += 1
                    if outcome.status is feed.RowStatus.INVALID and len(bad) < LISTED_BAD_ROWS:
                        bad.append(f"line {outcome.line}: {outcome.reason()}")
                bar.update(max(batch[-1].line - done, 0))
                done = max(done, batch[-1].line)

            batch = []
            try:
                for row in read_rows(_lines(first, stream), fmt):
                    batch.append(row)
                    if len(batch) >= batch_size:
                        import_batch(batch)
                        batch = []
            except FeedFileError as error:
                stopped = error.message
            if batch:
                import_batch(batch)

        invalid = counts[feed.RowStatus.INVALID]
        click.echo(f"feed import from {code} ({FORMAT_NAMES[fmt]}): "
                   f"{counts[feed.RowStatus.CREATED]} created, "
                   f"{counts[feed.RowStatus.EXISTS]} already there, "
                   f"{invalid} bad row{'' if invalid == 1 else 's'}")
        if bad:
            click.echo("bad rows:")
            for line in bad:
                click.echo(f"  {line}")
            if invalid > len(bad):
                click.echo(f"  … and {invalid - len(bad)} more")
        if stopped is not None:
            click.echo(f"stopped: {stopped}", err=True)
        if stopped is not None or invalid:
            sys.exit(1)


def _lines(first: bytes, stream):
    """The file's lines, the first one (read to tell the format) included."""
    if first:
        yield first
        yield from stream


def _print_key(issued, what: str) -> None:
    click.echo(f"{what} The API key is shown only this once (only its hash is kept); give "
               f"it to the sending system:", err=True)
    click.echo(issued.key)


def _run(operation):
    from portal.domain import DomainError

    with _english():
        try:
            result = operation()
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(str(error.message))
        return result


@feed_cli.command("source-add")
@click.argument("code")
@click.argument("name")
def source_add(code: str, name: str) -> None:
    """Add a sending system CODE called NAME, and print its API key once."""
    from portal.domain import feed

    issued = _run(lambda: feed.add_source(None, code=code, name=name, now=utcnow()))
    _print_key(issued, f"feed source {issued.source.code} added.")


@feed_cli.command("source-key")
@click.argument("code")
def source_key(code: str) -> None:
    """Give the source a new API key (printed once); the old key stops working at once."""
    from portal.domain import feed

    issued = _run(lambda: feed.rotate_key(None, _source(code).id, now=utcnow()))
    _print_key(issued, f"feed source {issued.source.code}: new key; the old one no longer "
                       f"works.")


@feed_cli.command("source-disable")
@click.argument("code")
def source_disable(code: str) -> None:
    """Refuse the source's key from now on (its reports stay)."""
    from portal.domain import feed

    source = _run(lambda: feed.set_active(None, _source(code).id, active=False, now=utcnow()))
    click.echo(f"feed source {source.code} disabled: its key is refused")


@feed_cli.command("source-enable")
@click.argument("code")
def source_enable(code: str) -> None:
    """Accept the source's key again."""
    from portal.domain import feed

    source = _run(lambda: feed.set_active(None, _source(code).id, active=True, now=utcnow()))
    click.echo(f"feed source {source.code} enabled")


@feed_cli.command("sources")
def sources() -> None:
    """List the sources: code, state, key hint, last use, name."""
    from portal.domain import feed

    for source in _run(lambda: feed.list_sources(None)):
        state = "active" if source.is_active else "disabled"
        used = source.last_used_at.isoformat(timespec="seconds") if source.last_used_at \
            else "never"
        click.echo(f"{source.code}\t{state}\t{source.key_hint or '-'}…\tlast used {used}\t"
                   f"{source.name}")
