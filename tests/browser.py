"""Browser fixtures: Playwright driving Debian's Chromium against pytest-django's live server.

`page` opens pages of the live server; `axe_check(page)` fails on any serious or critical
accessibility violation; a screenshot of every failed browser test lands in var/test-artifacts/.
"""

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="Chromium absent (/usr/bin/chromium): browser tests NOT run")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    if CHROMIUM.exists():
        return "browser tests: Chromium at /usr/bin/chromium"
    return "browser tests: SKIPPED, /usr/bin/chromium not found (apt-get install chromium)"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Session:
    """One person's browser (its own cookies). `open(path)` goes to the live server."""

    def __init__(self, context, base_url, name):
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.name = name
        self.console_errors: list[str] = []
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

    def open(self, path_or_url: str):
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        self.page.goto(url)
        return self.page

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser_session(browser, live_server, request):
    """A factory of browser sessions: `alice = browser_session("alice")`."""
    sessions: list[Session] = []

    def make(name: str = "user") -> Session:
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        session = Session(context, live_server.url, name)
        sessions.append(session)
        return session

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for session in sessions:
        if failed:
            session.screenshot(f"FAILED-{request.node.name}-{session.name}")
        session.context.close()


@pytest.fixture
def page(browser_session):
    return browser_session("user").page


@pytest.fixture
def axe_check():
    """Run axe-core on the current page; fail on serious or critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page, context: str = ""):
        results = axe.run(page)
        violations = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        details = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in violations
        )
        assert not violations, f"Accessibility violations on {context or page.url}:\n{details}"
        return results

    return check
