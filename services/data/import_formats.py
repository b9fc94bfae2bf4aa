"""Recognise and read the files staff import: a Mailchimp audience export (its
subscribed / unsubscribed / cleaned CSVs, alone or zipped), a listmonk export
(email, name, attributes), or any CSV with a column map. `inspect` checks the
whole file's structure before anything is written."""

import csv
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import TextIO

from services.core.errors import InvalidInput

# Fields a record carries, in this order; a column map names the columns for some of them.
FIELDS = ("email", "first_name", "last_name", "full_name", "status",
          "optin_time", "optin_ip", "confirm_time", "confirm_ip", "end_time")
MAPPABLE_FIELDS = ("email", "full_name", "first_name", "last_name")
MAILCHIMP_COLUMNS = {"email": "Email Address", "first_name": "First Name", "last_name": "Last Name",
                     "optin_time": "OPTIN_TIME", "optin_ip": "OPTIN_IP",
                     "confirm_time": "CONFIRM_TIME", "confirm_ip": "CONFIRM_IP"}
# Mailchimp's three files differ by the column saying when the member left.
MAILCHIMP_END_COLUMNS = {"UNSUB_TIME": "unsubscribed", "CLEAN_TIME": "cleaned"}
LISTMONK_COLUMNS = ("email", "name", "attributes")
# listmonk's own word for an address that must get nothing.
LISTMONK_BLOCKED = "blocklisted"
EMAIL_COLUMN_NAMES = {"email", "e-mail", "email address", "e-mail address", "mail"}
NAME_COLUMN_NAMES = {"name", "full name", "full_name", "fullname"}
ZIP_MAX_MEMBERS = 20
MAILCHIMP_PART_ORDER = ("mailchimp-subscribed", "mailchimp-unsubscribed", "mailchimp-cleaned")
ZIP_MAGIC = b"PK\x03\x04"
# Far beyond any real export, and bounded so that a hostile file cannot make a worker
# hold (or a mapping page list) millions of columns. A line is read at most this far.
MAX_COLUMNS = 200
HEADER_MAX_CHARS = 64 * 1024
LINE_MAX_CHARS = 1024 * 1024
# csv.field_size_limit is process-wide state; the import keeps its own, smaller bound.
FIELD_MAX_CHARS = 32 * 1024


class UnknownColumns(InvalidInput):
    """No email column could be recognised: the person must map the columns."""

    def __init__(self, message: str, columns: list[str]):
        super().__init__("column_map", message)
        self.columns = columns


@dataclass(frozen=True, slots=True)
class Record:
    part: str
    line: int
    email: str
    first_name: str
    last_name: str
    full_name: str
    status: str  # confirmed | pending | unsubscribed | cleaned
    optin_time: str
    optin_ip: str
    confirm_time: str
    confirm_ip: str
    end_time: str


@dataclass
class Part:
    """One CSV file of the import (a zip holds several)."""

    name: str
    kind: str  # mailchimp-subscribed | mailchimp-unsubscribed | mailchimp-cleaned | listmonk | csv
    columns: list[str]
    # Column index of each field in FIELDS, or None; "status" may be fixed instead.
    indexes: dict[str, int]
    fixed_status: str | None
    open: Callable[[], TextIO]
    rows: int = 0


@dataclass
class ImportPlan:
    file_format: str  # mailchimp | listmonk | csv
    parts: list[Part]

    @property
    def total_rows(self) -> int:
        return sum(part.rows for part in self.parts)


def too_large(max_bytes: int) -> InvalidInput:
    return InvalidInput("file", f"The file is larger than the {_size(max_bytes)} limit.")


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count:,} bytes"


def inspect(path: str, *, max_bytes: int, column_map: dict[str, str] | None = None,
            name: str | None = None) -> ImportPlan:
    """Recognise the file and read it all once; raise InvalidInput for anything
    malformed (size, encoding, binary data, delimiter, missing email column). A CSV file
    is called `name` in messages (else by its path's name)."""
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidInput("file", "The file is empty.")
    if size > max_bytes:
        raise too_large(max_bytes)
    with open(path, "rb") as handle:
        is_zip = handle.read(4) == ZIP_MAGIC
    if is_zip:
        parts = [_recognise(name, opener, None) for name, opener in _zip_members(path, max_bytes)]
        if any(not part.kind.startswith("mailchimp") for part in parts):
            raise InvalidInput("file", "A zip must be a Mailchimp audience export (its members CSV files).")
        # Subscribed first, so a later unsubscribed or cleaned entry wins.
        parts.sort(key=lambda part: (MAILCHIMP_PART_ORDER.index(part.kind), part.name))
    else:
        parts = [_recognise(name or os.path.basename(path), _file_opener(path), column_map)]
    for part in parts:
        part.rows = sum(1 for _ in _rows(part))
    kinds = {part.kind.split("-")[0] for part in parts}
    return ImportPlan(file_format=kinds.pop(), parts=parts)


# What the column mapping step shows of each column.
SAMPLE_VALUES = 3
SAMPLE_ROWS = 1000
SAMPLE_MAX_CHARS = 80


def column_samples(path: str, width: int) -> list[list[str]]:
    """The first SAMPLE_VALUES non-empty values of each of a CSV file's `width` columns,
    from at most SAMPLE_ROWS rows, each cut to SAMPLE_MAX_CHARS; none for a zip, and only
    those before a line that cannot be read (the dry run then says what is wrong)."""
    samples: list[list[str]] = [[] for _ in range(width)]
    with open(path, "rb") as handle:
        if handle.read(4) == ZIP_MAGIC:
            return samples
    rows = _rows(Part(os.path.basename(path), "csv", [], {}, None, _file_opener(path)))
    try:
        for _, row in islice(rows, SAMPLE_ROWS):
            for found, value in zip(samples, row, strict=False):
                if len(found) < SAMPLE_VALUES and value.strip():
                    found.append(value.strip()[:SAMPLE_MAX_CHARS])
            if all(len(found) == SAMPLE_VALUES for found in samples):
                break
    except InvalidInput:
        pass
    finally:
        rows.close()
    return samples


def records(part: Part) -> Iterator[Record | tuple[int, str]]:
    """Each row as a Record, or (line, problem) for a row of the wrong width."""
    width = len(part.columns)
    fields = [part.indexes.get(name, width) for name in FIELDS]
    pick = itemgetter(*fields)
    status_index = part.indexes.get("status")
    for line, row in _rows(part):
        if len(row) != width:
            yield line, f"The row has {len(row)} columns; the header has {width}."
            continue
        row.append("")  # the value of every field the file has no column for
        values = list(pick(row))
        if part.fixed_status is not None:
            values[4] = part.fixed_status
        elif status_index is not None:
            values[4] = "unsubscribed" if row[status_index].strip().lower() == LISTMONK_BLOCKED else "pending"
        else:
            values[4] = "pending"
        yield Record(part.name, line, *values)


def _rows(part: Part) -> Generator[tuple[int, list[str]], None, None]:
    """Rows after the header, with their line numbers; malformed text raises InvalidInput."""
    line = 1
    try:
        with part.open() as stream:
            reader = csv.reader(_text_lines(stream, part.name, LINE_MAX_CHARS), strict=True)
            next(reader, None)
            for row in reader:
                line = reader.line_num
                if row:
                    if max(map(len, row)) > FIELD_MAX_CHARS:
                        raise InvalidInput("file", f"{part.name}: line {line} has a value longer than "
                                                   f"{FIELD_MAX_CHARS:,} characters.")
                    yield line, row
    except UnicodeDecodeError:
        raise InvalidInput("file", f"{part.name}: line {line + 1} is not UTF-8 text; "
                                   "export the file again as CSV (UTF-8).") from None
    except csv.Error as error:
        raise InvalidInput("file", f"{part.name}: line {line + 1} is not valid CSV ({error}).") from None
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise InvalidInput("file", f"{part.name} in the zip is damaged.") from None


def _text_lines(stream: TextIO, name: str, max_chars: int) -> Iterator[str]:
    """The stream's lines, each read at most `max_chars` far: a longer one is refused,
    so a file of one endless line is never held whole."""
    number = 0
    while text := stream.readline(max_chars + 1):
        number += 1
        if len(text) > max_chars:
            raise InvalidInput("file", f"{name}: line {number} is longer than {max_chars:,} characters.")
        if "\x00" in text:
            raise InvalidInput("file", "The file contains binary data; it is not a CSV file.")
        yield text


def _header(name: str, opener: Callable[[], TextIO]) -> list[str]:
    try:
        with opener() as stream:
            header = next(csv.reader(_text_lines(stream, name, HEADER_MAX_CHARS), strict=True), None)
    except UnicodeDecodeError:
        raise InvalidInput("file", f"{name} is not UTF-8 text; export it again as CSV (UTF-8).") from None
    except csv.Error as error:
        raise InvalidInput("file", f"{name}: the first line is not valid CSV ({error}).") from None
    if not header or not any(cell.strip() for cell in header):
        raise InvalidInput("file", f"{name} has no header row.")
    if len(header) > MAX_COLUMNS:
        raise InvalidInput("file", f"{name} has {len(header):,} columns; an import can have at most {MAX_COLUMNS}.")
    return [cell.strip() for cell in header]


def _recognise(name: str, opener: Callable[[], TextIO], column_map: dict[str, str] | None) -> Part:
    columns = _header(name, opener)
    position = {column: index for index, column in enumerate(columns)}
    if column_map:
        return _mapped_part(name, opener, columns, position, column_map)
    if all(position.get(column) is not None for column in ("Email Address", "OPTIN_TIME", "CONFIRM_TIME")):
        indexes = {field: position[column] for field, column in MAILCHIMP_COLUMNS.items() if column in position}
        status = "confirmed"
        for column, ended_status in MAILCHIMP_END_COLUMNS.items():
            if column in position:
                indexes["end_time"], status = position[column], ended_status
        kind = {"confirmed": "subscribed"}.get(status, status)
        return Part(name, f"mailchimp-{kind}", columns, indexes, status, opener)
    lowered = {column.lower(): index for index, column in enumerate(columns)}
    if all(column in lowered for column in LISTMONK_COLUMNS):
        indexes = {"email": lowered["email"], "full_name": lowered["name"]}
        if "status" in lowered:
            indexes["status"] = lowered["status"]
        return Part(name, "listmonk", columns, indexes, None, opener)
    email_columns = [column for column in columns if column.lower() in EMAIL_COLUMN_NAMES]
    if email_columns:
        guessed = {"email": email_columns[0]}
        name_columns = [column for column in columns if column.lower() in NAME_COLUMN_NAMES]
        if name_columns:
            guessed["full_name"] = name_columns[0]
        return _mapped_part(name, opener, columns, position, guessed)
    raise _no_email_column(columns)


def _mapped_part(name, opener, columns, position, column_map) -> Part:
    unknown_fields = set(column_map) - set(MAPPABLE_FIELDS)
    if unknown_fields:
        raise InvalidInput("column_map", f"Only {', '.join(MAPPABLE_FIELDS)} can be mapped, "
                                         f"not {', '.join(sorted(unknown_fields))}.")
    if "email" not in column_map:
        raise UnknownColumns("Choose which column holds the email address.", columns)
    missing = [column for column in column_map.values() if column not in position]
    if missing:
        raise UnknownColumns(f"The file has no column {missing[0]!r}.", columns)
    indexes = {field: position[column] for field, column in column_map.items()}
    return Part(name, "csv", columns, indexes, None, opener)


def _no_email_column(columns: list[str]) -> InvalidInput:
    """A file split on the wrong delimiter is refused; otherwise the person maps the columns."""
    if len(columns) == 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if delimiter in columns[0]:
                return InvalidInput("file", f"The columns are separated by {label}, not commas; "
                                            "export the file again as comma-separated CSV.")
    return UnknownColumns("No email column found; choose which column holds the email address.", columns)


def _file_opener(path: str) -> Callable[[], TextIO]:
    return lambda: open(path, encoding="utf-8-sig", newline="")


def _zip_members(path: str, max_bytes: int) -> list[tuple[str, Callable[[], TextIO]]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput("file", "The zip file is damaged or incomplete.") from None
    with archive:
        infos = [info for info in archive.infolist()
                 if not info.is_dir() and info.filename.lower().endswith(".csv")
                 and not info.filename.startswith("__MACOSX/")]
    if not infos:
        raise InvalidInput("file", "The zip holds no CSV file.")
    # Declared sizes bound what zipfile will inflate, so a zip bomb stops here.
    if len(infos) > ZIP_MAX_MEMBERS or sum(info.file_size for info in infos) > max_bytes:
        raise InvalidInput("file", f"The zip unpacks to more than the {_size(max_bytes)} limit.")

    def opener(info: zipfile.ZipInfo) -> Callable[[], TextIO]:
        def open_member() -> TextIO:
            member_archive = zipfile.ZipFile(path)
            member = member_archive.open(info)
            return io.TextIOWrapper(_Closing(member, member_archive, info.file_size),
                                    encoding="utf-8-sig", newline="")
        return open_member
    return [(os.path.basename(info.filename), opener(info)) for info in infos]


class _Closing(io.BufferedIOBase):
    """A zip member stream that closes its archive too, and never inflates more
    than the member's declared size (which the size cap was checked against)."""

    def __init__(self, member, archive: zipfile.ZipFile, declared_size: int):
        super().__init__()
        self._member, self._archive, self._left = member, archive, declared_size

    @property
    def name(self) -> str:  # what a TextIOWrapper around it is named
        return self._member.name

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._counted(self._member.read(-1 if size is None else size))

    def read1(self, size: int | None = -1) -> bytes:
        return self._counted(self._member.read1(-1 if size is None else size))

    def _counted(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise InvalidInput("file", "The zip is damaged: a member is larger than it says.")
        return data

    def close(self) -> None:
        self._member.close()
        self._archive.close()
        super().close()
