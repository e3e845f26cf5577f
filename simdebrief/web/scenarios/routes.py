"""The scenario library: browse, filter, read in full, print.

Only admins and instructors may open these pages: scenarios contain the confederate script,
which learners must not read before their session.
"""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from simdebrief import policy, taxonomy
from simdebrief.errors import NotFound
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.models import Scenario, ScenarioVersion
from simdebrief.services import library
from simdebrief.web.scenarios import display
from simdebrief.web.scenarios.forms import parse_filters

bp = Blueprint("scenarios", __name__)
library_only = policy.role_required(policy.may_use_scenario_library)


@bp.get("/")
@library_only
def index():
    filters = parse_filters(request.args)
    if filters.ignored:
        flash(_("A filter value was not recognised and has been ignored (%(names)s).",
                names=", ".join(filters.ignored_names())), "warning")
    # One query: the current version is joined in. The trigger and risk-flag lists are JSON,
    # so they are matched here rather than with engine-specific SQL.
    active = library.active_scenarios(db.session)
    matching = sorted((s for s in active if filters.matches(s.current_version)),
                      key=lambda s: s.current_version.display_title.casefold())
    return render_template(
        "scenarios/index.html",
        cards=[display.card(s.slug, s.current_version) for s in matching],
        library_size=len(active),
        filters=filters,
        trigger_choices=taxonomy.TRIGGER_TYPES,
        setting_choices=taxonomy.CLINICAL_SETTINGS,
        risk_choices=taxonomy.RISK_FLAGS,
    )


def _scenario(slug: str) -> Scenario:
    scenario = db.session.scalar(select(Scenario).where(Scenario.slug == slug)
                                 .options(selectinload(Scenario.versions)))
    if scenario is None or scenario.current_version is None:
        raise NotFound()
    return scenario


def _render(template: str, scenario: Scenario, version: ScenarioVersion):
    centre = current_user.centre
    return render_template(
        template,
        scenario=scenario,
        version=version,
        page=display.scenario_page(version.localized_content()),
        is_current=version.id == scenario.current_version_id,
        versions=sorted(scenario.versions, key=lambda v: v.number, reverse=True),
        centre_basic_assumption=(centre.basic_assumption or "").strip(),
        centre_support_contacts=(centre.support_contacts or "").strip(),
        may_edit_centre=policy.may_administer(current_user),
    )


@bp.get("/<slug>")
@library_only
def detail(slug: str):
    scenario = _scenario(slug)
    return _render("scenarios/detail.html", scenario, scenario.current_version)


@bp.get("/<slug>/versions/<int:number>")
@library_only
def version(slug: str, number: int):
    scenario = _scenario(slug)
    found = next((v for v in scenario.versions if v.number == number), None)
    if found is None:
        raise NotFound()
    return _render("scenarios/detail.html", scenario, found)


@bp.get("/<slug>/print")
@library_only
def print_view(slug: str):
    scenario = _scenario(slug)
    return _render("scenarios/print.html", scenario, scenario.current_version)
