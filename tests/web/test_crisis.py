"""The crisis route: worrying words or a very high score lead the learner's page with the
centre's urgent contacts and a one-click urgent request; by the centre's choice a self-harm
cue also alerts the on-duty professional, who is told only that an urgent request waits."""

from datetime import timedelta

from sqlalchemy import select

from simdebrief.crisis_cues import cue_list
from simdebrief.extensions import db
from simdebrief.models import (
    Centre,
    OnDutyShift,
    OutboxEmail,
    SupportRequest,
    SupportStatus,
    UrgentContact,
)
from tests.conftest import client_for
from tests.web.test_checkins import check_in, checkin_id_from, make_session

URGENT_HEADING = "You do not have to be alone with this"
URGENT_BUTTON = "Ask the on-duty professional to contact me"


def set_up_crisis_route(app, people, clock, *, alert: bool = True):
    """Danish urgent contacts, and the professional on duty for the next eight hours."""
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        centre.alert_on_self_harm_cue = alert
        db.session.add_all([
            UrgentContact(centre_id=centre.id, name="Livslinien", phone="70 201 201",
                          opening_hours="Every day 11–05", position=1),
            UrgentContact(centre_id=centre.id, name="Emergency", phone="112",
                          opening_hours="Day and night", is_emergency=True, position=2),
            OnDutyShift(centre_id=centre.id, supporter_id=people.ids["professional"],
                        starts_at=clock.now() - timedelta(hours=1),
                        ends_at=clock.now() + timedelta(hours=8)),
        ])
        db.session.commit()


def urgent_requests(app) -> list[SupportRequest]:
    with app.app_context():
        found = list(db.session.scalars(select(SupportRequest).where(
            SupportRequest.urgent.is_(True)).order_by(SupportRequest.id)))
        db.session.expunge_all()
        return found


def urgent_emails(app) -> list[OutboxEmail]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.subject.like("%urgent%")).order_by(OutboxEmail.id)))
        db.session.expunge_all()
        return found


def close_all_requests(app):
    with app.app_context():
        for request in db.session.scalars(select(SupportRequest)):
            request.status = SupportStatus.CLOSED
        db.session.commit()


def test_every_cue_and_its_danish_twin_leads_to_the_urgent_page_and_an_alert(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock)
    session_id = make_session(app, people, planning)
    phrases = [phrase for pair in cue_list().pairs for phrase in pair]
    for number, phrase in enumerate(phrases, start=1):
        text = f"After the session I keep thinking: {phrase}."
        response = check_in(student_client, session_id, distress="3", free_text=text)
        assert response.status_code == 302, phrase
        page = student_client.get(response.headers["Location"]).get_data(as_text=True)
        assert URGENT_HEADING in page, phrase
        assert page.index(URGENT_HEADING) < page.index("Your answers"), phrase
        assert "Livslinien" in page and "70 201 201" in page and "112" in page
        # The emergency number comes first.
        assert page.index("112") < page.index("70 201 201")
        assert "What happens next:" in page and "They are not shown your words" in page
        assert len(urgent_requests(app)) == number, phrase
        emails = urgent_emails(app)
        assert len(emails) == number, phrase
        assert emails[-1].to_address == "professional@example.org"
        assert phrase.lower() not in emails[-1].body_text.lower()
        assert "keep thinking" not in emails[-1].body_text
        assert "Sara" not in emails[-1].body_text
        if number < len(phrases):  # the last stays open: a closed one is its supporter's only
            close_all_requests(app)
    assert {r.origin for r in urgent_requests(app)} == {"cue_alert"}
    assert all(r.message is None and r.shared_checkin_id is None for r in urgent_requests(app))
    # The professional learns that the crisis route raised it, never the words.
    professional = client_for(app, people, "professional")
    detail = professional.get(f"/support/{urgent_requests(app)[-1].id}").get_data(as_text=True)
    assert "crisis route raised it" in detail and "keep thinking" not in detail


def test_without_the_alert_setting_a_cue_shows_the_route_and_nothing_is_sent(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock, alert=False)
    session_id = make_session(app, people, planning)
    form = student_client.get(f"/me/sessions/{session_id}/check-in").get_data(as_text=True)
    assert "Before you write" in form and "Nobody else is told" in form
    response = check_in(student_client, session_id,
                        free_text="Jeg tænker på selvmord efter i går")
    checkin_id = checkin_id_from(response)
    page = student_client.get(response.headers["Location"]).get_data(as_text=True)
    assert URGENT_HEADING in page and URGENT_BUTTON in page
    assert "nothing is sent unless you click" in page
    assert urgent_requests(app) == [] and urgent_emails(app) == []

    # One click: an urgent request to the professional on duty, and only to them.
    sent = student_client.post(f"/me/support/urgent?checkin={checkin_id}")
    assert sent.status_code == 302
    confirmation = student_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "reached the on-duty professional supporter" in confirmation
    [request] = urgent_requests(app)
    assert request.origin == "urgent" and request.session_id == session_id
    assert [e.to_address for e in urgent_emails(app)] == ["professional@example.org"]
    # A second click does not send a second request.
    student_client.post(f"/me/support/urgent?checkin={checkin_id}")
    assert len(urgent_requests(app)) == 1 and len(urgent_emails(app)) == 1


def test_words_in_another_sense_get_the_ordinary_page(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock)
    session_id = make_session(app, people, planning)
    for text in ("I could die of embarrassment", "Next time I will kill it at the exam",
                 "jeg døde af grin da dukken hostede"):
        response = check_in(student_client, session_id, distress="2", free_text=text)
        page = student_client.get(response.headers["Location"]).get_data(as_text=True)
        assert URGENT_HEADING not in page, text
    assert urgent_requests(app) == [] and urgent_emails(app) == []


def test_the_response_grows_with_distress_in_three_bands(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock)
    session_id = make_session(app, people, planning)
    pages = {}
    for score in ("2", "5", "9"):
        response = check_in(student_client, session_id, distress=score)
        pages[score] = student_client.get(response.headers["Location"]).get_data(as_text=True)
    steady, offer, urgent = pages["2"], pages["5"], pages["9"]
    assert URGENT_HEADING not in steady and "Would it help to talk" not in steady
    assert "Your next check-in comes as planned" in steady
    assert URGENT_HEADING not in offer and "Would it help to talk" in offer
    assert "not a sign of weakness" in offer
    assert URGENT_HEADING in urgent and URGENT_BUTTON in urgent
    assert "you have not done anything wrong by feeling this way" in urgent
    # A score alone alerts nobody; the learner decides.
    assert urgent_requests(app) == []
    for page in pages.values():
        for label in ("diagnos", "disorder", "depressed", "at risk"):
            assert label not in page.lower()


def test_every_free_text_box_says_what_happens_before_the_learner_writes(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock)
    session_id = make_session(app, people, planning)
    for path in (f"/me/sessions/{session_id}/check-in", "/me/support/new"):
        page = student_client.get(path).get_data(as_text=True)
        notice = page.index("Before you write")
        assert "on-duty professional supporter is then told" in page
        assert notice < page.index('name="free_text"' if "check-in" in path
                                   else 'name="message"')


def test_a_cue_in_a_request_message_also_runs_the_route(
        app, people, planning, student_client, clock):
    set_up_crisis_route(app, people, clock)
    response = student_client.post("/me/support/new", data={
        "tier": "peer", "message": "Everyone would be better off without me",
        "preferred_channel": "phone", "phone": "+45 20 30 40 50"})
    assert response.status_code == 302
    page = student_client.get(response.headers["Location"]).get_data(as_text=True)
    assert URGENT_HEADING in page and "Livslinien" in page
    [urgent] = urgent_requests(app)
    assert urgent.origin == "cue_alert" and urgent.message is None


def test_a_follow_up_answered_by_link_leads_with_the_route_too(
        app, people, planning, clock, client):
    from tests.web.test_debriefs import finalised, running_session
    from tests.web.test_followups import FU0, dispatch, one, stage_link

    set_up_crisis_route(app, people, clock, alert=False)
    session_id = running_session(app, people, planning, clock, absent=("student2",))
    finalised(app, people, session_id)
    dispatch(app, clock.now())
    link = stage_link(app, one(app, people.ids["student"], FU0).id)
    form = client.get(link).get_data(as_text=True)
    assert "Before you write" in form
    client.post(link, data={"distress": "9", "free_text": "nothing special"})
    done = client.get(link).get_data(as_text=True)
    assert URGENT_HEADING in done and URGENT_BUTTON in done and "70 201 201" in done
    assert client.post(link + "/urgent").status_code == 302
    [request] = urgent_requests(app)
    assert request.learner_id == people.ids["student"] and request.origin == "urgent"
    assert "reached the on-duty professional supporter" in client.get(link).get_data(
        as_text=True)


def test_the_admin_keeps_urgent_contacts_and_the_on_duty_rota(app, people, admin_client, clock):
    page = admin_client.get("/admin/centre/urgent").get_data(as_text=True)
    assert "No urgent contacts yet" in page and "Paul Psychologist" in page
    bad = admin_client.post("/admin/centre/urgent", data={
        "contact-name": "Livslinien", "contact-phone": "call us", "contact-submit": "y"})
    assert bad.status_code == 400 and "Enter a phone number" in bad.get_data(as_text=True)
    assert admin_client.post("/admin/centre/urgent", data={
        "contact-name": "Livslinien", "contact-phone": "70 201 201",
        "contact-opening_hours": "Every day 11–05", "contact-submit": "y"}).status_code == 302
    # 02:30 on 28 March 2027 does not exist in Copenhagen: said next to the field.
    gap = admin_client.post("/admin/centre/urgent", data={
        "shift-supporter_id": str(people.ids["professional"]), "shift-day": "2027-03-28",
        "shift-start_time": "02:30", "shift-end_day": "2027-03-28",
        "shift-end_time": "08:00", "shift-submit": "y"})
    assert gap.status_code == 400 and "does not exist" in gap.get_data(as_text=True)
    backwards = admin_client.post("/admin/centre/urgent", data={
        "shift-supporter_id": str(people.ids["professional"]), "shift-day": "2026-10-20",
        "shift-start_time": "16:00", "shift-end_day": "2026-10-20",
        "shift-end_time": "08:00", "shift-submit": "y"})
    assert backwards.status_code == 400
    assert "must end after it starts" in backwards.get_data(as_text=True)
    assert admin_client.post("/admin/centre/urgent", data={
        "shift-supporter_id": str(people.ids["professional"]), "shift-day": "2026-10-20",
        "shift-start_time": "08:00", "shift-end_day": "2026-10-21",
        "shift-end_time": "08:00", "shift-submit": "y"}).status_code == 302
    page = admin_client.get("/admin/centre/urgent").get_data(as_text=True)
    assert "Livslinien" in page and "70 201 201" in page and "on duty now" in page
    with app.app_context():
        from simdebrief.services import support

        on_duty = support.on_duty_professionals(db.session, people.centre_id, clock.now())
        assert [u.id for u in on_duty] == [people.ids["professional"]]
    # Another centre's admin sees none of it.
    other = client_for(app, people, "other_admin").get("/admin/centre/urgent")
    assert "Livslinien" not in other.get_data(as_text=True)
