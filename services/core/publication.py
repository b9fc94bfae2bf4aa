"""The publication readers see: its name, site, logo, accent colour, sender name and
postal address, on every hosted page and in every mail.

One row (models/publication.py) that the owner edits in the console; the environment
(SITE_NAME, SITE_URL, MAIL_DEFAULT_SENDER) fills what the row leaves empty. Every page
and mail asks, so current() keeps what it read for a few seconds per process: a sign-up
costs no query for it, and a save reaches the other processes within that time.
"""

import re
import time
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import Row, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.publication import PUBLICATION_ROW_ID, PublicationSettings
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidInput
from services.core.origins import origin_of
from services.core.transactions import Executor, database_engine, in_a_write, write_transaction
from services.core.validation import clean_text

# What readers see when neither the console nor the environment names the publication.
FALLBACK_NAME = "Newsletter"
ACCENT_COLOUR = re.compile(r"#[0-9a-f]{6}")
LOGO_MAX_BYTES = 256 * 1024
# Raster images only, known by their first bytes: an SVG can carry script.
LOGO_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_CACHE_KEY = "roster.publication"


@dataclass(frozen=True)
class Publication:
    name: str
    site_url: str  # "" when none is known
    sender_name: str
    postal_address: str
    accent_colour: str  # #rrggbb, or "" for the stylesheet's own
    has_logo: bool
    version: int  # changes with every save: cache-busts the stylesheet and logo URLs

    @property
    def postal_lines(self) -> list[str]:
        return [line for line in self.postal_address.splitlines() if line.strip()]


@dataclass(frozen=True)
class PublicationFields:
    """What the owner types into the publication form, before cleaning."""

    name: str | None = ""
    site_url: str | None = ""
    sender_name: str | None = ""
    postal_address: str | None = ""
    accent_colour: str | None = ""


def _environment_sender_name() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[0].strip()


def _resolve(row: Row | None) -> Publication:
    """The settings from their row (the columns of _SELECT), with the environment's defaults."""
    config = current_app.config
    site_url = (row.site_url if row else "") or config.get("SITE_URL", "")
    name = (row.name if row else "") or config["SITE_NAME"] or FALLBACK_NAME
    # A name saved in the console outranks the environment's sender name, which may be a default.
    sender_name = (row.sender_name if row else "") or (row.name if row else "") or _environment_sender_name() or name
    return Publication(
        name=name, site_url=site_url, sender_name=sender_name,
        postal_address=row.postal_address if row else "",
        # Checked again on the way out: it goes into a stylesheet unescaped.
        accent_colour=row.accent_colour if row and ACCENT_COLOUR.fullmatch(row.accent_colour or "") else "",
        has_logo=bool(row and row.logo_content_type),
        version=row.version if row else 0,
    )


_COLUMNS = [c for c in PublicationSettings.__table__.c if c.name != "logo"]  # the logo's bytes stay put
_SELECT = select(*_COLUMNS).where(PublicationSettings.id == PUBLICATION_ROW_ID)


def _read(executor: Executor | None) -> Publication:
    if executor is not None:
        return _resolve(executor.execute(_SELECT).first())
    try:
        with database_engine().connect() as connection:
            return _resolve(connection.execute(_SELECT).first())
    except SQLAlchemyError as error:
        # Pages and the health check still answer (the database's own error shows there).
        current_app.logger.warning("publication settings unreadable: %s", error)
        return _resolve(None)


def current(executor: Executor | None = None) -> Publication:
    """The publication, as read at most PUBLICATION_CACHE_SECONDS ago by this process.
    A caller inside a write passes its connection or session (`executor`): a second
    connection there would wait on the pool while holding the write lock."""
    cached = current_app.extensions.get(_CACHE_KEY)
    now = time.monotonic()
    if cached is not None and (cached[0] > now or (executor is None and in_a_write())):
        return cached[1]
    found = _read(executor)
    current_app.extensions[_CACHE_KEY] = (now + current_app.config["PUBLICATION_CACHE_SECONDS"], found)
    return found


def forget_cached() -> None:
    current_app.extensions.pop(_CACHE_KEY, None)


def sender(default_sender: str) -> str:
    """The From header: the publication's sender name with the configured address."""
    address = parseaddr(default_sender)[1] or default_sender
    return formataddr((current().sender_name, address))


def stored_fields(session: Session) -> PublicationFields:
    """What the form shows: the saved values, empty where the environment's default applies."""
    row = session.get(PublicationSettings, PUBLICATION_ROW_ID)
    if row is None:
        return PublicationFields()
    return PublicationFields(row.name, row.site_url, row.sender_name, row.postal_address, row.accent_colour)


def logo(session: Session) -> tuple[bytes, str] | None:
    """The uploaded logo's bytes and content type, or None."""
    found = session.execute(select(PublicationSettings.logo, PublicationSettings.logo_content_type)
                               .where(PublicationSettings.id == PUBLICATION_ROW_ID)).first()
    return (found.logo, found.logo_content_type) if found and found.logo_content_type else None


def _clean_site_url(raw: str | None) -> str:
    value = (raw or "").strip()
    if not value:
        return ""
    if len(value) > 2000 or origin_of(value) is None:
        raise InvalidInput("site_url", "Enter the site's full address, starting with https://")
    return value


def _clean_accent(raw: str | None) -> str:
    value = (raw or "").strip().lower()
    if value and not ACCENT_COLOUR.fullmatch(value):
        raise InvalidInput("accent_colour", "Enter a colour as # and six hexadecimal digits, e.g. #9b1c1c.")
    return value


def logo_content_type(data: bytes) -> str:
    """The image type of an uploaded logo; InvalidInput unless it is a small raster image."""
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput("logo", f"The logo can be at most {LOGO_MAX_BYTES // 1024} KB.")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, content_type in LOGO_SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise InvalidInput("logo", "Upload the logo as a PNG, JPEG, GIF or WebP image.")


def _cleaned(fields: PublicationFields) -> dict:
    return {
        "name": clean_text(fields.name, field="name", label="Publication name", max_length=200),
        "site_url": _clean_site_url(fields.site_url),
        "sender_name": clean_text(fields.sender_name, field="sender_name", label="Sender name", max_length=200),
        "postal_address": clean_text(fields.postal_address, field="postal_address", label="Postal address",
                                     max_length=500, multiline=True),
        "accent_colour": _clean_accent(fields.accent_colour),
    }


def save(actor: Actor, fields: PublicationFields, *, logo_upload: bytes | None = None,
         remove_logo: bool = False) -> Publication:
    """Store the owner's settings (a new logo if one is given); audited."""
    values = _cleaned(fields)
    if logo_upload:
        values["logo_content_type"] = logo_content_type(logo_upload)
        values["logo"] = logo_upload
    elif remove_logo:
        values["logo_content_type"] = values["logo"] = None
    with write_transaction() as session:
        row = session.get(PublicationSettings, PUBLICATION_ROW_ID, with_for_update=True)
        if row is None:
            row = PublicationSettings(id=PUBLICATION_ROW_ID, version=0)
            session.add(row)
        changed = sorted(key for key, value in values.items() if getattr(row, key) != value)
        for key, value in values.items():
            setattr(row, key, value)
        row.version = (row.version or 0) + 1
        row.updated_at = utcnow()
        audit.record(session, actor, "publication.update", target="publication", details={"changed": changed})
    forget_cached()
    return current()
