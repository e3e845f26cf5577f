"""A live server and headless Chromium (Debian's package; no browser is downloaded)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = "browser tests need Debian's chromium at /usr/bin/chromium"
        if os.environ.get("SIMDEBRIEF_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + ", and SIMDEBRIEF_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def buffered(app):
    """Read each response whole, and close it, before the server writes a byte.

    When the browser drops a connection mid-response (it navigates on before the icon
    arrives), the development server abandons the body; a static file left open then
    surfaces later as an unraisable ResourceWarning in whichever test happens to run.
    """

    def respond(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return respond


@pytest.fixture
def live_app(tmp_path, clock):
    """The app on a free loopback port, with a file database and the test clock."""
    app = make_app(f"sqlite:///{tmp_path / 'live.sqlite3'}", clock, WTF_CSRF_ENABLED=True,
                   SIMDEBRIEF_AUTOSAVE_SECONDS=1)
    server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
