"""Fixtures shared by the web tests: objects of every kind, in our centre and another."""

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import (
    Centre,
    CentreStory,
    FollowUp,
    NearPeerContact,
    OnDutyShift,
    Role,
    UrgentContact,
    User,
)
from simdebrief.models.followups import FollowUpStatus
from simdebrief.services import (
    accounts,
    checkins,
    debrief_factors,
    debriefing,
    directory,
    notifications,
    scheduling,
    support,
)
from simdebrief.services.followups import learner_choices, plan_versions
from tests.conftest import PASSWORD, sync_shipped_library


def build_world(*, label: str, centre: Centre, instructor: User, learner: User,
                versions: dict[str, int], now, upcoming_hours: int) -> dict:
    """One of each object in a centre: a cohort, a room, an email, an upcoming session, a
    finalised debrief with its items, factors and follow-ups, and the learner's check-in,
    request to talk and complaint track."""
    cohort = directory.create_cohort(db.session, centre=centre, name=f"Cohort {label}")
    room = directory.create_room(db.session, centre=centre, name=f"Room {label}", capacity=6)
    email = notifications.enqueue_email(
        db.session, key=f"test:{label}", to="x@example.org", subject="Hello", body="Hi",
        now=now, mail_from="a@example.org", centre_id=centre.id)

    def plan(hours: int) -> scheduling.SessionPlan:
        return scheduling.SessionPlan(
            scenario_version_id=versions["ward-handover-omission"],
            starts_at=now + timedelta(hours=hours), ends_at=now + timedelta(hours=hours + 2),
            room_id=room.id, instructor_ids=(instructor.id,), student_ids=(learner.id,))

    upcoming = scheduling.schedule_session(db.session, centre=centre, actor=instructor,
                                           plan=plan(upcoming_hours), now=now, confirmed=True)
    running = scheduling.schedule_session(db.session, centre=centre, actor=instructor,
                                          plan=plan(1), now=now, confirmed=True)
    scheduling.start_session(db.session, sim_session=running.session, actor=instructor,
                             present_ids={learner.id}, now=now)
    debrief = debriefing.start_debrief(db.session, sim_session=running.session,
                                       actor=instructor, now=now)
    debrief_factors.suggest_expected_factors(db.session, debrief=debrief, actor=instructor, now=now)
    item = debrief_factors.add_analysis_item(
        db.session, debrief=debrief, actor=instructor, now=now,
        data=debrief_factors.AnalysisInput("plus", "teamwork", "self_assessment", "Good"))
    debrief.take_home_messages = "Say it out loud."
    debriefing.finalise(db.session, debrief=debrief, actor=instructor, now=now)
    problem = debrief.problems[0]
    first_stage = db.session.scalars(select(FollowUp).where(
        FollowUp.session_id == running.session.id, FollowUp.user_id == learner.id)
        .order_by(FollowUp.due_at)).first()  # finalising scheduled the follow-ups
    first_stage.status = FollowUpStatus.SENT
    first_stage.sent_at = now
    track = learner_choices.start_track(db.session, user=learner, kind="complaint", now=now)
    followup_plan = plan_versions.ensure_plans(db.session, centre, now)[0]
    checkin = checkins.submit_checkin(
        db.session, user=learner, sim_session=running.session, now=now,
        answers=checkins.Answers(distress=5, symptoms=["guilt"], coping=[],
                                 support_wanted=["talk_to_peer"], free_text="private"))
    request = support.create_request(db.session, learner=learner, tier="peer", now=now,
                                     sim_session=running.session, checkin=checkin,
                                     message="Can we talk?")
    contact = UrgentContact(centre_id=centre.id, name=f"Line {label}", phone="70 201 201",
                            opening_hours="Day and night")
    shift = OnDutyShift(centre_id=centre.id, supporter_id=instructor.id, starts_at=now,
                        ends_at=now + timedelta(hours=8))
    story = CentreStory(centre_id=centre.id, title=f"Story {label}", text="It passed.",
                        author_description="a nurse", consent_confirmed_at=now)
    near_peer = NearPeerContact(centre_id=centre.id, name=f"Peer {label}",
                                description="resident", how_to_reach="r@example.org",
                                consent_confirmed_at=now)
    db.session.add_all([contact, shift, story, near_peer])
    db.session.flush()
    return {"contact_id": contact.id, "shift_id": shift.id, "story_id": story.id,
            "peer_id": near_peer.id,
            "cohort_id": cohort.id, "room_id": room.id, "email_id": email.id,
            "slug": "ward-handover-omission", "number": 1, "session_id": upcoming.session.id,
            "debrief_session_id": running.session.id, "item_id": item.id,
            "problem_id": problem.id, "factor_id": problem.factors[0].id,
            "learner_id": learner.id, "checkin_id": checkin.id, "request_id": request.id,
            "followup_id": first_stage.id, "track_id": track.id, "plan_id": followup_plan.id}


@pytest.fixture
def objects(app, people, clock):
    """Objects of every kind three times: the seeded student's own ("mine"), another
    student's in the same centre ("person") and another centre's ("other")."""
    versions = sync_shipped_library(app, clock.now())
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        other_centre = db.session.get(Centre, people.other_centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        other_instructor = accounts.create_user(
            db.session, centre=other_centre, now=clock.now(), password=PASSWORD,
            data=accounts.NewUser("other_instructor@example.org", "Ole Elsewhere",
                                  Role.INSTRUCTOR))
        ids = {
            "mine": build_world(label="mine", centre=centre, instructor=instructor,
                                learner=db.session.get(User, people.ids["student"]),
                                versions=versions, now=clock.now(), upcoming_hours=72),
            "person": build_world(label="person", centre=centre, instructor=instructor,
                                  learner=db.session.get(User, people.ids["student2"]),
                                  versions=versions, now=clock.now(), upcoming_hours=120),
            "other": build_world(label="other", centre=other_centre,
                                 instructor=other_instructor,
                                 learner=db.session.get(User, people.ids["other_student"]),
                                 versions=versions, now=clock.now(), upcoming_hours=72),
        }
        db.session.commit()
    ids["versions"] = versions
    ids["mine"]["user_id"] = ids["person"]["user_id"] = people.ids["student2"]
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
