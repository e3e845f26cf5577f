"""The learner's pages read a bounded part of a long history: the distress trend decrypts
only the latest answers, however many the learner has given."""

from datetime import timedelta

from simdebrief.extensions import db
from simdebrief.models import CheckIn, CheckInContext, User
from simdebrief.services.followups import answers


def test_the_trend_reads_the_latest_scored_answers_oldest_first(app, people, clock):
    start = clock.now()
    with app.app_context():
        learner = db.session.get(User, people.ids["student"])
        for day, payload, skipped in [(0, {"distress": 9}, False), (1, {"distress": 7}, False),
                                      (2, None, True), (3, {"distress": None}, False),
                                      (4, {"distress": 2}, False), (5, {"distress": 4}, False)]:
            checkin = CheckIn(user_id=learner.id, centre_id=learner.centre_id,
                              context=CheckInContext.SELF, skipped=skipped,
                              created_at=start + timedelta(days=day))
            checkin.payload = payload
            db.session.add(checkin)
        db.session.commit()
        everything = answers.distress_points(db.session, learner)
        latest = answers.distress_points(db.session, learner, limit=3)
    assert [score for _when, score in everything] == [9, 7, 2, 4]
    # The three latest answers: one has no score, so two points, the older first.
    assert [(when - start).days for when, _score in latest] == [4, 5]
    assert [score for _when, score in latest] == [2, 4]
