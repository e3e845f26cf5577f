"""k-anonymous group figures that cannot be differenced.

Property-based: hypothesis generates groups and answer sequences, and after every step we
take the figures staff would see. No figure may let one learner's value be recovered by
comparing two views: a debrief figure never changes once shown, and a follow-up figure
changes only by a whole closed batch of at least k learners. Every visible count is at
least k, and so is what it leaves hidden.
"""

import io
import itertools
import re
from datetime import timedelta

from flask import render_template
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select, update

from simdebrief import checkin_options as options
from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Centre,
    CheckInContext,
    Debrief,
    FollowUp,
    FollowUpStatus,
    Role,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupportRequest,
    User,
)
from simdebrief.services import accounts, checkins, group_figures
from simdebrief.services.followups import answers, enrolment, figures, learner_choices
from tests.conftest import START, both_databases, client_for, login
from tests.web.test_checkins import SCENARIO, check_in, make_session
from tests.web.test_debriefs import finalised, running_session

K = group_figures.K_FLOOR
SYMPTOMS = options.codes(options.SYMPTOMS)
serial = itertools.count()

answers_strategy = st.fixed_dictionaries({
    "distress": st.none() | st.integers(0, 10),
    "symptoms": st.lists(st.sampled_from(SYMPTOMS), unique=True, max_size=3),
})


# --- the rules themselves ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(counts=st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]),
                              st.integers(0, 30), min_size=1),
       k=st.integers(2, 10))
def test_no_hidden_cell_can_be_worked_out_from_the_total(counts, k):
    cells = group_figures.suppress_partition(counts, k)
    visible = [cell.value for cell in cells.values() if cell.shown]
    assert all(value == 0 or value >= k for value in visible)
    total = sum(counts.values())
    hidden = total - sum(visible)
    # A total under k is itself hidden by its table, and then so is every cell.
    assert hidden == 0 or hidden >= k or (hidden == total and total < k)
    assert all(cell.value == counts[name] for name, cell in cells.items() if cell.shown)


@settings(max_examples=200, deadline=None)
@given(group=st.integers(0, 40), data=st.data(), k=st.integers(2, 10))
def test_a_choice_count_hides_both_small_sides(group, data, k):
    ticked = data.draw(st.integers(0, group))
    cell = group_figures.suppress_choice(ticked, group, k)
    if cell.shown:
        assert ticked >= k and group - ticked >= k


# --- the debrief figures: one view, frozen when the check-in closes ---------------------------


def new_learners(centre, count: int, now) -> list[User]:
    return [accounts.create_user(
        db.session, centre=centre, now=now,
        data=accounts.NewUser(f"learner{next(serial)}@example.org", "Learner", Role.STUDENT))
        for _ in range(count)]


def new_session(centre, learners, planning, *, status=SessionStatus.IN_PROGRESS) -> SimSession:
    sim_session = SimSession(
        centre_id=centre.id, scenario_version_id=planning.versions[SCENARIO],
        room_id=planning.room_id, starts_at=START - timedelta(hours=2),
        ends_at=START + timedelta(hours=1), status=status, created_at=START,
        updated_at=START,
        participants=[SessionParticipant(user_id=u.id, attendance=Attendance.PRESENT)
                      for u in learners])
    db.session.add(sim_session)
    db.session.flush()
    return sim_session


def staff_view(sim_session) -> tuple | None:
    """What the feedback page and the summary PDF show: the figures as text."""
    aggregate = checkins.aggregate_for_session(db.session, sim_session)
    if aggregate is None:
        return None
    return (aggregate.answered, aggregate.distress_median,
            tuple((code, group_figures.count_text(cell))
                  for code, cell in aggregate.symptom_cells), aggregate)


#: Per learner: what they do during the debrief; then more answers in any order.
debrief_plan = st.lists(st.tuples(st.sampled_from(["answer"] * 6 + ["skip", "nothing"]),
                                  answers_strategy), min_size=9, max_size=9)
more_answers = st.lists(st.tuples(st.integers(0, 8), st.sampled_from([False] * 4 + [True]),
                                  answers_strategy), max_size=8)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(size=st.sampled_from([7, 9, 5, 6, 8, 3]), plan=debrief_plan, during=more_answers,
       later=more_answers)
def test_debrief_figures_never_change_once_shown(app, people, planning, clock,
                                                 size, plan, during, later):
    with app.app_context(), app.test_request_context():
        centre = db.session.get(Centre, people.centre_id)
        learners = new_learners(centre, size, clock.now())
        sim_session = new_session(centre, learners, planning)
        last: dict[int, dict | None] = {}
        steps = [(index, action == "skip", given_answers)
                 for index, (action, given_answers) in enumerate(plan[:size])
                 if action != "nothing"]
        for index, skipped, given_answers in steps + during:
            learner = learners[index % size]
            if skipped:
                checkins.skip_checkin(db.session, user=learner, sim_session=sim_session,
                                      now=clock.now())
                last[learner.id] = None
            else:
                checkins.submit_checkin(db.session, user=learner, sim_session=sim_session,
                                        now=clock.now(),
                                        answers=checkins.Answers(**given_answers))
                last[learner.id] = given_answers
            # While the check-in is open, each answer would show: nothing is shown.
            assert staff_view(sim_session) is None
        sim_session.status = SessionStatus.DEBRIEFED
        db.session.flush()
        first = staff_view(sim_session)

        answered = [a for a in last.values() if a is not None]
        event("debrief figures shown" if first else "debrief figures hidden")
        if len(answered) < K:
            assert first is None
        else:
            count, median, cells, aggregate = first
            assert count == len(answered)
            scores = sorted(a["distress"] for a in answered if a["distress"] is not None)
            assert (median is None) == (len(scores) < K)
            for code, cell in aggregate.symptom_cells:
                ticked = sum(code in a["symptoms"] for a in answered)
                assert not cell.shown or (cell.value == ticked and K <= ticked <= count - K)
            html = render_template("checkins/_aggregate.html", sim_session=sim_session,
                                   aggregate=aggregate, support_flags=set())
            assert "Range" not in html and set(re.findall(r"\d+–\d+", html)) <= {"0–10"}

        # Later check-ins (the learner's own, and follow-up answers) never change a figure.
        for index, is_followup, given_answers in later:
            checkins.submit_checkin(
                db.session, user=learners[index % size], sim_session=sim_session,
                now=clock.now(), answers=checkins.Answers(**given_answers),
                context=CheckInContext.FOLLOWUP if is_followup else None)
            assert staff_view(sim_session) == first
        db.session.rollback()


# --- follow-up figures: only whole closed batches of at least k --------------------------------


def distress_view(centre, now) -> dict:
    return {(row.plan_kind, row.key): (row.answered, row.median)
            for row in figures.distress_per_stage(db.session, centre, now)}


#: Per session, learner and stage (of the first two): what they do, and after how many hours.
stage_plan = st.lists(st.tuples(
    st.sampled_from(["answer"] * 6 + ["skip", "pause", "nothing"]),
    st.sampled_from([*range(11), None]), st.integers(0, 80)), min_size=32, max_size=32)


def centre_with_sessions(planning, sizes, start) -> tuple[Centre, list]:
    """A new centre with one debriefed session per group size, every stage sent at once so
    any of them can be answered in any order."""
    centre = Centre(name=f"Centre {next(serial)}", timezone="Europe/Copenhagen",
                    created_at=start)
    db.session.add(centre)
    db.session.flush()
    groups = [debriefed_group(centre, size, planning, start) for size in sizes]
    db.session.flush()
    return centre, groups


def debriefed_group(centre, size, planning, start) -> tuple[SimSession, list[User]]:
    """A finalised session of ``size`` new learners, every stage of theirs sent at once."""
    learners = new_learners(centre, size, start)
    sim_session = new_session(centre, learners, planning, status=SessionStatus.DEBRIEFED)
    debrief = Debrief(session_id=sim_session.id, framework="pearls", created_at=start,
                      updated_at=start, finalised_at=start)
    db.session.add(debrief)
    db.session.flush()
    enrolment.schedule_for_debrief(db.session, debrief, start)
    db.session.execute(update(FollowUp).where(FollowUp.session_id == sim_session.id)
                       .values(status=FollowUpStatus.SENT, sent_at=start))
    return sim_session, learners


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sizes=st.tuples(st.sampled_from([7, 5, 3, 6, 8]), st.sampled_from([6, 4, 8])),
       plan=stage_plan)
def test_follow_up_figures_change_only_by_whole_closed_batches(app, people, planning, clock,
                                                               sizes, plan):
    with app.app_context():
        start = clock.now()
        centre, groups = centre_with_sessions(planning, sizes, start)
        stage_keys = sorted({key for key in db.session.scalars(
            select(FollowUp.stage_key).where(FollowUp.centre_id == centre.id))})[:2]
        steps = sorted(
            (step[2], group_index, learner_index, stage_index, step[0], step[1])
            for (group_index, learner_index, stage_index), step in zip(
                itertools.product(range(2), range(8), range(2)), plan, strict=True)
            if step[0] != "nothing" and learner_index < sizes[group_index])

        previous = distress_view(centre, start)
        for hours, group_index, learner_index, stage_index, action, distress in steps:
            now = start + timedelta(hours=hours)
            sim_session, learners = groups[group_index]
            learner = learners[learner_index]
            followup = db.session.scalar(select(FollowUp).where(
                FollowUp.session_id == sim_session.id, FollowUp.user_id == learner.id,
                FollowUp.stage_key == stage_keys[stage_index]))
            if action == "pause":
                learner_choices.set_choice(db.session, user=learner, action="pause", now=now)
            elif answers.is_answerable(followup, now):
                if action == "answer":
                    answers.complete_stage(db.session, followup=followup,
                                           answers=checkins.Answers(distress=distress),
                                           stage_answers={}, now=now)
                else:
                    answers.skip_stage(db.session, followup=followup, now=now)
            current = distress_view(centre, now)
            assert_no_single_answer_shows(previous, current)
            previous = current
        final = distress_view(centre, start + timedelta(days=400))
        assert_no_single_answer_shows(previous, final)
        event("follow-up figure shown" if any(count for count, _m in final.values())
              else "follow-up figures hidden")
        db.session.rollback()


def assert_no_single_answer_shows(before: dict, after: dict) -> None:
    for key in set(before) | set(after):
        old_count, old_median = before.get(key, (None, None))
        new_count, new_median = after.get(key, (None, None))
        for count in (old_count, new_count):
            assert count is None or count >= K
        change = (new_count or 0) - (old_count or 0)
        assert change == 0 or change >= K, (key, before, after)
        if change == 0:
            assert new_median == old_median


# --- the pages ----------------------------------------------------------------------------------


@both_databases
def test_the_feedback_page_and_summary_show_no_range_and_hide_small_counts(
        app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, extra_students=4)
    learners = [client_for(app, people, key) for key in ("student", "student2")]
    for number in range(4):
        learner = app.test_client()
        login(learner, f"extra{number}@example.org")
        learners.append(learner)
    for learner, distress, symptom in zip(learners, (1, 9, 4, 5, 6, 7),
                                          ("shame",) + ("sleep_problems",) * 5,
                                          strict=True):
        assert check_in(learner, session_id, distress=str(distress),
                        symptoms=[symptom]).status_code == 302
    instructor = finalised(app, people, session_id)
    page = instructor.get(f"/sessions/{session_id}/debrief/feedback").get_data(as_text=True)
    assert "From the debrief check-ins of 6 learners" in page
    assert "Range" not in page and "1–9" not in page
    # Shame: 1 learner, fewer than 5; trouble sleeping: 5 ticked, so only 1 did not.
    assert page.count("fewer than 5") >= 2 and "all but fewer than 5" in page
    summary = instructor.get(f"/sessions/{session_id}/summary.pdf")
    assert summary.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(summary.data)).pages)
    assert "Range" not in text and "1–9" not in text and "fewer than 5" in text


def test_consent_to_tell_the_instructors_is_never_ticked_in_advance(
        app, people, planning, clock, student_client):
    session_id = make_session(app, people, planning)
    page = student_client.get(f"/me/support/new?session={session_id}").get_data(as_text=True)
    [box] = [line for line in page.splitlines() if 'name="instructors_informed"' in line]
    assert "checked" not in box
    # Sending the form as it comes tells nobody.
    student_client.post(f"/me/support/new?session={session_id}",
                        data={"tier": "peer", "message": "Could we talk?"})
    with app.app_context():
        assert db.session.scalar(select(SupportRequest.instructors_informed)) is False
