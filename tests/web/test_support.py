"""Asking for a conversation: only what the learner shares, only to the tier they chose.

Instructors and admins get 403 on every support page; another learner gets 404 for a request
that is not theirs. Each showing of a request's content leaves an audit event.
"""

from sqlalchemy import func, select, text

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, OutboxEmail, SimSession, SupportRequest, SupportStatus
from simdebrief.services import support
from tests.conftest import client_for
from tests.web.test_checkins import check_in, checkin_id_from, make_session

MESSAGE = "Could we talk on Thursday after lectures?"
PRIVATE = "Only for me: I froze when the monitor alarmed"


def views(app, request_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "support_request.viewed",
            AuditEvent.object_id == str(request_id)))


def outbox(app):
    with app.app_context():
        return [(e.to_address, e.subject, e.body_text) for e in
                db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))]


def ask(client, query="", **data):
    return client.post(f"/me/support/new{query}", data=data)


def request_id_from(response) -> int:
    return int(response.headers["Location"].split("/me/support/")[1].split("?")[0])


def test_peer_request_with_check_in_reaches_peers_only_until_referred(
    app, people, planning, student_client
):
    session_id = make_session(app, people, planning)
    saved = check_in(student_client, session_id, distress="6", symptoms=["guilt"],
                     free_text=PRIVATE)
    checkin_id = checkin_id_from(saved)
    form = student_client.get(f"/me/support/new?session={session_id}&checkin={checkin_id}")
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "Share my check-in" in page and "private notes stay private" in page
    assert "instructors of this session" in page

    response = ask(student_client, f"?session={session_id}&checkin={checkin_id}",
                   tier="peer", share_checkin="y", message=MESSAGE)
    assert response.status_code == 302, response.get_data(as_text=True)
    request_id = request_id_from(response)
    confirmation = student_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request is sent" in confirmation
    assert "Do not know about this request" in confirmation

    with app.app_context():
        raw = db.session.execute(text("SELECT message FROM support_request")).scalar_one()
        assert raw.startswith("vtest:") and "Thursday" not in raw
        assert support.support_requested_learner_ids(
            db.session, db.session.get(SimSession, session_id)) == set()

    # Only the peer supporters are told, and the email carries no content.
    emails = outbox(app)
    assert [to for to, _s, _b in emails] == ["peer@example.org"]
    _to, subject, body = emails[0]
    assert "asked for a conversation" in subject
    assert "https://sim.example.org/support/" in body
    for content in ("Thursday", "Sara", "Student", "Guilt", "guilt", "6", "froze",
                    "penicillin"):
        assert content not in body and content not in subject

    peer = client_for(app, people, "peer")
    queue = peer.get("/support/").get_data(as_text=True)
    assert f"/support/{request_id}" in queue
    assert "Thursday" not in queue and "Sara Student" not in queue
    assert views(app, request_id) == 0

    detail = peer.get(f"/support/{request_id}")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert MESSAGE in page and "Sara Student" in page and "student@example.org" in page
    assert "6 of 10" in page and "Guilt" in page
    assert "froze" not in page  # the private notes never travel with a request
    assert views(app, request_id) == 1
    peer.get(f"/support/{request_id}")
    assert views(app, request_id) == 2
    with app.app_context():
        details = " ".join(db.session.scalars(select(AuditEvent.detail)))
        assert "Thursday" not in details and "froze" not in details

    professional = client_for(app, people, "professional")
    assert professional.get(f"/support/{request_id}").status_code == 404
    assert f"/support/{request_id}" not in professional.get("/support/").get_data(as_text=True)
    for key in ("instructor", "admin", "student2"):
        client = client_for(app, people, key)
        assert client.get(f"/support/{request_id}").status_code == 403
        assert client.get("/support/").status_code == 403
    assert client_for(app, people, "instructor").get("/me/support").status_code == 403

    # The peer takes it, records contact, and refers it on.
    assert peer.post(f"/support/{request_id}/take").status_code == 302
    assert peer.post(f"/support/{request_id}/contacted",
                     data={"contact-note": "Met for coffee; wants more help"}).status_code == 302
    with app.app_context():
        raw_notes = " ".join(n or "" for n in db.session.execute(
            text("SELECT note FROM support_request_event")).scalars())
        assert "coffee" not in raw_notes
    response = peer.post(f"/support/{request_id}/refer",
                         data={"refer-note": "Agreed with the learner"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/support/")
    assert peer.get(f"/support/{request_id}").status_code == 404
    assert [to for to, _s, _b in outbox(app)] == ["peer@example.org",
                                                 "professional@example.org"]
    assert "Thursday" not in outbox(app)[1][2]

    page = professional.get(f"/support/{request_id}").get_data(as_text=True)
    assert MESSAGE in page and "6 of 10" in page and "Met for coffee" in page
    assert professional.post(f"/support/{request_id}/take").status_code == 302
    assert professional.post(f"/support/{request_id}/close",
                             data={"close-note": ""}).status_code == 302
    mine = student_client.get("/me/support").get_data(as_text=True)
    assert "Closed." in mine and "Thursday" not in mine


def test_another_learner_cannot_see_or_withdraw_a_request(app, people, planning,
                                                          student_client):
    session_id = make_session(app, people, planning)
    response = ask(student_client, f"?session={session_id}", tier="professional",
                   message=MESSAGE)
    request_id = request_id_from(response)
    student2 = client_for(app, people, "student2")
    assert student2.get(f"/me/support/{request_id}").status_code == 404
    assert student2.post(f"/me/support/{request_id}/withdraw").status_code == 404
    assert "Thursday" not in student2.get("/me/support").get_data(as_text=True)
    # A check-in of someone else cannot be attached through the query string.
    saved = check_in(student_client, session_id, distress="5")
    assert student2.get(f"/me/support/new?checkin={checkin_id_from(saved)}").status_code == 404
    for key in ("instructor", "admin", "peer"):
        client = client_for(app, people, key)
        assert client.get(f"/me/support/{request_id}").status_code == 403
        assert client.get("/me/support/new").status_code == 403


def test_the_learner_may_withdraw_an_open_request(app, people, planning, student_client):
    session_id = make_session(app, people, planning)
    request_id = request_id_from(ask(student_client, f"?session={session_id}", tier="peer",
                                     instructors_informed="y"))
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        assert support.support_requested_learner_ids(db.session, sim_session) == {
            people.ids["student"]}
    response = student_client.post(f"/me/support/{request_id}/withdraw")
    assert response.status_code == 302
    assert "You withdrew this request." in student_client.get("/me/support").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(SupportRequest, request_id).status is SupportStatus.CLOSED
        sim_session = db.session.get(SimSession, session_id)
        assert support.support_requested_learner_ids(db.session, sim_session) == set()
    peer = client_for(app, people, "peer")
    assert f"/support/{request_id}" not in peer.get("/support/").get_data(as_text=True)


def test_a_request_once_taken_cannot_be_withdrawn(app, people, planning, student_client):
    request_id = request_id_from(ask(student_client, tier="peer"))
    peer = client_for(app, people, "peer")
    peer.post(f"/support/{request_id}/take")
    response = student_client.post(f"/me/support/{request_id}/withdraw",
                                   follow_redirects=True)
    assert "already picked this request up" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SupportRequest, request_id).status is SupportStatus.TAKEN


def test_instructors_see_only_that_someone_asked_when_the_learner_agreed(
    app, people, planning, student_client
):
    session_id = make_session(app, people, planning)
    ask(student_client, f"?session={session_id}", tier="peer", message=MESSAGE,
        instructors_informed="y")
    ask(client_for(app, people, "student2"), f"?session={session_id}", tier="peer")
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        assert support.support_requested_learner_ids(db.session, sim_session) == {
            people.ids["student"]}


def test_bad_input_is_explained_and_kept(app, people, planning, student_client):
    response = ask(student_client, message="Please call me")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="tier-error"' in page and "Choose who you would like to talk to." in page
    assert "Please call me" in page
    response = ask(student_client, tier="peer", message="bad\x00byte")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="message-error"' in page and "character that is not allowed" in page
    assert 'value="peer" aria-describedby="tier-1-hint" checked' in page
    response = ask(student_client, tier="manager")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(SupportRequest.id))) == 0

    request_id = request_id_from(ask(student_client, tier="peer"))
    peer = client_for(app, people, "peer")
    peer.post(f"/support/{request_id}/take")
    response = peer.post(f"/support/{request_id}/contacted",
                         data={"contact-note": "nul\x00here"})
    assert response.status_code == 400
    assert 'id="contact-note-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SupportRequest, request_id).status is SupportStatus.TAKEN


def test_a_supporter_must_take_a_request_before_acting_on_it(app, people, student_client):
    request_id = request_id_from(ask(student_client, tier="peer"))
    peer = client_for(app, people, "peer")
    response = peer.post(f"/support/{request_id}/close", follow_redirects=True)
    assert "Take the request first" in response.get_data(as_text=True)
    professional = client_for(app, people, "professional")
    assert professional.post(f"/support/{request_id}/take").status_code == 404
