"""Fixtures shared by the web tests: objects of every kind, in our centre and another."""

from datetime import timedelta

import pytest
from flask import url_for

from simdebrief.extensions import db
from simdebrief.models import Centre, User
from simdebrief.models.followups import FollowUpStatus
from simdebrief.services import (
    checkins,
    debriefing,
    directory,
    notifications,
    scheduling,
    support,
)
from simdebrief.services.followups import enrolment, learner_choices, plan_versions
from tests.conftest import sync_shipped_library


@pytest.fixture
def objects(app, people, clock):
    """Objects of each kind in the seeded centre, and the same kinds in the other centre."""
    versions = sync_shipped_library(app, clock.now())
    ids = {}
    with app.app_context():
        for label, centre_id in (("mine", people.centre_id), ("other", people.other_centre_id)):
            centre = db.session.get(Centre, centre_id)
            cohort = directory.create_cohort(db.session, centre=centre, name=f"Cohort {label}")
            room = directory.create_room(db.session, centre=centre, name=f"Room {label}",
                                         capacity=6)
            email = notifications.enqueue_email(
                db.session, key=f"test:{label}", to="x@example.org", subject="Hello",
                body="Hi", now=clock.now(), mail_from="a@example.org", centre_id=centre.id)
            ids[label] = {"cohort_id": cohort.id, "room_id": room.id, "email_id": email.id,
                          "slug": "ward-handover-omission", "number": 1}
        centre = db.session.get(Centre, people.centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        student = people.ids["student"]

        def plan(hours: int) -> scheduling.SessionPlan:
            return scheduling.SessionPlan(
                scenario_version_id=versions["ward-handover-omission"],
                starts_at=clock.now() + timedelta(hours=hours),
                ends_at=clock.now() + timedelta(hours=hours + 2),
                room_id=ids["mine"]["room_id"], instructor_ids=(instructor.id,),
                student_ids=(student,))

        upcoming = scheduling.schedule_session(db.session, centre=centre, actor=instructor,
                                               plan=plan(72), now=clock.now(), confirmed=True)
        running = scheduling.schedule_session(db.session, centre=centre, actor=instructor,
                                              plan=plan(1), now=clock.now(), confirmed=True)
        scheduling.start_session(db.session, sim_session=running.session, actor=instructor,
                                 present_ids={student}, now=clock.now())
        debrief = debriefing.start_debrief(db.session, sim_session=running.session,
                                           actor=instructor, now=clock.now())
        debriefing.suggest_expected_factors(db.session, debrief=debrief, actor=instructor,
                                            now=clock.now())
        item = debriefing.add_analysis_item(
            db.session, debrief=debrief, actor=instructor, now=clock.now(),
            data=debriefing.AnalysisInput("plus", "teamwork", "self_assessment", "Good"))
        debrief.take_home_messages = "Say it out loud."
        debriefing.finalise(db.session, debrief=debrief, actor=instructor, now=clock.now())
        problem = debrief.problems[0]
        learner = db.session.get(User, student)
        first_stage = enrolment.schedule_for_debrief(db.session, debrief, clock.now())[0]
        first_stage.status = FollowUpStatus.SENT
        first_stage.sent_at = clock.now()
        track = learner_choices.start_track(db.session, user=learner, kind="complaint",
                                      now=clock.now())
        plan = plan_versions.ensure_plans(db.session, centre, clock.now())[0]
        checkin = checkins.submit_checkin(
            db.session, user=learner, sim_session=running.session, now=clock.now(),
            answers=checkins.Answers(distress=5, symptoms=["guilt"], coping=[],
                                     support_wanted=["talk_to_peer"], free_text="private"))
        request = support.create_request(db.session, learner=learner, tier="peer",
                                         now=clock.now(), sim_session=running.session,
                                         checkin=checkin, message="Can we talk?")
        ids["mine"].update(session_id=upcoming.session.id, debrief_session_id=running.session.id,
                           item_id=item.id, problem_id=problem.id,
                           factor_id=problem.factors[0].id, learner_id=student,
                           checkin_id=checkin.id, request_id=request.id,
                           followup_id=first_stage.id, track_id=track.id, plan_id=plan.id)
        db.session.commit()
    ids["mine"]["user_id"] = people.ids["student2"]
    ids["other"]["user_id"] = people.ids["other_student"]
    return ids


def build_url(app, rule, values):
    arguments = {name: values.get(name, "token") for name in rule.arguments}
    if rule.endpoint == "static":
        arguments = {"filename": "css/app.css"}
    if rule.endpoint.startswith(("debriefs.", "learner.", "reports.")):
        arguments["session_id"] = values["debrief_session_id"]
    with app.test_request_context():
        return url_for(rule.endpoint, **arguments)
