"""Calendars: the centre's week and month, each learner's list, and iCalendar feeds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from simdebrief import policy
from simdebrief.clock import current_now
from simdebrief.emails.composer import absolute_url
from simdebrief.errors import NotFound
from simdebrief.extensions import db
from simdebrief.languages import gettext as _
from simdebrief.languages import locale_of, written_in
from simdebrief.models import Centre, Room, SimSession, User
from simdebrief.services import calendar as calendar_service
from simdebrief.services import room_slots, scheduling
from simdebrief.timefmt import to_local
from simdebrief.web import client_ip, public
from simdebrief.web.forms import EmptyForm
from simdebrief.web.ids import query_int

bp = Blueprint("calendar", __name__)
staff_calendar = policy.role_required(policy.may_see_centre_calendar)
admin_only = policy.role_required(policy.may_administer)

#: Dates outside these years are refused rather than risking arithmetic past date.max.
FIRST_YEAR, LAST_YEAR = 1900, 9000
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
MONTH_PATTERN = re.compile(r"\d{4}-\d{2}", re.ASCII)


def _zone() -> str:
    return current_user.centre.timezone


def _today() -> date:
    return to_local(current_now(), _zone()).date()


def _midnight_utc(day: date) -> datetime:
    """The moment the local day begins, in UTC."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(_zone())).astimezone(UTC)


def _parse_day(text: str) -> date | None:
    if not DAY_PATTERN.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _parse_month(text: str) -> date | None:
    if not MONTH_PATTERN.fullmatch(text):
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        return None
    return date(year, month, 1)


def _sessions_by_day(first: date, days: int) -> dict[date, list[SimSession]]:
    """The centre's sessions from ``first`` for ``days`` local days, under their local day."""
    last = first + timedelta(days=days)
    grouped: dict[date, list[SimSession]] = {first + timedelta(days=i): [] for i in range(days)}
    for sim_session in scheduling.sessions_between(
            db.session, centre=current_user.centre, start=_midnight_utc(first),
            end=_midnight_utc(last)):
        # A session that began the evening before the period shows on its first day.
        day = max(to_local(sim_session.starts_at, _zone()).date(), first)
        grouped[day].append(sim_session)
    return grouped


# --- the centre's calendar -------------------------------------------------------------------


@bp.get("/calendar/week")
@staff_calendar
def week():
    today = _today()
    start = request.args.get("start", "")
    day = _parse_day(start) if start else today
    if day is None:
        flash(_("“%(value)s” is not a date like 2026-10-19; showing this week instead.",
                value=start[:40]), "error")
        day = today
    monday = day - timedelta(days=day.weekday())
    return render_template(
        "calendar/week.html", monday=monday, days=_sessions_by_day(monday, 7), today=today,
        previous=monday - timedelta(days=7), following=monday + timedelta(days=7),
        is_this_week=monday <= today < monday + timedelta(days=7))


@bp.get("/calendar/month")
@staff_calendar
def month():
    today = _today()
    requested = request.args.get("month", "")
    first = _parse_month(requested) if requested else today.replace(day=1)
    if first is None:
        flash(_("“%(value)s” is not a month like 2026-10; showing this month instead.",
                value=requested[:40]), "error")
        first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    by_day = _sessions_by_day(first, (following - first).days)
    grid_start = first - timedelta(days=first.weekday())
    weeks, day = [], grid_start
    while day < following:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    return render_template(
        "calendar/month.html", first=first, weeks=weeks, by_day=by_day, today=today,
        previous=previous, following=following,
        is_this_month=first == today.replace(day=1))


@bp.get("/calendar/rooms")
@staff_calendar
def room_week():
    """One room's week: each working hour booked (with the session) or free (with a link
    that plans a session there)."""
    rooms = db.session.scalars(
        select(Room).where(Room.centre_id == current_user.centre_id, Room.is_active.is_(True))
        .order_by(Room.name)).all()
    wanted = query_int("room")
    room = next((r for r in rooms if r.id == wanted), rooms[0] if rooms else None)
    if wanted is not None and (room is None or room.id != wanted):
        flash(_("That room is not one of this centre's rooms; showing %(room)s instead.",
                room=room.name if room else "—"), "error")
    today = _today()
    start = request.args.get("start", "")
    day = _parse_day(start) if start else today
    if day is None:
        flash(_("“%(value)s” is not a date like 2026-10-19; showing this week instead.",
                value=start[:40]), "error")
        day = today
    monday = day - timedelta(days=day.weekday())
    grid = room_slots.room_week(db.session, room=room, monday=monday) if room else None
    return render_template(
        "calendar/room_week.html", rooms=rooms, room=room, grid=grid, monday=monday,
        today=today, now=current_now(), previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        is_this_week=monday <= today < monday + timedelta(days=7),
        may_plan=policy.may_plan_sessions(current_user))


# --- the learner's own sessions --------------------------------------------------------------


@bp.get("/my/sessions")
@policy.role_required(policy.may_see_own_sessions)
def my_sessions():
    now = current_now()
    sessions = scheduling.sessions_for_learner(db.session, current_user)
    upcoming = [s for s in sessions if s.ends_at > now]
    past = [s for s in reversed(sessions) if s.ends_at <= now]
    attendance = {s.id: s.participant_for(current_user).attendance for s in sessions}
    return render_template("calendar/my_sessions.html", upcoming=upcoming, past=past,
                           attendance=attendance, feed=_feed_links(current_user))


# --- feeds -----------------------------------------------------------------------------------


def _feed_links(owner: User | Room) -> dict[str, str]:
    endpoint = "calendar.user_feed" if isinstance(owner, User) else "calendar.room_feed"
    url = absolute_url(url_for(endpoint, token=owner.calendar_token))
    scheme, _sep, rest = url.partition("://")
    return {"url": url, "webcal": f"webcal://{rest}" if scheme in ("http", "https") else url}


@bp.get("/calendar/feeds")
def feeds():
    rooms = []
    if policy.may_administer(current_user):
        rooms = db.session.scalars(
            select(Room).where(Room.centre_id == current_user.centre_id,
                               Room.is_active.is_(True)).order_by(Room.name)).all()
    return render_template("calendar/feeds.html", feed=_feed_links(current_user),
                           rooms=[(room, _feed_links(room)) for room in rooms],
                           reset_form=EmptyForm())


@bp.post("/calendar/feeds/reset")
def reset_feed():
    if not EmptyForm().validate_on_submit():
        abort(400)
    calendar_service.reset_user_feed(db.session, user=current_user, now=current_now(),
                                     ip_address=client_ip())
    db.session.commit()
    flash(_("Your calendar address has been changed and the old one no longer works. "
            "Subscribe again with the new address."), "success")
    return redirect(url_for("calendar.feeds"))


@bp.post("/calendar/feeds/rooms/<int:room_id>/reset")
@admin_only
def reset_room_feed(room_id: int):
    room = policy.require_object(db.session.get(Room, room_id),
                                 lambda r: policy.may_manage_room(current_user, r))
    if not EmptyForm().validate_on_submit():
        abort(400)
    calendar_service.reset_room_feed(db.session, room=room, actor=current_user,
                                     now=current_now(), ip_address=client_ip())
    db.session.commit()
    flash(_("The calendar address of %(room)s has been changed and the old one no longer "
            "works.", room=room.name), "success")
    return redirect(url_for("calendar.feeds"))


def _ics(body: bytes) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calendar/feed/<token>.ics")
@public
def user_feed(token: str):
    """The personal feed, fetched by calendar apps without a login: the token is the key."""
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.is_active_account:
        raise NotFound()
    with written_in(locale_of(user)):
        body = calendar_service.feed_for_user(db.session, user, current_now())
    return _ics(body)


@bp.get("/calendar/room/<token>.ics")
@public
def room_feed(token: str):
    room = db.session.scalar(select(Room).where(Room.calendar_token == token))
    if room is None:
        raise NotFound()
    with written_in(locale_of(centre=db.session.get(Centre, room.centre_id))):
        body = calendar_service.feed_for_room(db.session, room, current_now())
    return _ics(body)
