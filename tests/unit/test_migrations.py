"""Migrations build the schema from nothing, and match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from simdebrief import create_app
from simdebrief.extensions import db
from simdebrief.schema import MIGRATIONS_DIR, SCHEMA_HEAD, attach_migrations
from tests.conftest import both_databases
from tests.unit.test_followup_tallies import TRIGGERS, trigger_names


@both_databases
def test_upgrade_of_an_empty_database_matches_the_models(db_url, clock):
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x" * 40,
                      "SIMDEBRIEF_CLOCK": clock, "TESTING": True})
    attach_migrations(app)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
            triggers = trigger_names(connection)
            expected_triggers = TRIGGERS[connection.dialect.name]
        db.engine.dispose()
    assert differences == []
    # Batch operations on SQLite rebuild a table without its triggers: a later migration
    # that does so must create them again.
    assert triggers >= expected_triggers
    assert {"user_account", "outbox_email", "audit_event", "alembic_version"} <= tables


@both_databases
def test_downgrade_to_nothing_and_upgrade_again(db_url, clock):
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x" * 40,
                      "SIMDEBRIEF_CLOCK": clock, "TESTING": True})
    attach_migrations(app)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            assert "debrief" in inspect(connection).get_table_names()
        db.engine.dispose()


def test_the_app_knows_the_newest_migration():
    """Start-up compares the database's version with SCHEMA_HEAD instead of loading Alembic."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD], (
        "a new migration moves simdebrief.schema.SCHEMA_HEAD to its revision")
