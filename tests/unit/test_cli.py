"""The flask commands an operator uses."""

from sqlalchemy import func, select

from simdebrief.extensions import db
from simdebrief.jobs import background_scheduler
from simdebrief.models import Cohort, Debrief, User
from tests.conftest import login


def test_users_create_makes_the_first_admin_who_can_log_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--role", "admin", "--email",
                                 "Boss@Example.org", "--name", "Bo Boss", "--password",
                                 "a long walk to the hospital"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    assert login(app.test_client(), "boss@example.org",
                 "a long walk to the hospital").status_code in (302, 303)


def test_users_create_explains_a_weak_password_and_a_duplicate(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "create", "--role", "admin", "--email", "a@example.org",
                               "--name", "A", "--password", "short"])
    assert weak.exit_code == 1
    assert "password: Use at least 10 characters." in weak.output
    args = ["users", "create", "--role", "student", "--email", "s@example.org", "--name", "S",
            "--password", "a perfectly fine password"]
    assert runner.invoke(args=args).exit_code == 0
    duplicate = runner.invoke(args=args)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


def test_demo_load_is_idempotent_and_prints_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.simdebrief.org" in first.output
    with app.app_context():
        counts = (db.session.scalar(select(func.count(User.id))),
                  db.session.scalar(select(func.count(Cohort.id))))
    second = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in second.output
    with app.app_context():
        assert counts == (db.session.scalar(select(func.count(User.id))),
                          db.session.scalar(select(func.count(Cohort.id))))
    assert login(app.test_client(), "admin@demo.simdebrief.org",
                 "demo-simulation-2026").status_code in (302, 303)


def test_outbox_send_reports_what_it_did(app, clock):
    from simdebrief.services import notifications

    with app.app_context():
        notifications.enqueue_email(db.session, key="k", to="x@example.org", subject="s",
                                    body="b", now=clock.now(), mail_from="a@example.org")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "1 claimed, 1 delivered, 0 failed" in result.output


def test_scheduler_has_the_outbox_job_with_safe_defaults(app):
    scheduler = background_scheduler(app)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("relay_outbox")
        assert job is not None
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 30
        assert job.trigger.interval.total_seconds() == 20
        # Escalation every minute; the follow-up times recomputed once at start.
        assert scheduler.get_job("escalate_support_requests").trigger.interval \
            .total_seconds() == 60
        assert scheduler.get_job("recompute_followup_times") is not None
        # The completion figures' change rows are folded every five minutes.
        assert scheduler.get_job("fold_follow_up_tallies").trigger.interval \
            .total_seconds() == 300
    finally:
        scheduler.shutdown(wait=False)


def _demo_snapshot(app) -> dict:
    """What a newcomer sees of the demo: counts of each kind of thing and of each state."""
    from simdebrief.models import (
        CheckIn,
        Debrief,
        FollowUp,
        OutboxEmail,
        Scenario,
        SimSession,
    )

    with app.app_context():
        def count(model):
            return db.session.scalar(select(func.count()).select_from(model))

        def by(column):
            return dict(db.session.execute(select(column, func.count()).group_by(column)).all())

        return {
            "users": count(User), "cohorts": count(Cohort), "scenarios": count(Scenario),
            "sessions": by(SimSession.status), "debriefs": by(Debrief.status),
            "check-ins": count(CheckIn), "follow-ups": by(FollowUp.status),
            "emails": count(OutboxEmail),
        }


def test_demo_load_on_an_empty_database_gives_the_same_demo_as_make_run(app, tmp_path, clock):
    """`make run` syncs the library, then loads the demo; `demo load` alone must not load half."""
    from tests.conftest import make_app

    make_run = make_app(f"sqlite:///{tmp_path / 'make-run.sqlite3'}", clock)
    runner = make_run.test_cli_runner()
    assert runner.invoke(args=["scenarios", "sync"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0

    alone = app.test_cli_runner().invoke(args=["demo", "load"])
    assert alone.exit_code == 0, alone.output
    demo = _demo_snapshot(app)
    assert demo == _demo_snapshot(make_run)
    assert demo["scenarios"] == 14 and demo["follow-ups"] and demo["check-ins"] >= 5
    with make_run.app_context():
        db.engine.dispose()


def test_demo_load_names_the_missing_scenarios_and_loads_nothing(app, tmp_path, monkeypatch):
    from simdebrief import scenarios

    monkeypatch.setattr(scenarios, "default_library_dir", lambda: tmp_path / "nowhere")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "scenarios sync" in result.output and "ward-unexpected-cardiac-arrest" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def _serve_arguments(app, monkeypatch, *args):
    """What `flask serve …` would hand to Werkzeug, without serving."""
    from simdebrief import cli

    calls = []
    monkeypatch.setattr(cli, "run_simple", lambda *a, **kw: calls.append((a, kw)))
    with app.app_context():  # `flask` pushes one for every command; the runner does not
        result = app.test_cli_runner().invoke(args=["serve", *args])
    return result, calls


def test_serve_with_reload_never_turns_on_the_debugger(app, monkeypatch):
    result, calls = _serve_arguments(app, monkeypatch, "--reload", "--host", "0.0.0.0")  # noqa: S104
    assert result.exit_code == 0, result.output
    (_args, options), = calls
    assert options["use_reloader"] is True
    assert options["use_debugger"] is False


def test_the_debugger_needs_its_own_flag_and_a_loopback_host(app, monkeypatch):
    result, calls = _serve_arguments(app, monkeypatch, "--debugger")
    assert result.exit_code == 0, result.output
    assert calls[0][1]["use_debugger"] is True
    assert "debugger ON" in result.output
    for host in ("0.0.0.0", "192.168.1.20", "::", "sim.example.org"):  # noqa: S104
        refused, calls = _serve_arguments(app, monkeypatch, "--debugger", "--host", host)
        assert refused.exit_code == 2, host
        assert "refused" in refused.output
        assert calls == []
    ipv6, calls = _serve_arguments(app, monkeypatch, "--debugger", "--host", "::1")
    assert ipv6.exit_code == 0 and calls[0][1]["use_debugger"] is True


def test_the_debugger_is_refused_in_production(app, monkeypatch):
    app.config["SIMDEBRIEF_ENV"] = "production"
    result, calls = _serve_arguments(app, monkeypatch, "--debugger")
    assert result.exit_code == 2 and calls == []


def test_the_demo_debrief_records_objectives_phase_times_and_discussion(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        debrief = db.session.scalar(select(Debrief))
        assert {o.outcome for o in debrief.objective_outcomes} == {"met", "partly", "not_met"}
        assert all(t.started_at < t.ended_at for t in debrief.phase_times)
        assert len(debrief.phase_times) >= 3
        assert debrief.problems[0].just_culture == "human_error"
        factors = [f for p in debrief.problems for f in p.factors]
        assert 0 < sum(f.suggested for f in factors) < len(factors)


def test_starting_the_app_loads_no_pdf_scenario_schema_calendar_or_migration_library():
    """Every ``flask … --once`` pays the app's start-up: the heavy libraries wait until used,
    and an installation on SQLite never loads the PostgreSQL driver."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = ("import sys, app; print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'reportlab', 'pydantic', 'icalendar', 'yaml', 'alembic', 'flask_migrate', "
             "'psycopg'}))")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root),
           "SIMDEBRIEF_DATABASE_URL": "sqlite://", "SIMDEBRIEF_SCHEDULER": "off",
           "SIMDEBRIEF_SECRET_KEY": "x" * 40}
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
