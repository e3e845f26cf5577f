"""Fair throttling: per account and address pair, behind a proxy, and for reset and
invitation requests. The clock is moved, never slept."""

import io
import statistics
import time

import pytest
from sqlalchemy import func, select

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, OutboxEmail, ThrottleEvent, User
from tests.conftest import PASSWORD, both_databases, client_for, login


def post_login(client, email, password=PASSWORD, address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"email": email, "password": password},
                       headers=headers)


def test_one_persons_mistakes_never_block_anothers_correct_password(app, people, client):
    for _ in range(12):
        login(client, people.emails["student"], "wrong guess")
    assert login(client, people.emails["student"]).status_code == 429
    # Same address, another account: the correct password works at once.
    assert login(app.test_client(), people.emails["student2"]).status_code in (302, 303)


@both_databases
def test_strangers_slow_themselves_down_not_the_owner(app, people, clock):
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(10):
        assert login(attacker, people.emails["admin"], "guess").status_code == 401
    first = login(attacker, people.emails["admin"], "guess")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "60"

    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.4"
    assert login(owner, people.emails["admin"]).status_code in (302, 303)

    # From then on one try per wait, and each further ten failures double the wait.
    for _ in range(10):
        clock.advance(seconds=61)
        assert login(attacker, people.emails["admin"], "guess").status_code == 401
        assert login(attacker, people.emails["admin"], "guess").status_code == 429
    assert login(attacker, people.emails["admin"], "guess").headers["Retry-After"] == "120"
    for _ in range(10):
        clock.advance(seconds=121)
        assert login(attacker, people.emails["admin"], "guess").status_code == 401
    assert login(attacker, people.emails["admin"], "guess").headers["Retry-After"] == "240"
    assert login(owner, people.emails["admin"]).status_code in (302, 303)
    # The right password from the attacker's address waits too, and then works.
    assert login(attacker, people.emails["admin"]).status_code == 429
    clock.advance(minutes=4, seconds=1)
    assert login(attacker, people.emails["admin"]).status_code in (302, 303)


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(app, people, client):
    for number in range(12):
        post_login(client, people.emails["student"], "wrong", address=f"10.0.0.{number}")
    assert post_login(client, people.emails["student"], address="10.9.9.9").status_code == 429


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self):
        return {"SIMDEBRIEF_TRUSTED_PROXIES": 1}

    def test_each_forwarded_client_is_its_own_address(self, app, people, client):
        for _ in range(12):
            post_login(client, people.emails["student"], "wrong", address="192.0.2.1")
        assert post_login(client, people.emails["student"],
                          address="192.0.2.1").status_code == 429
        # Another client behind the same proxy is not affected.
        assert post_login(app.test_client(), people.emails["student"],
                          address="192.0.2.2").status_code in (302, 303)
        with app.app_context():
            addresses = set(db.session.scalars(select(AuditEvent.ip_address)))
        assert {"192.0.2.1", "192.0.2.2"} <= addresses

    def test_only_the_trusted_hop_is_believed(self, app, people, client):
        # A client cannot add hops of its own: the proxy appends the real address last.
        for number in range(12):
            post_login(client, people.emails["student"], "wrong",
                       address=f"10.0.0.{number}, 192.0.2.7")
        assert post_login(client, people.emails["student"],
                          address="10.1.1.1, 192.0.2.7").status_code == 429


def reset(client, email, address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/reset-password", data={"email": email}, headers=headers)


def outbox_count(app, to):
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxEmail.id))
                                 .where(OutboxEmail.to_address == to))


def test_reset_requests_are_limited_per_account(app, people, client, clock):
    for _ in range(3):
        assert reset(client, people.emails["student"]).status_code == 200
        clock.advance(seconds=1)
    refused = reset(app.test_client(), people.emails["student"])
    assert refused.status_code == 429
    assert "wait an hour" in refused.get_data(as_text=True)
    assert outbox_count(app, people.emails["student"]) == 3
    # An unknown address is limited the same way, so the limit reveals nothing.
    for _ in range(3):
        assert reset(app.test_client(), "ghost@example.org").status_code == 200
    assert reset(app.test_client(), "ghost@example.org").status_code == 429
    clock.advance(hours=1, seconds=1)
    assert reset(client, people.emails["student"]).status_code == 200
    assert outbox_count(app, people.emails["student"]) == 4


def test_reset_requests_are_limited_per_address(app, people, client):
    for number in range(10):
        assert reset(client, f"someone{number}@example.org").status_code == 200
    assert reset(client, people.emails["student"]).status_code == 429
    assert outbox_count(app, people.emails["student"]) == 0


def test_reset_does_the_same_work_for_unknown_accounts(app, people):
    """Both answers render the same page after the same signing and rendering work."""
    def timed(email):
        client = app.test_client()
        started = time.perf_counter()
        response = reset(client, email)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return response.get_data(as_text=True), elapsed

    known, unknown = [], []
    for number in range(30):
        with app.app_context():
            db.session.execute(ThrottleEvent.__table__.delete())
            db.session.commit()
        body_known, seconds = timed(people.emails["student"])
        known.append(seconds)
        body_unknown, seconds = timed(f"ghost{number}@example.org")
        unknown.append(seconds)
    assert body_known.replace(people.emails["student"], "X") == \
        body_unknown.replace("ghost29@example.org", "X")
    ratio = statistics.median(unknown) / statistics.median(known)
    # Before, an unknown address answered in ~55 % of the time of a known one.
    assert 0.75 < ratio < 1.33, ratio


def test_invitations_are_limited_per_address_and_account(app, people, clock):
    admin = client_for(app, people, "admin")
    with app.app_context():
        user = db.session.get(User, people.ids["student2"])
        user.password_hash = None
        db.session.commit()
    for _ in range(4):
        clock.advance(seconds=1)
        response = admin.post(f"/admin/users/{people.ids['student2']}/resend-invitation")
        assert response.status_code in (302, 303)
    assert outbox_count(app, people.emails["student2"]) == 3
    sent = admin.post("/admin/users/invite", data={
        "name": "Again", "email": "fresh@example.org", "role": "student", "supporter_tier": ""})
    assert sent.status_code in (302, 303)
    for number in range(60):
        admin.post("/admin/users/invite", data={
            "name": f"Person {number}", "email": f"p{number}@example.org", "role": "student",
            "supporter_tier": ""})
    refused = admin.post("/admin/users/invite", data={
        "name": "One too many", "email": "late@example.org", "role": "student",
        "supporter_tier": ""})
    assert refused.status_code == 429
    assert outbox_count(app, "late@example.org") == 0


def test_the_invite_form_does_not_reveal_accounts_of_another_centre(app, people):
    admin = client_for(app, people, "admin")
    elsewhere = admin.post("/admin/users/invite", data={
        "name": "Olga", "email": people.emails["other_student"], "role": "student",
        "supporter_tier": ""}, follow_redirects=True)
    fresh = admin.post("/admin/users/invite", data={
        "name": "Nora", "email": "nora@example.org", "role": "student",
        "supporter_tier": ""}, follow_redirects=True)
    assert elsewhere.status_code == fresh.status_code == 200
    assert elsewhere.request.path == fresh.request.path == "/admin/users"
    assert f"Invitation sent to {people.emails['other_student']}" in elsewhere.get_data(
        as_text=True)
    # The owner of the address hears about it; their account is untouched.
    with app.app_context():
        [notice] = db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.to_address == people.emails["other_student"])).all()
    assert "already belongs to your account at Other Centre" in notice.body_text
    assert login(app.test_client(), people.emails["other_student"]).status_code in (302, 303)


def test_a_cohort_import_does_not_reveal_accounts_of_another_centre(app, people, objects):
    admin = client_for(app, people, "admin")
    csv_text = f"email,name\n{people.emails['other_student']},Olga\nnew@example.org,New\n"
    response = admin.post(f"/admin/cohorts/{objects['mine']['cohort_id']}/import",
                          data={"file": (io.BytesIO(csv_text.encode()), "people.csv")},
                          content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "2 new students invited" in page and "0 rows with problems" in page
    assert "exists" not in page
    with app.app_context():
        [notice] = db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.to_address == people.emails["other_student"],
            OutboxEmail.idempotency_key.like("invite-elsewhere:%"))).all()
        assert db.session.get(User, people.ids["other_student"]).centre_id == \
            people.other_centre_id
    assert "already belongs to your account at Other Centre" in notice.body_text
