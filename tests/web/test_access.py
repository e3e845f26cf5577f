"""Who may open which page: a matrix over every route, every role and three kinds of object.

The matrix is built from the app's URL map, so a new route without an entry here fails.
Each entry gives the status each role gets (200 allowed, 403 wrong role, 404 not theirs,
302 sent on) for the route's objects in three variants: the seeded student's own ("mine"),
another student's in the same centre ("person"), and another centre's ("other"). Anonymous
visitors are sent to the login page from every route that is not public. POST routes are
checked for the refusals only, so the matrix never changes state.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import Cohort, OutboxEmail, Room
from tests.conftest import client_for
from tests.web.conftest import build_url

PUBLIC = "public"
ROLES = ("admin", "instructor", "student", "peer", "professional")
VARIANTS = ("mine", "person", "other")


def only(*roles: str) -> dict[str, int]:
    return {role: 200 if role in roles else 403 for role in ROLES}


ANY_USER = only(*ROLES)
ADMIN = only("admin")
STAFF = only("admin", "instructor")
#: The session is visible to staff and its participant; a supporter does not know it exists.
SESSION_VIEW = {"admin": 200, "instructor": 200, "student": 200, "peer": 404,
                "professional": 404}
SESSION_MANAGE = {"admin": 200, "instructor": 200, "student": 403, "peer": 404,
                  "professional": 404}
DEBRIEF_WRITE = {"admin": 403, "instructor": 200, "student": 403, "peer": 404,
                 "professional": 404}
DEBRIEF_LEARNER = {"admin": 404, "instructor": 404, "student": 200, "peer": 404,
                   "professional": 404}
LEARNER_OWN = only("student")
#: A learner's feedback document: that learner and the session's instructors, nobody else.
LEARNER_REPORT = {"admin": 404, "instructor": 200, "student": 200, "peer": 404,
                  "professional": 404}
#: Supporters of both tiers have a queue; a request goes to the tier the learner chose
#: (here: peer), so a professional does not find it.
SUPPORT = only("peer", "professional")
SUPPORT_ITEM = {**only("peer"), "professional": 404}

#: Variant rules: SAME statuses as for one's own objects; HIDDEN (404) from those who
#: could reach their own while a role refused before the lookup stays 403; NOT_FOUND for
#: everyone (the object is looked up before the role is checked, so its existence is not
#: revealed); NOT_THE_STUDENTS: 404 for the student, as before for staff of the centre.
SAME, HIDDEN, NOT_FOUND, NOT_THE_STUDENTS = "same", "hidden", "not found", "not the student's"


@dataclass(frozen=True)
class Access:
    mine: dict[str, int]
    #: None: the route has no object that could be someone else's.
    person: str | dict[str, int] | None = SAME
    other: str | dict[str, int] | None = HIDDEN

    def expected(self, variant: str) -> dict[str, int] | None:
        rule = {"mine": self.mine, "person": self.person, "other": self.other}[variant]
        if rule is None or isinstance(rule, dict):
            return rule
        if rule == SAME:
            return self.mine
        if rule == HIDDEN:
            return {role: 403 if status == 403 else 404 for role, status in self.mine.items()}
        if rule == NOT_FOUND:
            return dict.fromkeys(self.mine, 404)
        return {role: 404 if role == "student" else status for role, status in self.mine.items()}


def listing(statuses: dict[str, int]) -> Access:
    """A page without an object in its URL: the variants do not apply."""
    return Access(statuses, person=None, other=None)


def learners(statuses: dict[str, int]) -> Access:
    """A learner's own object: another learner's is not found; another centre's neither."""
    return Access(statuses, person=NOT_THE_STUDENTS)


def session_bound(statuses: dict[str, int]) -> Access:
    """Under /sessions/<id>: the session is looked up first, so a student who is not in it
    and anyone of another centre find nothing, whatever their role."""
    return Access(statuses, person=NOT_THE_STUDENTS, other=NOT_FOUND)

ROUTE_ACCESS = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.health": PUBLIC,
    "main.favicon": PUBLIC,
    "auth.login": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.request_reset": PUBLIC,
    "auth.reset_password": PUBLIC,
    "calendar.user_feed": PUBLIC,
    "calendar.room_feed": PUBLIC,
    "auth.logout": listing(ANY_USER),
    # A login whose code has passed is sent straight on from the code page.
    "auth.second_factor": listing({role: 302 for role in ROLES}),
    "auth.two_factor_setup": listing(ANY_USER),
    "auth.two_factor_settings": listing(ANY_USER),
    "auth.change_password": listing(ANY_USER),
    "auth.account": listing(ANY_USER),
    "main.dashboard": listing(ANY_USER),
    # The instructor's tier-1 tick for a learner of a session they taught.
    "main.tier1_check": session_bound({"admin": 403, "instructor": 200, "student": 403,
                                       "peer": 404, "professional": 404}),
    "admin.users": listing(ADMIN),
    "admin.invite_user": listing(ADMIN),
    "admin.user_detail": Access(ADMIN),
    "admin.set_user_active": Access(ADMIN),
    "admin.resend_invitation": Access(ADMIN),
    "admin.reset_two_factor": Access(ADMIN),
    "admin.cohorts": listing(ADMIN),
    "admin.cohort_detail": Access(ADMIN),
    "admin.add_cohort_student": Access(ADMIN),
    "admin.remove_cohort_student": Access(ADMIN),
    "admin.import_cohort_students": Access(ADMIN),
    "admin.rooms": listing(ADMIN),
    "admin.room_detail": Access(ADMIN),
    "admin.centre_settings": listing(ADMIN),
    "admin.outbox": listing(ADMIN),
    "admin.outbox_email": Access(ADMIN),
    "admin.retry_outbox_email": Access(ADMIN),
    "admin.erasure_requests": listing(ADMIN),
    "admin.erase_user": Access(ADMIN),
    "admin.audit_log": listing(ADMIN),
    "admin.urgent_contacts": listing(ADMIN),
    "admin.delete_urgent_contact": Access(ADMIN),
    "admin.delete_shift": Access(ADMIN),
    "admin.stories_page": listing(ADMIN),
    "admin.delete_story": Access(ADMIN),
    "admin.delete_near_peer": Access(ADMIN),
    "calendar.week": listing(STAFF),
    "calendar.month": listing(STAFF),
    "calendar.room_week": listing(STAFF),
    "calendar.my_sessions": listing(only("student")),
    "calendar.feeds": listing(ANY_USER),
    "calendar.reset_feed": listing(ANY_USER),
    "calendar.reset_room_feed": Access(ADMIN),
    # The scenario library is shared by every centre.
    "scenarios.index": listing(STAFF),
    "scenarios.detail": listing(STAFF),
    "scenarios.version": listing(STAFF),
    "scenarios.print_view": listing(STAFF),
    "sessions.index": listing(STAFF),
    "sessions.new": listing(STAFF),
    # The learner search answers with this centre's students only (test_learner_picker).
    "sessions.search_learners": listing(STAFF),
    # A student sees the sessions they take part in, not a classmate's; staff of another
    # centre find nothing under /sessions/<id>, whatever their role.
    "sessions.detail": session_bound(SESSION_VIEW),
    "sessions.ics": session_bound(SESSION_VIEW),
    "sessions.edit": session_bound(SESSION_MANAGE),
    "sessions.cancel": session_bound(SESSION_MANAGE),
    "sessions.attendance": session_bound(SESSION_MANAGE),
    "debriefs.edit": session_bound(DEBRIEF_WRITE),
    "debriefs.start": session_bound(DEBRIEF_WRITE),
    "debriefs.save": session_bound(DEBRIEF_WRITE),
    "debriefs.analysis": session_bound(DEBRIEF_WRITE),
    "debriefs.analysis_item": session_bound(DEBRIEF_WRITE),
    "debriefs.delete_analysis_item": session_bound(DEBRIEF_WRITE),
    "debriefs.factors": session_bound(DEBRIEF_WRITE),
    "debriefs.add_factor": session_bound(DEBRIEF_WRITE),
    "debriefs.delete_problem": session_bound(DEBRIEF_WRITE),
    "debriefs.delete_factor": session_bound(DEBRIEF_WRITE),
    "debriefs.suggest_factors": session_bound(DEBRIEF_WRITE),
    "debriefs.feedback": session_bound(DEBRIEF_WRITE),
    "debriefs.feedback_overview": session_bound(DEBRIEF_WRITE),
    "debriefs.finalise": session_bound(DEBRIEF_WRITE),
    "debriefs.confirm_finalise": session_bound(DEBRIEF_WRITE),
    "debriefs.objectives": session_bound(DEBRIEF_WRITE),
    "debriefs.phase_times": session_bound(DEBRIEF_WRITE),
    "debriefs.mark_phase": session_bound(DEBRIEF_WRITE),
    "debriefs.roles": session_bound(DEBRIEF_WRITE),
    "debriefs.edit_factor": session_bound(DEBRIEF_WRITE),
    "debriefs.factor_discussed": session_bound(DEBRIEF_WRITE),
    "debriefs.classify_problem": session_bound(DEBRIEF_WRITE),
    "debriefs.amend": session_bound(DEBRIEF_WRITE),
    "debriefs.mine": session_bound(DEBRIEF_LEARNER),
    "debriefs.rate": session_bound(DEBRIEF_LEARNER),
    # A learner's check-ins and requests are theirs alone: staff are refused by role.
    "learner.check_in": learners(LEARNER_OWN),
    "learner.check_ins": listing(only("student")),
    "learner.check_in_detail": learners(LEARNER_OWN),
    "learner.request_support": listing(only("student")),
    "learner.support_requests": listing(only("student")),
    "learner.support_request": learners(LEARNER_OWN),
    "learner.withdraw_support_request": learners(LEARNER_OWN),
    # A learner's own data: the copy, deleting it, asking for erasure.
    "learner.my_data": listing(only("student")),
    "learner.export_json": listing(only("student")),
    "learner.export_pdf": listing(only("student")),
    "learner.delete_emotional_data": listing(only("student")),
    "learner.request_erasure": listing(only("student")),
    "learner.withdraw_erasure": listing(only("student")),
    "learner.urgent_request": listing(only("student")),
    "support.queue": listing(SUPPORT),
    "support.availability": listing(SUPPORT),
    "support.detail": Access(SUPPORT_ITEM),
    "support.take": Access(SUPPORT_ITEM),
    "support.contacted": Access(SUPPORT_ITEM),
    "support.refer": Access(SUPPORT_ITEM),
    "support.close": Access(SUPPORT_ITEM),
    "reports.learner_page": learners(LEARNER_REPORT),
    "reports.learner_pdf": learners(LEARNER_REPORT),
    "reports.summary_pdf": Access({"admin": 404, "instructor": 200, "student": 404, "peer": 404,
                                   "professional": 404}),
    "reports.progress": listing(only("student")),
    "reports.progress_pdf": listing(only("student")),
    # Follow-ups: a signed link is its own key; everything else needs the right login.
    "followups.stage_by_link": PUBLIC,
    "followups.link_choice": PUBLIC,
    "followups.link_support": PUBLIC,
    "followups.unsubscribe": PUBLIC,
    "followups.link_urgent": PUBLIC,
    "followups.link_decline_conversation": PUBLIC,
    "followups.decline_conversation": learners(only("student")),
    "followups.mine": listing(only("student")),
    "followups.stage": learners(only("student")),
    "followups.choose": listing(only("student")),
    "followups.start_track": listing(only("student")),
    "followups.track": learners(only("student")),
    "followups.end_track": learners(only("student")),
    "followups.completion": listing(STAFF),
    "followups.plans": listing(ADMIN),
    "followups.edit_plan": Access(ADMIN),
    "followups.analytics": listing(ADMIN),
}


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTE_ACCESS), (
        f"missing: {endpoints - set(ROUTE_ACCESS)}, stale: {set(ROUTE_ACCESS) - endpoints}")


def test_anonymous_visitors_are_sent_to_log_in(app, objects):
    anonymous = app.test_client()
    for rule in app.url_map.iter_rules():
        url = build_url(app, rule, objects["mine"])
        method = "GET" if "GET" in rule.methods else "POST"
        response = anonymous.open(url, method=method)
        response.close()
        if ROUTE_ACCESS[rule.endpoint] == PUBLIC:
            assert response.status_code != 403, url
            continue
        assert response.status_code in (302, 303), (url, response.status_code)
        assert "/login" in response.headers["Location"]


def test_role_matrix(app, people, objects):
    clients = {key: client_for(app, people, key) for key in ROLES}
    wrong = []
    checked = 0
    for rule in app.url_map.iter_rules():
        access = ROUTE_ACCESS[rule.endpoint]
        if access == PUBLIC:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        for variant in VARIANTS:
            expected = access.expected(variant)
            if expected is None:
                continue
            assert set(expected) == set(ROLES), rule.endpoint
            url = build_url(app, rule, objects[variant])
            for role, client in clients.items():
                if method == "POST" and expected[role] in (200, 302):
                    continue  # the matrix never changes state
                status = client.open(url, method=method).status_code
                checked += 1
                if status != expected[role]:
                    wrong.append((rule.endpoint, variant, role, method, url, status,
                                  expected[role]))
    assert not wrong, "\n".join(map(str, wrong))
    assert checked > 600


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
