"""Follow-ups: scheduled for learners who were there, a signed link that opens one stage,
choices honoured by every later stage, private answers, figures only from enough learners,
and the dates in the learner's calendar."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, text

from simdebrief.extensions import db
from simdebrief.jobs import dispatch_followups
from simdebrief.models import (
    Centre,
    CheckIn,
    CheckInContext,
    Debrief,
    EventTrack,
    FollowUp,
    FollowUpChoice,
    FollowUpPlan,
    FollowUpStatus,
    OutboxEmail,
    PlanKind,
    PreferenceState,
    Room,
    SupportRequest,
    User,
)
from simdebrief.services.followups import answers, enrolment, figures, plan_versions, stage_rows
from tests.conftest import both_databases, client_for, delivered_bodies, link_in
from tests.web.test_debriefs import finalised, running_session

FU0, FU1, FU2, FU3, FU4 = ("FU0_end_of_debrief", "FU1_early", "FU2_one_week",
                           "FU3_one_month", "FU4_three_months")


def rows(app, **where) -> list[FollowUp]:
    with app.app_context():
        query = select(FollowUp).order_by(FollowUp.user_id, FollowUp.due_at)
        for name, value in where.items():
            query = query.where(getattr(FollowUp, name) == value)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def one(app, user_id: int, stage_key: str) -> FollowUp:
    [found] = [f for f in rows(app, user_id=user_id) if f.stage_key == stage_key]
    return found


def dispatch(app, when: datetime):
    return dispatch_followups(app, now=when)


def stage_link(app, followup_id: int, reminder: bool = False) -> str:
    """The link of the stage's email as the relay sends it (the outbox holds a placeholder)."""
    key = f"followup:{followup_id}" + (":reminder" if reminder else "")
    [body] = delivered_bodies(app, OutboxEmail.idempotency_key == key)
    return link_in(body)


def outbox_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEmail.idempotency_key)
                                       .where(OutboxEmail.idempotency_key.like("followup:%"))
                                       .order_by(OutboxEmail.idempotency_key)))


@pytest.fixture
def session_id(app, people, planning, clock):
    """A finalised session: the student was there, student2 was absent."""
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    finalised(app, people, session_id)
    return session_id


def another_session(app, people, planning, clock) -> int:
    """running_session creates its room by name; a second one needs the first renamed."""
    with app.app_context():
        for room in db.session.scalars(select(Room).where(Room.name == "Big room")):
            room.name = f"Big room {room.id}"
        db.session.commit()
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    return session_id


def test_finalising_schedules_the_plan_for_learners_who_were_there_only(
        app, people, session_id, clock):
    mine = rows(app, session_id=session_id)
    assert {f.user_id for f in mine} == {people.ids["student"]}
    assert [f.stage_key for f in mine] == [FU0, FU1, FU2, FU3, FU4]
    assert all(f.status is FollowUpStatus.SCHEDULED for f in mine)
    # Finalised at 09:00 local on 20 October; the week stage crosses the October change.
    assert mine[0].due_at == clock.now()
    assert mine[2].due_at == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)
    with app.app_context():
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))
        assert enrolment.schedule_for_debrief(db.session, debrief, clock.now()) == []
        db.session.commit()
    assert len(rows(app, session_id=session_id)) == 5


def test_the_signed_link_opens_its_own_stage_without_a_password(
        app, people, session_id, clock, client):
    result = dispatch(app, clock.now())
    assert (result.claimed, result.sent) == (1, 1)
    first = one(app, people.ids["student"], FU0)
    assert first.status is FollowUpStatus.SENT
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key == f"followup:{first.id}"))
        body = email.body_text
        # The email names nothing sensitive: no scenario, no stage.
        assert "anaphylaxis" not in body.lower() and "allergy" not in body.lower()
        assert "Right after the debrief" not in body and "Right after" not in email.subject
    link = stage_link(app, first.id)
    page = client.get(link)
    assert page.status_code == 200
    text_ = page.get_data(as_text=True)
    assert "Right after the debrief" in text_
    assert "Are the group's take-home messages clear to you?" in text_
    response = client.post(link, data={"distress": "6", "symptoms": ["sleep_problems"],
                                       "q_takeaways": "partly", "free_text": "only mine"})
    assert response.status_code in (302, 303)
    done = client.get(link).get_data(as_text=True)
    assert "Thank you for checking in" in done
    assert "only mine" not in done  # the link never shows answers
    assert "Would it help to talk to someone?" in done
    answered = one(app, people.ids["student"], FU0)
    assert answered.status is FollowUpStatus.COMPLETED
    with app.app_context():
        checkin = db.session.get(CheckIn, answered.checkin_id)
        assert checkin.followup_id == answered.id
        assert checkin.context is CheckInContext.FOLLOWUP
        assert checkin.session_id == session_id
        assert checkin.distress == 6 and checkin.payload["stage"] == {"takeaways": "partly"}
        raw = db.session.execute(text("SELECT payload FROM check_in WHERE id = :id"),
                                 {"id": checkin.id}).scalar()
        assert "only mine" not in raw and "takeaways" not in raw
    # Anything beyond that one stage needs a login.
    for path in ("/me/follow-ups", f"/me/follow-ups/{answered.id}",
                 f"/me/check-ins/{answered.checkin_id}"):
        assert "/login" in client.get(path).headers["Location"]


def test_answering_twice_stores_one_answer(app, people, session_id, clock, client):
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    client.post(link, data={"distress": "2"})
    client.post(link, data={"distress": "9"})
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id)).where(
            CheckIn.context == CheckInContext.FOLLOWUP)) == 1


def test_forged_unsent_and_other_peoples_links_are_not_found(
        app, people, planning, clock, client):
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    dispatch(app, clock.now())
    mine = one(app, people.ids["student"], FU0)
    theirs = one(app, people.ids["student2"], FU0)
    later = one(app, people.ids["student"], FU1)
    link = stage_link(app, mine.id)
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/f/{token[:-2]}xx").status_code == 404
    with app.app_context():
        forged = answers.make_link_token(db.session.get(FollowUp, later.id),
                                         secret_key="not-our-secret", now=clock.now())
        unsent = answers.make_link_token(db.session.get(FollowUp, later.id),
                                         secret_key=app.config["SECRET_KEY"], now=clock.now())
    assert client.get(f"/f/{forged}").status_code == 404
    response = client.get(f"/f/{unsent}")  # genuine, but that stage has not been sent
    assert response.status_code == 404
    assert "does not work" in response.get_data(as_text=True)
    # Logged in as someone else, a link is refused rather than mixing two people's answers.
    other = client_for(app, people, "student2")
    refused = other.get(link)
    assert refused.status_code == 404
    assert "belongs to another account" in refused.get_data(as_text=True)
    # And a learner's own pages never open someone else's stage.
    assert other.get(f"/me/follow-ups/{mine.id}").status_code == 404
    assert other.get(f"/me/follow-ups/{theirs.id}").status_code == 200
    assert client_for(app, people, "other_student").get(
        f"/me/follow-ups/{theirs.id}").status_code == 404


def test_an_expired_link_says_the_check_in_has_closed(app, people, session_id, clock, client):
    dispatch(app, clock.now())
    first = one(app, people.ids["student"], FU0)
    link = stage_link(app, first.id)
    clock.advance(days=3, minutes=1)
    response = client.get(link)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This check-in has closed" in page and "Nothing is wrong" in page
    assert dispatch(app, clock.now()).expired == 1
    assert one(app, people.ids["student"], FU0).status is FollowUpStatus.EXPIRED
    assert client.post(link, data={"distress": "3"}).status_code == 410


def test_pause_resume_and_stop_are_honoured_by_every_later_stage(
        app, people, planning, session_id, clock, client):
    student = people.ids["student"]
    dispatch(app, clock.now())
    link = stage_link(app, one(app, student, FU0).id)
    # One click from the email's page, no login, no reason.
    response = client.post(f"{link}/choice", data={"action": "pause"})
    assert response.status_code in (302, 303)
    assert [f.status for f in rows(app, user_id=student)][1:] == [FollowUpStatus.PAUSED] * 4
    clock.set(one(app, student, FU1).due_at)
    assert dispatch(app, clock.now()).sent == 0
    assert f"followup:{one(app, student, FU1).id}" not in outbox_keys(app)

    # Resumed after the day-after stage's window: that one is skipped, later ones come.
    clock.advance(days=3)
    learner = client_for(app, people, "student")
    learner.post("/me/follow-ups/choice", data={"action": "resume"})
    statuses = {f.stage_key: f.status for f in rows(app, user_id=student)}
    assert statuses[FU1] is FollowUpStatus.SKIPPED
    assert statuses[FU2] is FollowUpStatus.SCHEDULED
    clock.set(one(app, student, FU2).due_at)
    assert dispatch(app, clock.now()).sent == 1

    learner = client_for(app, people, "student")  # days later: a new login
    learner.post("/me/follow-ups/choice", data={"action": "stop"})
    clock.set(one(app, student, FU4).due_at + timedelta(hours=1))
    assert dispatch(app, clock.now()).sent == 0
    assert {f.stage_key: f.status for f in rows(app, user_id=student)}[FU4] is \
        FollowUpStatus.STOPPED
    with app.app_context():
        choices = db.session.execute(select(FollowUpChoice.action, FollowUpChoice.via)
                                     .where(FollowUpChoice.user_id == student)
                                     .order_by(FollowUpChoice.id)).all()
        assert [tuple(c) for c in choices] == [("pause", "link"), ("resume", "page"),
                                               ("stop", "page")]
    # A session finalised later honours the choice too.
    second = another_session(app, people, planning, clock)
    later = rows(app, session_id=second, user_id=student)
    assert later and all(f.status is FollowUpStatus.STOPPED for f in later)
    assert all(f.status is FollowUpStatus.SCHEDULED
               for f in rows(app, session_id=second, user_id=people.ids["student2"]))
    page = client_for(app, people, "student").get("/me/follow-ups").get_data(as_text=True)
    assert "Your follow-ups are stopped" in page and "Turn follow-ups back on" in page


def test_a_non_responder_is_reminded_once(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock)
    finalised(app, people, session_id)
    clock.set(one(app, people.ids["student"], FU1).due_at)
    assert dispatch(app, clock.now()).sent == 4  # FU0 (late but in its window) and FU1, x2
    client_for(app, people, "student2").post(
        f"/me/follow-ups/{one(app, people.ids['student2'], FU1).id}", data={"distress": "1"})
    clock.advance(days=1)
    assert dispatch(app, clock.now()).reminders == 1
    assert dispatch(app, clock.advance(hours=6)).reminders == 0
    reminded = one(app, people.ids["student"], FU1)
    assert reminded.reminder_sent_at is not None
    assert f"followup:{reminded.id}:reminder" in outbox_keys(app)
    assert one(app, people.ids["student2"], FU1).reminder_sent_at is None
    # The reminder's link opens the same stage.
    assert stage_link(app, reminded.id, reminder=True) == stage_link(app, reminded.id)


def test_a_claim_left_behind_is_taken_again_after_its_lease(app, people, session_id, clock):
    first = one(app, people.ids["student"], FU0)
    with app.app_context():
        db.session.execute(FollowUp.__table__.update().where(FollowUp.id == first.id).values(
            status=FollowUpStatus.CLAIMED, claimed_at=clock.now(), claim_token="dead"))
        db.session.commit()
    assert dispatch(app, clock.advance(minutes=4)).claimed == 0
    assert dispatch(app, clock.advance(minutes=2)).sent == 1
    assert dispatch(app, clock.advance(minutes=10)).claimed == 0
    assert outbox_keys(app) == [f"followup:{first.id}"]


def test_answers_are_check_ins_the_instructor_cannot_read(
        app, people, session_id, clock, client):
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    client.post(link, data={"distress": "7", "free_text": "I keep seeing the rash"})
    checkin_id = one(app, people.ids["student"], FU0).checkin_id
    for key, status in (("instructor", 403), ("admin", 403), ("peer", 403),
                        ("student2", 404), ("student", 200)):
        response = client_for(app, people, key).get(f"/me/check-ins/{checkin_id}")
        assert response.status_code == status, key
    instructor = client_for(app, people, "instructor").get("/follow-ups/sessions")
    page = instructor.get_data(as_text=True)
    assert instructor.status_code == 200
    assert "Right after the debrief" in page
    assert "I keep seeing the rash" not in page and "Sara Student" not in page
    assert client_for(app, people, "student").get("/follow-ups/sessions").status_code == 403
    # Once answered, the link no longer asks for a conversation (that needs a login).
    response = client.post(f"{link}/talk", data={"tier": "peer", "share_checkin": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(SupportRequest.id))) == 0


def test_distress_per_stage_needs_the_minimum_group(app, people, planning, clock):
    """Changed by the data-protection issue: k is at least 5, no range is shown, and a
    stage counts only once it has closed for the whole session."""
    with app.app_context():
        db.session.get(Centre, people.centre_id).min_group_size = 3  # below the floor of 5
        db.session.commit()
    session_id = running_session(app, people, planning, clock, extra_students=4)
    finalised(app, people, session_id)
    dispatch(app, clock.now())
    learners = sorted({f.user_id for f in rows(app, session_id=session_id)})
    assert len(learners) == 6
    links = [stage_link(app, one(app, user_id, FU0).id) for user_id in learners]
    anonymous = app.test_client()
    for link, score in zip(links[:4], (2, 8, 5, 4), strict=True):
        anonymous.post(link, data={"distress": str(score)})
    admin = client_for(app, people, "admin")
    page = admin.get("/admin/follow-ups").get_data(as_text=True)
    assert "Not shown yet: no closed stage with scores from at least 5 learners." in page
    anonymous.post(links[4], data={"distress": "6"})
    # Five scores, but the stage is still open for the sixth learner: still nothing.
    assert "Not shown yet" in admin.get("/admin/follow-ups").get_data(as_text=True)
    clock.set(one(app, learners[0], FU0).expires_at + timedelta(minutes=1))
    page = admin.get("/admin/follow-ups").get_data(as_text=True)
    assert "Not shown yet" not in page and "Range" not in page and "2–8" not in page
    assert client_for(app, people, "instructor").get("/admin/follow-ups").status_code == 403
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        [row] = [r for r in figures.distress_per_stage(db.session, centre, clock.now())
                 if r.key == FU0]
        assert (row.answered, row.median) == (5, 5)


def test_the_learners_calendar_feed_holds_their_follow_up_dates(
        app, people, session_id, client):
    with app.app_context():
        token = db.session.get(User, people.ids["student"]).calendar_token
        absent_token = db.session.get(User, people.ids["student2"]).calendar_token
    feed = Calendar.from_ical(client.get(f"/calendar/feed/{token}.ics").data)
    events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    ids = [f.id for f in rows(app, session_id=session_id)]
    assert {f"followup-{i}@simdebrief" for i in ids} <= set(events)
    week = events[f"followup-{ids[2]}@simdebrief"]
    start = week.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (9, 0, "Europe/Copenhagen")
    assert start.date().isoformat() == "2026-10-27"
    assert str(week["SUMMARY"]) == "SimDebrief check-in"
    other = Calendar.from_ical(client.get(f"/calendar/feed/{absent_token}.ics").data)
    assert not [e for e in other.walk("VEVENT") if "followup-" in str(e["UID"])]


def test_the_timeline_shows_stages_and_a_chart_of_the_learners_own_answers(
        app, people, session_id, clock, client):
    dispatch(app, clock.now())
    client.post(stage_link(app, one(app, people.ids["student"], FU0).id),
                data={"distress": "6"})
    clock.set(one(app, people.ids["student"], FU1).due_at)
    dispatch(app, clock.now())
    learner = client_for(app, people, "student")
    stage = one(app, people.ids["student"], FU1)
    assert learner.post(f"/me/follow-ups/{stage.id}", data={
        "distress": "3", "q_sleep": "disturbed"}).status_code in (302, 303)
    page = learner.get("/me/follow-ups").get_data(as_text=True)
    assert 'id="distress-trend"' in page and "<svg" in page
    for words in ("Right after the debrief", "The day after", "One week on", "Answered",
                  "Coming", "Your follow-ups are on."):
        assert words in page, words
    # An answered stage shows the answers, stage questions included, and stores nothing new.
    answered = learner.post(f"/me/follow-ups/{stage.id}", data={"distress": "1"})
    assert answered.status_code == 200
    assert "A little disturbed" in answered.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id))) == 2


def test_a_wrong_answer_to_a_stage_question_is_explained(
        app, people, session_id, clock, client):
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    response = client.post(link, data={"q_takeaways": "maybe-not", "distress": "4"})
    assert response.status_code == 400
    assert "Choose from the options shown." in response.get_data(as_text=True)
    assert one(app, people.ids["student"], FU0).status is FollowUpStatus.SENT


def test_a_learner_starts_and_ends_a_complaint_track(app, people, clock):
    learner = client_for(app, people, "student")
    page = learner.get("/me/follow-ups/tracks/new").get_data(as_text=True)
    assert "I received a patient complaint" in page
    response = learner.post("/me/follow-ups/tracks/new", data={"kind": "complaint"})
    assert response.status_code in (302, 303)
    with app.app_context():
        track = db.session.scalar(select(EventTrack))
        track_id = track.id
    mine = rows(app, track_id=track_id)
    assert len(mine) == plan_versions.COMPLAINT_MONTHS + 1
    months = [f.due_at.date() for f in mine[1:]]
    assert months[0].isoformat() == "2026-11-20" and len(set(months)) == len(months)
    page = learner.get(f"/me/follow-ups/tracks/{track_id}").get_data(as_text=True)
    assert "What usually happens next" in page and "Styrelsen for Patientklager" in page
    assert learner.post("/me/follow-ups/tracks/new",
                        data={"kind": "complaint"}).status_code == 400  # one at a time
    assert client_for(app, people, "student2").get(
        f"/me/follow-ups/tracks/{track_id}").status_code == 404
    assert client_for(app, people, "instructor").get(
        f"/me/follow-ups/tracks/{track_id}").status_code == 403
    # A single learner's track never shows in the centre's figures.
    admin_page = client_for(app, people, "admin").get("/admin/follow-ups").get_data(
        as_text=True)
    assert "After a patient complaint" not in admin_page
    learner.post(f"/me/follow-ups/tracks/{track_id}/end")
    assert all(f.status is FollowUpStatus.STOPPED for f in rows(app, track_id=track_id))


def test_plans_are_versioned_and_changes_reach_unsent_stages_only_when_asked(
        app, people, session_id, clock):
    admin = client_for(app, people, "admin")
    page = admin.get("/admin/follow-up-plans").get_data(as_text=True)
    assert "Standard follow-up after a session" in page and "After a patient complaint" in page
    with app.app_context():
        plan = plan_versions.current_plan(db.session, db.session.get(Centre, people.centre_id),
                                          PlanKind.SESSION, clock.now())
        plan_id, stages = plan.id, [plan_versions.StageInput.of(s) for s in plan.stages]
    dispatch(app, clock.now())  # FU0 goes out; the rest stay unsent

    def form(apply: bool, week_days: int, drop_last: bool) -> dict:
        data = {"name": "Standard follow-up after a session", "description": "",
                "apply_to_unsent": "y" if apply else ""}
        for index, stage in enumerate(stages):
            prefix = f"stages-{index}-"
            data.update({prefix + "key": stage.key, prefix + "title": stage.title,
                         prefix + "offset_amount": str(week_days if stage.key == FU2
                                                       else stage.offset_amount),
                         prefix + "offset_unit": stage.offset_unit.value,
                         prefix + "send_hour": str(stage.send_hour),
                         prefix + "window_days": str(stage.window_days),
                         prefix + "reminder_after_days": str(stage.reminder_after_days or ""),
                         prefix + "expires_after_days": str(stage.expires_after_days),
                         prefix + "parts": list(stage.parts),
                         prefix + "questions": list(stage.questions),
                         prefix + "content": list(stage.content)})
            if drop_last and stage.key == FU4:
                data[prefix + "remove"] = "y"
        return data

    before = {f.stage_key: f.due_at for f in rows(app, session_id=session_id)}
    assert admin.post(f"/admin/follow-up-plans/{plan_id}/edit",
                      data=form(False, 8, False)).status_code in (302, 303)
    unchanged = {f.stage_key: f.due_at for f in rows(app, session_id=session_id)}
    assert unchanged == before
    with app.app_context():
        current = plan_versions.current_plan(db.session, db.session.get(Centre, people.centre_id),
                                             PlanKind.SESSION, clock.now())
        current_id = current.id
        assert current.version == 2
        assert not db.session.get(FollowUpPlan, plan_id).is_current
    # An edit of the old version goes to the current one.
    assert admin.get(f"/admin/follow-up-plans/{plan_id}/edit").status_code in (302, 303)
    response = admin.post(f"/admin/follow-up-plans/{current_id}/edit",
                          data=form(True, 10, True))
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    after = {f.stage_key: f for f in rows(app, session_id=session_id)}
    assert after[FU0].due_at == before[FU0] and after[FU0].status is FollowUpStatus.SENT
    assert after[FU2].due_at == datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    assert after[FU4].status is FollowUpStatus.SKIPPED
    with app.app_context():
        assert db.session.get(FollowUp, after[FU2].id).plan.version == 3
        latest = db.session.get(FollowUp, after[FU2].id).plan_id
    edit_page = admin.get(f"/admin/follow-up-plans/{latest}/edit")
    assert edit_page.status_code == 200
    assert "Apply to stages not yet sent" in edit_page.get_data(as_text=True)
    bad = form(False, 7, False)
    bad["stages-1-send_hour"] = "23"
    response = admin.post(f"/admin/follow-up-plans/{latest}/edit", data=bad)
    assert response.status_code == 400
    assert "the send hour must be between 8 and 20" in response.get_data(as_text=True)
    assert client_for(app, people, "other_admin").get(
        f"/admin/follow-up-plans/{current_id}/edit").status_code == 404


def test_dispatch_command_runs_one_pass_of_both_jobs(app, people, session_id, clock):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["followups", "dispatch", "--once", "--now",
                                 "2026-10-20T09:05:00+02:00"])
    assert result.exit_code == 0, result.output
    assert "1 claimed, 1 sent to the outbox" in result.output
    assert "outbox: " in result.output and " 0 failed" in result.output
    with app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(
            OutboxEmail.idempotency_key.like("followup:%")))
        assert email.status.value == "logged"  # no SMTP host in tests: written to the log
    again = runner.invoke(args=["followups", "dispatch", "--once", "--now",
                                "2026-10-20T09:06:00"])
    assert "0 claimed" in again.output


def test_the_demo_has_answered_paused_and_due_follow_ups(app, clock):
    from simdebrief.scenarios import default_library_dir
    from simdebrief.services import demo

    with app.app_context():
        added = demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                               library_dir=default_library_dir())
        db.session.commit()
        # Five learners present; the demo's cardiac-arrest scenario (patient death) gets the
        # high-risk plan of six stages (issue 12: the plan fits the event).
        assert added["follow-ups"] == 30
        statuses = set(db.session.scalars(select(FollowUp.status)))
        assert {FollowUpStatus.COMPLETED, FollowUpStatus.PAUSED, FollowUpStatus.SENT,
                FollowUpStatus.EXPIRED, FollowUpStatus.SCHEDULED} <= statuses
        freja = db.session.scalar(select(User).where(User.email.like("freja@%")))
        assert stage_rows.state_of(db.session, freja) is PreferenceState.PAUSED
        again = demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                               library_dir=default_library_dir())
        assert again["follow-ups"] == 0
    due = dispatch(app, clock.now())
    assert due.sent >= 1  # the one-week stage of the learners who did not pause


@both_databases
def test_the_timeline_shows_the_learners_standing_choice_and_their_latest_choices_only(
        app, people, planning, session_id, clock):
    learner = client_for(app, people, "student")
    first = learner.get("/me/follow-ups").get_data(as_text=True)
    assert "Your choices" not in first  # never chosen: active, nothing listed
    for minutes, action in enumerate(["pause", "resume"] * 6 + ["stop"]):
        clock.advance(minutes=minutes + 1)
        learner.post("/me/follow-ups/choice", data={"action": action})
    other = client_for(app, people, "student2")
    other.post("/me/follow-ups/choice", data={"action": "pause"})
    page = learner.get("/me/follow-ups").get_data(as_text=True)
    listed = page.split("Your choices")[1].split("</ul>")[0]
    assert listed.count("<li>") == 10  # the latest ten of thirteen
    assert listed.index("Stopped") < listed.index("Resumed") < listed.index("Paused")
    heading = page.split('id="state-heading">')[1].split("</h2>")[0]
    assert heading != other.get("/me/follow-ups").get_data(as_text=True).split(
        'id="state-heading">')[1].split("</h2>")[0]  # stopped, not the other's pause
