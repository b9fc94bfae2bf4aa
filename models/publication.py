"""The publisher's own settings: the name, site, logo, colour, sender and postal address
readers see on every hosted page and mail. One row; environment values fill the gaps."""

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# The only row's id: the table holds one publication.
PUBLICATION_ROW_ID = 1


class PublicationSettings(Base):
    __tablename__ = "publication_settings"
    __table_args__ = (CheckConstraint(f"id = {PUBLICATION_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty: the environment's default (SITE_NAME, SITE_URL, MAIL_DEFAULT_SENDER's name).
    name: Mapped[str] = mapped_column(String(200), default="")
    site_url: Mapped[str] = mapped_column(String(2000), default="")
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    # The physical address commercial mail must carry (CAN-SPAM), shown in every mail's footer.
    postal_address: Mapped[str] = mapped_column(Text, default="")
    # #rrggbb, validated before it is stored; empty: the stylesheet's own colour.
    accent_colour: Mapped[str] = mapped_column(String(7), default="")
    # An uploaded raster image (PNG, JPEG, GIF or WebP), served by Roster itself.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_content_type: Mapped[str | None] = mapped_column(String(40))
    # Bumped by every save: pages put it in the stylesheet's and logo's URLs, so caches refresh.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
