"""Browser-test harness: headless Chromium (Playwright, system browser) and a live server.

- ``browser`` (tests/conftest.py, shared with the fault drills): one Chromium per session.
  Missing Chromium skips with the reason, except under CI (CI=true), where it fails.
- ``live_server(dash_app)``: serves a Dash app on a free port in a thread; returns its URL.
- ``open_page(url, width=1920, height=1080)``: a new page that records console errors and
  uncaught page errors; the test fails at teardown if any were recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server() -> Iterator[Callable]:
    from werkzeug.serving import make_server

    servers = []

    def serve(dash_app) -> str:
        server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
        # shutdown() waits for the loop's next poll: 0.05 s rather than the default 0.5 s
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def open_page(browser) -> Iterator[Callable]:
    pages, problems = [], []

    def _open(url: str, width: int = 1920, height: int = 1080, wait_for: str | None = None):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.goto(url)
        if wait_for:
            page.wait_for_selector(wait_for)
            # the served font swaps in when it has arrived: measure text after that
            page.evaluate("document.fonts.ready.then(() => true)")
        pages.append((context, page))
        return page

    yield _open
    for context, _ in pages:
        context.close()
    assert problems == [], "the browser console reported errors"
