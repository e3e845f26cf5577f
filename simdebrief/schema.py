"""The schema's migrations: which one is newest, whether a database is there, and `flask db`.

Alembic and Flask-Migrate cost about a quarter of a second to import. Only `flask db` and
the tests that migrate need them, so they are loaded on first use; every other start (the
web workers, `followups dispatch --once`) reads the version row with one query instead.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: The newest migration. A new migration moves it; a test compares it with Alembic's head.
SCHEMA_HEAD = "c6f2a8d4e1b7"


def schema_is_current(connection) -> bool:
    """Whether the database is at the newest migration (or was made without migrations).

    A database waiting for ``flask db upgrade`` may still hold values in an older format;
    checks of stored values wait until it is upgraded, so the upgrade itself can start.
    """
    if "alembic_version" not in inspect(connection).get_table_names():
        return True
    versions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return versions == {SCHEMA_HEAD}


def attach_migrations(app: Flask) -> None:
    """Bind Flask-Migrate to the app, as ``flask db`` and programmatic upgrades need."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    from simdebrief.extensions import db

    Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)


class CommandsWithLazyMigrations(AppGroup):
    """The app's commands, where `flask db` (Flask-Migrate's group) is imported when asked for."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.name)
        self.app = app

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "db"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "db":
            attach_migrations(self.app)
        return super().get_command(ctx, name)
