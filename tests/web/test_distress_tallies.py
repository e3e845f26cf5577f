"""The distress-per-stage figure from encrypted tallies equals counting every answer afresh,
and a learner's erasure changes it exactly as if their answer had never existed."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from simdebrief.extensions import db
from simdebrief.models import (
    Centre,
    CheckIn,
    DistressBatchTally,
    DistressPoolTally,
    DistressTallyState,
    FollowUp,
    FollowUpPlan,
    FollowUpStatus,
    PlanKind,
    User,
)
from simdebrief.services import checkins, group_figures, privacy
from simdebrief.services.followups import answers, figures
from tests.conftest import both_databases, client_for
from tests.web.test_group_figures import centre_with_sessions, debriefed_group
from tests.web.test_page_queries import counted_queries


def recomputed(centre, now) -> dict:
    """The figure as it was computed before the tallies: every answer decrypted, per view."""
    k = group_figures.k_for(centre.min_group_size)
    open_batches = figures._open_batches(db.session, centre, now)
    batches: dict[tuple, list[int]] = defaultdict(list)
    kinds = {}
    for session_id, stage_id, stage_key, kind, checkin in db.session.execute(
            select(FollowUp.session_id, FollowUp.stage_id, FollowUp.stage_key,
                   FollowUpPlan.kind, CheckIn)
            .join(CheckIn, CheckIn.id == FollowUp.checkin_id)
            .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
            .where(FollowUp.centre_id == centre.id,
                   FollowUp.status == FollowUpStatus.COMPLETED, CheckIn.skipped.is_(False))):
        if (session_id, stage_id) in open_batches:
            continue
        kinds[(session_id, stage_id)] = (PlanKind(kind), stage_key)
        if checkin.distress is not None:
            batches[(session_id, stage_id)].append(checkin.distress)
    scores: dict[tuple, list[int]] = defaultdict(list)
    for batch, values in batches.items():
        if len(values) >= k:
            scores[kinds[batch]].extend(values)
    answered = db.session.execute(
        select(FollowUpPlan.kind, FollowUp.stage_key)
        .join(FollowUpPlan, FollowUpPlan.id == FollowUp.plan_id)
        .where(FollowUp.centre_id == centre.id,
               FollowUp.status == FollowUpStatus.COMPLETED).distinct()).all()
    return {(PlanKind(kind), key): (len(scores[(PlanKind(kind), key)]) or None,
                                    group_figures.median_of(scores[(PlanKind(kind), key)], k))
            for kind, key in answered}


def shown(centre, now) -> dict:
    return {(row.plan_kind, row.key): (row.answered, row.median)
            for row in figures.distress_per_stage(db.session, centre, now)}


def answer(sim_session, learner, stage_key, distress, now, *, skip=False) -> None:
    followup = db.session.scalar(select(FollowUp).where(
        FollowUp.session_id == sim_session.id, FollowUp.user_id == learner.id,
        FollowUp.stage_key == stage_key))
    if skip:
        answers.skip_stage(db.session, followup=followup, now=now)
    else:
        answers.complete_stage(db.session, followup=followup,
                               answers=checkins.Answers(distress=distress),
                               stage_answers={}, now=now)


def first_stage_keys(centre) -> list[str]:
    return sorted(set(db.session.scalars(
        select(FollowUp.stage_key).where(FollowUp.centre_id == centre.id))))


def rebuilt(centre, now) -> dict:
    """The figure counted from empty tallies, as on the first view after the upgrade."""
    for model in (DistressBatchTally, DistressPoolTally, DistressTallyState):
        db.session.execute(delete(model).where(model.centre_id == centre.id))
    db.session.expire_all()
    return shown(centre, now)


#: Per session, learner and stage (of the first two): what they do and after how many hours.
plan_strategy = st.lists(st.tuples(
    st.sampled_from(["answer"] * 6 + ["skip", "nothing"]),
    st.sampled_from([*range(11), None]), st.integers(0, 60)), min_size=48, max_size=48)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sizes=st.tuples(st.sampled_from([5, 6, 8]), st.sampled_from([5, 7, 8]),
                       st.sampled_from([3, 6, 8])),
       plan=plan_strategy, looks=st.lists(st.integers(0, 30 * 24), min_size=1, max_size=3),
       erased=st.sets(st.tuples(st.integers(0, 2), st.integers(0, 7)), max_size=3),
       k=st.sampled_from([5, 6, 7]))
def test_the_tallied_figure_equals_counting_every_answer(app, people, planning, clock, sizes,
                                                         plan, looks, erased, k):
    with app.app_context():
        start = clock.now()
        centre, groups = centre_with_sessions(planning, sizes, start)
        keys = first_stage_keys(centre)[:2]
        steps = sorted(
            (hours, g, n, s, action, distress)
            for (g, n, s), (action, distress, hours) in zip(
                itertools.product(range(3), range(8), range(2)), plan, strict=True)
            if action != "nothing" and n < sizes[g])
        for hours, g, n, s, action, distress in steps:
            sim_session, learners = groups[g]
            answer(sim_session, learners[n], keys[s], distress, start + timedelta(hours=hours),
                   skip=action == "skip")
        later = start + timedelta(days=400)
        for hours in sorted(looks):
            now = start + timedelta(hours=hours)
            assert shown(centre, now) == recomputed(centre, now)
        assert shown(centre, later) == recomputed(centre, later)
        for g, n in sorted(erased):
            if n < sizes[g]:
                privacy.delete_emotional_data(db.session, user=groups[g][1][n], now=later)
        centre.min_group_size = k
        db.session.flush()
        assert shown(centre, later) == recomputed(centre, later) == rebuilt(centre, later)
        db.session.rollback()


def test_erasure_takes_out_exactly_that_answer(app, people, planning, clock):
    with app.app_context():
        start = clock.now()
        centre, [(sim_session, learners)] = centre_with_sessions(planning, [6], start)
        key = first_stage_keys(centre)[0]
        for learner, distress in zip(learners, [1, 2, 3, 4, 5, 10], strict=True):
            answer(sim_session, learner, key, distress, start)
        later = start + timedelta(days=400)
        kind_key = (PlanKind.SESSION, key)
        assert shown(centre, later)[kind_key] == (6, 3.5)
        db.session.commit()

        admin = db.session.get(User, people.ids["admin"])
        learners[5].erasure_requested_at = later
        privacy.erase_account(db.session, actor=admin, user=learners[5], now=later)
        db.session.commit()
        assert shown(centre, later)[kind_key] == (5, 3)  # as if the 10 had never been given
        db.session.commit()

        privacy.delete_emotional_data(db.session, user=learners[0], now=later)
        db.session.commit()
        assert shown(centre, later)[kind_key] == (None, None)  # four scores: fewer than k
        assert shown(centre, later) == recomputed(centre, later)


def everyone_answered(planning, sizes, distress, start) -> tuple[Centre, list, str]:
    """Sessions of these sizes whose learners all gave ``distress`` at the first stage."""
    centre, groups = centre_with_sessions(planning, sizes, start)
    key = first_stage_keys(centre)[0]
    for sim_session, learners in groups:
        for learner in learners:
            answer(sim_session, learner, key, distress, start)
    return centre, groups, key


def test_a_view_decrypts_only_batches_that_changed(app, people, planning, clock, monkeypatch):
    with app.app_context():
        start = clock.now()
        centre, groups, key = everyone_answered(planning, [6, 6], 4, start)
        later = start + timedelta(days=400)
        shown(centre, later)
        db.session.commit()
        opened = []
        original = CheckIn.distress.fget
        monkeypatch.setattr(CheckIn, "distress",
                            property(lambda self: opened.append(self.id) or original(self)))
        with counted_queries(app) as asked:
            assert shown(centre, later)[(PlanKind.SESSION, key)] == (12, 4)
        assert opened == []  # nothing changed: only the tallies were read
        # ...and no question went to the answers or wrote anything: the history is not read.
        assert not [q for q in asked
                    if "check_in" in q or not q.lstrip().startswith(("SELECT", "BEGIN"))]
        privacy.delete_emotional_data(db.session, user=groups[0][1][0], now=later)
        with counted_queries(app) as asked:
            shown(centre, later)
        assert len(opened) == 5  # that one batch counted again; the other untouched
        # The question about answered batches named the marked batch, not the whole history.
        answered_questions = [q for q in asked if "JOIN check_in" in q and "GROUP BY" in q]
        assert answered_questions and all("IN (" in q for q in answered_questions)


@both_databases
def test_the_admin_overview_counts_a_batch_once_and_keeps_it(app, people, planning, clock):
    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        start = clock.now()
        sim_session, learners = debriefed_group(centre, 5, planning, start)
        key = first_stage_keys(centre)[0]
        for learner in learners:
            answer(sim_session, learner, key, 7, start)
        db.session.commit()
    clock.advance(days=400)
    admin = client_for(app, people, "admin")
    assert admin.get("/admin/follow-ups").status_code == 200
    assert admin.get("/admin/follow-ups").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(DistressBatchTally.id))) == 1
        pool = db.session.scalars(select(DistressPoolTally)).one()
        assert pool.counts == {"7": 5}
        stored = db.session.scalar(select(DistressPoolTally.counts_sealed))
        assert "7" not in stored.split(":", 1)[0] and not stored.startswith("{")


@both_databases
def test_the_scheduler_takes_the_marks_so_views_ask_about_little(app, people, planning, clock):
    from simdebrief.jobs import fold_follow_up_tallies
    from simdebrief.models import DistressBatchMark

    with app.app_context():
        start = clock.now()
        centre, _groups, key = everyone_answered(planning, [6, 5], 3, start)
        db.session.commit()
        centre_id = centre.id
        marks = db.session.scalar(select(func.count(DistressBatchMark.id)))
        assert marks > 0
    clock.advance(days=400)
    done = fold_follow_up_tallies(app)
    assert done["centres settled"] >= 1 and done["marks taken"] == marks
    assert done["tables tidied"] == 0  # a few marks leave nothing to tidy
    with app.app_context():
        assert db.session.scalar(select(func.count(DistressBatchMark.id))) == 0
        centre = db.session.get(Centre, centre_id)
        with counted_queries(app) as asked:
            assert shown(centre, clock.now())[(PlanKind.SESSION, key)] == (11, 3)
        assert not [q for q in asked
                    if "check_in" in q or not q.lstrip().startswith(("SELECT", "BEGIN"))]
        assert shown(centre, clock.now()) == recomputed(centre, clock.now())


@both_databases
def test_a_view_only_reads_when_no_tally_has_to_change(app, people, planning, clock):
    """Marks and closing stages alone never make a page write (and wait for SQLite's lock)."""
    with app.app_context():
        start = clock.now()
        centre, [(sim_session, learners)] = centre_with_sessions(planning, [6], start)
        key = first_stage_keys(centre)[0]
        answer(sim_session, learners[0], key, 3, start)  # one answer: no batch reaches k
        db.session.commit()
        with counted_queries(app) as asked:
            shown(centre, start + timedelta(days=400))
        assert [q for q in asked if not q.lstrip().startswith(("SELECT", "BEGIN"))] == []


@both_databases
def test_a_batch_closes_when_its_sent_stages_expire_or_its_held_stages_window_ends(
        app, people, planning, clock):
    """What a look asks about: the batches whose last answerable stage closed in the span
    since the last look. A sent stage closes at its expiry; a held (paused) one at the end of
    its answer window. Nothing else in the centre's history comes back."""
    from simdebrief.models import FollowUpStage
    from simdebrief.services.followups import distress_tallies

    with app.app_context():
        start = clock.now()
        centre, [(sent_session, _sent), (held_session, _held)] = centre_with_sessions(
            planning, [3, 3], start)
        key = first_stage_keys(centre)[0]
        stage_of = {f.session_id: f for f in db.session.scalars(select(FollowUp).where(
            FollowUp.centre_id == centre.id, FollowUp.stage_key == key))}
        expiry = stage_of[sent_session.id].expires_at
        # The held session's stages of that key are paused, due well after the sent ones'
        # expiry: they close only when their window has passed.
        due = expiry + timedelta(days=30)
        db.session.execute(update(FollowUp).where(
            FollowUp.session_id == held_session.id, FollowUp.stage_key == key)
            .values(status=FollowUpStatus.PAUSED, due_at=due))
        window = db.session.get(FollowUpStage, stage_of[held_session.id].stage_id).window_days
        windows = distress_tallies.window_lengths(db.session)
        hour = timedelta(hours=1)

        def closing(moment):
            return {batch for batch in distress_tallies._closing(
                db.session, centre, moment - hour, moment + hour, windows)
                if batch[1] == stage_of[sent_session.id].stage_id}

        window_end = due + timedelta(days=window)
        assert closing(expiry) == {(sent_session.id, stage_of[sent_session.id].stage_id)}
        assert closing(window_end) == {(held_session.id, stage_of[held_session.id].stage_id)}
        assert closing(window_end + timedelta(days=2)) == set()
        db.session.rollback()
