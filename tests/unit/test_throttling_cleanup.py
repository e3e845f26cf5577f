"""Failed logins and counted requests go once no limit looks at them any more."""

from datetime import timedelta

from sqlalchemy import select

from simdebrief.extensions import db
from simdebrief.jobs import background_scheduler, forget_old_throttling
from simdebrief.models import LoginAttempt, ThrottleEvent
from simdebrief.services import accounts


def test_the_hourly_cleanup_keeps_what_the_limits_still_count(app, clock):
    now = clock.now()
    with app.app_context():
        db.session.add_all([
            LoginAttempt(email="a@example.org", ip_address="1.2.3.4",
                         attempted_at=now - timedelta(hours=25)),
            LoginAttempt(email="b@example.org", ip_address="1.2.3.4",
                         attempted_at=now - timedelta(hours=23)),
            ThrottleEvent(kind="reset", account="a@example.org", ip_address="1.2.3.4",
                          at=now - timedelta(minutes=61)),
            ThrottleEvent(kind="reset", account="b@example.org", ip_address="1.2.3.4",
                          at=now - timedelta(minutes=59)),
        ])
        db.session.commit()
    assert forget_old_throttling(app, now=now) == {"login_attempts": 1, "throttle_events": 1}
    with app.app_context():
        assert db.session.scalars(select(LoginAttempt.email)).all() == ["b@example.org"]
        assert db.session.scalars(select(ThrottleEvent.account)).all() == ["b@example.org"]
        # What is left still counts: a fourth reset request for b within the hour is refused.
        for _ in range(2):
            accounts.count_request(db.session, kind="reset", account="b@example.org",
                                   ip_address="5.6.7.8", now=now, limit=accounts.RESET_LIMIT)
    assert forget_old_throttling(app, now=now) == {"login_attempts": 0, "throttle_events": 0}


def test_a_stranger_guessing_is_still_slowed_down_after_the_cleanup(app, clock):
    now = clock.now()
    limits = accounts.LoginLimits()
    with app.app_context():
        db.session.add_all([LoginAttempt(email="a@example.org", ip_address="1.2.3.4",
                                         attempted_at=now - timedelta(seconds=n))
                            for n in range(limits.per_pair_per_minute)])
        db.session.commit()
    forget_old_throttling(app, now=now)
    with app.app_context():
        assert accounts.login_delay(db.session, email="a@example.org", ip_address="1.2.3.4",
                                    now=now, limits=limits) is not None


def test_the_scheduler_runs_the_cleanup_every_hour(app):
    scheduler = background_scheduler(app)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("forget_old_throttling")
        assert job.trigger.interval == timedelta(hours=1)
    finally:
        scheduler.shutdown(wait=False)
