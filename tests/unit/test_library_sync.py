"""Syncing scenario files into the database, and the `flask scenarios` commands."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from simdebrief import scenarios
from simdebrief.extensions import db
from simdebrief.models import Scenario, ScenarioVersion
from simdebrief.services import library
from tests.unit.test_scenario_schema import VALID, edit, write

FIRST = "first-scenario"
SECOND = "second-scenario"
PROBLEM_LINE = re.compile(r"^(?P<file>.+\.ya?ml):(?P<line>\d+): (?P<path>\S+): (?P<message>.+)$")


def scenario_text(slug: str, summary: str = "A short summary.") -> str:
    text = edit(VALID, "slug: test-scenario", f"slug: {slug}")
    return edit(text, "summary: A short summary.", f"summary: {summary}")


def put(directory: Path, slug: str, text: str | None = None) -> Path:
    return write(directory, f"{slug}.yaml", text if text is not None else scenario_text(slug))


@pytest.fixture
def lib(tmp_path) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    put(directory, FIRST)
    put(directory, SECOND)
    return directory


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def run_sync(clock, directory: Path) -> library.SyncReport:
    report = library.sync_library(db.session, directory=directory, now=clock.now())
    db.session.commit()
    return report


def scenario(slug: str) -> Scenario:
    db.session.expire_all()
    return db.session.scalar(select(Scenario).where(Scenario.slug == slug))


def version_count() -> int:
    return db.session.scalar(select(func.count(ScenarioVersion.id)))


def test_new_files_are_added_as_version_one(ctx, clock, lib):
    report = run_sync(clock, lib)
    assert sorted(report.added) == [FIRST, SECOND]
    assert report.new_versions == report.unchanged == report.retired == report.problems == []
    first = scenario(FIRST)
    assert first.retired_at is None and first.created_at == clock.now()
    current = first.current_version
    assert current.number == 1 and current.synced_at == clock.now()
    assert current.title == "Test scenario"
    assert current.trigger_types == ["own_error", "self_blame"]
    assert current.role_places == 3
    assert current.source_file == f"{FIRST}.yaml"
    assert current.content["slug"] == FIRST
    assert current.content["prebrief"]["basic_assumption"] == "centre"


def test_unchanged_files_make_no_new_version(ctx, clock, lib):
    run_sync(clock, lib)
    first_synced = clock.now()
    clock.advance(hours=1)
    report = run_sync(clock, lib)
    assert sorted(report.unchanged) == [FIRST, SECOND]
    assert report.added == report.new_versions == []
    assert version_count() == 2
    assert scenario(FIRST).current_version.synced_at == first_synced


def test_reformatting_without_changing_content_makes_no_new_version(ctx, clock, lib):
    run_sync(clock, lib)
    put(lib, FIRST, "# a new comment at the top\n" + scenario_text(FIRST) + "\n\n")
    report = run_sync(clock, lib)
    assert FIRST in report.unchanged
    assert version_count() == 2


def test_changed_content_makes_version_two_and_keeps_version_one(ctx, clock, lib):
    run_sync(clock, lib)
    first_id = scenario(FIRST).current_version.id
    clock.advance(days=2)
    put(lib, FIRST, scenario_text(FIRST, summary="A revised summary."))
    report = run_sync(clock, lib)
    assert report.new_versions == [FIRST]
    assert report.unchanged == [SECOND]

    first = scenario(FIRST)
    assert [v.number for v in first.versions] == [1, 2]
    current = first.current_version
    assert current.number == 2 and current.id != first_id
    assert current.summary == "A revised summary."
    assert current.content["summary"] == "A revised summary."
    assert current.synced_at == clock.now()

    old = db.session.get(ScenarioVersion, first_id)
    assert old.number == 1
    assert old.summary == "A short summary."
    assert old.content["summary"] == "A short summary."
    assert old.content_hash != current.content_hash
    assert scenario(SECOND).current_version.number == 1


def test_removed_file_retires_and_a_returning_file_restores(ctx, clock, lib):
    run_sync(clock, lib)
    saved = (lib / f"{SECOND}.yaml").read_text(encoding="utf-8")
    (lib / f"{SECOND}.yaml").unlink()
    clock.advance(days=1)
    report = run_sync(clock, lib)
    assert report.retired == [SECOND]
    assert scenario(SECOND).retired_at == clock.now()
    assert scenario(SECOND).current_version.number == 1  # still readable
    assert {s.slug for s in library.active_scenarios(db.session)} == {FIRST}

    # Retiring happens once, not on every sync.
    assert run_sync(clock, lib).retired == []

    put(lib, SECOND, saved)
    report = run_sync(clock, lib)
    assert report.restored == [SECOND]
    assert sorted(report.unchanged) == [FIRST, SECOND]
    assert scenario(SECOND).retired_at is None
    assert version_count() == 2
    assert {s.slug for s in library.active_scenarios(db.session)} == {FIRST, SECOND}


def test_a_returning_file_with_new_content_is_restored_as_a_new_version(ctx, clock, lib):
    run_sync(clock, lib)
    (lib / f"{SECOND}.yaml").unlink()
    run_sync(clock, lib)
    put(lib, SECOND, scenario_text(SECOND, summary="Back, and different."))
    report = run_sync(clock, lib)
    assert report.restored == [SECOND] and report.new_versions == [SECOND]
    assert scenario(SECOND).current_version.number == 2


def test_a_broken_file_changes_nothing_is_reported_and_does_not_retire(ctx, clock, lib):
    run_sync(clock, lib)
    before = scenario(FIRST).current_version
    before_id, before_hash = before.id, before.content_hash
    broken = put(lib, FIRST, edit(scenario_text(FIRST, summary="Changed as well."),
                                  "trigger_types: [own_error, self_blame]",
                                  "trigger_types: [own_eror, self_blame]"))
    clock.advance(hours=2)
    report = run_sync(clock, lib)

    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.file == str(broken)
    assert problem.line == 7
    assert problem.path == "trigger_types[0]"
    assert "unknown trigger type 'own_eror'" in problem.message
    assert FIRST not in report.retired + report.new_versions + report.unchanged

    first = scenario(FIRST)
    assert first.retired_at is None
    assert first.current_version.id == before_id
    assert first.current_version.content_hash == before_hash
    assert first.current_version.summary == "A short summary."
    assert version_count() == 2


def test_a_broken_new_file_is_not_added(ctx, clock, lib):
    put(lib, "third-scenario", "slug: third-scenario\ntitle: [unclosed\n")
    report = run_sync(clock, lib)
    assert sorted(report.added) == [FIRST, SECOND]
    assert [p.file for p in report.problems] == [str(lib / "third-scenario.yaml")]
    assert scenario("third-scenario") is None


def test_the_shipped_library_syncs_cleanly(ctx, clock):
    report = run_sync(clock, scenarios.default_library_dir())
    assert report.problems == []
    shipped = scenarios.load_library([scenarios.default_library_dir()]).scenarios
    assert sorted(report.added) == sorted(doc.slug for _, doc in shipped)
    assert "paediatric-sepsis-delayed-escalation" in report.added


# --------------------------------------------------------------------------------------------
# The commands


def test_validate_accepts_the_shipped_library(app):
    result = app.test_cli_runner().invoke(args=["scenarios", "validate"])
    count = len(scenarios.load_library([scenarios.default_library_dir()]).scenarios)
    assert result.exit_code == 0, result.output
    assert count >= 13  # the library grew from nine to fourteen with issue 14
    assert f"{count} scenario file(s) valid." in result.output


def test_validate_reports_file_line_path_and_message(app, tmp_path):
    good = put(tmp_path, FIRST)
    bad = put(tmp_path, SECOND, edit(scenario_text(SECOND), "    count: 2", "    count: two"))
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    lines = [PROBLEM_LINE.match(line) for line in result.output.splitlines()]
    problems = [m.groupdict() for m in lines if m]
    assert problems == [{"file": str(bad), "line": "16", "path": "roles[1].count",
                         "message": "expected a whole number, got a string"}]
    assert "1 problem(s) found." in result.output


def test_validate_a_directory_with_a_broken_file(app, tmp_path):
    shutil.copytree(scenarios.default_library_dir(), tmp_path / "lib")
    put(tmp_path / "lib", "broken-one", "slug: broken-one\n: : :\n")
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(tmp_path / "lib")])
    assert result.exit_code == 1
    assert any(line.startswith(f"{tmp_path / 'lib' / 'broken-one.yaml'}:")
               and PROBLEM_LINE.match(line) for line in result.output.splitlines())


def test_sync_command_prints_the_counts(app, clock, lib):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["scenarios", "sync", "--directory", str(lib)])
    assert first.exit_code == 0, first.output
    assert ("scenarios: 2 added, 0 new version(s), 0 unchanged, 0 retired, 0 restored, "
            "0 problem(s)") in first.output

    put(lib, FIRST, scenario_text(FIRST, summary="Revised."))
    (lib / f"{SECOND}.yaml").unlink()
    second = runner.invoke(args=["scenarios", "sync", "--directory", str(lib)])
    assert second.exit_code == 0, second.output
    assert ("scenarios: 0 added, 1 new version(s), 0 unchanged, 1 retired, 0 restored, "
            "0 problem(s)") in second.output

    put(lib, SECOND)
    third = runner.invoke(args=["scenarios", "sync", "--directory", str(lib)])
    assert ("scenarios: 0 added, 0 new version(s), 2 unchanged, 0 retired, 1 restored, "
            "0 problem(s)") in third.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ScenarioVersion.id))) == 3


def test_sync_command_reports_problems_and_exits_1(app, lib):
    put(lib, FIRST, edit(scenario_text(FIRST), "risk_flags: []", "risk_flags: [scary]"))
    result = app.test_cli_runner().invoke(args=["scenarios", "sync", "--directory", str(lib)])
    assert result.exit_code == 1
    assert f"{lib / (FIRST + '.yaml')}:8: risk_flags[0]: unknown risk flag 'scary'" \
        in result.output
    assert ("scenarios: 1 added, 0 new version(s), 0 unchanged, 0 retired, 0 restored, "
            "1 problem(s)") in result.output


def test_sync_command_without_a_library_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["scenarios", "sync", "--directory", str(tmp_path / "missing")])
    assert result.exit_code == 0
    assert "nothing to sync" in result.output


def test_a_folder_of_only_broken_files_retires_nothing_and_exits_1(app, clock, lib, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["scenarios", "sync", "--directory", str(lib)]).exit_code == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    put(broken, "another-scenario", "slug: [unclosed")
    result = runner.invoke(args=["scenarios", "sync", "--directory", str(broken)])
    assert result.exit_code == 1
    assert "were kept, because some files have problems" in result.output
    with app.app_context():
        assert scenario(FIRST).retired_at is None and scenario(SECOND).retired_at is None


def test_an_empty_folder_retires_nothing_unless_asked(app, clock, lib, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["scenarios", "sync", "--directory", str(lib)]).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    kept = runner.invoke(args=["scenarios", "sync", "--directory", str(empty)])
    assert kept.exit_code == 1 and "--allow-empty" in kept.output
    with app.app_context():
        assert scenario(FIRST).retired_at is None
    emptied = runner.invoke(args=["scenarios", "sync", "--directory", str(empty),
                                  "--allow-empty"])
    assert emptied.exit_code == 0 and "2 retired" in emptied.output
    with app.app_context():
        assert scenario(FIRST).retired_at is not None
