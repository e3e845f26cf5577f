"""Two-factor login with TOTP: enrolment, codes, replay, recovery codes, the centre setting
and an admin's reset. The clock is moved, never slept."""

import re

import pyotp
import pytest
from sqlalchemy import select, text

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, AuthSession, Centre, RecoveryCode, User
from tests.conftest import PASSWORD, both_databases, login


@pytest.fixture
def strict(app, people):
    """The seeded centre with the default setting: staff need a second factor."""
    with app.app_context():
        db.session.get(Centre, people.centre_id).require_two_factor = True
        db.session.commit()


def secret_from(page: str) -> str:
    return re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)


def enrol(app, client, clock, email):
    """Log in, follow the way to enrolment, scan (read the key), confirm; the codes."""
    response = login(client, email)
    assert response.status_code in (302, 303)
    setup = client.get(response.headers["Location"], follow_redirects=True)
    assert setup.request.path == "/account/two-factor/setup"
    page = setup.get_data(as_text=True)
    assert "<svg" in page and "<title>QR code for your authenticator app</title>" in page
    secret = secret_from(page)
    done = client.post("/account/two-factor/setup",
                       data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>",
                       done.get_data(as_text=True))
    return secret, codes


def test_staff_must_enrol_before_anything_else(app, people, strict, client, clock):
    response = login(client, people.emails["instructor"])
    assert "/login/code" in response.headers["Location"]
    for path in ("/dashboard", "/sessions/", "/admin/users", "/account/password"):
        refused = client.get(path)
        assert refused.status_code == 302 and "/login/code" in refused.headers["Location"]
    assert client.get("/login/code").headers["Location"].startswith(
        "/account/two-factor/setup")
    page = client.get("/account/two-factor/setup").get_data(as_text=True)
    secret = secret_from(page)
    # Reloading the page keeps the key that may already be scanned.
    assert secret_from(client.get("/account/two-factor/setup").get_data(as_text=True)) == \
        secret
    wrong = client.post("/account/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    right = client.post("/account/two-factor/setup",
                        data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert right.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", right.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        user = db.session.get(User, people.ids["instructor"])
        assert user.has_two_factor
        raw = db.session.execute(text("SELECT totp_secret FROM user_account WHERE id = :id"),
                                 {"id": user.id}).scalar_one()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert secret not in raw  # encrypted at rest


@both_databases
def test_a_code_works_once_and_only_in_its_time(app, people, strict, clock):
    secret, _codes = enrol(app, app.test_client(), clock, people.emails["admin"])
    totp = pyotp.TOTP(secret)
    clock.advance(seconds=30)
    device = app.test_client()
    login(device, people.emails["admin"])
    session_row = lambda: db.session.scalars(  # noqa: E731
        select(AuthSession).where(AuthSession.user_id == people.ids["admin"])
        .order_by(AuthSession.created_at.desc(), AuthSession.id)).first()
    with app.app_context():
        assert session_row().second_factor_passed is False
    code = totp.at(clock.now())
    assert device.post("/login/code", data={"code": code}).status_code in (302, 303)
    assert device.get("/admin/users").status_code == 200
    with app.app_context():
        assert session_row().second_factor_passed is True

    # Replay: the same code (same 30 s step) on another device is refused.
    thief = app.test_client()
    login(thief, people.emails["admin"])
    replay = thief.post("/login/code", data={"code": code})
    assert replay.status_code == 401
    assert "each works once" in replay.get_data(as_text=True)
    assert thief.get("/admin/users").status_code == 302
    # An old code (two minutes ago) is refused; the next step's code works.
    stale = totp.at(clock.now().timestamp() - 120)
    assert thief.post("/login/code", data={"code": stale}).status_code == 401
    clock.advance(seconds=30)
    assert thief.post("/login/code",
                      data={"code": totp.at(clock.now())}).status_code in (302, 303)


def test_wrong_codes_are_throttled(app, people, strict, clock):
    enrol(app, app.test_client(), clock, people.emails["peer"])
    guesser = app.test_client()
    login(guesser, people.emails["peer"])
    for _ in range(5):
        assert guesser.post("/login/code", data={"code": "123456"}).status_code == 401
    assert guesser.post("/login/code", data={"code": "123456"}).status_code == 429
    clock.advance(minutes=5, seconds=1)
    assert guesser.post("/login/code", data={"code": "123456"}).status_code == 401


def test_recovery_codes_work_once_each(app, people, strict, clock):
    _secret, codes = enrol(app, app.test_client(), clock, people.emails["admin"])
    first = app.test_client()
    login(first, people.emails["admin"])
    assert first.post("/login/code", data={"code": codes[0].upper()}).status_code in (302, 303)
    assert first.get("/dashboard").status_code == 200
    again = app.test_client()
    login(again, people.emails["admin"])
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 401
    assert again.post("/login/code", data={"code": codes[1]}).status_code in (302, 303)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("two_factor.recovery_code_used") == 2


def test_an_admin_resets_a_lost_second_factor(app, people, strict, clock):
    instructor = app.test_client()
    enrol(app, instructor, clock, people.emails["instructor"])
    assert instructor.get("/dashboard").status_code == 200
    admin = app.test_client()
    _secret, codes = enrol(app, admin, clock, people.emails["admin"])
    page = admin.get(f"/admin/users/{people.ids['instructor']}").get_data(as_text=True)
    assert "Two-factor login is on." in page
    response = admin.post(f"/admin/users/{people.ids['instructor']}/two-factor/reset")
    assert response.status_code in (302, 303)
    assert instructor.get("/dashboard").status_code == 302  # logged out everywhere
    with app.app_context():
        user = db.session.get(User, people.ids["instructor"])
        assert not user.has_two_factor and user.totp_secret is None
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "two_factor.reset"))
        assert event.actor_id == people.ids["admin"] and event.object_id == str(user.id)
    # At the next login they set it up again.
    fresh = app.test_client()
    login(fresh, people.emails["instructor"])
    assert fresh.get("/login/code").headers["Location"].startswith("/account/two-factor/setup")


def test_another_centres_admin_cannot_reset(app, people, strict):
    other = app.test_client()
    login(other, people.emails["other_admin"])
    assert other.post(f"/admin/users/{people.ids['instructor']}/two-factor/reset"
                      ).status_code == 404


def test_students_choose_and_can_turn_it_off(app, people, strict, client, clock):
    assert login(client, people.emails["student"]).headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200
    page = client.get("/account/two-factor/setup").get_data(as_text=True)
    secret = secret_from(page)
    client.post("/account/two-factor/setup", data={"code": pyotp.TOTP(secret).at(clock.now())})
    # Enrolled students are asked for a code like everybody else.
    other = app.test_client()
    assert "/login/code" in login(other, people.emails["student"]).headers["Location"]
    clock.advance(seconds=30)
    off = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert off.status_code in (302, 303)
    assert login(app.test_client(), people.emails["student"]).headers["Location"].endswith(
        "/dashboard")


def test_staff_cannot_turn_a_required_factor_off(app, people, strict, clock):
    client = app.test_client()
    secret, _codes = enrol(app, client, clock, people.emails["admin"])
    clock.advance(seconds=30)
    refused = client.post("/account/two-factor",
                          data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert refused.status_code == 400
    assert "cannot be turned off" in client.get("/account/two-factor").get_data(as_text=True)


def test_the_centre_setting_is_on_by_default_and_an_admin_can_turn_it_off(app, people,
                                                                          client):
    with app.app_context():
        centre = Centre(name="New centre", timezone="Europe/Copenhagen")
        db.session.add(centre)
        db.session.commit()
        assert centre.require_two_factor is True
    admin = app.test_client()
    login(admin, people.emails["admin"])  # the seeded centre has it off
    page = admin.get("/admin/centre").get_data(as_text=True)
    assert "Require two-factor login" in page


def test_the_demo_centre_needs_only_a_password(app):
    from simdebrief.scenarios import default_library_dir
    from simdebrief.services import demo

    with app.app_context():
        demo.load_demo(db.session, now=app.extensions["simdebrief.clock"].now(),
                       timezone="Europe/Copenhagen", library_dir=default_library_dir())
        db.session.commit()
    for _role, email, password in demo.demo_logins():
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": password})
        assert response.headers["Location"].endswith("/dashboard"), email
        assert client.get("/dashboard").status_code == 200


def test_the_password_alone_no_longer_opens_an_enrolled_account(app, people, strict, clock):
    enrol(app, app.test_client(), clock, people.emails["admin"])
    stranger = app.test_client()
    response = stranger.post("/login", data={"email": people.emails["admin"],
                                              "password": PASSWORD})
    assert "/login/code" in response.headers["Location"]
    assert stranger.get("/admin/users").status_code == 302
    assert stranger.get(f"/admin/users/{people.ids['student']}").status_code == 302


def test_a_reset_link_does_not_bypass_the_second_factor(app, people, strict, clock):
    from simdebrief.models import OutboxEmail
    from tests.conftest import delivered_bodies, link_in

    enrol(app, app.test_client(), clock, people.emails["admin"])
    visitor = app.test_client()
    visitor.post("/reset-password", data={"email": people.emails["admin"]})
    body = delivered_bodies(app, OutboxEmail.to_address == people.emails["admin"])[-1]
    done = visitor.post(link_in(body), data={"password": "a new lamp for the night ward",
                                             "confirm": "a new lamp for the night ward"})
    assert "/login/code" in done.headers["Location"]
    assert visitor.get("/admin/users").status_code == 302


def test_changing_the_password_keeps_a_passed_second_factor(app, people, strict, clock):
    client = app.test_client()
    enrol(app, client, clock, people.emails["instructor"])
    changed = client.post("/account/password", data={
        "current": PASSWORD, "password": "a new lamp for the night ward",
        "confirm": "a new lamp for the night ward"})
    assert changed.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").status_code == 200
