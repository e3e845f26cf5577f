"""Loading objects for views: fetched with what the page needs, or 404 for whoever may not see it.

Shared by the blueprints, so that none of them imports another's routes.
"""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from simdebrief import policy
from simdebrief.extensions import db
from simdebrief.models import ScenarioVersion, SimSession
from simdebrief.scenario_translations import current_language


def scenario_title_only(language: str | None = None) -> _AbstractLoad:
    """For lists of sessions: the scenario's title in the viewer's language (or
    ``language``, for a statement built once per language), read by SQL, so the version's
    document (the largest column of the database) stays unloaded."""
    return (joinedload(SimSession.scenario_version).load_only(ScenarioVersion.title)
            .with_expression(ScenarioVersion.loaded_title,
                             ScenarioVersion.title_expression(language or current_language())))


def visible_session(session_id: int) -> SimSession:
    """The session with its people, if the current user may see it; else NotFound."""
    sim_session = db.session.scalar(
        select(SimSession).where(SimSession.id == session_id)
        .options(selectinload(SimSession.instructors), selectinload(SimSession.participants)))
    return policy.require_object(sim_session, lambda s: policy.may_view_session(current_user, s))
