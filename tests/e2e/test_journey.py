"""The whole journey in Chromium, from invitation to the last follow-up, with real mail.

An admin invites an instructor and a student; the instructor schedules a session; the
reminder arrives by SMTP; attendance, the debrief with factors and feedback, finalise; the
student (in Danish) reads the feedback, downloads the PDF, checks in and asks for a
conversation; a supporter takes it; the clock moves, the follow-up email arrives, its link
opens the stage without a password, the student answers and stops the rest, and no further
follow-up mail comes. axe-core checks every page on the way, in English and Danish, on a
desktop and at 390 px. Screenshots are kept under ``test-artifacts/journey``.
"""

from __future__ import annotations

import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from simdebrief import jobs
from simdebrief.extensions import db
from simdebrief.models import Centre, User
from simdebrief.services import directory
from tests.conftest import PASSWORD, make_app, seed_people, sync_shipped_library
from tests.web.test_danish_pages import english_left
from tests.web.test_data_protection import pdf_text

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCENARIO = "penicillin-allergy-anaphylaxis"
NEW_PASSWORD = "a long journey password 4821"
SERIOUS = {"serious", "critical"}


class Journey:
    """The live app, its mail and clock, and a log of every page each person saw."""

    def __init__(self, app, smtp_server, clock, browser):
        self.app, self.smtp, self.clock, self.browser = app, smtp_server, clock, browser
        self.base = app.config["LIVE_URL"]
        self.visited: dict[str, list[str]] = {}
        self.violations: list[str] = []
        self.shots = 0
        self.credentials: dict[str, tuple[str, str]] = {}
        #: People who chose Danish: each of their pages is checked for English left over.
        self.danish: set[str] = set()
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()

    def open(self, page, who: str, path: str) -> None:
        """Go to ``path``; when the login session has lapsed (the clock moved), log in again."""
        page.goto(self.base + path)
        if "/login" in page.url and not path.startswith("/login"):
            submit_login(page, *self.credentials[who])
            page.wait_for_load_state("load")
            if not page.url.endswith(path):
                page.goto(self.base + path)
        page.wait_for_load_state("load")

    def context(self, viewport=DESKTOP):
        return self.browser.new_context(viewport=viewport, accept_downloads=True)

    def check(self, page, who: str, label: str = "") -> None:
        """axe on the page as it stands; a screenshot; remember the address for the revisit."""
        page.wait_for_load_state("load")
        path = page.url.removeprefix(self.base)
        if not path.startswith("/f/"):
            self.visited.setdefault(who, [])
            if path not in self.visited[who]:
                self.visited[who].append(path)
        self.audit(page, f"{who} {path}")
        if who in self.danish:
            assert_danish(page)
        self.shots += 1
        name = f"{self.shots:02d}-{who}-{label or re.sub(r'[^a-z0-9]+', '-', path)}".strip("-")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name[:80]}.png"))

    def audit(self, page, where: str) -> None:
        results = self.axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in SERIOUS:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.violations.append(f"{where}: {violation['id']} ({violation['impact']}) "
                                       f"{targets}")

    def run_scheduler(self) -> None:
        """One tick of every job the scheduler runs, at the test clock's time."""
        now = self.clock.now()
        jobs.send_session_reminders(self.app, now)
        jobs.dispatch_followups(self.app, now)
        jobs.relay_outbox(self.app, now)

    def mail_to(self, address: str) -> list[Message]:
        return [m for m in self.smtp.messages if address in m["X-Envelope-To"]]

    def link_in(self, message: Message) -> str:
        body = text_of(message)
        match = re.search(re.escape(self.base) + r"(/\S+)", body)
        assert match, body
        return match.group(1)


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def submit_login(page, email: str, password: str) -> None:
    """Fill in and send the login form the page shows."""
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit], form input[type=submit]").first.click()


def log_in(page, journey: Journey, email: str, password: str = PASSWORD) -> None:
    page.goto(journey.base + "/login")
    submit_login(page, email, password)
    page.wait_for_url(re.compile(r".*/dashboard$"))


def log_in_if_asked(page, journey: Journey, email: str) -> None:
    """After setting a password some flows ask to log in with it."""
    if "/login" in page.url:
        log_in(page, journey, email, NEW_PASSWORD)


def assert_danish(page) -> None:
    """The page is marked Danish and shows no English message, weekday or month."""
    assert page.locator("html").get_attribute("lang") == "da", page.url
    left = english_left(page.content())
    assert left == [], (page.url, left)


def choose_danish(page, journey: Journey, who: str) -> None:
    """``who`` picks Danish on their account page; from then on each page is checked."""
    journey.open(page, who, "/account")
    journey.check(page, who, "account")
    page.locator("#locale").select_option("da")
    submit(page, "form:has(#locale)")
    journey.danish.add(who)


def set_language(journey: Journey, email: str, language: str) -> None:
    with journey.app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        user.locale = language
        db.session.commit()


def sync_versions(journey: Journey) -> dict[int, str]:
    from simdebrief.services import library

    return {s.current_version_id: s.slug for s in library.active_scenarios(db.session)}


def submit(page, form: str = "main form") -> None:
    page.locator(form).locator("button[type=submit], input[type=submit]").last.click()
    page.wait_for_load_state("load")


@pytest.fixture
def journey(tmp_path, clock, smtp_server, browser):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # one run's screenshots, numbered in order
    app = make_app(f"sqlite:///{tmp_path / 'journey.sqlite3'}", clock, WTF_CSRF_ENABLED=True,
                   SIMDEBRIEF_SMTP_HOST="127.0.0.1", SIMDEBRIEF_SMTP_PORT=smtp_server.port,
                   SIMDEBRIEF_SMTP_TIMEOUT=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = app.config["SIMDEBRIEF_BASE_URL"] = (
        f"http://127.0.0.1:{server.server_port}")
    yield Journey(app, smtp_server, clock, browser)
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed_centre(journey: Journey):
    app, now = journey.app, journey.clock.now()
    people = seed_people(app, now)
    sync_shipped_library(app, now)
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        room = directory.create_room(db.session, centre=centre, name="Simulation room 2",
                                     capacity=8)
        db.session.commit()
        journey.room_id = room.id
    return people


def test_the_whole_journey(journey):
    people = seed_centre(journey)
    admin = journey.context().new_page()
    journey.credentials["admin"] = (people.emails["admin"], PASSWORD)
    log_in(admin, journey, people.emails["admin"])
    journey.check(admin, "admin", "dashboard")

    for name, email, role in (("Ines Instruktør", "ines@example.org", "instructor"),
                              ("Mads Madsen", "mads@example.org", "student")):
        admin.goto(journey.base + "/admin/users/invite")
        journey.check(admin, "admin")
        admin.locator("#name").fill(name)
        admin.locator("#email").fill(email)
        admin.locator("#role").select_option(role)
        submit(admin)
        journey.check(admin, "admin")
    journey.run_scheduler()

    invitations = {}
    for email in ("ines@example.org", "mads@example.org"):
        [message] = journey.mail_to(email)
        invitations[email] = journey.link_in(message)
    instructor = journey.context().new_page()
    instructor.goto(journey.base + invitations["ines@example.org"])
    journey.check(instructor, "instructor", "invitation")
    instructor.locator("#password").fill(NEW_PASSWORD)
    instructor.locator("#confirm").fill(NEW_PASSWORD)
    submit(instructor)
    log_in_if_asked(instructor, journey, "ines@example.org")
    journey.check(instructor, "instructor", "dashboard")
    journey.credentials["instructor"] = ("ines@example.org", NEW_PASSWORD)
    choose_danish(instructor, journey, "instructor")

    # The student accepts the invitation in a Danish browser and chooses Danish.
    student = journey.browser.new_context(viewport=DESKTOP, locale="da-DK",
                                          accept_downloads=True).new_page()
    student.goto(journey.base + invitations["mads@example.org"])
    journey.check(student, "student", "invitation")
    assert_danish(student)  # before login: the browser's Accept-Language
    student.locator("#password").fill(NEW_PASSWORD)
    student.locator("#confirm").fill(NEW_PASSWORD)
    submit(student)
    journey.credentials["student"] = ("mads@example.org", NEW_PASSWORD)
    log_in_if_asked(student, journey, "mads@example.org")
    choose_danish(student, journey, "student")
    journey.open(student, "student", "/dashboard")
    journey.check(student, "student", "dashboard")


    with journey.app.app_context():
        mads_id = db.session.query(User.id).filter_by(email="mads@example.org").scalar()
        ines_id = db.session.query(User.id).filter_by(email="ines@example.org").scalar()
        versions = {v: k for k, v in sync_versions(journey).items()}
    instructor.goto(journey.base + "/sessions/new")
    journey.check(instructor, "instructor")
    instructor.locator("#scenario_version_id").select_option(str(versions[SCENARIO]))
    instructor.locator("#day").fill("2026-10-22")
    instructor.locator("#start_time").fill("09:00")
    instructor.locator("#end_time").fill("12:00")
    instructor.locator("#room_id").select_option(str(journey.room_id))
    instructor.locator(f"input[name=instructor_ids][value='{ines_id}']").check()
    instructor.locator(".learner-picker input[type=search]").fill("mads")
    instructor.locator(".learner-picker button").filter(has_text="Mads Madsen").click()
    submit(instructor)
    journey.check(instructor, "instructor", "session")
    session_path = instructor.url.removeprefix(journey.base)
    assert re.fullmatch(r"/sessions/\d+", session_path), session_path
    session_id = int(session_path.rsplit("/", 1)[1])

    # The day before: the reminder goes out over SMTP.
    journey.run_scheduler()
    before = len(journey.mail_to("mads@example.org"))
    journey.clock.set(datetime(2026, 10, 21, 9, 30, tzinfo=UTC))
    journey.run_scheduler()
    [reminder] = journey.mail_to("mads@example.org")[before:]
    assert english_left(reminder["Subject"] + "\n" + text_of(reminder)) == []

    # The morning of the session: attendance, then the debrief.
    journey.clock.set(datetime(2026, 10, 22, 7, 5, tzinfo=UTC))
    journey.credentials["instructor"] = ("ines@example.org", NEW_PASSWORD)
    journey.open(instructor, "instructor", f"/sessions/{session_id}/attendance")
    journey.check(instructor, "instructor", "attendance")
    instructor.locator(f"input[name=present_ids][value='{mads_id}']").check()
    submit(instructor)
    journey.clock.set(datetime(2026, 10, 22, 9, 0, tzinfo=UTC))
    journey.open(instructor, "instructor", f"/sessions/{session_id}/debrief")
    journey.check(instructor, "instructor", "debrief-start")
    instructor.locator("form[action$='/debrief/start'] button").click()
    instructor.wait_for_load_state("load")
    journey.check(instructor, "instructor", "debrief-notes")
    instructor.locator("#phase_reactions").fill("Rystede, da udslættet bredte sig; lettede.")
    instructor.locator("#phase_analysis").fill("Allergitjekket blev sprunget over under tidspres.")
    instructor.locator("#take_home_messages").fill(
        "Sig allergitjekket højt før hver første dosis.\nSig fra, når du er i tvivl.")
    submit(instructor, f"form[action$='/sessions/{session_id}/debrief']")
    journey.check(instructor, "instructor", "debrief-saved")

    journey.open(instructor, "instructor", f"/sessions/{session_id}/debrief/factors")
    instructor.locator("form[action$='/debrief/factors/suggest'] button").click()
    instructor.wait_for_load_state("load")
    journey.check(instructor, "instructor", "debrief-factors")
    assert instructor.locator("form[action*='/discussed'] button").count() > 0
    instructor.locator("form[action*='/discussed'] button").first.click()
    instructor.wait_for_load_state("load")

    journey.open(instructor, "instructor", f"/sessions/{session_id}/debrief/feedback/{mads_id}")
    journey.check(instructor, "instructor", "debrief-feedback")
    instructor.locator("#strengths").fill("Rolig, tydelig kommunikation med sygeplejersken.")
    instructor.locator("#to_improve").fill("Sig allergitjekket højt før første dosis.")
    instructor.locator("#learning_goals").fill("Led allergitjekket i næste session.")
    submit(instructor)
    journey.open(instructor, "instructor", f"/sessions/{session_id}/debrief/finalise")
    journey.check(instructor, "instructor", "debrief-finalise")
    instructor.locator("form[action$='/debrief/finalise'] button").click()
    instructor.wait_for_load_state("load")
    journey.check(instructor, "instructor", "debrief-finalised")
    journey.run_scheduler()
    ready = [m for m in journey.mail_to("mads@example.org")
             if f"/sessions/{session_id}/feedback/" in text_of(m)]
    assert ready, [m["Subject"] for m in journey.mail_to("mads@example.org")]

    # The student, in Danish: feedback, PDF, check-in, a request to talk.
    [ready_mail] = ready
    journey.open(student, "student", journey.link_in(ready_mail))
    journey.check(student, "student", "feedback")
    assert "Sig allergitjekket højt før første dosis." in student.content()
    with student.expect_download() as download:
        student.locator("form[action$='.pdf'] button[type=submit]").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert english_left(pdf_text(pdf)) == []
    assert english_left(text_of(ready_mail)) == []
    (ARTIFACTS / "feedback.pdf").write_bytes(pdf)

    journey.open(student, "student", f"/me/sessions/{session_id}/check-in")
    journey.check(student, "student", "check-in")
    student.locator("label[for='distress-7'], input[name=distress][value='7']").first.click()
    submit(student, "form.check-in-form")
    journey.check(student, "student", "checked-in")

    journey.open(student, "student", "/me/support/new")
    journey.check(student, "student", "ask-to-talk")
    student.locator("input[name=tier][value=peer]").check()
    student.locator("#message").fill("Jeg tænker meget på den dosis. Ring gerne efter kl. 15.")
    submit(student)
    journey.check(student, "student", "asked")
    request_path = student.url.removeprefix(journey.base)
    match = re.fullmatch(r"/me/support/(\d+)(\?.*)?", request_path)
    assert match, request_path
    request_id = int(match.group(1))

    supporter = journey.context().new_page()
    journey.credentials["supporter"] = (people.emails["peer"], PASSWORD)
    journey.open(supporter, "supporter", "/support/")
    journey.check(supporter, "supporter", "queue")
    supporter.locator(f"a[href$='/support/{request_id}']").click()
    supporter.wait_for_load_state("load")
    journey.check(supporter, "supporter", "request")
    supporter.locator(f"form[action$='/support/{request_id}/take'] [type=submit]").click()
    supporter.wait_for_load_state("load")
    journey.check(supporter, "supporter", "taken")
    assert "Ring gerne efter kl. 15" in supporter.content()

    # The next day the first follow-up arrives; its link opens the stage without a password.
    before = len(journey.mail_to("mads@example.org"))
    journey.clock.set(datetime(2026, 10, 23, 8, 0, tzinfo=UTC))
    journey.run_scheduler()
    stage_mails = [m for m in journey.mail_to("mads@example.org")[before:]
                   if re.search(r"/f/[^/\s]+\s", text_of(m) + " ")]
    assert len(stage_mails) == 1, [m["Subject"] for m in journey.mail_to("mads@example.org")]
    assert english_left(text_of(stage_mails[0]) + "\n" + stage_mails[0]["Subject"]) == []
    stage_link = journey.link_in(stage_mails[0])
    stop_link = re.search(re.escape(journey.base) + r"(/f/unsubscribe/\S+)",
                          text_of(stage_mails[0])).group(1)
    by_link = journey.browser.new_context(viewport=PHONE, locale="da-DK").new_page()
    journey.danish.add("mailbox")
    by_link.goto(journey.base + stage_link)
    journey.check(by_link, "mailbox", "follow-up-stage")
    assert "/login" not in by_link.url
    by_link.locator("input[name=distress][value='4']").first.click()
    submit(by_link, "form.check-in-form")
    journey.check(by_link, "mailbox", "follow-up-answered")

    by_link.goto(journey.base + stop_link)
    journey.check(by_link, "mailbox", "stop")
    submit(by_link)
    journey.check(by_link, "mailbox", "stopped")

    # Weeks later: no further follow-up arrives.
    after_stop = len(journey.mail_to("mads@example.org"))
    for day in (30, 60, 120):
        journey.clock.set(datetime(2026, 10, 23, 8, 0, tzinfo=UTC) + timedelta(days=day))
        journey.run_scheduler()
    assert journey.mail_to("mads@example.org")[after_stop:] == []

    # Every page on the way again on a 390 px phone, in the language its person did not use
    # above: so each page is checked in English, in Danish, and on a phone.
    for who, paths in journey.visited.items():
        language = "en" if who in journey.danish else "da"
        email, password = journey.credentials[who]
        set_language(journey, email, language)
        phone = journey.browser.new_context(viewport=PHONE).new_page()
        log_in(phone, journey, email, password)
        for path in paths:
            phone.goto(journey.base + path)
            phone.wait_for_load_state("load")
            assert phone.locator("html").get_attribute("lang") == language, (language, path)
            if language == "da":
                assert english_left(phone.content()) == [], (who, path)
            journey.audit(phone, f"{who} {language} 390px {path}")
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (who, language, path, overflow)
        phone.context.close()
    assert journey.violations == []
