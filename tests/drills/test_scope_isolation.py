"""Two viewers with different scopes never see one another's rows, through gunicorn -w 4,
PostgreSQL and a shared Redis cache (DESIGN.md section 5a; the cache-key lesson of
row-level security in other dashboards): a "Line A" manager and a salesperson (one owner)
signed in over HTTP alternate the same grid blocks, exports and order pages, each request
landing on any worker, every cached answer shared through Redis."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import select

from datasource import accounts
from datasource.schema import Order
from datasource.scope import Scope, parse_scope_terms
from datasource.store import make_engine
from drills.system import System
from tests.web_client import GRID_KEY, export_body, grid_body

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "a long enough password"
SEARCH = "?days=90&metric=wip"
def order_body(number: str) -> dict:
    return {
        "output": "order-content.children",
        "outputs": {"id": "order-content", "property": "children"},
        "inputs": [{"id": "order-number", "property": "data", "value": number}],
        "state": [{"id": "order-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["order-number.data"],
    }


class Viewer:
    def __init__(self, url: str, name: str) -> None:
        self.url, self.http = url, requests.Session()
        form = self.http.get(f"{url}/login", timeout=30).text
        token = re.search(r"name='csrf_token' value='([^']+)'", form).group(1)
        signed = self.http.post(f"{url}/login", data={"name": name, "password": PASSWORD, "csrf_token": token},
                                allow_redirects=False, timeout=30)
        assert signed.status_code == 302, signed.text[:200]
        self.http.get(f"{url}/", timeout=30)
        self.csrf = {"X-CSRFToken": self.http.cookies["_csrf_token"]}

    def call(self, body: dict) -> dict:
        answer = self.http.post(f"{self.url}/_dash-update-component", json=body, headers=self.csrf, timeout=60)
        assert answer.status_code == 200, answer.text[:300]
        return answer.json()["response"]

    def grid(self) -> set[str]:
        return {r["order_number"] for r in self.call(grid_body(search=SEARCH))[GRID_KEY]["getRowsResponse"]["rowData"]}

    def exported(self) -> set[str]:
        data = self.call(export_body(SEARCH))["stage-download"]["data"]
        text = base64.b64decode(data["content"]).decode("utf-8-sig")
        return {line.split(",", 1)[0] for line in text.splitlines()[1:] if line}

    def sees_order(self, number: str) -> bool:
        return "order-missing" not in json.dumps(self.call(order_body(number)))


@pytest.fixture
def site(pg_url, tmp_path):
    import shutil

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not found (apt-get install redis-server)")
    system = System(pg_url, tmp_path, env={"ORDERBOARD_SECRET_KEY": "d" * 48}, workers=4)
    try:
        system.start(orders=600)
        engine = make_engine(system.store_url)
        with engine.connect() as conn:
            rows = conn.execute(select(Order.order_number, Order.production_line, Order.owner)).all()
        owner = max({r.owner for r in rows}, key=lambda o: sum(r.owner == o for r in rows))
        now = datetime.now(timezone.utc)
        accounts.add_user(engine, "lina", "manager", PASSWORD, parse_scope_terms(["line=Line A"]), now)
        accounts.add_user(engine, "sales", "manager", PASSWORD, parse_scope_terms([f"owner={owner}"]), now)
        accounts.add_user(engine, "boss", "admin", PASSWORD, Scope(), now)
        engine.dispose()
        system.wait_until_answering()
        yield system, rows, owner
    finally:
        system.stop()


def test_alternating_viewers_never_see_one_another_s_rows(site):
    system, rows, owner = site
    line_a = {r.order_number for r in rows if r.production_line == "Line A"}
    of_owner = {r.order_number for r in rows if r.owner == owner}
    outside_a = next(r.order_number for r in rows if r.production_line != "Line A" and r.owner == owner)
    outside_owner = next(r.order_number for r in rows if r.production_line == "Line A" and r.owner != owner)
    lina, sales, boss = (Viewer(system.url, n) for n in ("lina", "sales", "boss"))
    everything = boss.grid()
    assert everything - line_a and everything - of_owner
    for _ in range(6):  # each request lands on any worker; answers come from the shared cache
        assert lina.grid() == everything & line_a
        assert sales.grid() == everything & of_owner
        assert lina.exported() == everything & line_a
        assert sales.exported() == everything & of_owner
        assert not lina.sees_order(outside_a) and sales.sees_order(outside_a)
        assert not sales.sees_order(outside_owner) and lina.sees_order(outside_owner)
    assert boss.grid() == everything
