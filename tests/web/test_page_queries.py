"""The hot pages ask the database the same number of questions whatever the centre's history:
the count at 10 sessions equals the count at 1,000 (no query per row, no page that grows)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from simdebrief.extensions import db
from simdebrief.models import (
    Attendance,
    Debrief,
    DebriefStatus,
    FollowUp,
    Room,
    Scenario,
    ScenarioVersion,
    SessionParticipant,
    SessionStatus,
    SimSession,
    SupporterTier,
    SupportRequest,
    SupportStatus,
    session_instructor,
)
from simdebrief.services.followups import answers, enrolment
from tests.conftest import both_databases, client_for

#: (who, page) of every hot page.
HOT_PAGES = [
    ("instructor", "/sessions/"),
    ("instructor", "/sessions/?show=past"),
    ("instructor", "/dashboard"),
    ("student", "/dashboard"),
    ("student", "/me/follow-ups"),
    ("admin", "/admin/follow-ups"),
    ("admin", "/admin/outbox"),
    ("peer", "/support/"),
]
#: Generous, but it catches a page that starts asking once per row.
MOST_QUERIES = 30


class History:
    """Sessions in bulk for the seeded centre: every other one over, every other one to
    come, each taught by the instructor and attended by both students, with their
    follow-up stages and now and then a request to talk."""

    def __init__(self, app, people, now):
        self.app, self.people, self.now = app, people, now
        self.count = 0
        with app.app_context():
            version = ScenarioVersion(
                scenario=Scenario(slug="bulk", created_at=now), number=1,
                content_hash="0" * 64, content={"story": "x" * 20_000},
                source_file="bulk.yaml", title="Bulk drill", summary="",
                clinical_setting="ward", adverse_event_type="other", trigger_types=[],
                risk_flags=[], duration_minutes=60, role_places=4, synced_at=now)
            room = Room(centre_id=people.centre_id, name="Hall", capacity=8)
            db.session.add_all([version, room])
            db.session.flush()
            self.version_id, self.room_id = version.id, room.id
            self.template = self._one_with_followups()
            db.session.commit()

    def _one_with_followups(self) -> list[dict]:
        """One finalised session scheduled by the service; its follow-up rows are the
        pattern the bulk copies follow."""
        now = self.now
        sim_session = SimSession(
            centre_id=self.people.centre_id, scenario_version_id=self.version_id,
            room_id=self.room_id, starts_at=now - timedelta(hours=3), ends_at=now,
            status=SessionStatus.DEBRIEFED, created_at=now, updated_at=now)
        db.session.add(sim_session)
        db.session.flush()
        self._attach([sim_session.id])
        debrief = Debrief(session_id=sim_session.id, framework="PEARLS",
                          status=DebriefStatus.FINAL, created_at=now, updated_at=now,
                          finalised_at=now)
        db.session.add(debrief)
        db.session.flush()
        db.session.refresh(sim_session)
        enrolment.schedule_for_debrief(db.session, debrief, now)
        self.count = 1
        columns = [c.key for c in FollowUp.__table__.columns if c.key != "id"]
        return [{key: getattr(f, key) for key in columns}
                for f in db.session.scalars(select(FollowUp)
                                            .where(FollowUp.session_id == sim_session.id))]

    def _attach(self, session_ids: list[int]) -> None:
        ids = self.people.ids
        db.session.execute(insert(session_instructor), [
            {"session_id": s, "user_id": ids["instructor"]} for s in session_ids])
        db.session.execute(insert(SessionParticipant), [
            {"session_id": s, "user_id": ids[key], "attendance": Attendance.PRESENT}
            for s in session_ids for key in ("student", "student2")])

    def grow_to(self, total: int) -> None:
        now = self.now
        with self.app.app_context():
            rows = []
            for number in range(self.count, total):
                start = now + timedelta(days=number // 2 + 1) * (1 if number % 2 else -1)
                rows.append({
                    "centre_id": self.people.centre_id, "scenario_version_id": self.version_id,
                    "room_id": self.room_id, "starts_at": start,
                    "ends_at": start + timedelta(hours=2), "created_at": now,
                    "updated_at": now,
                    "status": SessionStatus.SCHEDULED if number % 2 else SessionStatus.DEBRIEFED})
            new_ids = list(db.session.scalars(insert(SimSession).returning(SimSession.id), rows))
            self._attach(new_ids)
            past = [i for i, row in zip(new_ids, rows, strict=True) if row["ends_at"] < now]
            db.session.execute(insert(FollowUp), [
                {**pattern, "session_id": session_id,
                 "anchor_at": pattern["anchor_at"] - timedelta(days=n + 1),
                 "due_at": pattern["due_at"] - timedelta(days=n + 1)}
                for n, session_id in enumerate(past) for pattern in self.template])
            db.session.execute(insert(SupportRequest), [
                {"centre_id": self.people.centre_id, "learner_id": self.people.ids["student"],
                 "session_id": session_id, "tier": SupporterTier.PEER,
                 "status": SupportStatus.OPEN, "created_at": now, "updated_at": now}
                for session_id in past[::5]])
            db.session.commit()
            self.count = total


@contextmanager
def counted_queries(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_per_page(app, clients) -> dict[tuple[str, str], int]:
    found = {}
    for who, url in HOT_PAGES:
        with counted_queries(app) as statements:
            response = clients[who].get(url)
        assert response.status_code == 200, (who, url)
        found[(who, url)] = len(statements)
    return found


@pytest.mark.slow
@both_databases
def test_hot_pages_ask_as_many_questions_at_1000_sessions_as_at_10(app, people, clock):
    clients = {who: client_for(app, people, who) for who in {w for w, _url in HOT_PAGES}}
    history = History(app, people, clock.now())
    history.grow_to(10)
    small = queries_per_page(app, clients)
    history.grow_to(1000)
    large = queries_per_page(app, clients)
    assert large == small
    assert max(large.values()) <= MOST_QUERIES, large


@both_databases
def test_the_sessions_list_pages_without_counting_and_never_loads_scenario_content(
        app, people, clock):
    History(app, people, clock.now()).grow_to(80)
    instructor = client_for(app, people, "instructor")
    with counted_queries(app) as statements:
        first = instructor.get("/sessions/?show=past").get_data(as_text=True)
    assert "Page 1" in first and 'rel="next"' in first
    # No count of the whole list for the pager (each row's places are counted beside it).
    assert not any(s.lower().lstrip().startswith("select count(") for s in statements)
    with app.app_context():
        places = dict(db.session.execute(
            select(SessionParticipant.session_id, func.count(SessionParticipant.id))
            .group_by(SessionParticipant.session_id)).all())
    shown = re.findall(r'/sessions/(\d+)">.*?</a></td>\s*<td>.*?</td>\s*<td>.*?</td>\s*'
                       r'<td>(\d+)</td>', first, flags=re.S)
    assert len(shown) == 30 and any(int(n) for _id, n in shown)
    assert all(int(n) == places.get(int(session_id), 0) for session_id, n in shown)
    assert not any("scenario_version.content" in s for s in statements)
    second = instructor.get("/sessions/?show=past&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert first.count("<tr>") == 1 + 30  # the head row and a page of sessions
    assert 1 < second.count("<tr>") < 1 + 30


@both_databases
def test_the_learners_timeline_shows_one_page_of_sessions_at_a_time(app, people, clock):
    History(app, people, clock.now()).grow_to(50)  # 24 sessions over, and the first one
    learner = client_for(app, people, "student")
    per_page = answers.TIMELINE_GROUPS_PER_PAGE
    count = -(-25 // per_page)
    pages = [learner.get(f"/me/follow-ups?page={n}").get_data(as_text=True)
             for n in range(1, count + 1)]
    assert [page.count('<h2 id="group-') for page in pages] == \
        [per_page] * (count - 1) + [25 - per_page * (count - 1)]
    assert ['rel="next"' in page for page in pages] == [True] * (count - 1) + [False]
    # Each session once, the latest first, across the pages; each with all its stages.
    shown = [int(found) for page in pages for found in re.findall(
        r'<h2 id="group-\d+">.*?<a href="/sessions/(\d+)">', page, flags=re.S)]
    with app.app_context():
        latest_first = [session_id for session_id, _latest in db.session.execute(
            select(FollowUp.session_id, func.max(FollowUp.anchor_at))
            .where(FollowUp.user_id == people.ids["student"])
            .group_by(FollowUp.session_id).order_by(func.max(FollowUp.anchor_at).desc()))]
        stages = db.session.scalar(select(func.count(FollowUp.id))
                                   .where(FollowUp.user_id == people.ids["student"]))
    assert shown == latest_first
    assert sum(page.count("<tr>") - page.count('<h2 id="group-') for page in pages) == stages


#: The learner's home: the login session with its user and centre, then the page's own four
#: (the retention date, upcoming and past sessions, unread feedback).
LEARNER_HOME_QUERIES = 5


def tables_read(statement: str) -> set[str]:
    return set(re.findall(r"(?:FROM|JOIN) (\w+)", statement))


@both_databases
def test_the_login_session_user_and_centre_are_loaded_once_per_request(app, people, clock):
    History(app, people, clock.now()).grow_to(20)
    learner = client_for(app, people, "student")
    with counted_queries(app) as statements:
        assert learner.get("/dashboard").status_code == 200
    queries = [s for s in statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert len(queries) == LEARNER_HOME_QUERIES, queries
    for table in ("auth_session", "user_account", "centre"):
        reading = [s for s in queries if table in tables_read(s)]
        assert len(reading) == 1, (table, reading)
        assert "auth_session" in tables_read(reading[0])  # one joined query for all three


@both_databases
def test_the_follow_up_overview_asks_the_window_lengths_once(app, people, clock):
    """Which batches are still open and which closed since the last look both depend on
    each stage's window length; the view reads the lengths once for both questions."""
    History(app, people, clock.now()).grow_to(20)
    admin = client_for(app, people, "admin")
    with counted_queries(app) as statements:
        assert admin.get("/admin/follow-ups").status_code == 200
    asked = [s for s in statements if re.search(r"SELECT DISTINCT follow_up_stage\.window_days",
                                                s)]
    assert len(asked) == 1, asked
