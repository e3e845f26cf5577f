"""Real stories and near-peer contacts a centre shares, each only with the person's consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simdebrief.errors import InvalidInput
from simdebrief.languages import gettext as _
from simdebrief.models import Centre, CentreStory, NearPeerContact, User
from simdebrief.services import audit

STORY_MAX = 8000


def _text(value: str | None, field: str, limit: int, errors: dict, *, required=True) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        errors[field] = [_("This field contains a character that is not allowed.")]
    elif required and not text:
        errors[field] = [_("Please fill this in.")]
    elif len(text) > limit:
        errors[field] = [_("Please keep it under %(count)d characters.", count=limit)]
    return text


def add_story(session: Session, *, centre: Centre, actor: User, title: str, text: str,
              author_description: str, consent: bool, now: datetime) -> CentreStory:
    """A real story; refused without the admin's confirmation of the author's consent."""
    errors: dict[str, list[str]] = {}
    title = _text(title, "title", 200, errors)
    body = _text(text, "text", STORY_MAX, errors)
    author = _text(author_description, "author_description", 200, errors)
    if not consent:
        errors["consent"] = [_("Real stories can only be shared with the author's consent. "
                               "Confirm that you have it.")]
    if errors:
        raise InvalidInput(errors)
    story = CentreStory(centre_id=centre.id, title=title, text=body,
                        author_description=author, consent_confirmed_at=now,
                        added_by_id=actor.id, position=len(stories_of(session, centre)))
    session.add(story)
    session.flush()
    audit.record(session, action="centre_story.added", actor=actor, now=now,
                 object_type="centre_story", object_id=story.id)
    return story


def add_near_peer(session: Session, *, centre: Centre, actor: User, name: str,
                  description: str, how_to_reach: str, consent: bool,
                  now: datetime) -> NearPeerContact:
    errors: dict[str, list[str]] = {}
    name = _text(name, "name", 200, errors)
    description = _text(description, "description", 300, errors)
    reach = _text(how_to_reach, "how_to_reach", 200, errors)
    if not consent:
        errors["consent"] = [_("List someone only after they agreed to be contacted. Confirm "
                               "that they did.")]
    if errors:
        raise InvalidInput(errors)
    contact = NearPeerContact(centre_id=centre.id, name=name, description=description,
                              how_to_reach=reach, consent_confirmed_at=now)
    session.add(contact)
    session.flush()
    audit.record(session, action="near_peer_contact.added", actor=actor, now=now,
                 object_type="near_peer_contact", object_id=contact.id)
    return contact


def remove(session: Session, *, item: CentreStory | NearPeerContact, actor: User,
           now: datetime) -> None:
    audit.record(session, action=f"{item.__tablename__}.removed", actor=actor, now=now,
                 object_type=item.__tablename__, object_id=item.id)
    session.delete(item)
    session.flush()


def stories_of(session: Session, centre: Centre) -> list[CentreStory]:
    return list(session.scalars(select(CentreStory).where(CentreStory.centre_id == centre.id)
                                .order_by(CentreStory.position, CentreStory.id)))


def near_peers_of(session: Session, centre: Centre) -> list[NearPeerContact]:
    return list(session.scalars(select(NearPeerContact)
                                .where(NearPeerContact.centre_id == centre.id)
                                .order_by(NearPeerContact.name, NearPeerContact.id)))


@dataclass(frozen=True)
class Shared:
    stories: list[CentreStory]
    near_peers: list[NearPeerContact]


def shared_with_learners(session: Session, centre: Centre) -> Shared:
    return Shared(stories_of(session, centre), near_peers_of(session, centre))
