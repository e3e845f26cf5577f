"""CSRF on every form post, and the security headers on every page."""

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def csrf_token_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_login_without_a_csrf_token_is_refused(app, people, client):
    response = client.post("/login", data={"email": people.emails["admin"],
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_login_with_the_page_token_works(app, people, client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": people.emails["admin"],
                                           "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303)


def test_state_changing_posts_need_the_token(app, people, client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": people.emails["admin"], "password": PASSWORD,
                                "csrf_token": token})
    forged = client.post(f"/admin/users/{people.ids['student']}/active", data={"active": "0"})
    assert forged.status_code == 400


def test_pages_carry_security_headers(app, client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_use_only_local_resources(app, client):
    html = client.get("/login").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<label for="email">' in html and '<label for="password">' in html
