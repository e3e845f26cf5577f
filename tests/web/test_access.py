"""Who may open which page: a matrix over every route, plus objects of another centre.

The matrix is built from the app's URL map, so a new route without an entry here fails.
"""

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import Cohort, OutboxEmail, Room
from simdebrief.services import directory, notifications
from tests.conftest import client_for

PUBLIC = "public"
ANY_USER = {"admin", "instructor", "student", "peer"}
ADMIN = {"admin"}

#: endpoint -> who may use it ("public", or the set of seeded people keys)
ROUTE_ACCESS = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.accept_invitation": PUBLIC,
    "auth.request_reset": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.logout": ANY_USER,
    "auth.change_password": ANY_USER,
    "main.dashboard": ANY_USER,
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
    "admin.outbox": ADMIN,
    "admin.outbox_email": ADMIN,
    "admin.retry_outbox_email": ADMIN,
}


@pytest.fixture
def objects(app, people, clock):
    """One object of each kind in the seeded centre, and one in the other centre."""
    with app.app_context():
        from simdebrief.models import Centre

        mine, other = db.session.get(Centre, people.centre_id), db.session.get(
            Centre, people.other_centre_id)
        ids = {}
        for label, centre in (("mine", mine), ("other", other)):
            cohort = directory.create_cohort(db.session, centre=centre, name=f"Cohort {label}")
            room = directory.create_room(db.session, centre=centre, name=f"Room {label}",
                                         capacity=6)
            email = notifications.enqueue_email(
                db.session, key=f"test:{label}", to="x@example.org", subject="Hello",
                body="Hi", now=clock.now(), mail_from="a@example.org", centre_id=centre.id)
            ids[label] = {"cohort_id": cohort.id, "room_id": room.id, "email_id": email.id}
        db.session.commit()
    ids["mine"]["user_id"] = people.ids["student2"]
    ids["other"]["user_id"] = people.ids["other_student"]
    return ids


def build_url(app, rule, values):
    arguments = {name: values.get(name, "token") for name in rule.arguments}
    if rule.endpoint == "static":
        arguments = {"filename": "css/app.css"}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **arguments)


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTE_ACCESS), (
        f"missing: {endpoints - set(ROUTE_ACCESS)}, stale: {set(ROUTE_ACCESS) - endpoints}")


def test_role_matrix(app, people, objects):
    clients = {key: client_for(app, people, key) for key in ("admin", "instructor", "student",
                                                             "peer")}
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
            if key in access:
                if method == "GET":
                    status = client.get(url).status_code
                    assert status == 200, (key, url, status)
            else:
                status = client.open(url, method=method).status_code
                assert status == 403, (key, url, status)


@pytest.mark.parametrize("endpoint", [
    "admin.user_detail", "admin.cohort_detail", "admin.room_detail", "admin.outbox_email"])
def test_objects_of_another_centre_are_not_found(app, people, objects, endpoint):
    admin = client_for(app, people, "admin")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    assert admin.get(build_url(app, rule, objects["mine"])).status_code == 200
    response = admin.get(build_url(app, rule, objects["other"]))
    assert response.status_code == 404
    assert "Cohort other" not in response.get_data(as_text=True)


def test_other_centre_cannot_change_our_objects(app, people, objects):
    other_admin = client_for(app, people, "other_admin")
    mine = objects["mine"]
    assert other_admin.post(f"/admin/users/{mine['user_id']}/active",
                            data={"active": "0"}).status_code == 404
    assert other_admin.post(f"/admin/cohorts/{mine['cohort_id']}/students/"
                            f"{mine['user_id']}/remove").status_code == 404
    assert other_admin.post(f"/admin/outbox/{mine['email_id']}/retry").status_code == 404
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
