"""The administrator's pages: people, cohorts with CSV import, rooms and centre settings."""

import io

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.models import Centre, Cohort, OutboxEmail, Role, Room, User
from tests.conftest import both_databases


def create_cohort(admin_client, name="Master year 1, autumn 2026") -> int:
    response = admin_client.post("/admin/cohorts", data={"name": name, "description": ""})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def upload(admin_client, cohort_id, text: str, filename="students.csv"):
    return admin_client.post(
        f"/admin/cohorts/{cohort_id}/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), filename)},
        content_type="multipart/form-data")


def test_csv_import_applies_good_rows_and_reports_each_bad_one(app, people, admin_client):
    cohort_id = create_cohort(admin_client)
    csv_text = (
        "email;name\n"
        "mette.hansen@example.org;Mette Hansen\n"
        "not-an-address;Broken Row\n"
        f"{people.emails['student']};Sara Student\n"
        "mette.hansen@example.org;Mette Again\n"
        f"{people.emails['instructor']};Ivan Instructor\n"
        "jonas@example.org;\n"
        "ærø@example.org;Åse Ærø\n"
    )
    response = upload(admin_client, cohort_id, csv_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 new students invited, 1 existing students added" in page
    assert "4 rows with problems" in page
    assert "&#39;not-an-address&#39; is not a valid email address." in page
    assert "This email address appears earlier in the file." in page
    assert "exists but is not a student of this centre" in page
    assert "The name is missing." in page
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert sorted(s.email for s in cohort.students) == sorted(
            ["mette.hansen@example.org", people.emails["student"], "ærø@example.org"])
        invited = db.session.scalars(select(OutboxEmail.to_address)).all()
        assert sorted(invited) == ["mette.hansen@example.org", "ærø@example.org"]
        assert db.session.scalar(select(User).where(
            User.email == "mette.hansen@example.org")).role is Role.STUDENT


def test_csv_without_the_right_columns_is_refused_with_a_clear_message(app, people,
                                                                        admin_client):
    cohort_id = create_cohort(admin_client)
    response = upload(admin_client, cohort_id, "mail,fullname\na@example.org,A\n")
    assert response.status_code == 400
    assert "The first line must name the columns" in response.get_data(as_text=True)
    wrong_type = upload(admin_client, cohort_id, "email,name\n", filename="students.xlsx")
    assert wrong_type.status_code == 400
    assert "Upload a .csv file." in wrong_type.get_data(as_text=True)


def test_add_and_remove_a_student(app, people, admin_client):
    cohort_id = create_cohort(admin_client)
    added = admin_client.post(f"/admin/cohorts/{cohort_id}/students",
                              data={"student": people.ids["student2"]})
    assert added.status_code in (302, 303)
    assert "Søren Andersen" in admin_client.get(
        f"/admin/cohorts/{cohort_id}").get_data(as_text=True)
    teacher = admin_client.post(f"/admin/cohorts/{cohort_id}/students",
                                data={"student": people.ids["instructor"]})
    assert teacher.status_code == 400
    assert "Only students of this centre can join a cohort." in teacher.get_data(as_text=True)
    admin_client.post(f"/admin/cohorts/{cohort_id}/students/{people.ids['student2']}/remove")
    with app.app_context():
        assert db.session.get(Cohort, cohort_id).students == []


def test_duplicate_cohort_name_is_refused(app, people, admin_client):
    create_cohort(admin_client, "Year 3")
    again = admin_client.post("/admin/cohorts", data={"name": "year 3"})
    assert again.status_code == 400
    assert "A cohort with this name already exists." in again.get_data(as_text=True)


@both_databases
def test_a_repeated_name_with_letters_beyond_ascii_is_refused_on_the_form(app, people,
                                                                         admin_client):
    """SQLite's lower() leaves "Æ" alone: the exact same name must still be caught before the
    database's unique rule turns it into a server error."""
    create_cohort(admin_client, "Årgang Ø")
    again = admin_client.post("/admin/cohorts", data={"name": "Årgang Ø"})
    assert again.status_code == 400
    assert "A cohort with this name already exists." in again.get_data(as_text=True)
    first = admin_client.post("/admin/rooms", data={"name": "Øvelsesrum", "capacity": "6"})
    assert first.status_code in (302, 303)
    room = admin_client.post("/admin/rooms", data={"name": "Øvelsesrum", "capacity": "4"})
    assert room.status_code == 400
    assert "A room with this name already exists." in room.get_data(as_text=True)


def test_room_validation_keeps_input(app, people, admin_client):
    response = admin_client.post("/admin/rooms", data={"name": "Skills lab", "capacity": "0",
                                                       "location": "Building 2"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a number from 1 to 500." in text
    assert 'value="Skills lab"' in text and 'value="Building 2"' in text
    ok = admin_client.post("/admin/rooms", data={"name": "Skills lab", "capacity": "6"})
    assert ok.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(Room.capacity).where(Room.name == "Skills lab")) == 6


def test_role_change_and_not_removing_ones_own_admin_role(app, people, admin_client):
    response = admin_client.post(f"/admin/users/{people.ids['student2']}", data={
        "role": "supporter", "supporter_tier": "peer"})
    assert response.status_code in (302, 303)
    with app.app_context():
        user = db.session.get(User, people.ids["student2"])
        assert (user.role, user.supporter_tier.value) == (Role.SUPPORTER, "peer")
    own = admin_client.post(f"/admin/users/{people.ids['admin']}", data={
        "role": "instructor", "supporter_tier": ""})
    assert own.status_code == 400
    assert "You cannot remove your own administrator role." in own.get_data(as_text=True)


def test_centre_settings_change_framework_threshold_and_privacy_floor(app, people,
                                                                       admin_client):
    data = {"name": "Herlev Sim Centre", "timezone": "Europe/Copenhagen",
            "basic_assumption": "We believe you are capable and want to improve.",
            "support_contacts": "Ask at the desk.", "reminder_hours": "48",
            "debrief_framework": "GAS", "reckless_enabled": "y", "distress_threshold": "5",
            "min_group_size": "6", "urgent_distress_threshold": "8",
            "alert_on_self_harm_cue": "y", "peer_response_hours": "48",
            "professional_response_hours": "24", "urgent_response_minutes": "60",
            "country": "dk", "high_risk_triggers": ["first_patient_death"],
            "high_risk_flags": ["death"]}
    assert admin_client.post("/admin/centre", data=data).status_code in (302, 303)
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        assert (centre.debrief_framework, centre.reminder_hours, centre.distress_threshold,
                centre.min_group_size, centre.reckless_enabled) == ("GAS", 48, 5, 6, True)
    too_small = admin_client.post("/admin/centre", data={**data, "min_group_size": "2"})
    assert too_small.status_code == 400
    assert "smaller groups could identify a learner" in too_small.get_data(as_text=True)
    bad_zone = admin_client.post("/admin/centre", data={**data, "timezone": "Mars/Base"})
    assert bad_zone.status_code == 400
    assert "This is not a known time zone." in bad_zone.get_data(as_text=True)
    assert 'value="Mars/Base"' in bad_zone.get_data(as_text=True)


def test_centre_items_are_deleted_by_their_own_centre_only(app, people, admin_client, clock):
    from simdebrief.models import AuditEvent, CentreStory, UrgentContact

    with app.app_context():
        ours = UrgentContact(centre_id=people.centre_id, name="Line", phone="70 201 201",
                             opening_hours="")
        theirs = UrgentContact(centre_id=people.other_centre_id, name="Other line",
                               phone="112", opening_hours="")
        story = CentreStory(centre_id=people.centre_id, title="A night shift", text="It passed.",
                            author_description="a nurse", consent_confirmed_at=clock.now())
        db.session.add_all([ours, theirs, story])
        db.session.commit()
        ours_id, theirs_id, story_id = ours.id, theirs.id, story.id
    assert admin_client.post(f"/admin/centre/urgent/{theirs_id}/delete").status_code == 404
    done = admin_client.post(f"/admin/centre/urgent/{ours_id}/delete")
    assert done.status_code in (302, 303)
    assert done.headers["Location"].endswith("/admin/centre/urgent")
    story_done = admin_client.post(f"/admin/centre/stories/{story_id}/delete")
    assert story_done.headers["Location"].endswith("/admin/centre/stories")
    with app.app_context():
        assert db.session.get(UrgentContact, ours_id) is None
        assert db.session.get(UrgentContact, theirs_id) is not None
        assert db.session.get(CentreStory, story_id) is None
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"urgent_contact.removed", f"{CentreStory.__tablename__}.removed"} <= actions
