"""Who may open which page: a matrix over every route and role, plus objects of another centre.

The matrix is built from the app's URL map, so a new route without an entry here fails.
Each entry gives the status each role gets for the route's own objects: 200 allowed, 403
wrong role, 404 not theirs. POST-only routes are checked for the refusals only, so the
matrix never changes state.
"""

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import (
    Centre,
    CentreStory,
    Cohort,
    FollowUp,
    NearPeerContact,
    OnDutyShift,
    OutboxEmail,
    Room,
    UrgentContact,
    User,
)
from simdebrief.models.followups import FollowUpStatus
from simdebrief.services import (
    checkins,
    debriefing,
    directory,
    notifications,
    scheduling,
    support,
)
from simdebrief.services.followups import learner_choices, plan_versions
from tests.conftest import client_for, sync_shipped_library

PUBLIC = "public"
ROLES = ("admin", "instructor", "student", "peer")


def only(*roles: str) -> dict[str, int]:
    return {role: 200 if role in roles else 403 for role in ROLES}


ANY_USER = only(*ROLES)
ADMIN = only("admin")
STAFF = only("admin", "instructor")
#: The session is visible to staff and its participant; a supporter does not know it exists.
SESSION_VIEW = {"admin": 200, "instructor": 200, "student": 200, "peer": 404}
SESSION_MANAGE = {"admin": 200, "instructor": 200, "student": 403, "peer": 404}
DEBRIEF_WRITE = {"admin": 403, "instructor": 200, "student": 403, "peer": 404}
DEBRIEF_LEARNER = {"admin": 404, "instructor": 404, "student": 200, "peer": 404}
LEARNER_OWN = only("student")
#: A learner's feedback document: that learner and the session's instructors, nobody else.
LEARNER_REPORT = {"admin": 404, "instructor": 200, "student": 200, "peer": 404}

ROUTE_ACCESS = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.request_reset": PUBLIC,
    "auth.reset_password": PUBLIC,
    "calendar.user_feed": PUBLIC,
    "calendar.room_feed": PUBLIC,
    "auth.logout": ANY_USER,
    "auth.change_password": ANY_USER,
    "main.dashboard": ANY_USER,
    "main.tier1_check": {"admin": 403, "instructor": 200, "student": 403, "peer": 404},
    "admin.users": ADMIN,
    "admin.invite_user": ADMIN,
    "admin.user_detail": ADMIN,
    "admin.set_user_active": ADMIN,
    "admin.resend_invitation": ADMIN,
    "admin.cohorts": ADMIN,
    "admin.cohort_detail": ADMIN,
    "admin.add_cohort_student": ADMIN,
    "admin.remove_cohort_student": ADMIN,
    "admin.import_cohort_students": ADMIN,
    "admin.rooms": ADMIN,
    "admin.room_detail": ADMIN,
    "admin.centre_settings": ADMIN,
    "admin.urgent_contacts": ADMIN,
    "admin.delete_urgent_contact": ADMIN,
    "admin.delete_shift": ADMIN,
    "admin.stories_page": ADMIN,
    "admin.delete_story": ADMIN,
    "admin.delete_near_peer": ADMIN,
    "admin.outbox": ADMIN,
    "admin.outbox_email": ADMIN,
    "admin.retry_outbox_email": ADMIN,
    "calendar.week": STAFF,
    "calendar.month": STAFF,
    "calendar.my_sessions": only("student"),
    "calendar.feeds": ANY_USER,
    "calendar.reset_feed": ANY_USER,
    "calendar.reset_room_feed": ADMIN,
    "scenarios.index": STAFF,
    "scenarios.detail": STAFF,
    "scenarios.version": STAFF,
    "scenarios.print_view": STAFF,
    "sessions.index": STAFF,
    "sessions.new": STAFF,
    "sessions.detail": SESSION_VIEW,
    "sessions.ics": SESSION_VIEW,
    "sessions.edit": SESSION_MANAGE,
    "sessions.cancel": SESSION_MANAGE,
    "sessions.attendance": SESSION_MANAGE,
    "debriefs.edit": DEBRIEF_WRITE,
    "debriefs.start": DEBRIEF_WRITE,
    "debriefs.save": DEBRIEF_WRITE,
    "debriefs.analysis": DEBRIEF_WRITE,
    "debriefs.analysis_item": DEBRIEF_WRITE,
    "debriefs.delete_analysis_item": DEBRIEF_WRITE,
    "debriefs.factors": DEBRIEF_WRITE,
    "debriefs.add_factor": DEBRIEF_WRITE,
    "debriefs.delete_problem": DEBRIEF_WRITE,
    "debriefs.delete_factor": DEBRIEF_WRITE,
    "debriefs.suggest_factors": DEBRIEF_WRITE,
    "debriefs.feedback": DEBRIEF_WRITE,
    "debriefs.feedback_overview": DEBRIEF_WRITE,
    "debriefs.finalise": DEBRIEF_WRITE,
    "debriefs.amend": DEBRIEF_WRITE,
    "debriefs.mine": DEBRIEF_LEARNER,
    "debriefs.rate": DEBRIEF_LEARNER,
    # A learner's check-ins and requests are theirs alone: staff are refused by role.
    "learner.check_in": LEARNER_OWN,
    "learner.check_ins": only("student"),
    "learner.check_in_detail": LEARNER_OWN,
    "learner.request_support": only("student"),
    "learner.support_requests": only("student"),
    "learner.support_request": LEARNER_OWN,
    "learner.withdraw_support_request": LEARNER_OWN,
    "learner.urgent_request": only("student"),
    "support.queue": only("peer"),
    "support.detail": only("peer"),
    "support.take": only("peer"),
    "support.contacted": only("peer"),
    "support.refer": only("peer"),
    "support.close": only("peer"),
    "support.availability": only("peer"),
    "reports.learner_page": LEARNER_REPORT,
    "reports.learner_pdf": LEARNER_REPORT,
    "reports.summary_pdf": {"admin": 404, "instructor": 200, "student": 404, "peer": 404},
    "reports.progress": only("student"),
    "reports.progress_pdf": only("student"),
    # Follow-ups: a signed link is its own key; everything else needs the right login.
    "followups.stage_by_link": PUBLIC,
    "followups.link_choice": PUBLIC,
    "followups.link_support": PUBLIC,
    "followups.link_urgent": PUBLIC,
    "followups.link_decline_conversation": PUBLIC,
    "followups.decline_conversation": only("student"),
    "followups.mine": only("student"),
    "followups.stage": only("student"),
    "followups.choose": only("student"),
    "followups.start_track": only("student"),
    "followups.track": only("student"),
    "followups.end_track": only("student"),
    "followups.completion": STAFF,
    "followups.plans": ADMIN,
    "followups.edit_plan": ADMIN,
    "followups.analytics": ADMIN,
}


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
            contact = UrgentContact(centre_id=centre.id, name=f"Line {label}",
                                    phone="70 201 201", opening_hours="Day and night")
            shift = OnDutyShift(centre_id=centre.id, supporter_id=people.ids["professional"],
                                starts_at=clock.now(), ends_at=clock.now() + timedelta(hours=8))
            story = CentreStory(centre_id=centre.id, title=f"Story {label}", text="It passed.",
                                author_description="a nurse", consent_confirmed_at=clock.now())
            peer = NearPeerContact(centre_id=centre.id, name=f"Peer {label}",
                                   description="resident", how_to_reach="r@example.org",
                                   consent_confirmed_at=clock.now())
            db.session.add_all([contact, shift, story, peer])
            db.session.flush()
            ids[label] = {"cohort_id": cohort.id, "room_id": room.id, "email_id": email.id,
                          "slug": "ward-handover-omission", "number": 1,
                          "contact_id": contact.id, "shift_id": shift.id,
                          "story_id": story.id, "peer_id": peer.id}
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
        first_stage = db.session.scalars(select(FollowUp).where(
            FollowUp.session_id == running.session.id, FollowUp.user_id == student)
            .order_by(FollowUp.due_at)).first()
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


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTE_ACCESS), (
        f"missing: {endpoints - set(ROUTE_ACCESS)}, stale: {set(ROUTE_ACCESS) - endpoints}")


def test_role_matrix(app, people, objects):
    clients = {key: client_for(app, people, key) for key in ROLES}
    anonymous = app.test_client()
    for rule in app.url_map.iter_rules():
        access = ROUTE_ACCESS[rule.endpoint]
        url = build_url(app, rule, objects["mine"])
        method = "GET" if "GET" in rule.methods else "POST"
        response = anonymous.open(url, method=method)
        response.close()
        if access == PUBLIC:
            assert response.status_code != 403, url
            continue
        assert response.status_code in (302, 303), (url, response.status_code)
        assert "/login" in response.headers["Location"]
        for key, client in clients.items():
            expected = access[key]
            if method == "POST" and expected == 200:
                continue  # the matrix never changes state
            status = client.open(url, method=method).status_code
            assert status == expected, (key, method, url, status, expected)


@pytest.mark.parametrize("endpoint", [
    "admin.user_detail", "admin.cohort_detail", "admin.room_detail", "admin.outbox_email"])
def test_objects_of_another_centre_are_not_found(app, people, objects, endpoint):
    admin = client_for(app, people, "admin")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    assert admin.get(build_url(app, rule, objects["mine"])).status_code == 200
    response = admin.get(build_url(app, rule, objects["other"]))
    assert response.status_code == 404
    assert "Cohort other" not in response.get_data(as_text=True)


def test_sessions_and_debriefs_of_another_centre_are_not_found(app, people, objects):
    mine = objects["mine"]
    for key in ("other_admin", "other_student"):
        client = client_for(app, people, key)
        for path in (f"/sessions/{mine['session_id']}",
                     f"/sessions/{mine['session_id']}.ics",
                     f"/sessions/{mine['debrief_session_id']}/debrief",
                     f"/sessions/{mine['debrief_session_id']}/debrief/mine"):
            assert client.get(path).status_code == 404, (key, path)


def test_other_centre_cannot_change_our_objects(app, people, objects):
    other_admin = client_for(app, people, "other_admin")
    mine = objects["mine"]
    assert other_admin.post(f"/admin/users/{mine['user_id']}/active",
                            data={"active": "0"}).status_code == 404
    assert other_admin.post(f"/admin/cohorts/{mine['cohort_id']}/students/"
                            f"{mine['user_id']}/remove").status_code == 404
    assert other_admin.post(f"/admin/outbox/{mine['email_id']}/retry").status_code == 404
    assert other_admin.post(f"/sessions/{mine['session_id']}/cancel",
                            data={"reason": "x"}).status_code == 404
    listing = other_admin.get("/admin/cohorts").get_data(as_text=True)
    assert "Cohort mine" not in listing and "Cohort other" in listing
    with app.app_context():
        assert db.session.scalar(select(Room).where(Room.id == mine["room_id"])).name == \
            "Room mine"
        assert db.session.get(Cohort, mine["cohort_id"]) is not None
        assert db.session.get(OutboxEmail, mine["email_id"]).attempts == 0


def test_wrong_role_sees_a_helpful_403_page(app, people):
    student = client_for(app, people, "student")
    response = student.get("/admin/users")
    assert response.status_code == 403
    assert "Your role does not include this page" in response.get_data(as_text=True)


def test_unknown_page_is_a_404_page(app, people):
    response = client_for(app, people, "student").get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
