"""Where a whole load's time goes, part by part: CPU and wall seconds of each step of
``importers.bulkload`` (and of SQLite's statements inside them), with timers put around
the steps for one run (``bench_import_eventlog.py --parts``). The SQLite parts are the
driver calls (``write_columns`` per table, the index builds, the commit); the Python
steps include them, so "Python" below is a step's time less its SQLite part."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from datasource import bulk
from datasource.importers import bulkload, run

SECONDS: dict[str, list[float]] = {}


def _add(name: str, cpu: float, wall: float) -> None:
    spent = SECONDS.setdefault(name, [0.0, 0.0])
    spent[0] += cpu
    spent[1] += wall


def timed(name: str, f: Callable) -> Callable:
    """``f`` adding its CPU and wall seconds to ``name``'s."""
    return _timed(name, f)


def _timed(name: str, f: Callable) -> Callable:
    def timed(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            _add(name, time.process_time() - cpu, time.perf_counter() - wall)
    return timed


def install() -> None:
    """Put the timers in place (for the rest of the process)."""
    write_columns = bulk.write_columns

    def timed_write(conn, table, columns, rows):  # type: ignore[no-untyped-def]
        return _timed(f"SQLite: insert into {table.name}", write_columns)(conn, table, columns, rows)

    bulkload.write_columns = timed_write
    rebuilt = bulk.secondary_indexes_rebuilt

    @contextlib.contextmanager
    def timed_rebuilt(conn, tables) -> Iterator[None]:  # type: ignore[no-untyped-def]
        with rebuilt(conn, tables):
            yield
            cpu, wall = time.process_time(), time.perf_counter()
        _add("SQLite: build the indexes", time.process_time() - cpu, time.perf_counter() - wall)

    bulkload.secondary_indexes_rebuilt = timed_rebuilt
    for name in ("derive", "findings_of", "_write_orders", "_write_events", "_write_visits",
                 "_write_findings"):
        setattr(bulkload, name, _timed(name, getattr(bulkload, name)))
    run.events_of = _timed("events_of", bulkload.events_of)
    run.event_columns = _timed("event_columns", run.event_columns)
    run.load = _timed("load", bulkload.load)

    from sqlalchemy.engine import Connection
    commit = Connection._commit_impl

    def timed_commit(self: Connection) -> None:
        _timed("SQLite: commit", commit)(self)

    Connection._commit_impl = timed_commit  # type: ignore[method-assign]


def report(total_cpu: float, total_wall: float) -> str:
    """The parts, SQLite's then Python's, as lines ``part  cpu s  wall s  share``."""
    s = SECONDS
    sql = {k: v for k, v in s.items() if k.startswith("SQLite")}
    writes = {"_write_orders": "orders", "_write_events": "order_events",
              "_write_visits": "stage_visits", "_write_findings": "data_quality_findings"}

    def less(name: str, *inner: str) -> list[float]:
        outer = s.get(name, [0.0, 0.0])
        spent = [sum(s.get(i, [0.0, 0.0])[k] for i in inner) for k in (0, 1)]
        return [outer[0] - spent[0], outer[1] - spent[1]]

    python = {
        "read rows as columns (event_columns)": s.get("event_columns", [0.0, 0.0]),
        "event ids, merge (events_of)": s.get("events_of", [0.0, 0.0]),
        "derive visits, states, findings (derive)": s.get("derive", [0.0, 0.0]),
        "findings' ids (findings_of)": s.get("findings_of", [0.0, 0.0]),
        "table columns (stored texts, ids, lists)": [
            sum(less(w, f"SQLite: insert into {t}")[k] for w, t in writes.items()) for k in (0, 1)],
        "read and check the file (prepare_import)": s.get("prepare_import", [0.0, 0.0]),
    }
    accounted = sum(v[0] for v in sql.values()) + sum(v[0] for v in python.values())
    accounted_wall = sum(v[1] for v in sql.values()) + sum(v[1] for v in python.values())
    python["the rest (duplicates, orders' numbers, report...)"] = [total_cpu - accounted,
                                                                   total_wall - accounted_wall]
    lines = [f"{'part':52s} {'CPU s':>7s} {'wall s':>7s} {'share':>6s}"]
    for name, (cpu, wall) in [*sorted(sql.items(), key=lambda kv: -kv[1][0]),
                              *sorted(python.items(), key=lambda kv: -kv[1][0])]:
        lines.append(f"{name:52s} {cpu:7.2f} {wall:7.2f} {cpu / total_cpu:6.0%}")
    sql_cpu = sum(v[0] for v in sql.values())
    lines.append(f"SQLite {sql_cpu:.1f} s CPU ({sql_cpu / total_cpu:.0%}), "
                 f"Python {total_cpu - sql_cpu:.1f} s ({1 - sql_cpu / total_cpu:.0%})")
    return "\n".join(lines)
