"""The centre administrator's pages: the blueprint, what its pages share, and its rooms.

``people`` (accounts, invitations, second factors, erasure), ``directory_pages`` (cohorts and
rooms), ``centre_pages`` (settings, urgent contacts and rota, stories) and ``records`` (the
outbox and the read-only audit log).
"""

from __future__ import annotations

from flask import Blueprint, request

from simdebrief import policy
from simdebrief.models import SupporterTier

bp = Blueprint("admin", __name__)
admin_only = policy.role_required(policy.may_administer)
PAGE_SIZE = 50


def status_of(form) -> int:
    """400 for a form sent back with problems, else 200."""
    return 400 if request.method == "POST" and form.errors else 200


def tier_from(value: str) -> SupporterTier | None:
    return SupporterTier(value) if value else None


# The pages register themselves on ``bp`` when imported.
from simdebrief.web.admin import centre_pages, directory_pages, people, records  # noqa: E402, F401
