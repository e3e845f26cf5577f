"""The structured debrief: who may write it, saving without losing work, factors, feedback,
finalising, amendments and the learners' ratings."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Centre,
    Debrief,
    DebriefStatus,
    Role,
    SessionStatus,
    SimSession,
    User,
)
from simdebrief.services import accounts, directory, scheduling
from tests.conftest import PASSWORD, client_for

SCENARIO = "penicillin-allergy-anaphylaxis"


def running_session(app, people, planning, clock, *, extra_students=0, absent=()):
    """A session that started a moment ago, with attendance taken."""
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        student_ids = [people.ids["student"], people.ids["student2"]]
        for number in range(extra_students):
            extra = accounts.create_user(
                db.session, centre=centre, now=clock.now(), password=PASSWORD,
                data=accounts.NewUser(f"extra{number}@example.org", f"Extra {number}",
                                      Role.STUDENT))
            student_ids.append(extra.id)
        room = directory.create_room(db.session, centre=centre, name="Big room", capacity=20)
        change = scheduling.schedule_session(
            db.session, centre=centre, actor=instructor, now=clock.now(), confirmed=True,
            plan=scheduling.SessionPlan(
                scenario_version_id=planning.versions[SCENARIO],
                starts_at=clock.now() + timedelta(hours=1),
                ends_at=clock.now() + timedelta(hours=4), room_id=room.id,
                instructor_ids=(instructor.id,), student_ids=tuple(student_ids)))
        absent_ids = {people.ids[key] for key in absent}
        scheduling.start_session(db.session, sim_session=change.session, actor=instructor,
                                 present_ids=set(student_ids) - absent_ids, now=clock.now())
        db.session.commit()
        return change.session.id


@pytest.fixture
def session_id(app, people, planning, clock):
    return running_session(app, people, planning, clock)


def started(client, session_id):
    response = client.post(f"/sessions/{session_id}/debrief/start")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return client


def notes(**overrides):
    data = {
        "version": "1",
        "prebrief_fiction_contract": "y",
        "prebrief_time_out_option_explained": "y",
        "phase_reactions": "The team felt shaken when the rash appeared.",
        "phase_analysis": "Allergy check skipped under time pressure.",
        "framing_errors_inevitable_multifactorial": "y",
        "framing_just_culture__human_error": "y",
        "triggers": ["own_error", "patient_harm_or_death"],
        "take_home_messages": "Check allergies aloud.\nSpeak up when unsure.",
    }
    data.update(overrides)
    return data


def load_debrief(app, session_id) -> Debrief:
    with app.app_context():
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))
        db.session.expunge(debrief)
        return debrief


def test_only_the_sessions_instructors_write_the_debrief(app, people, session_id):
    assert client_for(app, people, "admin").get(
        f"/sessions/{session_id}/debrief").status_code == 403
    assert client_for(app, people, "student").get(
        f"/sessions/{session_id}/debrief").status_code == 403
    assert client_for(app, people, "peer").get(
        f"/sessions/{session_id}/debrief").status_code == 404
    assert client_for(app, people, "other_admin").get(
        f"/sessions/{session_id}/debrief").status_code == 404
    instructor = client_for(app, people, "instructor")
    assert "Start the debrief" in instructor.get(
        f"/sessions/{session_id}/debrief").get_data(as_text=True)


def test_the_whole_form_is_saved_and_shown_again(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    response = instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    assert response.status_code in (302, 303)
    debrief = load_debrief(app, session_id)
    assert debrief.prebrief["fiction_contract"] is True
    assert debrief.prebrief["logistics"] is False
    assert debrief.phase_notes["reactions"] == "The team felt shaken when the rash appeared."
    assert debrief.framing["just_culture.human_error"] is True
    assert "just_culture.reckless" not in debrief.framing  # hidden unless an admin enables it
    assert debrief.triggers == ["own_error", "patient_harm_or_death"]
    page = instructor.get(f"/sessions/{session_id}/debrief").get_data(as_text=True)
    assert "The team felt shaken when the rash appeared." in page
    assert "Reckless" not in page


def test_reckless_appears_when_the_centre_enables_it(app, people, session_id):
    with app.app_context():
        db.session.get(Centre, people.centre_id).reckless_enabled = True
        db.session.commit()
    instructor = started(client_for(app, people, "instructor"), session_id)
    assert "Reckless behaviour" in instructor.get(
        f"/sessions/{session_id}/debrief").get_data(as_text=True)


def test_a_second_instructor_saving_an_old_form_is_refused_and_keeps_their_text(
    app, people, session_id
):
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        colleague = accounts.create_user(
            db.session, centre=sim_session.centre, now=datetime(2026, 10, 1, tzinfo=UTC),
            password=PASSWORD,
            data=accounts.NewUser("co@example.org", "Cora Co-instructor", Role.INSTRUCTOR))
        sim_session.instructors.append(colleague)
        db.session.commit()
    first = started(client_for(app, people, "instructor"), session_id)
    second = app.test_client()
    second.post("/login", data={"email": "co@example.org", "password": PASSWORD})
    assert second.get(f"/sessions/{session_id}/debrief").status_code == 200  # version 1

    assert first.post(f"/sessions/{session_id}/debrief",
                      data=notes()).status_code in (302, 303)
    refused = second.post(f"/sessions/{session_id}/debrief", data=notes(
        phase_reactions="Cora's careful notes about the reactions phase."))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Ivan Instructor saved the debrief" in text
    assert "Cora&#39;s careful notes about the reactions phase." in text
    assert load_debrief(app, session_id).phase_notes["reactions"] == \
        "The team felt shaken when the rash appeared."
    # Saving again after seeing the message is a deliberate choice and works.
    version = load_debrief(app, session_id).version
    again = second.post(f"/sessions/{session_id}/debrief", data=notes(
        version=str(version), phase_reactions="Merged notes."))
    assert again.status_code in (302, 303)
    assert load_debrief(app, session_id).phase_notes["reactions"] == "Merged notes."


def test_bad_analysis_input_is_named_and_kept(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    response = instructor.post(f"/sessions/{session_id}/debrief/analysis", data={
        "kind": "", "domain": "teamwork", "strategy": "focused_facilitation", "text": "",
        "observation": "I saw the nurse hesitate before giving the drug."})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the kind of item." in text and "Describe the item." in text
    assert "I saw the nurse hesitate before giving the drug." in text
    ok = instructor.post(f"/sessions/{session_id}/debrief/analysis", data={
        "kind": "delta", "domain": "teamwork", "strategy": "focused_facilitation",
        "text": "Closed-loop communication for drug orders"})
    assert ok.status_code in (302, 303)
    assert "Closed-loop communication for drug orders" in instructor.get(
        f"/sessions/{session_id}/debrief/analysis").get_data(as_text=True)


def test_expected_factors_are_suggested_once_and_spread_over_levels(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/factors/suggest")
    instructor.post(f"/sessions/{session_id}/debrief/factors/suggest")
    debrief_page = instructor.get(f"/sessions/{session_id}/debrief/factors")
    page = debrief_page.get_data(as_text=True)
    with app.app_context():
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))
        content = debrief.session.scenario_version.content
        assert len(debrief.problems) == len(content["care_delivery_problems"])
        levels = {f.code.split(".")[0] + "." + f.code.split(".")[1]
                  for p in debrief.problems for f in p.factors}
    assert len(levels) >= 3
    assert '<svg role="img"' in page and "Factors per level" in page
    assert "style=" not in page.split('<svg role="img"')[1].split("</svg>")[0]


def test_a_factor_must_have_a_london_protocol_code(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/factors",
                    data={"description": "Antibiotic given without allergy check"})
    with app.app_context():
        problem_id = db.session.scalar(select(Debrief).where(
            Debrief.session_id == session_id)).problems[0].id
    bad = instructor.post(f"/sessions/{session_id}/debrief/problems/{problem_id}/factors",
                          data={f"p{problem_id}-code": "", f"p{problem_id}-attribution": "system",
                                f"p{problem_id}-description": "Ward was short-staffed"})
    assert bad.status_code == 400
    assert "Choose a contributing factor" in bad.get_data(as_text=True)
    assert "Ward was short-staffed" in bad.get_data(as_text=True)
    good = instructor.post(f"/sessions/{session_id}/debrief/problems/{problem_id}/factors",
                           data={f"p{problem_id}-code": "LP.ENV.staffing_skill_mix",
                                 f"p{problem_id}-attribution": "system",
                                 f"p{problem_id}-description": "Ward was short-staffed",
                                 f"p{problem_id}-changeable": "y"})
    assert good.status_code in (302, 303)


def finalised(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    for key, text in (("student", "Calm closed-loop communication."),
                      ("student2", "You noticed the rash first.")):
        instructor.post(f"/sessions/{session_id}/debrief/feedback/{people.ids[key]}",
                        data={"strengths": text, "to_improve": "Say the allergy check aloud.",
                              "learning_goals": "Lead an allergy check."})
    response = instructor.post(f"/sessions/{session_id}/debrief/finalise")
    assert response.status_code in (302, 303)
    return instructor


def test_each_learner_reads_only_their_own_feedback(app, people, session_id):
    finalised(app, people, session_id)
    first = client_for(app, people, "student").get(
        f"/sessions/{session_id}/debrief/mine").get_data(as_text=True)
    assert "Calm closed-loop communication." in first
    assert "You noticed the rash first." not in first
    assert "Check allergies aloud." in first
    second = client_for(app, people, "student2").get(
        f"/sessions/{session_id}/debrief/mine").get_data(as_text=True)
    assert "You noticed the rash first." in second
    assert "Calm closed-loop communication." not in second
    assert client_for(app, people, "other_student").get(
        f"/sessions/{session_id}/debrief/mine").status_code == 404


def test_absent_learner_has_no_debrief_page(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    finalised_client = started(client_for(app, people, "instructor"), session_id)
    finalised_client.post(f"/sessions/{session_id}/debrief", data=notes())
    assert finalised_client.get(
        f"/sessions/{session_id}/debrief/feedback/{people.ids['student2']}").status_code == 404
    finalised_client.post(f"/sessions/{session_id}/debrief/finalise")
    assert client_for(app, people, "student2").get(
        f"/sessions/{session_id}/debrief/mine").status_code == 404


def test_feedback_is_hidden_from_learners_until_finalised(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/feedback/{people.ids['student']}",
                    data={"strengths": "Draft thought", "to_improve": "", "learning_goals": ""})
    assert client_for(app, people, "student").get(
        f"/sessions/{session_id}/debrief/mine").status_code == 404


def test_finalising_needs_take_home_messages_then_locks(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes(take_home_messages=""))
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    assert load_debrief(app, session_id).status is DebriefStatus.DRAFT
    assert "Write the group" in instructor.get(
        f"/sessions/{session_id}/debrief").get_data(as_text=True)

    instructor.post(f"/sessions/{session_id}/debrief", data=notes(version="2"))
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    assert load_debrief(app, session_id).status is DebriefStatus.FINAL
    with app.app_context():
        assert db.session.get(SimSession, session_id).status is SessionStatus.DEBRIEFED
    locked = instructor.post(f"/sessions/{session_id}/debrief",
                             data=notes(version="3", phase_reactions="Sneaky edit"))
    assert locked.status_code == 400
    assert "record an amendment" in locked.get_data(as_text=True)
    assert load_debrief(app, session_id).phase_notes["reactions"] != "Sneaky edit"


def test_amendments_record_who_what_when_and_why(app, people, session_id, clock):
    instructor = finalised(app, people, session_id)
    clock.advance(hours=2)
    no_reason = instructor.post(f"/sessions/{session_id}/debrief/amend", data={
        "target": "take_home_messages", "text": "Check allergies aloud, every time.",
        "reason": ""})
    assert no_reason.status_code == 400
    amended = instructor.post(f"/sessions/{session_id}/debrief/amend", data={
        "target": "take_home_messages", "text": "Check allergies aloud, every time.",
        "reason": "Typo spotted by a learner"})
    assert amended.status_code in (302, 303)
    page = instructor.get(f"/sessions/{session_id}/debrief").get_data(as_text=True)
    assert "Typo spotted by a learner" in page and "Ivan Instructor" in page
    assert "Check allergies aloud.\nSpeak up when unsure." in page  # the text before
    learner = client_for(app, people, "student").get(
        f"/sessions/{session_id}/debrief/mine").get_data(as_text=True)
    assert "Check allergies aloud, every time." in learner
    assert "amended after it was finalised" in learner


def test_debrief_ratings_are_shown_only_from_five_learners(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, extra_students=3)
    instructor = finalised(app, people, session_id)
    raters = [client_for(app, people, "student"), client_for(app, people, "student2")]
    for number in range(3):
        client = app.test_client()
        client.post("/login", data={"email": f"extra{number}@example.org",
                                    "password": PASSWORD})
        raters.append(client)
    rating = {"e1_sets_the_stage": "6", "e3_organised": "7", "e5_gaps": "5"}
    for client in raters[:4]:
        assert client.post(f"/sessions/{session_id}/debrief/rate",
                           data=rating).status_code in (302, 303)
    page = instructor.get(f"/sessions/{session_id}/debrief/feedback").get_data(as_text=True)
    assert "Fewer than 5 learners rated the debrief" in page
    raters[4].post(f"/sessions/{session_id}/debrief/rate", data=rating)
    page = instructor.get(f"/sessions/{session_id}/debrief/feedback").get_data(as_text=True)
    assert "5 learners rated" in page
    bad = raters[0].post(f"/sessions/{session_id}/debrief/rate",
                         data={"e1_sets_the_stage": "9"})
    assert bad.status_code == 400


def test_learners_who_attended_are_the_ones_listed(app, people, planning, clock):
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    with app.app_context():
        attendance = {p.user_id: p.attendance for p in
                      db.session.get(SimSession, session_id).participants}
    assert attendance[people.ids["student2"]] is Attendance.ABSENT
    instructor = started(client_for(app, people, "instructor"), session_id)
    page = instructor.get(f"/sessions/{session_id}/debrief/feedback").get_data(as_text=True)
    assert "Sara Student" in page and "Søren Andersen" not in page


def test_background_save_returns_the_new_version_and_refuses_a_stale_one(app, people,
                                                                          session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    headers = {"X-Autosave": "1"}
    saved = instructor.post(f"/sessions/{session_id}/debrief", data=notes(), headers=headers)
    assert saved.status_code == 200
    assert saved.json["version"] == 2 and "Saved automatically" in saved.json["message"]
    stale = instructor.post(f"/sessions/{session_id}/debrief",
                            data=notes(phase_reactions="Older tab"), headers=headers)
    assert stale.status_code == 409
    assert "a colleague saved the debrief meanwhile" in stale.json["message"]
    assert load_debrief(app, session_id).phase_notes["reactions"] != "Older tab"
    page = instructor.get(f"/sessions/{session_id}/debrief").get_data(as_text=True)
    assert 'src="/static/js/autosave.js"' in page and "data-autosave" in page


def test_items_problems_and_factors_can_be_removed_until_finalised(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/analysis", data={
        "kind": "plus", "domain": "technical", "strategy": "self_assessment",
        "text": "Quick defibrillation"})
    instructor.post(f"/sessions/{session_id}/debrief/factors/suggest")
    with app.app_context():
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))
        item_id = debrief.analysis_items[0].id
        first, second = debrief.problems[0], debrief.problems[1]
        factor_id, factors_left = first.factors[0].id, len(first.factors) - 1
        second_id = second.id
    removed = instructor.post(f"/sessions/{session_id}/debrief/analysis/{item_id}/delete")
    assert "Item removed." in instructor.get(removed.headers["Location"]).get_data(as_text=True)
    instructor.post(f"/sessions/{session_id}/debrief/factors/{factor_id}/delete")
    instructor.post(f"/sessions/{session_id}/debrief/problems/{second_id}/delete")
    with app.app_context():
        debrief = db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))
        assert debrief.analysis_items == []
        assert len(debrief.problems[0].factors) == factors_left
        assert second_id not in {p.id for p in debrief.problems}
        remaining_factor = debrief.problems[0].factors[0].id
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    refused = instructor.post(f"/sessions/{session_id}/debrief/factors/{remaining_factor}/delete")
    page = instructor.get(refused.headers["Location"]).get_data(as_text=True)
    assert "record an amendment instead" in page
