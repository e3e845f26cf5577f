"""Supporter triage: waiting counts, the queue's waiting time, tier, urgency and preferred
contact, response targets with one escalation each, and supporters' availability."""


from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import escalate_support_requests
from simdebrief.models import AuditEvent, OutboxEmail, SupportRequest, User
from simdebrief.services import support
from tests.conftest import both_databases, client_for


def emails(app, like: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.to_address, e.subject, e.body_text) for e in db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.idempotency_key.like(like))
            .order_by(OutboxEmail.id))]


def ask(student_client, **data):
    response = student_client.post("/me/support/new", data={"tier": "peer", **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/me/support/")[1].split("?")[0])


def test_a_request_not_taken_in_time_escalates_exactly_once(
        app, people, student_client, clock):
    request_id = ask(student_client, message="I would like to talk, evenings are best.")
    clock.advance(hours=47, minutes=59)
    assert escalate_support_requests(app) == 0
    assert emails(app, "support-overdue:%") == []
    peer = client_for(app, people, "peer")
    assert "Overdue" not in peer.get("/support/").get_data(as_text=True)

    clock.advance(minutes=1)  # 48 h: the centre's peer target
    assert escalate_support_requests(app) == 1
    sent = emails(app, "support-overdue:%")
    assert [to for to, _s, _b in sent] == ["professional@example.org"]
    _to, subject, body = sent[0]
    assert "not been taken in time" in subject
    assert "evenings" not in body and "Sara" not in body
    with app.app_context():
        audit = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "support_request.escalated")).all()
        assert [a.object_id for a in audit] == [str(request_id)]

    for hours in (0, 1, 24, 200):
        clock.advance(hours=hours)
        assert escalate_support_requests(app) == 0
    assert len(emails(app, "support-overdue:%")) == 1
    # Passed up: the professionals who were told can now see and take it.
    queue = client_for(app, people, "professional").get("/support/").get_data(as_text=True)
    assert f"/support/{request_id}" in queue and "Overdue" in queue and "passed up" in queue
    with app.app_context():
        assert db.session.get(SupportRequest, request_id).tier.value == "professional"


def test_an_urgent_request_escalates_to_the_admins_at_its_own_target(
        app, people, student_client, clock):
    assert student_client.post("/me/support/urgent").status_code == 302
    clock.advance(minutes=59)
    assert escalate_support_requests(app) == 0
    clock.advance(minutes=1)
    assert escalate_support_requests(app) == 1
    assert [to for to, _s, _b in emails(app, "support-overdue:%")] == ["admin@example.org"]


def test_a_request_taken_before_its_target_never_escalates(app, people, student_client, clock):
    ask(student_client)
    clock.advance(hours=47)
    with app.app_context():
        request = db.session.scalar(select(SupportRequest))
        support.take(db.session, request=request, now=clock.now(),
                     supporter=db.session.get(User, people.ids["peer"]))
        db.session.commit()
    clock.advance(days=10)
    assert escalate_support_requests(app) == 0


def test_overview_menu_and_queue_show_what_waits_and_how_to_reach_the_learner(
        app, people, student_client, clock):
    peer = client_for(app, people, "peer")
    overview = peer.get("/dashboard").get_data(as_text=True)
    assert "No request is waiting" in overview
    ask(student_client, preferred_channel="phone", phone="+45 20 30 40 50",
        good_times="Weekdays after 16")
    clock.advance(hours=3, minutes=5)
    ask(client_for(app, people, "student2"))
    overview = peer.get("/dashboard").get_data(as_text=True)
    assert "2 requests are waiting to be taken." in overview
    assert "(2 waiting)" in overview  # the menu
    queue = peer.get("/support/").get_data(as_text=True)
    assert "3 h 5 min" in queue and "0 min" in queue
    assert "Phone" in queue and "Weekdays after 16" in queue
    assert "Normal" in queue and "peer supporter" in queue
    assert "+45 20 30 40 50" not in queue  # the number is on the request's own page
    with app.app_context():
        first = db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)).first()
    detail = peer.get(f"/support/{first.id}").get_data(as_text=True)
    assert "+45 20 30 40 50" in detail and "Weekdays after 16" in detail


def test_a_phone_channel_needs_a_number_and_keeps_what_was_typed(app, people, student_client):
    response = student_client.post("/me/support/new", data={
        "tier": "peer", "preferred_channel": "phone", "message": "Keep this text"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Add the number to call or text" in page and "Keep this text" in page
    bad = student_client.post("/me/support/new", data={"tier": "peer", "phone": "call me"})
    assert bad.status_code == 400
    assert "Enter a phone number" in bad.get_data(as_text=True)


def test_an_unavailable_supporter_is_not_emailed(app, people, student_client, clock):
    peer = client_for(app, people, "peer")
    assert peer.post("/support/availability", data={"available": "0"}).status_code == 302
    assert "You are marked as unavailable" in peer.get("/support/").get_data(as_text=True)
    with app.app_context():
        db.session.add(User(centre_id=people.centre_id, email="peer2@example.org",
                            name="Second Peer", role="supporter", supporter_tier="peer",
                            created_at=clock.now()))
        db.session.commit()
    ask(student_client)
    assert [to for to, _s, _b in emails(app, "support:%")] == ["peer2@example.org"]
    assert peer.post("/support/availability", data={"available": "1"}).status_code == 302
    ask(client_for(app, people, "student2"))
    assert sorted(to for to, _s, _b in emails(app, "support:%"))[-2:] == [
        "peer2@example.org", "peer@example.org"]


def test_the_demo_has_an_urgent_request_an_overdue_one_and_a_conversation_stage(app, clock):
    from simdebrief.scenarios import default_library_dir
    from simdebrief.services import demo
    from tests.conftest import login

    with app.app_context():
        demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                       library_dir=default_library_dir())
        db.session.commit()
        again = demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                               library_dir=default_library_dir())
        assert again["crisis route"] == 0 and again["waiting requests"] == 0
    psychologist, peer = app.test_client(), app.test_client()
    login(psychologist, "psychologist@demo.simdebrief.org", demo.DEMO_PASSWORD)
    login(peer, "peer@demo.simdebrief.org", demo.DEMO_PASSWORD)
    urgent = psychologist.get("/support/").get_data(as_text=True)
    assert "Urgent" in urgent and "20 min" in urgent and "Overdue" not in urgent
    overdue = peer.get("/support/").get_data(as_text=True)
    assert "Overdue" in overdue and "2 days 12 h" in overdue and "Phone" in overdue
    student = app.test_client()
    login(student, "student@demo.simdebrief.org", demo.DEMO_PASSWORD)
    timeline = student.get("/me/follow-ups").get_data(as_text=True)
    assert "Conversation offered (you can decline)" in timeline
    with app.app_context():
        from simdebrief.models import Centre
        from simdebrief.services import crisis

        centre = db.session.scalar(select(Centre).where(Centre.name == demo.DEMO_CENTRE))
        contacts = [(c.name, c.phone) for c in crisis.urgent_contacts(db.session, centre)]
        assert contacts[0][1] == "112" and contacts[1][1] == "70 201 201"
        assert "Livslinien" in contacts[1][0]
        on_duty = support.on_duty_professionals(db.session, centre.id, clock.now())
        assert [u.email for u in on_duty] == ["psychologist@demo.simdebrief.org"]


def overdue_by_triage(supporter: User, now) -> int:
    """What the queue marks overdue, request by request, for this supporter."""
    from simdebrief.services import support_triage

    waiting = db.session.execute(
        support_triage.with_last_referral(support.queue_query(supporter)),
        support.queue_values(supporter)).all()
    return sum(row.overdue for row in support_triage.triage(waiting, supporter.centre, now)
               if row.waiting is not None)


@both_databases
def test_the_supporters_home_says_how_many_waiting_requests_are_past_their_target(
        app, people, clock):
    """Counted for the home page from the requests' times, by the same rule as the queue
    marks each request overdue."""
    from simdebrief.services import dashboards

    student = client_for(app, people, "student")
    ask(student, message="First.")
    clock.advance(hours=47)
    ask(client_for(app, people, "student2"), message="Second.")
    peer = client_for(app, people, "peer")
    home = peer.get("/dashboard").get_data(as_text=True)
    assert "2 requests are waiting to be taken." in home
    assert "waited longer than the centre promises" not in home

    clock.advance(hours=1)  # the first has waited the centre's 48 hours
    home = peer.get("/dashboard").get_data(as_text=True)
    assert "1 of them has waited longer than the centre promises learners." in home
    assert student.post("/me/support/urgent").status_code == 302
    counted = []
    for minutes in (0, 59, 1, 60 * 24, 60 * 24):
        clock.advance(minutes=minutes)
        with app.app_context():
            for key in ("peer", "professional"):
                supporter = db.session.get(User, people.ids[key])
                _waiting, count = dashboards.request_counts(
                    db.session, supporter.centre, clock.now(),
                    among=support.queue_query(supporter),
                    values=support.queue_values(supporter))
                assert count == overdue_by_triage(supporter, clock.now()), (key, minutes)
                counted.append(count)
    assert max(counted) >= 2  # both learners' requests, two days on


@both_databases
def test_the_supporters_home_counts_its_waiting_requests_once(app, people, clock):
    """The home's count and the navigation's are one question: both say two."""
    from tests.web.test_page_queries import counted_queries, tables_read

    ask(client_for(app, people, "student"), message="First.")
    ask(client_for(app, people, "student2"), message="Second.")
    peer = client_for(app, people, "peer")
    with counted_queries(app) as statements:
        home = peer.get("/dashboard").get_data(as_text=True)
    assert "2 requests are waiting to be taken." in home
    assert "(2 waiting)" in home  # the navigation's count
    asking = [s for s in statements if "support_request" in tables_read(s)]
    assert len(asking) == 1, asking
    # Elsewhere the navigation still asks for itself.
    assert "(2 waiting)" in peer.get("/support/").get_data(as_text=True)


@both_databases
def test_a_referral_restarts_the_wait_the_queue_shows(app, people, student_client, clock):
    """The professional's queue counts the wait from the referral, not from the learner's
    first ask (read by SQL beside each request, as the homes' counts read it)."""
    request_id = ask(student_client, message="Can we talk?")
    clock.advance(hours=30)
    peer = client_for(app, people, "peer")
    queue = peer.get("/support/").get_data(as_text=True)
    assert "30 h 0 min" in queue and "Overdue" not in queue
    assert peer.post(f"/support/{request_id}/take").status_code == 302
    assert peer.post(f"/support/{request_id}/refer",
                     data={"refer-note": "Agreed with the learner"}).status_code == 302
    clock.advance(hours=2)
    queue = client_for(app, people, "professional").get("/support/").get_data(as_text=True)
    row = queue.split(f'href="/support/{request_id}"')[1].split("</tr>")[0]
    assert "2 h 0 min" in row and "32 h" not in row and "Overdue" not in row
