"""The learner picker's server-side search: a few matching students of the centre, by name
or email, for the scheduling form's type-to-search field (static/js/learner_picker.js).

Without JavaScript the form keeps its plain multi-select of every student.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import func, or_, select

from simdebrief.extensions import db
from simdebrief.models import Role, User
from simdebrief.web.sessions.routes import bp, planners_only

#: At most this many matches are sent; the person types more to narrow the list.
SEARCH_LIMIT = 20
MIN_QUERY, MAX_QUERY = 2, 100


def _like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching anywhere, with LIKE's own wildcards taken
    literally (escaped with a backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.get("/learners")
@planners_only
def search_learners():
    """JSON ``{"learners": [{id, name, email}], "more": bool}``: active students of the
    visitor's centre whose name or email contains what was typed (case-insensitive)."""
    # lower(), as the database folds the names it compares with (both engines alike).
    text = " ".join(request.args.get("q", "").split())[:MAX_QUERY].lower()
    if len(text) < MIN_QUERY or "\x00" in text:
        return jsonify(learners=[], more=False)
    pattern = _like_pattern(text)
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.centre_id == current_user.centre_id, User.role == Role.STUDENT,
               User.is_active_account.is_(True),
               or_(func.lower(User.name).like(pattern, escape="\\"),
                   func.lower(User.email).like(pattern, escape="\\")))
        .order_by(func.lower(User.name), User.id).limit(SEARCH_LIMIT + 1)).all()
    return jsonify(learners=[{"id": i, "name": name, "email": email}
                             for i, name, email in rows[:SEARCH_LIMIT]],
                   more=len(rows) > SEARCH_LIMIT)
