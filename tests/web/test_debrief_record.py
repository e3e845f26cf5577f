"""What a simulation educator records beyond the notes: objectives met, phase times, a
finalise check, editable factors with Just Culture and suggestions, and co-debriefers."""

from datetime import UTC, datetime

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import Centre, Debrief, DebriefStatus, Role, SimSession
from simdebrief.services import accounts, debriefing, reports
from tests.conftest import PASSWORD, client_for
from tests.web.test_debriefs import finalised, load_debrief, notes, session_id, started
from tests.web.test_reports import pdf_text

__all__ = ["session_id"]  # the fixture, imported for pytest


def debrief_of(session_id) -> Debrief:
    return db.session.scalar(select(Debrief).where(Debrief.session_id == session_id))


def add_colleague(app, session_id, email="co@example.org", name="Cora Co-instructor"):
    with app.app_context():
        sim_session = db.session.get(SimSession, session_id)
        colleague = accounts.create_user(
            db.session, centre=sim_session.centre, now=datetime(2026, 10, 1, tzinfo=UTC),
            password=PASSWORD, data=accounts.NewUser(email, name, Role.INSTRUCTOR))
        sim_session.instructors.append(colleague)
        db.session.commit()
        colleague_id = colleague.id
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    return client, colleague_id


def test_objectives_and_one_click_phase_times_reach_the_summary(app, people, session_id,
                                                                   clock):
    instructor = started(client_for(app, people, "instructor"), session_id)
    page = instructor.get(f"/sessions/{session_id}/debrief/objectives").get_data(as_text=True)
    assert "Check allergy status at every administration" in page
    assert "Start now" in page

    bad = instructor.post(f"/sessions/{session_id}/debrief/objectives",
                          data={"outcome_0": "", "note_0": "Adrenaline came late."})
    assert bad.status_code == 400
    assert "Choose whether the objective was met" in bad.get_data(as_text=True)
    assert "Adrenaline came late." in bad.get_data(as_text=True)

    saved = instructor.post(f"/sessions/{session_id}/debrief/objectives", data={
        "outcome_0": "met", "note_0": "Adrenaline within two minutes.",
        "outcome_1": "partly", "note_1": "Checked at prescribing only.",
        "outcome_2": "not_met"})
    assert saved.status_code in (302, 303)

    started_at = clock.now()
    instructor.post(f"/sessions/{session_id}/debrief/phases/reactions/start")
    clock.advance(minutes=7)
    instructor.post(f"/sessions/{session_id}/debrief/phases/reactions/end")
    with app.app_context():
        debrief = debrief_of(session_id)
        times = debrief.phase_time("reactions")
        assert times.started_at == started_at
        assert (times.ended_at - times.started_at).total_seconds() == 7 * 60
        assert [(o.position, o.outcome) for o in debrief.objective_outcomes] == [
            (0, "met"), (1, "partly"), (2, "not_met")]

    # The times stay editable; an end before the start is refused next to the field.
    wrong = instructor.post(f"/sessions/{session_id}/debrief/phases", data={
        "start_reactions": "2026-11-02T10:10", "end_reactions": "2026-11-02T10:00"})
    assert wrong.status_code == 400
    assert "The end is before the start." in wrong.get_data(as_text=True)
    fixed = instructor.post(f"/sessions/{session_id}/debrief/phases", data={
        "start_reactions": "2026-11-02T10:00", "end_reactions": "2026-11-02T10:12"})
    assert fixed.status_code in (302, 303)
    page = instructor.get(f"/sessions/{session_id}/debrief/objectives").get_data(as_text=True)
    assert "10:00" in page and "10:12" in page

    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    assert instructor.post(f"/sessions/{session_id}/debrief/finalise").status_code in (302, 303)
    text = pdf_text(instructor.get(f"/sessions/{session_id}/summary.pdf"))
    assert "Learning objectives" in text
    assert "Adrenaline within two minutes." in text
    assert "Partly met" in text and "Not met" in text
    assert "Phase times" in text and "10:00" in text and "10:12" in text


def test_the_learner_report_carries_the_objectives(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/objectives",
                    data={"outcome_1": "partly", "note_1": "Only at prescribing."})
    with app.app_context(), app.test_request_context():
        sim_session = db.session.get(SimSession, session_id)
        debrief = debrief_of(session_id)
        debrief.take_home_messages = "Check aloud."
        debrief.status = DebriefStatus.FINAL
        learner = next(u for u in debriefing.debrief_learners(sim_session)
                       if u.id == people.ids["student"])
        report = reports.learner_report(db.session, sim_session=sim_session, debrief=debrief,
                                        learner=learner, now=datetime.now(UTC),
                                        twin_url="https://example.org/feedback")
        db.session.rollback()
    # The learner's document words each outcome (the learner PDF and page print it).
    assert report.objectives[1].text.startswith("Check allergy status at every")
    assert report.objectives[1].result == "Partly met: Only at prescribing."
    assert report.objectives[0].result == ""


def test_finalising_first_shows_what_is_missing(app, people, session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/feedback/{people.ids['student']}",
                    data={"strengths": "Calm.", "to_improve": "", "learning_goals": ""})
    notes_page = instructor.get(f"/sessions/{session_id}/debrief").get_data(as_text=True)
    assert f"/sessions/{session_id}/debrief/finalise" in notes_page

    check = instructor.get(f"/sessions/{session_id}/debrief/finalise")
    text = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Feedback to Søren Andersen" in text
    assert "Feedback to Sara Student" not in text
    assert "Setting the scene" in text and "Description" in text  # phases left empty
    assert "Care-delivery problems and contributing factors" in text
    assert "Whether the learning objectives were met" in text
    assert load_debrief(app, session_id).status is DebriefStatus.DRAFT  # looking locks nothing

    assert instructor.post(f"/sessions/{session_id}/debrief/finalise").status_code in (302, 303)
    assert load_debrief(app, session_id).status is DebriefStatus.FINAL


def test_factors_are_edited_grouped_classified_and_suggestions_tracked(app, people,
                                                                        session_id):
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/factors/suggest")
    page = instructor.get(f"/sessions/{session_id}/debrief/factors").get_data(as_text=True)
    assert '<optgroup label="Team">' in page and '<optgroup label="Organisation' in page
    assert "Suggested, not discussed yet" in page
    assert "Reckless" not in page
    with app.app_context():
        problems = debrief_of(session_id).problems
        first, second = problems[0].factors[0], problems[0].factors[1]
        problem_id = problems[0].id
        first_id, second_id = first.id, second.id
        total = sum(len(p.factors) for p in problems)
        assert all(f.suggested for p in problems for f in p.factors)

    edit = instructor.get(f"/sessions/{session_id}/debrief/factors/{first_id}")
    assert edit.status_code == 200
    bad = instructor.post(f"/sessions/{session_id}/debrief/factors/{first_id}", data={
        "code": "LP.TEAM.nonsense", "attribution": "system", "description": "Kept text"})
    assert bad.status_code == 400 and "Kept text" in bad.get_data(as_text=True)
    saved = instructor.post(f"/sessions/{session_id}/debrief/factors/{first_id}", data={
        "code": "LP.TEAM.verbal_comm", "attribution": "both",
        "description": "Nobody said the allergy aloud."})
    assert saved.status_code in (302, 303)
    instructor.post(f"/sessions/{session_id}/debrief/factors/{second_id}/discussed")
    refused = instructor.post(f"/sessions/{session_id}/debrief/problems/{problem_id}/classify",
                              data={f"jc{problem_id}-just_culture": "reckless"})
    assert refused.status_code in (302, 303)
    instructor.post(f"/sessions/{session_id}/debrief/problems/{problem_id}/classify",
                    data={f"jc{problem_id}-just_culture": "at_risk"})
    with app.app_context():
        debrief = debrief_of(session_id)
        edited = next(f for f in debrief.problems[0].factors if f.id == first_id)
        assert (edited.code, edited.attribution, edited.changeable, edited.suggested) == (
            "LP.TEAM.verbal_comm", "both", False, False)
        assert edited.description == "Nobody said the allergy aloud."
        assert debrief.problems[0].just_culture == "at_risk"
        still = sum(f.suggested for p in debrief.problems for f in p.factors)
        assert still == total - 2

    check = instructor.get(f"/sessions/{session_id}/debrief/finalise").get_data(as_text=True)
    assert f"{total - 2} suggested factors not marked discussed" in check
    instructor.post(f"/sessions/{session_id}/debrief", data=notes())
    instructor.post(f"/sessions/{session_id}/debrief/finalise")
    text = pdf_text(instructor.get(f"/sessions/{session_id}/summary.pdf"))
    assert "Suggested factors not discussed" in text
    assert "At-risk behaviour" in text


def test_reckless_is_a_choice_only_where_the_centre_enables_it(app, people, session_id):
    with app.app_context():
        db.session.get(Centre, people.centre_id).reckless_enabled = True
        db.session.commit()
    instructor = started(client_for(app, people, "instructor"), session_id)
    instructor.post(f"/sessions/{session_id}/debrief/factors",
                    data={"description": "Antibiotic given without allergy check"})
    with app.app_context():
        problem_id = debrief_of(session_id).problems[0].id
    assert "Reckless behaviour" in instructor.get(
        f"/sessions/{session_id}/debrief/factors").get_data(as_text=True)
    instructor.post(f"/sessions/{session_id}/debrief/problems/{problem_id}/classify",
                    data={f"jc{problem_id}-just_culture": "reckless"})
    with app.app_context():
        assert debrief_of(session_id).problems[0].just_culture == "reckless"


def test_co_debriefers_and_an_observer_who_reads_only(app, people, session_id):
    colleague, colleague_id = add_colleague(app, session_id)
    lead = started(client_for(app, people, "instructor"), session_id)
    header = lead.get(f"/sessions/{session_id}/debrief").get_data(as_text=True)
    assert "Ivan Instructor (Lead)" in header and "Cora Co-instructor (Co-debriefer)" in header
    # A co-debriefer writes, but only the lead gives roles.
    assert colleague.post(f"/sessions/{session_id}/debrief", data=notes()).status_code in (
        302, 303)
    assert colleague.post(f"/sessions/{session_id}/debrief/roles", data={
        f"role_{colleague_id}": "lead",
        f"role_{people.ids['instructor']}": "observer"}).status_code == 403

    two_leads = lead.post(f"/sessions/{session_id}/debrief/roles", data={
        f"role_{colleague_id}": "lead", f"role_{people.ids['instructor']}": "lead"})
    assert two_leads.status_code == 400
    assert "exactly one lead" in two_leads.get_data(as_text=True)
    assert lead.post(f"/sessions/{session_id}/debrief/roles", data={
        f"role_{colleague_id}": "observer",
        f"role_{people.ids['instructor']}": "lead"}).status_code in (302, 303)

    page = colleague.get(f"/sessions/{session_id}/debrief")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Cora Co-instructor (Observer)" in text
    # The header's own role label is not replaced by the debriefer roles' one.
    assert '<span class="role">(Instructor)</span>' in text and "&lt;User" not in text
    assert "You observe this debrief" in text
    assert colleague.post(f"/sessions/{session_id}/debrief",
                          data=notes(version="2")).status_code == 403
    assert colleague.post(f"/sessions/{session_id}/debrief/finalise").status_code == 403
    assert colleague.post(
        f"/sessions/{session_id}/debrief/phases/reactions/start").status_code == 403
    assert load_debrief(app, session_id).status is DebriefStatus.DRAFT

    finalised(app, people, session_id)
    text = pdf_text(lead.get(f"/sessions/{session_id}/summary.pdf"))
    assert "Debriefers" in text
    assert "Cora Co-instructor Observer" in text and "Ivan Instructor Lead" in text
