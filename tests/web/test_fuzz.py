"""No input answers 500, and a refused submission stores nothing.

Every URL rule with an integer part gets generated values in that part; every form found on
any page (as the role that may use it) is posted with generated values in every field; the
query integers the views read are fuzzed too. Rows in the audit trail, the login attempts
and the login sessions are expected to change on a refused request (that is their job); all
other tables must be exactly as they were after a 4xx answer.
"""

from __future__ import annotations

import hashlib
import io
import re
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from simdebrief.extensions import db
from tests.conftest import PASSWORD, client_for
from tests.web.conftest import build_url
from tests.web.test_access import PUBLIC, ROUTE_ACCESS

#: Tables a refused request may legitimately write to, and the scenario library (only the
#: command line writes it; leaving it out keeps each fingerprint cheap).
BOOKKEEPING = {"audit_event", "login_attempt", "throttle_event", "auth_session",
               "scenario_version"}
#: Posting these would log the fuzzing client out or cannot be told apart from a real use.
SKIPPED_POSTS = {"auth.logout"}

NASTY = [
    "", " ", "0", "-1", "1.5", "1e999", "NaN", "abc", "true", "[]", "{}", "2026-13-45",
    str(2**63 - 1), str(2**63), str(-(2**63) - 1), "9" * 30, "9" * 5000,
    "\x00", "a\x00b", "\u202eevil\u202c", "\u2066x\u2069", "\ufeff", "😀" * 50,
    "<script>alert(1)</script>", "x" * 25000,
]
#: The fixed sweep below posts these in every field of every form.
SWEEP = ["", "-1", "abc", str(2**63), "9" * 5000, "a\x00b", "\u202eevil\u202c", "x" * 25000]

nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=2**63 - 5, max_value=2**80).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "Cf", "Cc", "Zs"]), max_size=30),
)


class FormCollector(HTMLParser):
    """Each form's action and its field names (file inputs marked)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(((attributes.get("method") or "get").lower(),
                               attributes.get("action") or "", {}))
        elif tag in ("input", "select", "textarea", "button") and self.forms:
            name = attributes.get("name")
            if name:
                self.forms[-1][2][name] = attributes.get("type") or tag


def fingerprint() -> str:
    """A hash of every row of every table except the bookkeeping ones."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(table.name.encode())
        digest.update(repr(rows).encode())
    db.session.rollback()
    return digest.hexdigest()


def allowed_role(endpoint: str) -> str | None:
    access = ROUTE_ACCESS[endpoint]
    if access == PUBLIC:
        return None
    return next(role for role, status in sorted(access.mine.items(), key=lambda item: item[1])
                if status < 400)


def signed_link_tokens(app, people, objects, now) -> dict[str, str]:
    """Valid tokens for the pages opened by emailed links, so their forms are fuzzed too."""
    from datetime import timedelta

    from simdebrief.models import FollowUp, User
    from simdebrief.services import accounts
    from simdebrief.services.followups import answers

    secret = app.config["SECRET_KEY"]
    with app.app_context():
        user = db.session.get(User, people.ids["student2"])
        stage = db.session.get(FollowUp, objects["mine"]["followup_id"])
        stage_token = answers.make_link_token(stage, secret_key=secret, now=now)
        return {
            "auth.accept_invitation": accounts.make_account_link_token(
                user, purpose=accounts.INVITE, secret_key=secret, now=now,
                max_age=timedelta(days=1)),
            "auth.reset_password": accounts.make_account_link_token(
                user, purpose=accounts.RESET, secret_key=secret, now=now,
                max_age=timedelta(days=1)),
            "followups.stage_by_link": stage_token,
            "followups.link_choice": stage_token,
            "followups.link_support": stage_token,
        }


def open_work(app, people, objects, now) -> dict[str, int]:
    """A debrief still being written and a request to talk a supporter has taken: their
    pages show the forms a finalised debrief or an untaken request no longer offer."""
    from datetime import timedelta

    from simdebrief.models import Centre, SupportRequest, User
    from simdebrief.services import debrief_factors, debriefing, scheduling, support

    with app.app_context():
        centre = db.session.get(Centre, people.centre_id)
        instructor = db.session.get(User, people.ids["instructor"])
        learner = people.ids["student"]
        planned = scheduling.schedule_session(
            db.session, centre=centre, actor=instructor, now=now, confirmed=True,
            plan=scheduling.SessionPlan(
                scenario_version_id=objects["versions"]["ward-handover-omission"],
                starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                room_id=objects["mine"]["room_id"], instructor_ids=(instructor.id,),
                student_ids=(learner,)))
        scheduling.start_session(db.session, sim_session=planned.session, actor=instructor,
                                 present_ids={learner}, now=now)
        debrief = debriefing.start_debrief(db.session, sim_session=planned.session,
                                           actor=instructor, now=now)
        debrief_factors.suggest_expected_factors(db.session, debrief=debrief, actor=instructor,
                                                 now=now)
        item = debrief_factors.add_analysis_item(
            db.session, debrief=debrief, actor=instructor, now=now,
            data=debrief_factors.AnalysisInput("plus", "teamwork", "self_assessment", "Good"))
        support.take(db.session, request=db.session.get(SupportRequest,
                                                        objects["mine"]["request_id"]),
                     supporter=db.session.get(User, people.ids["peer"]), now=now)
        db.session.commit()
        problem = debrief.problems[0]
        return {"debrief_session_id": planned.session.id, "item_id": item.id,
                "problem_id": problem.id, "factor_id": problem.factors[0].id}


@pytest.fixture
def world(app, people, objects, clock):
    """Logged-in clients, each POST rule's URL and the fields its forms carry."""
    clients = {key: client_for(app, people, key) for key in ("admin", "instructor", "student",
                                                             "peer", "professional")}
    clients[None] = app.test_client()
    tokens = signed_link_tokens(app, people, objects, clock.now())
    open_debrief = open_work(app, people, objects, clock.now())

    def url_of(rule):
        values = {**objects["mine"], "token": tokens.get(rule.endpoint, "token")}
        if rule.endpoint.startswith("debriefs."):
            values.update(open_debrief)
        return build_url(app, rule, values)

    fields_by_path: dict[str, dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        client = clients[allowed_role(rule.endpoint)]
        url = url_of(rule)
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        collector = FormCollector()
        collector.feed(response.get_data(as_text=True))
        for method, action, fields in collector.forms:
            if method == "post":
                path = urlsplit(action).path or url
                fields_by_path.setdefault(path, {}).update(fields)
    posts = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIPPED_POSTS:
            continue
        url = url_of(rule)
        fields = fields_by_path.get(url, {})
        posts.append((rule.endpoint, url, fields))
    assert len(posts) > 40
    with_fields = {endpoint for endpoint, _url, fields in posts if fields}
    assert len(with_fields) >= 25, "forms were not found on pages"
    assert {"auth.accept_invitation", "auth.reset_password", "followups.stage_by_link",
            "debriefs.save", "debriefs.analysis", "debriefs.factors", "debriefs.feedback",
            "support.refer", "support.contacted", "support.close"} <= with_fields, with_fields
    return clients, posts


def post_generated(app, clients, endpoint, url, fields, values, extra):
    with app.app_context():
        before = fingerprint()
    data = {}
    for index, (name, kind) in enumerate(sorted(fields.items())):
        value = values[index % len(values)]
        if kind == "file":
            data[name] = (io.BytesIO(value.encode("utf-8", "surrogatepass")), "people.csv")
        elif name != "csrf_token":
            data[name] = value
    data.update(extra)
    client = clients[allowed_role(endpoint)]
    # Multipart only with a file: the test client spools big multipart bodies to temporary
    # files it never closes.
    files = any(isinstance(value, tuple) for value in data.values())
    response = client.post(url, data=data, content_type="multipart/form-data" if files
                           else "application/x-www-form-urlencoded")
    response.close()
    assert response.status_code != 500, (endpoint, data)
    if response.status_code >= 400:
        with app.app_context():
            assert fingerprint() == before, (endpoint, response.status_code, data)
    return response


def test_every_form_survives_nasty_values_in_every_field(app, world):
    """A fixed sweep: every known nasty value in every field of every form."""
    clients, posts = world
    for endpoint, url, fields in posts:
        for value in SWEEP:
            post_generated(app, clients, endpoint, url, fields or {"value": "x"}, [value], {})


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_form_posts_never_fail(app, world, data):
    clients, posts = world
    endpoint, url, fields = data.draw(st.sampled_from(posts), label="form")
    values = data.draw(st.lists(nasty_text, min_size=1, max_size=6), label="values")
    extra = data.draw(st.dictionaries(st.sampled_from(["version", "student", "active", "page",
                                                       "x", "csrf_token", ""]),
                                      nasty_text, max_size=2), label="extra")
    post_generated(app, clients, endpoint, url, fields or {"value": "x"}, values, extra)


INT_PART = re.compile(r"<int:(\w+)>")


def int_rules(app):
    return [rule for rule in app.url_map.iter_rules() if INT_PART.search(rule.rule)]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_integer_url_parts_never_fail(app, people, objects, data):
    rules = int_rules(app)
    assert len(rules) > 40
    rule = data.draw(st.sampled_from(rules), label="rule")
    generated = data.draw(st.one_of(
        st.integers(min_value=2**63, max_value=2**200).map(str),
        st.integers(max_value=-1).map(str),
        st.sampled_from(["0", str(2**63 - 1), "00000000000000000000001", "٣", "1e3"]),
        st.text(min_size=1, max_size=20)), label="id")
    path = INT_PART.sub(lambda _m: quote(generated, safe=""), rule.rule)
    path = path.replace("<slug>", "ward-handover-omission").replace("<token>", "token")
    role = data.draw(st.sampled_from(["admin", "instructor", "student", "peer"]), label="role")
    method = "GET" if "GET" in rule.methods else "POST"
    # A POST to a real id really acts (deactivating or erasing an account of this fixture
    # would break the examples after it); this test is about ids that cannot be real.
    assume(method == "GET" or not (generated.isascii() and generated.isdigit()
                                   and int(generated) < 2**63))
    client = client_for(app, people, role)
    response = client.open(path, method=method)
    assert response.status_code != 500, path
    if generated.isascii() and generated.isdigit() and int(generated) > 2**63 - 1:
        assert response.status_code == 404, path


@pytest.mark.parametrize("path", [
    "/me/check-ins/99999999999999999999", "/support/99999999999999999999",
    "/admin/users/99999999999999999999", "/sessions/9223372036854775808",
    "/sessions/1/debrief/feedback/99999999999999999999",
])
def test_ids_beyond_64_bits_are_not_found(app, people, path):
    role = {"/me": "student", "/su": "peer"}.get(path[:3], "admin")
    assert client_for(app, people, role).get(path).status_code == 404


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["page", "session", "checkin", "scenario"]), value=nasty_text)
def test_query_integers_never_fail(app, people, objects, name, value):
    pages = {"page": ["/admin/users", "/admin/outbox", "/sessions/"],
             "session": ["/me/support/new"], "checkin": ["/me/support/new"],
             "scenario": ["/sessions/new"]}[name]
    role = {"session": "student", "checkin": "student"}.get(name, "admin")
    client = client_for(app, people, role)
    for page in pages:
        response = client.get(page, query_string={name: value})
        assert response.status_code in (200, 404), (page, value, response.status_code)


def test_a_cohort_import_with_a_huge_field_reports_the_row(app, people, objects):
    admin = client_for(app, people, "admin")
    csv_text = ("email,name\nann@example.org,Ann\n"
                f"bob@example.org,{'x' * 200_000}\n"
                f"cat@example.org,{'y' * 300}\n"
                "dan@example.org,Dan\n")
    response = admin.post(f"/admin/cohorts/{objects['mine']['cohort_id']}/import",
                          data={"file": (io.BytesIO(csv_text.encode()), "people.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "cannot be read" in page and "too long" in page
    assert "ann@example.org" in page and "dan@example.org" in page


def test_a_non_number_debrief_version_is_a_form_error(app, people, objects):
    instructor = client_for(app, people, "instructor")
    url = f"/sessions/{objects['mine']['debrief_session_id']}/debrief"
    with app.app_context():
        before = fingerprint()
    for version in ("abc", "\x00", "2026-10-20", "9" * 40, "-3"):
        response = instructor.post(url, data={"version": version, "take_home_messages": "new"})
        assert response.status_code in (400, 409), version
    with app.app_context():
        assert fingerprint() == before


#: Views that take no CSRF token on purpose: one-click unsubscribe (RFC 8058) is posted by
#: mailbox providers with the signed token in its URL as the whole authority.
CSRF_EXEMPT = {"followups.unsubscribe"}


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_posts_without_the_token_are_refused_and_store_nothing(self, app, people,
                                                                   objects):
        from tests.web.test_security import csrf_token_from

        clients = {}
        for key in ("admin", "instructor", "student", "peer", "professional"):
            client = app.test_client()
            token = csrf_token_from(client.get("/login").get_data(as_text=True))
            client.post("/login", data={"email": people.emails[key], "password": PASSWORD,
                                        "csrf_token": token})
            clients[key] = client
        clients[None] = app.test_client()
        with app.app_context():
            before = fingerprint()
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
                continue
            url = build_url(app, rule, objects["mine"])
            response = clients[allowed_role(rule.endpoint)].post(
                url, data={"name": "Forged", "reason": "forged", "active": "0"})
            assert response.status_code == 400, (rule.endpoint, response.status_code)
        with app.app_context():
            assert fingerprint() == before


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=nasty_text)
def test_the_code_page_of_a_pending_login_never_fails(app, people, clock, code):
    """The second-factor form, posted by a login whose password passed and code is due."""
    import pyotp

    from simdebrief.models import User
    from simdebrief.services import two_factor

    with app.app_context():
        user = db.session.get(User, people.ids["peer"])
        if not user.has_two_factor:
            secret = two_factor.new_secret()
            two_factor.enrol(db.session, user, secret=secret,
                             code=pyotp.TOTP(secret).at(clock.now()), now=clock.now(),
                             secret_key=app.config["SECRET_KEY"])
            db.session.commit()
        db.session.execute(db.metadata.tables["throttle_event"].delete())
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": people.emails["peer"], "password": PASSWORD})
    with app.app_context():
        before = fingerprint()
    response = client.post("/login/code", data={"code": code})
    assert response.status_code in (400, 401), code
    assert client.get("/support/").status_code == 302
    with app.app_context():
        assert fingerprint() == before


QUERY_NAMES = ["page", "session", "checkin", "scenario", "start", "month", "role", "q",
               "status", "show", "mine", "target", "tier", "kind", "next", "saved", "sent",
               "include_checkin"]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_query_parameters_of_every_page_never_fail(app, world, objects, data):
    """Every GET page, as a role that may open it, with generated query parameters."""
    clients, _posts = world
    rules = [rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint != "static"]
    rule = data.draw(st.sampled_from(rules), label="page")
    query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), nasty_text, min_size=1,
                                      max_size=4), label="query")
    url = build_url(app, rule, objects["mine"])
    url += ("&" if "?" in url else "?") + urlencode(query)
    response = clients[allowed_role(rule.endpoint)].get(url)
    response.close()
    assert response.status_code < 500, (rule.endpoint, query)
