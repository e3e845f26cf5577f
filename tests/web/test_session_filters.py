"""The session list narrows by date range, room, scenario and status, still one SQL page at
a time, and its pager keeps the filters."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from simdebrief.extensions import db
from simdebrief.models import Scenario, SessionStatus, SimSession, session_instructor
from tests.conftest import both_databases
from tests.web.test_page_queries import counted_queries

HANDOVER = "ward-handover-omission"
ALLERGY = "penicillin-allergy-anaphylaxis"


def add_sessions(app, people, planning, specs) -> list[int]:
    """Sessions as (local-ish UTC start, room id, scenario slug, status)."""
    with app.app_context():
        rows = [{"centre_id": people.centre_id, "scenario_version_id": planning.versions[slug],
                 "room_id": room_id, "starts_at": start, "ends_at": start + timedelta(hours=2),
                 "status": status, "created_at": start, "updated_at": start}
                for start, room_id, slug, status in specs]
        ids = list(db.session.scalars(insert(SimSession).returning(SimSession.id), rows))
        db.session.execute(insert(session_instructor), [
            {"session_id": i, "user_id": people.ids["instructor"]} for i in ids])
        db.session.commit()
        return ids


def day(d: int, hour: int = 8) -> datetime:
    return datetime(2026, 11, d, hour, 0, tzinfo=UTC)


@both_databases
def test_each_filter_narrows_the_list(app, people, planning, instructor_client):
    a, b, c, d = add_sessions(app, people, planning, [
        (day(2), planning.room_id, HANDOVER, SessionStatus.SCHEDULED),
        (day(3), planning.small_room_id, ALLERGY, SessionStatus.SCHEDULED),
        (day(4), planning.room_id, ALLERGY, SessionStatus.CANCELLED),
        (day(10), planning.room_id, HANDOVER, SessionStatus.SCHEDULED),
    ])

    def shown(query: str) -> set[int]:
        page = instructor_client.get(f"/sessions/?{query}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {i for i in (a, b, c, d) if f'href="/sessions/{i}"' in text}

    assert shown("") == {a, b, c, d}
    plain = instructor_client.get("/sessions/?show=upcoming").get_data(as_text=True)
    assert 'class="error"' not in plain and "field-error" not in plain
    assert shown("date_from=2026-11-03&date_to=2026-11-04") == {b, c}
    assert shown(f"room={planning.small_room_id}") == {b}
    with app.app_context():
        allergy = db.session.query(Scenario.id).filter(Scenario.slug == ALLERGY).scalar()
    assert shown(f"scenario={allergy}") == {b, c}
    assert shown("status=cancelled") == {c}
    assert shown(f"room={planning.room_id}&status=scheduled&date_to=2026-11-05") == {a}
    empty = instructor_client.get("/sessions/?status=in_progress").get_data(as_text=True)
    assert "No session matches these filters." in empty and "Clear filters" in empty


@both_databases
def test_each_row_names_its_room_and_its_instructors_in_name_order(app, people, planning,
                                                                    instructor_client):
    shared, alone = add_sessions(app, people, planning, [
        (day(2), planning.room_id, HANDOVER, SessionStatus.SCHEDULED),
        (day(3), planning.small_room_id, ALLERGY, SessionStatus.SCHEDULED),
    ])
    with app.app_context():
        db.session.execute(insert(session_instructor).values(session_id=shared,
                                                             user_id=people.ids["admin"]))
        db.session.commit()
    page = instructor_client.get("/sessions/?show=upcoming").get_data(as_text=True)
    rows = {i: page.split(f'href="/sessions/{i}"')[1].split("</tr>")[0] for i in (shared, alone)}
    assert "<td>Sim room 1</td>" in rows[shared] and "<td>Skills lab</td>" in rows[alone]
    assert "<td>Ada Admin, Ivan Instructor</td>" in rows[shared]
    assert "<td>Ivan Instructor</td>" in rows[alone]


def test_a_date_range_is_whole_local_days(app, people, planning, instructor_client):
    # 23:30 on 2 November in Copenhagen is 22:30 UTC: it belongs to the 2nd, not the 3rd.
    (late,) = add_sessions(app, people, planning, [
        (datetime(2026, 11, 2, 22, 30, tzinfo=UTC), planning.room_id, HANDOVER,
         SessionStatus.SCHEDULED)])
    on_2nd = instructor_client.get("/sessions/?date_from=2026-11-02&date_to=2026-11-02")
    on_4th = instructor_client.get("/sessions/?date_from=2026-11-04&date_to=2026-11-05")
    assert f"/sessions/{late}" in on_2nd.get_data(as_text=True)
    assert f"/sessions/{late}" not in on_4th.get_data(as_text=True)


def test_bad_filter_values_are_named_next_to_their_field(app, people, planning,
                                                        instructor_client):
    (one,) = add_sessions(app, people, planning, [
        (day(2), planning.room_id, HANDOVER, SessionStatus.SCHEDULED)])
    page = instructor_client.get(
        "/sessions/?date_from=2026-11-01&date_to=2026-10-01&room=99999999&status=lost")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The end date is before the start date." in text
    assert 'id="date_to-error"' in text and 'id="room-error"' in text
    assert 'id="status-error"' in text
    assert f"/sessions/{one}" in text  # ignored filters leave the list as it was


def test_the_pager_keeps_the_filters_and_pages_in_sql(app, people, planning,
                                                      instructor_client):
    add_sessions(app, people, planning, [
        (day(2) + timedelta(days=n // 2), planning.room_id if n % 2 else planning.small_room_id,
         HANDOVER, SessionStatus.SCHEDULED) for n in range(70)])
    query = f"room={planning.room_id}&date_from=2026-11-02"
    with counted_queries(app) as statements:
        first = instructor_client.get(f"/sessions/?{query}").get_data(as_text=True)
    # No count of the whole list for the pager (each row's places are counted beside it).
    assert not any(s.lower().lstrip().startswith("select count(") for s in statements)
    assert first.count("<tr>") == 1 + 30
    next_link = [part for part in first.split('"') if "page=2" in part][0]
    next_link = next_link.replace("&amp;", "&")
    assert f"room={planning.room_id}" in next_link and "date_from=2026-11-02" in next_link
    second = instructor_client.get(next_link).get_data(as_text=True)
    assert second.count("<tr>") == 1 + 5  # 35 in the big room: 30 then 5
    assert "Skills lab" not in second.split("<tbody>")[1]


@both_databases
def test_the_blank_filters_follow_the_rooms_the_language_and_never_a_readers_values(
        app, people, planning, instructor_client):
    """The unfiltered form is kept between views: a new room shows at once, each reader
    reads it in their language, and what one reader typed never reaches another."""
    from simdebrief.models import Centre
    from simdebrief.services import directory
    from tests.conftest import client_for
    from tests.web.test_scenario_language import page, speaks

    first = page(instructor_client, "/sessions/")
    assert "Skills lab" in first and "Debrief suite" not in first
    with app.app_context():
        directory.create_room(db.session, centre=db.session.get(Centre, people.centre_id),
                              name="Debrief suite", capacity=6)
        db.session.commit()
    shown = page(instructor_client, "/sessions/")
    rooms = shown.split('id="room"')[1].split("</select>")[0]
    # In name order, after "any", and none of the scenarios among them.
    assert rooms.index("Any room") < rooms.index("Debrief suite") < rooms.index("Sim room 1") \
        < rooms.index("Skills lab")
    scenarios = shown.split('id="scenario"')[1].split("</select>")[0]
    assert "Skills lab" not in scenarios and "Any scenario" in scenarios
    assert scenarios.count("<option") > 1

    filtered = page(instructor_client, "/sessions/?date_from=2026-11-03&room=abc")
    assert 'value="2026-11-03"' in filtered and "field-error" in filtered
    admin = client_for(app, people, "admin")
    blank = page(admin, "/sessions/")
    assert "2026-11-03" not in blank and "field-error" not in blank
    assert "Any room" in blank

    speaks(app, people, "admin", "da")
    danish = page(admin, "/sessions/")
    assert "Alle lokaler" in danish and "Any room" not in danish
    assert "Any room" in page(instructor_client, "/sessions/")
