"""Supporters see unassigned requests of their tier and their own cases, never a colleague's;
a closed case stays with its supporter; handing over and every read leave audit events."""

from sqlalchemy import select, text

from simdebrief.extensions import db
from simdebrief.models import AuditEvent, Centre, Role, SupporterTier
from simdebrief.services import accounts
from tests.conftest import PASSWORD, both_databases, client_for, login
from tests.web.test_support import ask, request_id_from


def second_peer(app, people, clock):
    with app.app_context():
        accounts.create_user(
            db.session, centre=db.session.get(Centre, people.centre_id), now=clock.now(),
            password=PASSWORD, data=accounts.NewUser("peer2@example.org", "Pia Peer",
                                                     Role.SUPPORTER, SupporterTier.PEER))
        db.session.commit()
    client = app.test_client()
    assert login(client, "peer2@example.org").status_code in (302, 303)
    return client


def audit_actions(app, request_id) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(AuditEvent.object_type == "support_request",
                   AuditEvent.object_id == str(request_id))
            .order_by(AuditEvent.id))]


@both_databases
def test_a_colleagues_case_stays_theirs_even_once_closed(
        app, people, clock, student_client):
    request_id = request_id_from(ask(student_client, tier="peer", message="Can we talk?"))
    peer = client_for(app, people, "peer")
    colleague = second_peer(app, people, clock)
    # Unassigned and of their tier: both peers see it.
    assert colleague.get(f"/support/{request_id}").status_code == 200
    assert f"/support/{request_id}" in colleague.get("/support/").get_data(as_text=True)

    assert peer.post(f"/support/{request_id}/take").status_code == 302
    assert peer.post(f"/support/{request_id}/contacted",
                     data={"contact-note": "Private note of mine"}).status_code == 302
    assert colleague.get(f"/support/{request_id}").status_code == 404
    assert f"/support/{request_id}" not in colleague.get("/support/").get_data(as_text=True)
    assert colleague.post(f"/support/{request_id}/take").status_code == 404

    assert peer.post(f"/support/{request_id}/close", data={"close-note": ""}).status_code == 302
    closed = peer.get(f"/support/{request_id}")
    assert closed.status_code == 200 and "Private note of mine" in closed.get_data(as_text=True)
    assert colleague.get(f"/support/{request_id}").status_code == 404
    assert client_for(app, people, "professional").get(
        f"/support/{request_id}").status_code == 404
    # Every showing is audited: the colleague's one read while it was free, and the peer's.
    views = [actor for action, actor in audit_actions(app, request_id)
             if action == "support_request.viewed"]
    assert views[-1] == people.ids["peer"] and len(views) == 2


def test_a_withdrawn_request_is_seen_by_no_supporter(app, people, student_client):
    request_id = request_id_from(ask(student_client, tier="peer", message="Never mind"))
    student_client.post(f"/me/support/{request_id}/withdraw")
    assert client_for(app, people, "peer").get(f"/support/{request_id}").status_code == 404


def test_handing_over_is_audited_and_ends_the_peers_access(app, people, student_client):
    request_id = request_id_from(ask(student_client, tier="peer", message="Can we talk?"))
    peer = client_for(app, people, "peer")
    peer.post(f"/support/{request_id}/take")
    peer.post(f"/support/{request_id}/contacted", data={"contact-note": "Talked"})
    peer.post(f"/support/{request_id}/refer", data={"refer-note": "Agreed"})
    assert ("support_request.referred", people.ids["peer"]) in audit_actions(app, request_id)
    assert peer.get(f"/support/{request_id}").status_code == 404
    professional = client_for(app, people, "professional")
    assert professional.get(f"/support/{request_id}").status_code == 200
    assert ("support_request.viewed", people.ids["professional"]) in \
        audit_actions(app, request_id)


def test_the_queue_reads_open_requests_through_its_indexes_never_the_closed_history(
        app, people):
    """SQLite's plan for the queue: both branches (the tier's unassigned requests, the
    supporter's own) are searched in an index by status, so closed requests are not read."""
    from simdebrief.models import User
    from simdebrief.services import support

    with app.app_context():
        supporter = db.session.get(User, people.ids["peer"])
        statement = (support.queue_query(supporter).limit(51)
                     .params(**support.queue_values(supporter)))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " | ".join(row[-1] for row in db.session.execute(
            text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "SCAN support_request" not in plan, plan
    assert "ix_support_request_queue" in plan and "ix_support_request_assignee" in plan, plan
