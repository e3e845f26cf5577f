"""Choosing learners when scheduling: cohorts first, then a server-side search that returns a
short list; without JavaScript the form keeps a plain multi-select of every student."""

import re

from simdebrief.extensions import db
from simdebrief.models import Centre, Role
from simdebrief.services import accounts
from tests.conftest import PASSWORD, both_databases
from tests.web.test_sessions import schedule, session_id_from


def search(client, text):
    response = client.get("/sessions/learners", query_string={"q": text})
    assert response.status_code == 200
    return response.get_json()


def names(body) -> list[str]:
    return [learner["name"] for learner in body["learners"]]


def test_the_form_lists_cohorts_before_learners_and_works_without_script(
        app, people, planning, instructor_client):
    page = instructor_client.get("/sessions/new").get_data(as_text=True)
    assert page.index("Whole cohorts") < page.index("Individual students")
    assert "Master year 1 (2 students)" in page
    select = re.search(r'<select multiple id="student_ids" name="student_ids"[^>]*>(.*?)</select>',
                       page, re.S)
    assert select and "Sara Student (student@example.org)" in select.group(1)
    assert "/static/js/learner_picker.js" in page
    assert 'data-search-url="/sessions/learners"' in page
    # The plain multi-select submits like any other field.
    response = schedule(instructor_client, people, planning, cohort_ids=[],
                        student_ids=[people.ids["student2"]])
    assert response.status_code in (302, 303)
    detail = instructor_client.get(f"/sessions/{session_id_from(response)}").get_data(
        as_text=True)
    assert "Søren Andersen" in detail and "Sara Student" not in detail


@both_databases
def test_the_search_finds_students_of_the_centre_by_name_or_email(app, people,
                                                                  instructor_client):
    assert names(search(instructor_client, "søren")) == ["Søren Andersen"]
    assert names(search(instructor_client, "ANDERSEN")) == ["Søren Andersen"]
    assert names(search(instructor_client, "student2@")) == ["Søren Andersen"]
    found = search(instructor_client, "example.org")
    # Only active students of this centre: no staff, no one from elsewhere.
    assert names(found) == ["Sara Student", "Søren Andersen"]
    assert found["more"] is False
    assert search(instructor_client, "Olga") == {"learners": [], "more": False}
    assert search(instructor_client, "s") == {"learners": [], "more": False}  # too short
    assert search(instructor_client, "%%") == {"learners": [], "more": False}
    assert search(instructor_client, "__") == {"learners": [], "more": False}


def test_the_search_returns_a_short_list_and_says_more_match(app, people, clock,
                                                             instructor_client):
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        for number in range(25):
            accounts.create_user(
                db.session, centre=centre, now=clock.now(), password=PASSWORD,
                data=accounts.NewUser(f"nurse{number:02d}@example.org",
                                      f"Nurse {number:02d}", Role.STUDENT))
        db.session.commit()
    body = search(instructor_client, "nurse")
    assert len(body["learners"]) == 20 and body["more"] is True
    assert body["learners"][0] == {"id": body["learners"][0]["id"], "name": "Nurse 00",
                                   "email": "nurse00@example.org"}
    assert names(search(instructor_client, "nurse 2")) == [
        "Nurse 20", "Nurse 21", "Nurse 22", "Nurse 23", "Nurse 24"]


def test_only_planners_may_search(app, people, student_client, supporter_client):
    assert student_client.get("/sessions/learners?q=sara").status_code == 403
    assert supporter_client.get("/sessions/learners?q=sara").status_code == 403


@both_databases
def test_the_search_folds_letters_beyond_ascii_as_a_danish_centre_types_them(
        app, people, clock, instructor_client, admin_client):
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        for email, name in (("aase@example.org", "Åse Østergaard"),
                            ("aeble@example.org", "Ærle Ågård")):
            accounts.create_user(db.session, centre=centre, now=clock.now(), password=PASSWORD,
                                 data=accounts.NewUser(email, name, Role.STUDENT))
        db.session.commit()
    assert names(search(instructor_client, "østergaard")) == ["Åse Østergaard"]
    assert names(search(instructor_client, "ÅSE ØSTER")) == ["Åse Østergaard"]
    assert names(search(instructor_client, "ågård")) == ["Ærle Ågård"]
    # The admin's people list finds and sorts them the same way.
    people_page = admin_client.get("/admin/users", query_string={"q": "ØSTERGAARD"})
    assert "Åse Østergaard" in people_page.get_data(as_text=True)
