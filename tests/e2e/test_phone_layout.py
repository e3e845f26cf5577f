"""On a 360 px phone: the menu folds behind one button and no page is wider than the screen."""

import pytest

from simdebrief.extensions import db
from simdebrief.models import SupporterTier, User
from simdebrief.services import support
from tests.conftest import PASSWORD, Planning, seed_people, sync_shipped_library
from tests.web.test_debriefs import running_session

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
LONG_EMAIL = "sara.marie.studerende.andersen-kristiansen@students.health.example-university.dk"


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard")
    page.wait_for_load_state("load")


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_menu_folds_and_nothing_overflows_on_a_phone(live_app, browser, clock):
    people = seed_people(live_app, clock.now())
    versions = sync_shipped_library(live_app, clock.now())
    session_id = running_session(live_app, people, Planning(versions, 0, 0, 0), clock)
    with live_app.app_context():
        learner = db.session.get(User, people.ids["student"])
        learner.email = LONG_EMAIL
        request = support.create_request(
            db.session, learner=learner, tier=SupporterTier.PEER, now=clock.now(),
            message="Phone is fine, or email " + LONG_EMAIL + " any afternoon after 15:00.")
        db.session.commit()
        request_id = request.id
    base = live_app.config["LIVE_URL"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    log_in(page, base, people.emails["peer"])
    menu = page.locator("#site-menu")
    assert not menu.is_visible()
    page.get_by_role("button", name="Menu").click()
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Overview").is_visible()
    header = page.locator(".site-header").bounding_box()
    for path in ("/support/", f"/support/{request_id}"):
        page.goto(base + path)
        assert overflow(page) <= 0, path
    assert header["height"] < 400

    page.context.clear_cookies()
    log_in(page, base, LONG_EMAIL)
    for path in ("/dashboard", f"/me/support/{request_id}", f"/me/sessions/{session_id}/check-in",
                 "/me/follow-ups"):
        page.goto(base + path)
        assert overflow(page) <= 0, path
        assert page.locator(".site-header").bounding_box()["height"] < 80, path
        assert page.get_by_role("button", name="Menu").is_visible()

    page.context.clear_cookies()
    log_in(page, base, people.emails["instructor"])
    for path in ("/sessions/", f"/sessions/{session_id}", "/calendar/"):
        page.goto(base + path)
        assert overflow(page) <= 0, path
    cells = page.goto(base + "/sessions/?show=past") and page.locator("td[data-label]")
    assert cells.count() == 0 or cells.first.get_attribute("data-label")
    context.close()
