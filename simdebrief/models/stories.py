"""Stories a centre shares with learners, and experienced colleagues learners may contact.

Teaching stories shipped with scenarios and lessons are composites and are labelled so. A
centre may add real stories only with the author's consent, and a list of near-peers (a few
steps ahead of the learners) who agreed to be contacted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from simdebrief.models.base import Base, UTCDateTime


class CentreStory(Base):
    """A real story from someone at or near the centre, shared with their written consent."""

    __tablename__ = "centre_story"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"),
                                           index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    #: How the author is described to learners, e.g. "a nurse, ten years after graduating".
    author_description: Mapped[str] = mapped_column(String(200))
    #: When the admin confirmed the author's consent to share it (required).
    consent_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class NearPeerContact(Base):
    """An experienced colleague who agreed that learners may contact them."""

    __tablename__ = "near_peer_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Who they are, e.g. "Resident in anaesthesia, happy to talk about a first death".
    description: Mapped[str] = mapped_column(String(300))
    #: How to reach them (an email address or a phone number), as they agreed.
    how_to_reach: Mapped[str] = mapped_column(String(200))
    consent_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
