"""In a real browser, debrief notes save themselves while the instructor types."""

import pytest

from tests.conftest import PASSWORD, seed_people, sync_shipped_library
from tests.web.test_debriefs import running_session

pytestmark = pytest.mark.e2e


def test_typed_notes_are_saved_without_pressing_save(live_app, page, clock):
    from tests.conftest import Planning

    people = seed_people(live_app, clock.now())
    versions = sync_shipped_library(live_app, clock.now())
    session_id = running_session(live_app, people, Planning(versions, 0, 0, 0), clock)
    base = live_app.config["LIVE_URL"]

    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(people.emails["instructor"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/sessions/{session_id}/debrief")
    page.get_by_role("button", name="Start the debrief").click()

    page.get_by_label("Reactions").fill("Typed and never saved by hand.")
    status = page.locator("#autosave-status")
    status.filter(has_text="Saved automatically").wait_for(timeout=30000)  # a busy CI machine

    page.goto(f"{base}/sessions/{session_id}/debrief")  # as if the browser had been closed
    assert page.get_by_label("Reactions").input_value() == "Typed and never saved by hand."
