"""Syncing the scenario files into the database, one immutable version per change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from simdebrief.languages import gettext as _
from simdebrief.models import Scenario, ScenarioVersion

if TYPE_CHECKING:
    from simdebrief import scenarios as scenario_files


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    problems: list[scenario_files.Problem] = field(default_factory=list)
    #: Texts a translation leaves out (shown in English); the files were loaded.
    warnings: list[scenario_files.Problem] = field(default_factory=list)
    #: Why scenarios missing from the folder were not retired, if they were not.
    retirement_held: str = ""


def _version_from(doc: scenario_files.ScenarioDoc, *, path: Path, number: int,
                  digest: str, now: datetime) -> ScenarioVersion:
    from simdebrief import scenarios as scenario_files

    return ScenarioVersion(
        number=number,
        content_hash=digest,
        content=scenario_files.document(doc),
        source_file=path.name,
        title=doc.title,
        summary=doc.summary,
        clinical_setting=doc.clinical_setting,
        adverse_event_type=doc.adverse_event_type,
        trigger_types=list(doc.trigger_types),
        risk_flags=list(doc.risk_flags),
        duration_minutes=doc.duration_minutes,
        role_places=sum(role.count for role in doc.roles),
        synced_at=now,
    )


def sync_library(session: Session, *, directory: Path, now: datetime,
                 allow_empty: bool = False, languages: Iterable[str] | None = None
                 ) -> SyncReport:
    """Bring the database in line with the files in ``directory``.

    A file with problems changes nothing (its scenario keeps its last good version) and is
    not counted as removed; only a file that is gone retires its scenario. Nothing is retired
    while any file has problems, nor from a folder without scenario files unless
    ``allow_empty``: a wrong folder or a broken checkout must not empty the library.
    A file whose translation leaves texts out is loaded; ``warnings`` lists those texts.
    ``languages`` defaults to the app's SIMDEBRIEF_LANGUAGES.
    """
    from simdebrief import scenarios as scenario_files  # pydantic and YAML: on use only

    report = SyncReport()
    if languages is None:
        languages = current_app.config["SIMDEBRIEF_LANGUAGES"]
    result = scenario_files.load_library([directory], languages)
    report.problems = list(result.problems)
    report.warnings = list(result.warnings)
    present_slugs = {p.stem for p in directory.iterdir()
                     if p.suffix.lower() in scenario_files.SCENARIO_SUFFIXES}
    existing = {s.slug: s for s in session.scalars(select(Scenario))}

    for path, doc in result.scenarios:
        digest = scenario_files.content_hash(doc)
        scenario = existing.get(doc.slug)
        if scenario is None:
            scenario = Scenario(slug=doc.slug, created_at=now)
            session.add(scenario)
            version = _version_from(doc, path=path, number=1, digest=digest, now=now)
            scenario.versions.append(version)
            session.flush()
            scenario.current_version = version
            report.added.append(doc.slug)
            continue
        if scenario.retired_at is not None:
            scenario.retired_at = None
            report.restored.append(doc.slug)
        current = scenario.current_version
        if current is not None and current.content_hash == digest:
            report.unchanged.append(doc.slug)
            continue
        number = max((v.number for v in scenario.versions), default=0) + 1
        version = _version_from(doc, path=path, number=number, digest=digest, now=now)
        scenario.versions.append(version)
        session.flush()
        scenario.current_version = version
        report.new_versions.append(doc.slug)

    missing = [slug for slug, scenario in existing.items()
               if slug not in present_slugs and scenario.retired_at is None]
    if missing and report.problems:
        report.retirement_held = _("%(count)s scenario(s) not in the folder were kept, "
                                   "because some files have problems.", count=len(missing))
    elif missing and not present_slugs and not allow_empty:
        report.retirement_held = _("The folder has no scenario files, so the %(count)s "
                                   "scenario(s) in the library were kept. Use --allow-empty "
                                   "to retire them all.", count=len(missing))
    else:
        for slug in missing:
            existing[slug].retired_at = now
            report.retired.append(slug)
    session.flush()
    return report


def active_scenarios(session: Session) -> list[Scenario]:
    """The library's scenarios with their current version's document loaded in the same
    query: the library page searches it and every title reads it in the reader's language."""
    return list(session.scalars(
        select(Scenario).where(Scenario.retired_at.is_(None),
                               Scenario.current_version_id.is_not(None))
        .options(joinedload(Scenario.current_version).undefer(ScenarioVersion.content))
    ).unique())
