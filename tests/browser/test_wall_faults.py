"""The wall's refresh loop in a real browser when single requests fail (in-process server).

The browser's network is steered with Playwright routes: a refresh aborted at the network
level, a request that never gets an answer, a proxy's error page (502, or 200 with HTML),
a server silent for a while. Each time the next refresh must go out on its period and the
banner must say, in the screen's language, that the numbers are old; when answers come
back the banner goes. Network failures are expected here, so the browser console is not
required to be clean; uncaught page errors still fail a test. Whole-system drills (gunicorn,
PostgreSQL, Redis) are in tests/drills/.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from dashboard.app import create_app
from datasource.demo import generate, seed_store
from datasource.settings import Settings

pytestmark = pytest.mark.browser
REFRESH_S = 2
UPDATE = "**/_dash-update-component*"


@pytest.fixture
def wall_url(sqlite_store, tmp_path, live_server):
    end = datetime.now(timezone.utc) - timedelta(minutes=1)
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=3, n_orders=300, end=end))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    return live_server(create_app(settings, engine=sqlite_store.engine))


@pytest.fixture
def wall_page(browser):
    contexts, errors = [], []

    def _open(url: str):
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        contexts.append(context)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert errors == [], "uncaught errors in the page"


class Refreshes:
    """Counts the wall's refresh requests and decides, one by one, what happens to them."""

    def __init__(self, page) -> None:
        self.page = page
        self.seen = 0
        self.fate = None  # callable(route) for the next refreshes, None lets them through
        self.lock = threading.Lock()
        page.route(UPDATE, self._handle)

    def _handle(self, route) -> None:
        if "wall-refresh" not in (route.request.post_data or ""):
            route.continue_()
            return
        with self.lock:
            self.seen += 1
            fate = self.fate
        if fate is None:
            route.continue_()
        else:
            fate(route)

    def wait_for(self, count: int, timeout_s: float) -> None:
        """Wait (driving the page's event loop) until ``count`` refreshes have been seen."""
        deadline = timeout_s * 1000
        waited = 0
        while self.seen < count and waited < deadline:
            self.page.wait_for_timeout(100)
            waited += 100
        assert self.seen >= count, f"{self.seen} refreshes seen, {count} expected"


def open_wall(wall_page, url: str, query: str = ""):
    page = wall_page(url)
    refreshes = Refreshes(page)
    page.goto(f"{url}/wall?views=main&refresh={REFRESH_S}{query}")
    page.wait_for_selector(".ob-view--active .ob-kpi")
    return page, refreshes


def test_one_refresh_aborted_at_the_network_level_does_not_stop_the_next(wall_url, wall_page):
    page, refreshes = open_wall(wall_page, wall_url)
    aborted = []

    def abort_once(route):
        aborted.append(1)
        refreshes.fate = None
        route.abort("connectionreset")

    refreshes.fate = abort_once
    start = refreshes.seen
    # the aborted one and, one period later each, two more answered ones
    refreshes.wait_for(start + 3, timeout_s=4 * REFRESH_S)
    assert aborted == [1]
    assert page.is_hidden("#wall-banner")


def test_a_request_without_an_answer_is_ended_and_the_next_goes_out(wall_url, wall_page):
    page, refreshes = open_wall(wall_page, wall_url)
    ended = []
    page.on("requestfailed", lambda r: "wall-refresh" in (r.post_data or "") and ended.append(r.failure))
    held = []
    refreshes.fate = held.append  # never answered: the browser must end each one itself
    start = refreshes.seen
    refreshes.wait_for(start + 3, timeout_s=4 * REFRESH_S)
    # each unanswered request was ended by the page (not left to pile up) before the next
    assert len(ended) >= 2 and all("ABORTED" in (f or "").upper() for f in ended)


@pytest.mark.parametrize("answer", [
    {"status": 502, "content_type": "text/html", "body": "<h1>502 Bad Gateway</h1>"},
    {"status": 200, "content_type": "text/html", "body": "<h1>Please log in to the network</h1>"},
    {"status": 500, "content_type": "text/html", "body": "Internal Server Error"},
], ids=["proxy-502", "portal-200-html", "server-500"])
def test_error_pages_bring_the_banner_and_answers_take_it_away(wall_url, wall_page, answer):
    page, refreshes = open_wall(wall_page, wall_url, "&lang=en")
    refreshes.fate = lambda route: route.fulfill(**answer)
    page.wait_for_selector("#wall-banner:not([hidden])", timeout=(2 * REFRESH_S + 4) * 1000)
    banner = page.inner_text("#wall-banner")
    assert banner.startswith("No answer from the server since ") and "showing data from" in banner
    assert "ob-wall-views--stale" in page.get_attribute("#wall-views", "class")
    assert "502" not in banner and "Gateway" not in banner

    refreshes.fate = None
    page.wait_for_selector("#wall-banner", state="hidden", timeout=2 * REFRESH_S * 1000)
    assert "ob-wall-views--stale" not in page.get_attribute("#wall-views", "class")


def test_the_banner_speaks_the_screen_language_when_the_server_is_silent(wall_url, wall_page):
    page, refreshes = open_wall(wall_page, wall_url)  # lang zh (the default)
    refreshes.fate = lambda route: route.abort("connectionrefused")
    page.wait_for_selector("#wall-banner:not([hidden])", timeout=(2 * REFRESH_S + 4) * 1000)
    banner = page.inner_text("#wall-banner")
    assert banner.startswith("服务器无应答（自 ") and "的数据（" in banner and "秒前）" in banner
    refreshes.fate = None
    page.wait_for_selector("#wall-banner", state="hidden", timeout=2 * REFRESH_S * 1000)


def test_the_self_reload_waits_until_the_server_answers(wall_url, wall_page):
    page, _ = open_wall(wall_page, wall_url)
    page.evaluate("() => { window.notReloaded = true; }")
    probes = []

    def refuse(route):
        probes.append(1)
        route.abort("connectionrefused")

    page.route("**/wall?*", refuse)
    page.evaluate("() => window.dash_clientside.orderboard_wall.reload(1)")
    page.wait_for_timeout(1000)
    assert probes == [1]  # it asked, the server did not answer: no reload onto an error page
    assert page.evaluate("() => window.notReloaded") is True
    page.unroute("**/wall?*")
    # the next probe (10 s later) is answered: now it reloads
    page.wait_for_function("() => window.notReloaded === undefined", timeout=15_000)
    page.wait_for_selector(".ob-view--active .ob-kpi")
