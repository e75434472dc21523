"""Bounded work per request: hostile or malformed requests get a 4xx quickly, never a 500
(grid blocks of 10^7 rows, negative rows, NUL bytes, a review of 30 years, a 10 MB body,
unknown asset paths), and what a page cuts short it says on screen."""

from __future__ import annotations

import json
import re
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from werkzeug.exceptions import BadRequest
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.callbacks import review as review_cb
from dashboard.callbacks import stage as stage_cb
from dashboard.layouts.review import selection_from
from dashboard.limits import LIMITS, MAX_EXPORT_ROWS, MAX_GRID_BLOCK_ROWS, MAX_REVIEW_DAYS
from datasource.demo import generate, seed_store
from datasource.settings import Settings
from tests.web_client import GRID, browser_client, grid_body

END = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def app(sqlite_store, tmp_path):
    seed_store(sqlite_store.engine, sqlite_store.pipeline, generate(seed=4, n_orders=300, end=END))
    settings = Settings(database_url=sqlite_store.url, cache_dir=str(tmp_path / "cache"),
                        pipeline=sqlite_store.pipeline)
    dash_app = create_app(settings, engine=sqlite_store.engine)
    dash_app.server.config["ORDERBOARD_CONTEXT"].service.clock = lambda: END
    return dash_app


@pytest.fixture
def client(app):
    return browser_client(app.server)


def post(client, body: dict | bytes, content_type: str = "application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/_dash-update-component", data=data, content_type=content_type)


def test_a_normal_grid_block_still_answers(client):
    response = post(client, grid_body({"startRow": 0, "endRow": 50}))
    assert response.status_code == 200
    rows = response.get_json()["response"][json.dumps(GRID, sort_keys=True, separators=(",", ":"))]["getRowsResponse"]
    assert 0 < len(rows["rowData"]) <= 50 and rows["rowCount"] >= len(rows["rowData"])


@pytest.mark.parametrize("request_", [
    {"startRow": 0, "endRow": 10**7},                 # a block of ten million rows
    {"startRow": 0, "endRow": MAX_GRID_BLOCK_ROWS + 1},
    {"startRow": -50, "endRow": 50},
    {"startRow": 50, "endRow": 10},
    {"startRow": 10**18, "endRow": 10**18 + 50},
    {"startRow": "abc", "endRow": 50},
    {"startRow": True, "endRow": 50},
    {"startRow": 0, "endRow": 50, "sortModel": "name"},
    {"startRow": 0, "endRow": 50, "sortModel": [1]},
    {"startRow": 0, "endRow": 50, "filterModel": ["x"]},
    ["not", "an", "object"],
])
def test_malformed_grid_requests_are_400(client, request_):
    response = post(client, grid_body(request_))
    assert response.status_code == 400, response.data[:200]


@pytest.mark.parametrize("body", [
    grid_body({"startRow": 0, "endRow": 50, "filterModel": {"customer": {"filter": "a\x00b"}}}),
    grid_body({"startRow": 0, "endRow": 50}, search="?q=a%00b"),
    grid_body({"startRow": 0, "endRow": 50}, search="?q=a\x00b"),
    grid_body({"startRow": 0, "endRow": 50}, pathname="/stages/\x00"),
])
def test_nul_bytes_in_a_callback_are_400(client, body):
    assert post(client, body).status_code == 400


@pytest.mark.parametrize("url", ["/stages/all?q=a%00b", "/review?from=2026-11-01%00"])
def test_nul_bytes_in_a_url_are_400(client, url):
    assert client.get(url).status_code == 400


def test_requests_naming_no_callback_or_not_json_are_400(client):
    assert post(client, {**grid_body({"startRow": 0, "endRow": 50}), "output": "nothing.here"}).status_code == 400
    assert post(client, b"{not json").status_code == 400
    assert post(client, {**grid_body({"startRow": 0, "endRow": 50}), "inputs": "x"}).status_code == 400


def test_a_10_mb_body_is_413(client):
    body = b'{"output": "x", "pad": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    assert post(client, body).status_code == 413


def test_a_review_of_30_years_is_refused_with_a_message(app, client):
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    tz = ctx.settings.timezone
    # Typed into the URL: last week instead, and why.
    chosen = selection_from({"from": "2000-01-01", "to": "2030-12-31"}, END, tz)
    assert chosen["from"] is None and chosen["week"]
    assert "11323 days" in chosen["error"] and "orderboard report --from --to" in chosen["error"]
    # Picked in the page: the period on screen stays, with the reason.
    current = {"week": "2026-W46", "from": None, "to": None, "lang": "en", "error": None}
    new, query = review_cb.navigate(None, "2000-01-01", "2030-12-31", current, review_cb.RANGE, tz)
    assert new["week"] == "2026-W46" and "longer than the 92 days" in new["error"]
    assert query is review_cb.no_update
    # A quarter is fine.
    new, query = review_cb.navigate(None, "2026-08-21", "2026-11-20", current, review_cb.RANGE, tz)
    assert new["from"] == "2026-08-21" and query.startswith("?from=2026-08-21")
    # A forged selection asking for an export of 30 years: 400.
    output = next(d["output"] for d in client.get("/_dash-dependencies").get_json()
                  if d["output"].startswith("..review-download.data"))
    export = {
        "output": output,
        "outputs": [{"id": "review-download", "property": "data"},
                    {"id": "review-error", "property": "children"}, {"id": "review-error", "property": "hidden"}],
        "inputs": [[{"id": {"type": "review-export", "item": "kpis", "fmt": "csv"}, "property": "n_clicks",
                     "value": 1}]],
        "state": [{"id": "review-selection", "property": "data",
                   "value": {"from": "2000-01-01", "to": "2030-12-31", "lang": "en"}}],
        "changedPropIds": ['{"fmt":"csv","item":"kpis","type":"review-export"}.n_clicks'],
    }
    assert post(client, export).status_code == 400
    export["state"][0]["value"] = {"from": "2026-13-45", "to": "x", "lang": "en"}  # bad dates
    assert post(client, export).status_code == 400
    export["state"][0]["value"] = {"week": "2026-W46", "lang": "en"}
    export["inputs"][0][0]["id"]["item"] = "../../etc/passwd"
    export["changedPropIds"] = ['{"fmt":"csv","item":"../../etc/passwd","type":"review-export"}.n_clicks']
    assert post(client, export).status_code == 400
    assert client.get("/review?from=2000-01-01&to=2030-12-31").status_code == 200


def test_a_stage_list_over_too_long_a_range_says_so_and_computes_nothing(app):
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    search = "?from=1990-01-01&to=2030-12-31"
    total = stage_cb.render_body(ctx, "/stages/all", search, None, now=END)[4]
    assert "orderboard metrics --from --to" in total
    assert stage_cb.get_rows(ctx, "/stages/all", search, {"startRow": 0, "endRow": 50}, now=END) == {
        "rowData": [], "rowCount": 0}
    download, note = stage_cb.export_with_note(ctx, "/stages/all", search, "csv", now=END)
    assert download is None and "orderboard metrics" in note


def test_an_export_over_the_limit_holds_the_first_rows_and_says_so(app, monkeypatch):
    ctx = app.server.config["ORDERBOARD_CONTEXT"]
    monkeypatch.setattr(stage_cb, "MAX_EXPORT_ROWS", 5)
    download, note = stage_cb.export_with_note(ctx, "/stages/all", "?days=90&lang=en", "csv", now=END)
    import base64

    lines = base64.b64decode(download["content"]).decode("utf-8-sig").splitlines()
    total = stage_cb.get_rows(ctx, "/stages/all", "?days=90", {"startRow": 0, "endRow": 50},
                              now=END)["rowCount"]
    assert total > 5 and len(lines) == 1 + 5
    assert f"first 5 of {total:,} rows" in note
    assert f"前 5 单(共 {total:,} 单)" in stage_cb.export_note(5, total, "zh")
    assert stage_cb.export_note(10, 10) == "" and MAX_EXPORT_ROWS >= 10_000


def test_grid_bounds_in_plain_calls():
    assert stage_cb.block_bounds({"startRow": 100, "endRow": 150}) == (100, 150)
    assert stage_cb.block_bounds(None) == (0, 50)
    with pytest.raises(BadRequest):
        stage_cb.block_bounds({"startRow": 0, "endRow": 10**7})


def test_unknown_asset_paths_are_404_without_a_traceback(client, caplog):
    with caplog.at_level("ERROR"):
        for path in ("/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/../../../etc/passwd",
                     "/_dash-component-suites/dash/nothing.js"):
            response = client.get(path)
            assert response.status_code == 404 and b"Traceback" not in response.data, path
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged"


def test_over_real_http_a_raw_dotdot_asset_path_and_a_huge_block_get_4xx(app):
    """Through a real server and socket, with the path sent as typed (no client
    normalises ``..`` away)."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def raw(request: bytes) -> int:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=30) as conn:
            conn.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
        return int(re.match(rb"HTTP/1\.[01] (\d{3})", head).group(1))

    try:
        assert raw(b"GET /_dash-component-suites/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") in (
            200, 404)  # the app's own page or not found; never a 500
        assert raw(b"GET /_dash-component-suites/dash/../../x.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 404
        base = f"http://127.0.0.1:{server.server_port}"
        session = requests.Session()
        session.get(base + "/", timeout=30)  # the CSRF cookie, as a browser gets it
        csrf = {"X-CSRFToken": session.cookies["_csrf_token"]}
        normal = session.post(base + "/_dash-update-component", json=grid_body({"startRow": 0, "endRow": 50}),
                              headers=csrf, timeout=30)
        assert normal.status_code == 200
        huge = session.post(base + "/_dash-update-component", json=grid_body({"startRow": 0, "endRow": 10**7}),
                            headers=csrf, timeout=30)
        assert huge.status_code == 400 and "Traceback" not in huge.text
    finally:
        server.shutdown()
        thread.join(10)


def test_every_limit_is_in_the_readme():
    text = README.read_text("utf-8")
    for limit in LIMITS:
        assert limit.name in text, limit.name
        assert f"{limit.value:,}" in text or str(limit.value) in text, limit.name
    assert MAX_REVIEW_DAYS == 92
