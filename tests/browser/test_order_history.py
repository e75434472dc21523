"""The order page in a real browser after a ledger was imported twice: its history says
that the promise moved, from what to what, and which file and line said so; the
promised date shown is the new one; the console is clean."""

from __future__ import annotations

from pathlib import Path

from ledgers import write_csv_ledger

from dashboard.app import create_app
from datasource.importers.run import import_file, prepare_import
from datasource.importers.suggest import suggest_mapping
from datasource.settings import Settings


def test_the_order_page_shows_the_history_of_a_moved_promise(sqlite_store, tmp_path, live_server, open_page):
    store = sqlite_store
    ledger = write_csv_ledger(tmp_path / "ledger.csv")
    mapping = tmp_path / "m.toml"
    mapping.write_text(suggest_mapping(ledger, store.pipeline), encoding="utf-8")

    def imported() -> str:
        plan = prepare_import(ledger, mapping, store.pipeline)
        return import_file(store.engine, plan, Path(tmp_path / "r.csv")).summary()

    assert imported() == "imported 6, updated 0, unchanged 0, rejected 1, warnings 0"
    write_csv_ledger(ledger, {4: {5: "2026/11/7"}})  # SO-1001: the customer moved the date
    assert imported() == "imported 0, updated 1, unchanged 5, rejected 1, warnings 0"
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    url = live_server(create_app(settings, engine=store.engine))
    page = open_page(f"{url}/orders/SO-1001", width=1400, height=900, wait_for="#order-history")
    rows = page.locator("#order-history tbody tr")
    assert rows.count() == 1
    cells = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert cells[1:] == ["承诺交期", "2026-11-10", "2026-11-07", "ledger.csv · 4"]
    assert page.inner_text("#order-promised").startswith("2026-11-07")
    # an order nobody changed says so
    other = open_page(f"{url}/orders/SO-1004", width=1400, height=900, wait_for="#order-history")
    assert "没有变更" in other.inner_text("#order-history")
