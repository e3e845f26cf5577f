"""The demo fills every to-do the dashboards show: a debrief to finalise with a learner
without feedback, today's session, a failed email and waiting requests."""

from simdebrief.extensions import db
from simdebrief.scenarios import default_library_dir
from simdebrief.services import demo
from tests.conftest import login


def load(app, clock) -> dict:
    with app.app_context():
        added = demo.load_demo(db.session, now=clock.now(), timezone="Europe/Copenhagen",
                               library_dir=default_library_dir())
        db.session.commit()
        return added


def demo_client(app, name: str):
    client = app.test_client()
    assert login(client, f"{name}@demo.simdebrief.org",
                 demo.DEMO_PASSWORD).status_code in (302, 303)
    return client


def test_the_demo_fills_every_dashboard_to_do(app, clock):
    first = load(app, clock)
    assert first["running sessions"] == 1 and first["failed emails"] == 1
    again = load(app, clock)
    assert again["running sessions"] == 0 and again["failed emails"] == 0

    instructor = demo_client(app, "instructor").get("/dashboard").get_data(as_text=True)
    assert "draft, last saved" in instructor
    assert "Write feedback to William Andersen" in instructor
    assert "Write feedback to Maja Kowalczyk" not in instructor  # hers is written

    admin = demo_client(app, "admin").get("/dashboard").get_data(as_text=True)
    assert "1 email could not be sent after every retry" in admin
    assert "requests are waiting for a supporter" in admin
    assert "waited longer than your response target" in admin
    assert "No sessions today." not in admin
    assert "A postpartum haemorrhage while the midwife is called away" in admin

    peer = demo_client(app, "peer").get("/dashboard").get_data(as_text=True)
    assert "waiting to be taken" in peer
    outbox = demo_client(app, "admin").get("/admin/outbox?status=failed").get_data(
        as_text=True)
    assert "Reminder: your simulation session next week" in outbox
