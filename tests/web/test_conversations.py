"""Conversations that are offered, not only asked for: a conversation stage becomes a
supporter task with a proposed time unless the learner declines with one click; a "yes" to a
conversation question does the same; the learner sees where it stands on their timeline."""

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import (
    ConversationTask,
    FollowUp,
    FollowUpStatus,
    OutboxEmail,
    SupportRequest,
)
from simdebrief.services.followups import conversations
from tests.conftest import client_for
from tests.web.test_debriefs import finalised, running_session
from tests.web.test_followups import FU2, FU4, dispatch, one, stage_link


def tasks(app) -> list[SupportRequest]:
    with app.app_context():
        found = list(db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)))
        db.session.expunge_all()
        return found


def task_stage(app, task: SupportRequest) -> int:
    """The follow-up stage a supporter task came from."""
    with app.app_context():
        return db.session.scalar(select(ConversationTask.followup_id).where(
            ConversationTask.request_id == task.id))


def two_learners_at_three_months(app, people, planning, clock):
    """Both students were there; the three-month stage (a conversation stage) is sent."""
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    due = one(app, people.ids["student"], FU4).due_at
    with app.app_context():
        for followup in db.session.scalars(select(FollowUp)):
            if followup.due_at < due:
                followup.status = FollowUpStatus.SKIPPED
        db.session.commit()
    clock.advance(seconds=(due - clock.now()).total_seconds())
    dispatch(app, clock.now())
    return session_id


def test_a_declined_conversation_creates_no_task_and_an_undeclined_one_does(
        app, people, planning, clock, client):
    two_learners_at_three_months(app, people, planning, clock)
    sara, soeren = (one(app, people.ids[key], FU4) for key in ("student", "student2"))
    assert sara.status is FollowUpStatus.SENT
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key == f"followup:{sara.id}"))
        assert "offer you a short conversation" in email.body_text
        assert "Declining takes one click" in email.body_text
    # Sara declines from the email's page, with one click and no login.
    link = stage_link(app, sara.id)
    page = client.get(link).get_data(as_text=True)
    assert "No thanks, no conversation" in page and "propose a time" in page
    assert client.post(link + "/conversation/decline").status_code == 302
    assert "You declined this conversation" in client.get(link).get_data(as_text=True)

    clock.advance(days=1, hours=23)
    dispatch(app, clock.now())
    assert tasks(app) == []  # the notice has not passed yet
    clock.advance(hours=1)
    result = dispatch(app, clock.now())
    assert result.conversations == 1
    [task] = tasks(app)
    assert task.learner_id == people.ids["student2"] and task.origin == "offered"
    assert task_stage(app, task) == soeren.id and task.tier.value == "peer"
    assert task.proposed_at is not None and task.proposed_at > clock.now()
    assert task.message is None and task.shared_checkin_id is None
    # Once only, however often the dispatcher runs.
    clock.advance(days=3)
    dispatch(app, clock.now())
    assert len(tasks(app)) == 1
    # The supporters are told that a request waits, and the queue says how it came.
    with app.app_context():
        notice = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.like(f"support:{task.id}:%")))
        assert notice is not None and "Søren" not in notice.body_text
    queue = client_for(app, people, "peer").get("/support/").get_data(as_text=True)
    assert "Offered conversation the learner did not decline" in queue

    # Søren sees it on his timeline, and can still say no: the task is withdrawn.
    soeren_client = client_for(app, people, "student2")
    timeline = soeren_client.get("/me/follow-ups").get_data(as_text=True)
    assert "Conversation: a supporter will propose a time" in timeline
    assert soeren_client.post(
        f"/me/follow-ups/{soeren.id}/conversation/decline").status_code == 302
    with app.app_context():
        withdrawn = db.session.get(SupportRequest, task.id)
        assert withdrawn.status.value == "closed" and withdrawn.was_withdrawn
    assert "Conversation: you declined it" in soeren_client.get("/me/follow-ups").get_data(
        as_text=True)


def test_a_paused_learner_is_offered_nothing(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    student = client_for(app, people, "student")
    student.post("/me/follow-ups/choice", data={"action": "pause"})
    due = one(app, people.ids["student"], FU4).due_at
    clock.advance(seconds=(due - clock.now()).total_seconds())
    dispatch(app, clock.now())
    clock.advance(days=2)
    dispatch(app, clock.now())
    assert one(app, people.ids["student"], FU4).status is FollowUpStatus.PAUSED
    assert [t.learner_id for t in tasks(app)] == [people.ids["student2"]]


def test_yes_to_a_conversation_question_creates_the_same_task(
        app, people, planning, clock, client):
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    week = one(app, people.ids["student"], FU2)
    clock.advance(seconds=(week.due_at - clock.now()).total_seconds())
    dispatch(app, clock.now())
    link = stage_link(app, week.id)
    form = client.get(link).get_data(as_text=True)
    assert "If you answer yes, a peer supporter is asked to contact you" in form
    client.post(link, data={"q_role_model": "yes", "distress": "3"})
    [task] = tasks(app)
    assert task.origin == "answer" and task_stage(app, task) == week.id
    assert task.learner_id == people.ids["student"] and task.proposed_at > clock.now()
    done = client.get(link).get_data(as_text=True)
    assert "a peer supporter has been asked to contact you" in done
    other = one(app, people.ids["student2"], FU2)
    app.test_client().post(stage_link(app, other.id), data={"q_role_model": "maybe"})
    assert len(tasks(app)) == 1  # only a yes asks


def test_the_proposed_time_is_a_weekday_afternoon(app):
    from datetime import UTC, datetime

    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    proposed = conversations.proposed_time(friday_evening, "Europe/Copenhagen")
    assert proposed == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Monday 14:00 local


def test_the_timeline_reads_its_conversations_at_once_however_many_there_are(
        app, people, planning, clock):
    from simdebrief.models import SupporterTier, SupportStatus
    from tests.web.test_page_queries import counted_queries

    two_learners_at_three_months(app, people, planning, clock)
    clock.advance(days=2)
    dispatch(app, clock.now())  # Søren's three-month conversation becomes a task
    soeren = client_for(app, people, "student2")

    def timeline() -> tuple[int, str]:
        with counted_queries(app) as statements:
            page = soeren.get("/me/follow-ups").get_data(as_text=True)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")]), page

    asked_with_one, page = timeline()
    assert page.count("Conversation: a supporter will propose a time") == 1
    with app.app_context():
        others = db.session.scalars(select(FollowUp).where(
            FollowUp.user_id == people.ids["student2"], FollowUp.stage_key != FU4)).all()
        for followup in others[:3]:
            followup.conversation_state = conversations.TASK
            request = SupportRequest(
                centre_id=people.centre_id, learner_id=followup.user_id,
                tier=SupporterTier.PEER, status=SupportStatus.OPEN, origin="offered",
                created_at=clock.now(), updated_at=clock.now())
            db.session.add(request)
            db.session.flush()
            db.session.add(ConversationTask(followup_id=followup.id, request_id=request.id))
        db.session.commit()
    asked_with_four, page = timeline()
    assert page.count("Conversation: a supporter will propose a time") == 4
    assert asked_with_four == asked_with_one
