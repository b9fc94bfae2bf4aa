"""Spreadsheet-safe CSV, streamed: the dialect, formula escaping and a writer over
a Core select that every export (subscribers, enrolments, …) shares."""

import csv
import io
import re
from collections.abc import Callable, Generator, Sequence

from sqlalchemy import String
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.functions import FunctionElement

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"
# Rows fetched per round trip, and so written per chunk of the response.
STREAM_BATCH_ROWS = 500


class ExportDialect(csv.Dialect):
    """RFC 4180: comma, double quotes doubled, CRLF line ends."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    skipinitialspace = False
    strict = True


def escape_formula(value):
    """A leading apostrophe makes spreadsheets show the cell as text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def download_name(*parts: str) -> str:
    """A .csv download name made of safe characters only (no header injection)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)) + ".csv"


def safe_row(cells: Sequence) -> list:
    return [escape_formula(cell) for cell in cells]


class csv_timestamp(FunctionElement):
    """A UTC timestamp as 'YYYY-MM-DD HH:MM:SS' text, formatted by the database
    (Mailchimp's format; far cheaper than building datetime objects per row)."""

    type = String()
    name = "csv_timestamp"
    inherit_cache = True


@compiles(csv_timestamp, "sqlite")
def _csv_timestamp_sqlite(element, compiler, **kw):
    # SQLite keeps UTC datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 19)"


@compiles(csv_timestamp, "postgresql")
def _csv_timestamp_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


class CsvStream:
    """Encoded CSV chunks of a select's rows, fetched in batches over a streaming
    cursor, so memory stays flat however many rows there are.

    `row_cells(row)` turns a row into formula-safe cells (default: `safe_row`, every
    cell escaped; an export that knows which cells hold text may escape just those).
    `rows_written` counts rows so far; `on_finish(rows, completed)` runs once when
    the stream ends, fails or is closed early (a client that went away).
    """

    def __init__(self, engine: Engine, statement: Select, header: Sequence[str], *,
                 row_cells: Callable[[Sequence], Sequence] = safe_row, bom: bool = False,
                 on_finish: Callable[[int, bool], None] | None = None):
        self.rows_written = 0
        self._on_finish = on_finish
        self._chunks = self._generate(engine, statement, header, row_cells, bom)

    def __iter__(self) -> "CsvStream":
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()

    def _generate(self, engine, statement, header, row_cells, bom) -> Generator[bytes, None, None]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, ExportDialect)
        completed = False
        try:
            buffer.write(UTF8_BOM if bom else "")
            writer.writerow(header)
            yield _drain(buffer)
            with engine.connect() as connection:
                result = connection.execution_options(
                    stream_results=True, yield_per=STREAM_BATCH_ROWS).execute(statement)
                for rows in result.partitions():
                    writer.writerows(map(row_cells, rows))
                    self.rows_written += len(rows)
                    yield _drain(buffer)
            completed = True
        finally:
            if self._on_finish is not None:
                self._on_finish(self.rows_written, completed)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return chunk
