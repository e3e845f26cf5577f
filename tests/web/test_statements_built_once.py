"""The hot pages' statements are built once per process and take each reader's values as
bound parameters. Readers taking turns in one process each see their own rows, in their own
language: nothing of one reader is kept in a statement another reader runs."""

from __future__ import annotations

from datetime import timedelta

import yaml

from simdebrief import scenarios
from simdebrief.extensions import db
from simdebrief.models import Centre, User
from simdebrief.services import scheduling
from tests.conftest import both_databases, client_for
from tests.web.test_debriefs import SCENARIO
from tests.web.test_scenario_language import danish_library, english, page, speaks

__all__ = ["danish_library"]  # a fixture, used by name

OTHER_SCENARIO = "patient-violence-self-blame"


def title_of(slug: str) -> str:
    path = scenarios.default_library_dir() / f"{slug}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["title"]


def schedule_for(app, people, clock, planning, *, slug: str, learner: str, hours: int) -> int:
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        change = scheduling.schedule_session(
            db.session, centre=centre, actor=instructor, now=clock.now(), confirmed=True,
            plan=scheduling.SessionPlan(
                scenario_version_id=planning.versions[slug],
                starts_at=clock.now() + timedelta(hours=hours),
                ends_at=clock.now() + timedelta(hours=hours + 2), room_id=planning.room_id,
                instructor_ids=(instructor.id,), student_ids=(people.ids[learner],)))
        db.session.commit()
        return change.session.id


def rows_of(listing: str) -> str:
    """The list's rows, without the filter form (which names every scenario)."""
    return listing.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


@both_databases
def test_learners_taking_turns_each_see_their_own_sessions(app, people, clock,
                                                           danish_library):
    """A learner's home names sessions by their time, never by scenario: each learner's
    links are their own session's, in their own language, turn after turn."""
    mine = schedule_for(app, people, clock, danish_library, slug=SCENARIO,
                        learner="student", hours=24)
    theirs = schedule_for(app, people, clock, danish_library, slug=OTHER_SCENARIO,
                          learner="student2", hours=48)
    speaks(app, people, "student", "da")
    danish, english_reader = (client_for(app, people, "student"),
                              client_for(app, people, "student2"))
    for _turn in range(2):
        home = page(danish, "/dashboard")
        assert "Dine næste sessioner" in home
        assert f"/sessions/{mine}" in home and f"/sessions/{theirs}" not in home
        home = page(english_reader, "/dashboard")
        assert "Your next sessions" in home
        assert f"/sessions/{theirs}" in home and f"/sessions/{mine}" not in home


@both_databases
def test_instructors_lists_follow_each_readers_filters_in_turn(app, people, clock,
                                                               danish_library):
    """The list is built once per shape of its filters; the values are each reader's."""
    schedule_for(app, people, clock, danish_library, slug=SCENARIO,
                 learner="student", hours=24)
    schedule_for(app, people, clock, danish_library, slug=OTHER_SCENARIO,
                 learner="student2", hours=48)
    instructor = client_for(app, people, "instructor")
    with app.app_context():
        from simdebrief.models import ScenarioVersion

        scenario_ids = {slug: db.session.get(ScenarioVersion, version).scenario_id
                        for slug, version in danish_library.versions.items()}
    for slug, shown, hidden in ((SCENARIO, english()["title"], title_of(OTHER_SCENARIO)),
                                (OTHER_SCENARIO, title_of(OTHER_SCENARIO), english()["title"])):
        rows = rows_of(page(instructor, f"/sessions/?scenario={scenario_ids[slug]}"))
        assert shown in rows and hidden not in rows
