"""``flask --app app …`` commands."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import run_simple

from simdebrief.clock import current_now
from simdebrief.errors import InvalidInput, InvalidState
from simdebrief.extensions import db
from simdebrief.models import Centre, Role, SupporterTier


def _(message: str, /, **variables) -> str:
    """A message for the person at the terminal, in ``SIMDEBRIEF_LANGUAGE`` (else the
    centre's default language). Babel is imported here, so commands start as fast as before."""
    from flask_babel import force_locale, gettext

    from simdebrief.languages import cli_locale

    with force_locale(cli_locale()):
        return gettext(message, **variables)

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="The demo centre.")
scheduler_cli = AppGroup("scheduler", help="The background job scheduler.")
outbox_cli = AppGroup("outbox", help="The email outbox.")
scenarios_cli = AppGroup("scenarios", help="The scenario library (scenarios/*.yaml).")
reports_cli = AppGroup("reports", help="Feedback documents (PDF).")


@scenarios_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_scenarios(paths):
    """Check scenario files; print every problem as FILE:LINE: field: message.

    Texts a translation leaves out are printed as warnings; with warnings only, the exit
    status is 0.
    """
    from simdebrief import scenarios

    result = scenarios.load_library(list(paths) or [scenarios.default_library_dir()],
                                    current_app.config["SIMDEBRIEF_LANGUAGES"])
    for problem in result.problems + result.warnings:
        click.echo(str(problem))
    if result.warnings:
        click.echo(f"{len(result.warnings)} warning(s): untranslated text is shown in English.",
                   err=True)
    if result.problems:
        click.echo(_("%(count)d problem(s) found.", count=len(result.problems)), err=True)
        raise SystemExit(1)
    click.echo(_("%(count)d scenario file(s) valid.", count=len(result.scenarios)))


@scenarios_cli.command("sync")
@click.option("--directory", type=click.Path(path_type=Path, file_okay=False),
              help="Defaults to the shipped scenarios/ folder.")
@click.option("--allow-empty", is_flag=True,
              help="Retire every scenario when the folder has no scenario files.")
def sync_scenarios(directory, allow_empty):
    """Load valid scenario files into the database; changed files become new versions."""
    from simdebrief import scenarios
    from simdebrief.services import library

    directory = directory or scenarios.default_library_dir()
    if not directory.is_dir():
        click.echo(_("No scenario library at %(directory)s; nothing to sync.", directory=directory))
        return
    report = library.sync_library(db.session, directory=directory, now=current_now(),
                                  allow_empty=allow_empty)
    db.session.commit()
    for problem in report.problems + report.warnings:
        click.echo(str(problem), err=True)
    if report.retirement_held:
        click.echo(report.retirement_held, err=True)
    click.echo(_(
        "scenarios: %(added)d added, %(versions)d new version(s), %(unchanged)d unchanged, "
        "%(retired)d retired, %(restored)d restored, %(problems)d problem(s)",
        added=len(report.added), versions=len(report.new_versions),
        unchanged=len(report.unchanged), retired=len(report.retired),
        restored=len(report.restored), problems=len(report.problems)))
    if report.problems or report.retirement_held:
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
                click.echo(_("error: %(field)s: %(message)s", field=field or "input",
                             message=message), err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(_("Created %(role)s %(email)s in %(centre)s.", role=user.role.value,
                 email=user.email, centre=centre.name))


@demo_cli.command("load")
def load_demo_command():
    """Load the demo centre (safe to run again: existing data is left as it is)."""
    from simdebrief import scenarios
    from simdebrief.services import demo

    try:
        added = demo.load_demo(db.session, now=current_now(),
                               timezone=current_app.config["SIMDEBRIEF_TIMEZONE"],
                               library_dir=scenarios.default_library_dir())
    except InvalidState as error:
        db.session.rollback()
        click.echo(_("error: %(error)s", error=error), err=True)
        raise SystemExit(1) from None
    db.session.commit()
    if any(added.values()):
        click.echo(_("Demo centre loaded: %(what)s",
                     what=", ".join(f"{v} {k}" for k, v in added.items() if v)))
    else:
        click.echo(_("Demo centre already loaded; nothing changed."))
    click.echo(_("Demo logins (role, email, password):"))
    for role, email, password in demo.demo_logins():
        click.echo(f"  {role:<26} {email:<36} {password}")


@scheduler_cli.command("run")
def run_scheduler():
    """Run the scheduler in this process until interrupted (production: one such process)."""
    from simdebrief.jobs import blocking_scheduler

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = blocking_scheduler(current_app._get_current_object())
    click.echo(_("Scheduler running, one log line per job and tick; press Ctrl+C to stop."))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo(_("Scheduler stopped."))


@outbox_cli.command("send")
def send_outbox():
    """Send every due outbox email once and print what happened."""
    from simdebrief.jobs import relay_outbox

    result = relay_outbox(current_app._get_current_object())
    click.echo(f"outbox: {result.claimed} claimed, {result.delivered} delivered, "
               f"{result.failed} failed, {result.rejected} refused, "
               f"{result.released} left for later")


@reports_cli.command("session")
@click.argument("session_id", type=int)
@click.option("--out", "out_dir", required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the PDFs; created if it does not exist.")
def session_reports(session_id, out_dir):
    """Write every attending learner's feedback PDF and the summary of a finalised debrief.

    The files leave the system: they never contain check-in data, and the export is audited.
    """
    from simdebrief.services import report_data, report_files

    sim_session = report_data.load_session(db.session, session_id)
    debrief = report_data.load_debrief(db.session, sim_session) if sim_session else None
    if debrief is None or not debrief.is_final:
        raise click.ClickException(_("Session %(id)d has no finalised debrief.", id=session_id))
    out_dir.mkdir(parents=True, exist_ok=True)
    now = current_now()
    documents = report_files.render_session_documents(db.session, sim_session=sim_session,
                                                      debrief=debrief, now=now)
    with click.progressbar(documents, length=len(documents), label=_("Rendering"),
                           item_show_func=lambda item: item[0] if item else None) as bar:
        for filename, pdf in bar:
            (out_dir / filename).write_bytes(pdf)
    report_files.record_download(db.session, actor=None, now=now, document="session_export",
                                 object_type="sim_session", object_id=session_id,
                                 detail=f"files={len(documents)}")
    db.session.commit()
    click.echo(_("%(count)d PDF file(s) written to %(folder)s.", count=len(documents),
                 folder=out_dir))


followups_cli = AppGroup("followups", help="Staged follow-ups after sessions and events.")


def _parse_now(text: str | None):
    """An ISO time; without an offset it is read in the centre's zone (SIMDEBRIEF_TIMEZONE)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not text:
        return current_now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO time such as 2026-10-27T09:00+01:00",
                                 param_hint="--now") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config["SIMDEBRIEF_TIMEZONE"]))
    return moment


@followups_cli.command("dispatch")
@click.option("--once", is_flag=True, help="One pass, then exit (otherwise repeat every 30 s).")
@click.option("--now", "now_text", metavar="ISO-TIME",
              help="Act as if it were this time (default: the clock).")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 5000))
@click.option("--item-delay", default=0.0, type=click.FloatRange(0, 10), hidden=True,
              help="Seconds to wait per stage (reliability tests only).")
def dispatch_followups_command(once, now_text, batch, item_delay):
    """Claim the stages due now and write their emails, then send the outbox."""
    import time

    from simdebrief.jobs import FOLLOWUP_INTERVAL_SECONDS, dispatch_followups, relay_outbox

    app = current_app._get_current_object()
    while True:
        now = _parse_now(now_text)
        result = dispatch_followups(app, now=now, batch=batch, item_delay=item_delay)
        click.echo(f"follow-ups at {now.isoformat()}: {result.claimed} claimed, "
                   f"{result.sent} sent to the outbox, {result.skipped} skipped, "
                   f"{result.paused} paused, {result.stopped} stopped, "
                   f"{result.reminders} reminder(s), {result.expired} expired")
        sent = relay_outbox(app, now=now)
        click.echo(f"outbox: {sent.claimed} claimed, {sent.delivered} delivered, "
                   f"{sent.failed} failed, {sent.rejected} refused, "
                   f"{sent.released} left for later")
        if once:
            return
        time.sleep(FOLLOWUP_INTERVAL_SECONDS)


@followups_cli.command("recompute")
def recompute_followups_command():
    """Recompute the times of stages not yet sent with the current timing rules (after an
    upgrade): anchored on the session's end, weekends and public holidays skipped."""
    from simdebrief.services.followups import enrolment

    changed = enrolment.recompute_unsent(db.session, now=current_now())
    db.session.commit()
    click.echo(_("follow-ups: %(count)d stage time(s) recomputed", count=changed))


def served_base_url(host: str, port: int) -> str:
    """The address links should use when SIMDEBRIEF_BASE_URL is unset: where we serve.

    A wildcard host is reachable under the machine's name; an IPv6 address needs brackets.
    """
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (naming the wildcard, not binding to it)
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


retention_cli = AppGroup("retention", help="How long data is kept.")
keys_cli = AppGroup("keys", help="The keys that encrypt emotional data.")

RETENTION_LABELS = {
    "check_ins": lambda: _("check-ins (emotional data past its period)"),
    "support_requests": lambda: _("closed requests for a conversation"),
    "outbox_bodies": lambda: _("bodies of sent emails"),
    "audit_events": lambda: _("audit events"),
}


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only print what would go; change nothing.")
@click.option("--now", "now_text", metavar="ISO-TIME",
              help="Act as if it were this time (default: the clock).")
def retention_purge(dry_run, now_text):
    """Delete what is past the centre's retention periods and print what went."""
    from simdebrief.services import retention

    now = _parse_now(now_text)
    counts = retention.purge(db.session, now, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    line = (_("%(count)7d  %(what)s would go") if dry_run
            else _("%(count)7d  %(what)s deleted"))
    for kind, count in counts.items():
        click.echo(line % {"count": count, "what": RETENTION_LABELS[kind]()})
    if dry_run:
        click.echo(_("Dry run: nothing was changed."))


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100000),
              help="Values per column per transaction.")
def rotate_keys(batch):
    """Re-encrypt every stored value to the current (first) key, so older keys can go.

    Each batch is committed on its own; stopping and running it again continues where it
    stopped. When it reports 0 left, keys other than the first may be removed.
    """
    from simdebrief import crypto, key_rotation

    keyring = crypto.current_keyring()
    with db.engine.connect() as connection:
        remaining = key_rotation.count_to_rotate(connection)
        connection.rollback()
        click.echo(_("%(count)d value(s) to re-encrypt to key id %(key)r.", count=remaining,
                     key=keyring.current))
        with click.progressbar(length=remaining, label=_("Re-encrypting")) as bar:
            try:
                while done := key_rotation.rotate_batch(connection, batch=batch):
                    connection.commit()
                    bar.update(done)
            except crypto.DecryptionError as error:
                connection.rollback()
                raise click.ClickException(
                    _("%(error)s. Batches before this one are saved; add the missing key and "
                      "run the command again.", error=error)) from None
            connection.rollback()
        left = key_rotation.count_to_rotate(connection)
    click.echo(_("Done: %(count)d value(s) left under older keys.", count=left))
    if left:
        raise SystemExit(1)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reload/--no-reload", default=False, show_default=True,
              help="Restart when a source file changes. Never turns on the debugger.")
@click.option("--debugger", "debugger", is_flag=True, default=False,
              help="Werkzeug's interactive debugger (runs any Python code typed into an error "
                   "page): development only, and only on a loopback host.")
def serve(host, port, reload, debugger):
    """Serve the app with the scheduler in-process (development and single-machine use)."""
    app: Flask = current_app._get_current_object()
    if debugger and not is_loopback(host):
        raise click.UsageError(
            _("--debugger runs code typed into an error page; it is refused on %(host)s. "
              "Use --host 127.0.0.1.", host=host), ctx=click.get_current_context())
    if debugger and app.config["SIMDEBRIEF_ENV"] == "production":
        raise click.UsageError(_("--debugger is refused when SIMDEBRIEF_ENV=production."))
    # Under the reloader the parent only watches files; start the scheduler in the child alone.
    in_serving_process = not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    if app.config["SIMDEBRIEF_SCHEDULER"] and in_serving_process:
        from simdebrief.jobs import background_scheduler

        background_scheduler(app).start()
        click.echo(_("Scheduler started in-process."))
    if debugger:
        click.echo(_("Interactive debugger ON (loopback only). Never expose this server."))
    if app.config["SIMDEBRIEF_BASE_URL_FROM_SERVER"]:
        app.config["SIMDEBRIEF_BASE_URL"] = served_base_url(host, port)
    click.echo(_("Serving on http://%(host)s:%(port)d; links in emails, PDFs and calendar "
                 "feeds point at %(base)s", host=host, port=port,
                 base=app.config["SIMDEBRIEF_BASE_URL"]))
    run_simple(host, port, app, use_reloader=reload, use_debugger=debugger, threaded=True)


def register_commands(app: Flask) -> None:
    for group in (users_cli, demo_cli, scheduler_cli, outbox_cli, scenarios_cli, reports_cli):
        app.cli.add_command(group)
    app.cli.add_command(followups_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(serve)
