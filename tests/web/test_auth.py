"""Logging in and out, invitations, password resets and login throttling."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import relay_outbox
from simdebrief.models import AuditEvent, AuthSession, OutboxEmail, User
from tests.conftest import PASSWORD, both_databases, delivered_bodies, link_in, login


def outbox_bodies(app, to: str) -> list[str]:
    """As delivered: the stored bodies hold a placeholder, the relay signs the link."""
    return delivered_bodies(app, OutboxEmail.to_address == to)


@both_databases
def test_login_shows_dashboard_and_logout_ends_the_server_session(app, people, client):
    response = login(client, people.emails["admin"])
    assert response.status_code in (302, 303)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Ada Admin" in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]

    copied_cookie = client.get_cookie("simdebrief").value
    client.post("/logout")
    assert client.get("/dashboard").status_code in (302, 303)

    # A copy of the cookie taken before logout is worthless afterwards.
    replay = app.test_client()
    replay.set_cookie("simdebrief", copied_cookie)
    assert replay.get("/dashboard").status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(AuthSession)).revoked is True


def test_wrong_password_and_unknown_email_get_the_same_message(app, people, client):
    wrong_password = login(client, people.emails["admin"], "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    for response in (wrong_password, unknown):
        assert response.status_code == 401
        assert "Email or password is wrong." in response.get_data(as_text=True)
    # What was typed is kept, so the person only fixes the password.
    assert 'value="nobody@example.org"' in unknown.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(app, people, client):
    response = login(client, people.emails["student"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_repeated_failures_are_throttled_per_account_and_lift_after_a_minute(
    app, people, client, clock
):
    for _ in range(10):
        assert login(client, people.emails["student"], "wrong guess").status_code == 401
    throttled = login(client, people.emails["student"])  # even the right password waits
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.get_data(as_text=True)

    clock.advance(seconds=61)
    assert login(client, people.emails["student"]).status_code in (302, 303)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "login.throttled" in actions


def test_failures_from_one_address_across_accounts_are_throttled(app, people, client):
    # The per-address ceiling is higher than the per-account one (50 against 10 a minute),
    # so colleagues behind one address do not block each other.
    for number in range(50):
        login(client, f"guess{number}@example.org", "wrong guess")
    assert login(client, people.emails["admin"]).status_code == 429


def test_login_refuses_an_open_redirect(app, people, client):
    response = client.post("/login?next=//evil.example.com/x",
                           data={"email": people.emails["admin"], "password": PASSWORD})
    assert response.headers["Location"].endswith("/dashboard")
    response = app.test_client().post(
        "/login?next=/admin/rooms", data={"email": people.emails["admin"], "password": PASSWORD})
    assert response.headers["Location"].endswith("/admin/rooms")


@both_databases
def test_invite_then_set_password_then_log_in(app, people, admin_client, clock):
    response = admin_client.post("/admin/users/invite", data={
        "name": "Nina New", "email": "Nina.New@Example.org", "role": "instructor",
        "supporter_tier": ""})
    assert response.status_code in (302, 303)
    [body] = outbox_bodies(app, "nina.new@example.org")
    assert "Nina New" in body
    link = link_in(body)

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Welcome to SimDebrief, Nina New" in page.get_data(as_text=True)
    weak = visitor.post(link, data={"password": "password1", "confirm": "password1"})
    assert weak.status_code == 400
    assert "too easy to guess" in weak.get_data(as_text=True)

    done = visitor.post(link, data={"password": "a quiet ward at night", "confirm":
                                    "a quiet ward at night"})
    assert done.status_code in (302, 303)
    assert visitor.get("/dashboard").status_code == 200

    # The link works once.
    again = app.test_client().get(link)
    assert again.status_code == 404
    assert "This link does not work" in again.get_data(as_text=True)
    assert login(app.test_client(), "nina.new@example.org",
                 "a quiet ward at night").status_code in (302, 303)


def test_expired_invitation_says_so(app, people, admin_client, clock):
    admin_client.post("/admin/users/invite", data={
        "name": "Late Larsen", "email": "late@example.org", "role": "student",
        "supporter_tier": ""})
    link = link_in(outbox_bodies(app, "late@example.org")[0])
    clock.advance(days=7, minutes=1)
    page = app.test_client().get(link)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    assert "new invitation" in page.get_data(as_text=True)


def test_tampered_link_is_refused(app, people, admin_client):
    admin_client.post("/admin/users/invite", data={
        "name": "Tara", "email": "tara@example.org", "role": "student", "supporter_tier": ""})
    link = link_in(outbox_bodies(app, "tara@example.org")[0])
    assert app.test_client().get(link[:-3] + "abc").status_code == 404


def test_invite_form_keeps_input_and_names_the_problem(app, people, admin_client):
    response = admin_client.post("/admin/users/invite", data={
        "name": "Double", "email": people.emails["student"], "role": "supporter",
        "supporter_tier": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An account with this email address already exists." in text
    assert "Choose whether the supporter is a peer or a professional." in text
    assert 'value="Double"' in text
    assert 'aria-invalid="true"' in text


def test_password_reset_by_email_logs_out_other_sessions(app, people, client, clock):
    other_device = app.test_client()
    login(other_device, people.emails["student"])
    assert other_device.get("/dashboard").status_code == 200

    response = client.post("/reset-password", data={"email": people.emails["student"]})
    assert "Check your email" in response.get_data(as_text=True)
    unknown = client.post("/reset-password", data={"email": "ghost@example.org"})
    assert "Check your email" in unknown.get_data(as_text=True)  # reveals nothing
    assert outbox_bodies(app, "ghost@example.org") == []

    link = link_in(outbox_bodies(app, people.emails["student"])[0])
    result = client.post(link, data={"password": "new shoes for the night shift",
                                     "confirm": "new shoes for the night shift"})
    assert result.status_code in (302, 303)
    assert other_device.get("/dashboard").status_code in (302, 303)
    assert login(app.test_client(), people.emails["student"]).status_code == 401
    assert login(app.test_client(), people.emails["student"],
                 "new shoes for the night shift").status_code in (302, 303)


def test_reset_link_expires_after_an_hour(app, people, client, clock):
    client.post("/reset-password", data={"email": people.emails["student"]})
    link = link_in(outbox_bodies(app, people.emails["student"])[0])
    clock.advance(minutes=61)
    page = client.get(link)
    assert page.status_code == 410
    assert "Ask for a new link" in page.get_data(as_text=True)


def test_idle_session_expires(app, people, client, clock):
    login(client, people.emails["student"])
    clock.advance(hours=8, minutes=1)
    assert client.get("/dashboard").status_code in (302, 303)


def test_deactivated_user_is_logged_out_and_cannot_log_in(app, people, admin_client, clock):
    student = app.test_client()
    login(student, people.emails["student"])
    admin_client.post(f"/admin/users/{people.ids['student']}/active", data={"active": "0"})
    assert student.get("/dashboard").status_code in (302, 303)
    assert login(app.test_client(), people.emails["student"]).status_code == 401


def test_change_password_needs_the_current_one(app, people, student_client):
    wrong = student_client.post("/account/password", data={
        "current": "nope", "password": "rainy days in herlev", "confirm":
        "rainy days in herlev"})
    assert wrong.status_code == 400
    assert "This is not your current password." in wrong.get_data(as_text=True)
    right = student_client.post("/account/password", data={
        "current": PASSWORD, "password": "rainy days in herlev", "confirm":
        "rainy days in herlev"})
    assert right.status_code in (302, 303)
    assert student_client.get("/dashboard").status_code == 200


def test_invitation_email_is_delivered_over_smtp(smtp_app, smtp_server, clock):
    from tests.conftest import seed_people

    people = seed_people(smtp_app, clock.now())
    admin = smtp_app.test_client()
    login(admin, people.emails["admin"])
    admin.post("/admin/users/invite", data={"name": "Mail Mads", "email": "mads@example.org",
                                            "role": "student", "supporter_tier": ""})
    result = relay_outbox(smtp_app, now=clock.now())
    assert result.delivered == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "mads@example.org"
    assert "invited" in message["Subject"]
    link = link_in(message.get_payload(decode=True).decode())
    assert smtp_app.test_client().get(link).status_code == 200
    with smtp_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mads@example.org"))
        assert user.password_hash is None
