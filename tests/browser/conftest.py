"""Real-browser fixtures: Roster (and other WSGI apps) served on loopback in threads,
one headless Debian chromium per session, a fresh browser context per page, and the
screenshot folder CI keeps as an artifact."""

import os
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.smtp_sink import free_port
from tests.support import STAFF_PASSWORD

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 15_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a context of its own (cookies, colour scheme, JavaScript, size)."""
    contexts = []

    def open_page(*, color_scheme="light", java_script_enabled=True, **options):
        context = browser.new_context(color_scheme=color_scheme, java_script_enabled=java_script_enabled,
                                      **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def serve():
    """Serve a WSGI app on a free loopback port until the test ends; returns its URL."""
    with ExitStack() as stack:
        def start(wsgi_app, host: str = "127.0.0.1") -> str:
            port = free_port()
            server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            stack.callback(thread.join, timeout=5)
            stack.callback(server.shutdown)
            return f"http://{host}:{port}"

        yield start


@pytest.fixture
def worker(app):
    """`flask worker` beside the server, in a thread: mail, imports and the schedule."""
    from services.worker.runner import Worker

    worker = Worker(app)

    def run() -> None:
        with app.app_context():
            worker.run_forever()

    thread = threading.Thread(target=run, name="worker", daemon=True)
    thread.start()
    yield worker
    worker.stop.set()
    thread.join(timeout=10)


@pytest.fixture
def roster(app, serve) -> str:
    """Roster as a real server; mailed links point at it."""
    url = serve(app)
    app.config["BASE_URL"] = url
    return url


@pytest.fixture
def sign_in_staff(roster, staff_user):
    """Sign a page in to the console as the owner `staff_user`, through the sign-in form."""

    def sign_in(page):
        page.goto(f"{roster}/admin/login")
        page.get_by_label("Email").fill(staff_user.email)
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        return page

    return sign_in


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
