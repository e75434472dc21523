"""HTTP clients of the web app as a browser is one: with the CSRF token dash-renderer sends
(the ``_csrf_token`` cookie back as ``X-CSRFToken``), and signed in when asked."""

from __future__ import annotations

import json
import re

CSRF_HEADER = "HTTP_X_CSRFTOKEN"
GRID = {"type": "stage-grid", "key": "k1"}
GRID_KEY = json.dumps(GRID, sort_keys=True, separators=(",", ":"))
FIRST_BLOCK = {"startRow": 0, "endRow": 500}


def grid_body(request: dict | None = None, search: str = "?days=30", pathname: str = "/stages/all") -> dict:
    """The body dash-renderer posts when the stage grid asks for a block of rows."""
    return {
        "output": '{"key":["ALL"],"type":"stage-grid"}.getRowsResponse',
        "outputs": [{"id": GRID, "property": "getRowsResponse"}],
        "inputs": [[{"id": GRID, "property": "getRowsRequest", "value": request or FIRST_BLOCK}]],
        "state": [{"id": "stage-url", "property": "pathname", "value": pathname},
                  {"id": "stage-url", "property": "search", "value": search}],
        "changedPropIds": [GRID_KEY + ".getRowsRequest"],
    }


def export_body(search: str) -> dict:
    """The body dash-renderer posts when the stage list's CSV button is clicked."""
    return {
        "output": "..stage-download.data...stage-export-note.children..",
        "outputs": [{"id": "stage-download", "property": "data"}, {"id": "stage-export-note", "property": "children"}],
        "inputs": [{"id": "stage-export-csv", "property": "n_clicks", "value": 1},
                   {"id": "stage-export-xlsx", "property": "n_clicks", "value": None}],
        "state": [{"id": "stage-url", "property": "pathname", "value": "/stages/all"},
                  {"id": "stage-url", "property": "search", "value": search}],
        "changedPropIds": ["stage-export-csv.n_clicks"],
    }


def browser_client(server, name: str | None = None, password: str | None = None):
    """A Flask test client that has opened a page (so it holds the CSRF cookie) and sends
    the token with every request; signed in as ``name`` when given."""
    client = server.test_client()
    if name is not None:
        sign_in(client, name, password or "")
    client.get("/")
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None, "the app sets the CSRF cookie on its pages"
    client.environ_base[CSRF_HEADER] = cookie.value
    return client


def sign_in(client, name: str, password: str, address: str = "127.0.0.1"):
    """Post the login form as a browser does (the form's CSRF token included)."""
    form = client.get("/login")
    token = re.search(r"name='csrf_token' value='([^']+)'", form.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"},
                       environ_base={"REMOTE_ADDR": address})
