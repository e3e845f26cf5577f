"""``flask --app app …`` commands."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import run_simple

from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput
from simdebrief.extensions import db
from simdebrief.models import Centre, Role, SupporterTier

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="The demo centre.")
scheduler_cli = AppGroup("scheduler", help="The background job scheduler.")
outbox_cli = AppGroup("outbox", help="The email outbox.")
scenarios_cli = AppGroup("scenarios", help="The scenario library (scenarios/*.yaml).")


@scenarios_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_scenarios(paths):
    """Check scenario files; print every problem as FILE:LINE: field: message."""
    from simdebrief import scenarios

    result = scenarios.load_library(list(paths) or [scenarios.default_library_dir()])
    for problem in result.problems:
        click.echo(str(problem))
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found.", err=True)
        raise SystemExit(1)
    click.echo(f"{len(result.scenarios)} scenario file(s) valid.")


@scenarios_cli.command("sync")
@click.option("--directory", type=click.Path(path_type=Path, file_okay=False),
              help="Defaults to the shipped scenarios/ folder.")
def sync_scenarios(directory):
    """Load valid scenario files into the database; changed files become new versions."""
    from simdebrief import scenarios
    from simdebrief.services import library

    directory = directory or scenarios.default_library_dir()
    if not directory.is_dir():
        click.echo(f"No scenario library at {directory}; nothing to sync.")
        return
    report = library.sync_library(db.session, directory=directory, now=current_now())
    db.session.commit()
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(
        f"scenarios: {len(report.added)} added, {len(report.new_versions)} new version(s), "
        f"{len(report.unchanged)} unchanged, {len(report.retired)} retired, "
        f"{len(report.restored)} restored, {len(report.problems)} problem(s)"
    )
    if report.problems:
        raise SystemExit(1)


@users_cli.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--tier", type=click.Choice([t.value for t in SupporterTier]),
              help="For supporters: peer or professional.")
@click.option("--centre", "centre_name", help="Centre name; created if it does not exist. "
              "Defaults to the only centre, or 'Simulation centre' on an empty database.")
@click.password_option(help="Prompted for when not given.")
def create_user(role, email, name, tier, centre_name, password):
    """Create an account with a password (e.g. the first administrator)."""
    from simdebrief.services import accounts

    now = current_now()
    centres = db.session.scalars(select(Centre)).all()
    if centre_name:
        centre = next((c for c in centres if c.name == centre_name), None)
    else:
        centre = centres[0] if len(centres) == 1 else None
        if len(centres) > 1:
            raise click.UsageError("There are several centres; name one with --centre.")
    if centre is None:
        centre = Centre(name=centre_name or "Simulation centre",
                        timezone=current_app.config["SIMDEBRIEF_TIMEZONE"], created_at=now)
        db.session.add(centre)
    try:
        user = accounts.create_user(
            db.session, centre=centre, now=now, password=password,
            data=accounts.NewUser(email=email, name=name, role=Role(role),
                                  supporter_tier=SupporterTier(tier) if tier else None),
        )
    except InvalidInput as error:
        db.session.rollback()
        for field, messages in error.errors.items():
            for message in messages:
                click.echo(f"error: {field or 'input'}: {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} in {centre.name}.")


@demo_cli.command("load")
def load_demo_command():
    """Load the demo centre (safe to run again: existing data is left as it is)."""
    from simdebrief.services import demo

    added = demo.load_demo(db.session, now=current_now(),
                           timezone=current_app.config["SIMDEBRIEF_TIMEZONE"])
    db.session.commit()
    if any(added.values()):
        click.echo("Demo centre loaded: " + ", ".join(f"{v} {k}" for k, v in added.items() if v))
    else:
        click.echo("Demo centre already loaded; nothing changed.")
    click.echo("Demo logins (role, email, password):")
    for role, email, password in demo.demo_logins():
        click.echo(f"  {role:<26} {email:<36} {password}")


@scheduler_cli.command("run")
def run_scheduler():
    """Run the scheduler in this process until interrupted (production: one such process)."""
    from simdebrief.jobs import blocking_scheduler

    scheduler = blocking_scheduler(current_app._get_current_object())
    click.echo("Scheduler running; press Ctrl+C to stop.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@outbox_cli.command("send")
def send_outbox():
    """Send every due outbox email once and print what happened."""
    from simdebrief.jobs import relay_outbox

    result = relay_outbox(current_app._get_current_object())
    click.echo(f"outbox: {result.claimed} claimed, {result.delivered} delivered, "
               f"{result.failed} failed")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reload/--no-reload", default=False, show_default=True)
def serve(host, port, reload):
    """Serve the app with the scheduler in-process (development and single-machine use)."""
    app: Flask = current_app._get_current_object()
    # Under the reloader the parent only watches files; start the scheduler in the child alone.
    in_serving_process = not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    if app.config["SIMDEBRIEF_SCHEDULER"] and in_serving_process:
        from simdebrief.jobs import background_scheduler

        background_scheduler(app).start()
        click.echo("Scheduler started in-process.")
    click.echo(f"Serving on http://{host}:{port}")
    run_simple(host, port, app, use_reloader=reload, use_debugger=reload, threaded=True)


def register_commands(app: Flask) -> None:
    for group in (users_cli, demo_cli, scheduler_cli, outbox_cli, scenarios_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
