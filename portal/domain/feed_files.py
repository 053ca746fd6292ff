"""Reading a feed file: JSON lines (one object per line) or CSV with a header row, UTF-8 with
or without a byte order mark, into ``feed.ParsedRow``s numbered by their line in the file.

Rows are read one at a time, so a file of millions of rows is never held in memory. A line that
is not a row (broken JSON, not UTF-8, more CSV values than columns) becomes a row with its
problem, and reading goes on; a file that cannot be read as a whole (a JSON array, unknown CSV
columns) raises ``FeedFileError`` before any row.
"""
import csv
from collections.abc import Iterable, Iterator

from portal.domain.feed import ALIASES, FIELDS, ParsedRow, loads_json
from portal.i18n import lazy_gettext as _l

BOM = b"\xef\xbb\xbf"
JSONL, CSV = "jsonl", "csv"
FORMATS = (JSONL, CSV)
EXTENSIONS = {".jsonl": JSONL, ".ndjson": JSONL, ".json": JSONL, ".csv": CSV}
MAX_LINE_BYTES = 1024 * 1024  # a row of the longest fields is about 60 kB
DELIMITERS = (",", ";", "\t")


class FeedFileError(Exception):
    """The file cannot be read at all; ``message`` says why (no value of a row in it)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def detect_format(name: str | None, first_line: bytes) -> str:
    """By the file's extension, else by its first line: "{" starts JSON lines, anything else
    is taken for a CSV header."""
    for extension, found in EXTENSIONS.items():
        if name and name.lower().endswith(extension):
            return found
    head = first_line.removeprefix(BOM).lstrip()
    if head.startswith(b"["):
        raise FeedFileError(_l("This is a JSON array; the file must hold one JSON object per "
                               "line (JSON lines)."))
    return JSONL if head.startswith(b"{") else CSV


def read_rows(lines: Iterable[bytes], fmt: str) -> Iterator[ParsedRow]:
    """The rows of the file given as its lines of bytes (an open binary file will do)."""
    if fmt == JSONL:
        return _jsonl_rows(lines)
    if fmt == CSV:
        return _csv_rows(lines)
    raise ValueError(f"unknown feed format {fmt!r}")


def _decoded(number: int, raw: bytes) -> tuple[str | None, object]:
    if number == 1:
        raw = raw.removeprefix(BOM)
    if len(raw) > MAX_LINE_BYTES:
        return None, _l("The line is longer than 1 MB.")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, _l("The line is not UTF-8 text.")


def _jsonl_rows(lines: Iterable[bytes]) -> Iterator[ParsedRow]:
    for number, raw in enumerate(lines, start=1):
        text, problem = _decoded(number, raw)
        if problem is not None:
            yield ParsedRow(line=number, problem=problem)
            continue
        text = text.strip()
        if not text:
            continue
        try:
            data = loads_json(text)
        except ValueError as error:  # JSONDecodeError, or a field given twice
            reason = (f"{error.msg} at column {error.colno}" if hasattr(error, "colno")
                      else str(error))
            yield ParsedRow(line=number, problem=_l("Not valid JSON: %(reason)s.",
                                                    reason=reason))
            continue
        if not isinstance(data, dict):
            yield ParsedRow(line=number, problem=_l("The line is not a JSON object."))
            continue
        yield ParsedRow(line=number, data=data)


def header_problem(columns: list[str]) -> object | None:
    """Why a CSV header cannot be used, or None."""
    names = [ALIASES.get(c, c) for c in columns]
    unknown = [c for c, n in zip(columns, names) if n not in FIELDS]
    if unknown:
        return _l("Unknown column(s): %(unknown)s. The columns are: %(known)s (also kecamatan, "
                  "name, email, phone).", unknown=", ".join(repr(c[:40]) for c in unknown),
                  known=", ".join(FIELDS))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        return _l("Column(s) given twice: %(twice)s.", twice=", ".join(twice))
    if "external_id" not in names:
        return _l("The column external_id is missing.")
    return None


def _csv_rows(lines: Iterable[bytes]) -> Iterator[ParsedRow]:
    undecodable: dict[int, object] = {}

    def text_lines() -> Iterator[str]:
        for number, raw in enumerate(lines, start=1):
            text, problem = _decoded(number, raw)
            if problem is not None:
                undecodable[number] = problem
                text = "\n"  # the line still counts; its record is refused below
            yield text

    source = text_lines()
    first = next(source, None)
    if first is None:  # an empty file: no rows
        return
    if not first.strip():
        raise FeedFileError(_l("The first line must be the header with the column names."))
    if 1 in undecodable:
        raise FeedFileError(undecodable[1])
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(_chain(first, source), delimiter=delimiter)
    try:
        columns = [c.strip().lower() for c in next(reader)]
    except csv.Error as error:
        raise FeedFileError(_l("The header cannot be read: %(reason)s.", reason=str(error)))
    problem = header_problem(columns)
    if problem is not None:
        raise FeedFileError(problem)

    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a NUL byte; the reader cannot go on after it
            raise FeedFileError(_l("Line %(line)s cannot be read as CSV: %(reason)s.",
                                   line=start, reason=str(error)))
        end, last_line = reader.line_num, reader.line_num
        bad = [undecodable[n] for n in range(start, end + 1) if n in undecodable]
        if bad:
            yield ParsedRow(line=start, problem=bad[0])
            continue
        if not any(v.strip() for v in values):
            continue  # a blank line
        extra = values[len(columns):]
        if any(v.strip() for v in extra):
            yield ParsedRow(line=start, problem=_l("The line has more values than the header "
                                                   "has columns."))
            continue
        yield ParsedRow(line=start, data=dict(zip(columns, values)))


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
