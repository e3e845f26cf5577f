"""In a real browser, the scheduling form's learners are found by typing and added with one
click; the hidden multi-select carries them to the server."""

import pytest

from simdebrief.extensions import db
from simdebrief.models import Centre
from simdebrief.services import directory
from tests.conftest import PASSWORD, seed_people, sync_shipped_library

pytestmark = pytest.mark.e2e


def test_a_learner_is_found_by_typing_and_scheduled(live_app, page, clock):
    people = seed_people(live_app, clock.now())
    sync_shipped_library(live_app, clock.now())
    with live_app.app_context():
        directory.create_room(db.session, centre=db.session.get(Centre, people.centre_id),
                              name="Sim room 1", capacity=8)
        db.session.commit()
    base = live_app.config["LIVE_URL"]
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(people.emails["instructor"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{base}/sessions/new")
    assert page.locator("select#student_ids").is_hidden()
    page.get_by_label("Scenario").select_option(
        label="Antibiotic given despite a recorded penicillin allergy (v1)")
    page.get_by_label("Date").fill("2026-10-22")
    page.get_by_label("Starts at").fill("09:00")
    page.get_by_label("Ends at").fill("12:00")
    page.get_by_label("Room").select_option(label="Sim room 1 (8 people)")
    page.get_by_label("Search learners by name or email").fill("søren")
    add = page.get_by_role("button", name="Add Søren Andersen (student2@example.org)")
    add.wait_for(timeout=30000)
    assert page.get_by_role("button", name="Add Sara Student").count() == 0
    add.click()
    page.locator(".picker-chosen").filter(has_text="Søren Andersen").wait_for()
    page.get_by_role("button", name="Save session").click()
    page.wait_for_url(f"{base}/sessions/*")
    body = page.locator("main").inner_text()
    assert "Søren Andersen" in body and "Sara Student" not in body
