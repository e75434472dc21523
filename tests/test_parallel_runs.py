"""The suite's own scheduling over pytest-xdist's workers (tests/parallel.py, OneWorkerEach):
every browser test runs on one worker and every fault drill on one worker, so that two of
them never run at the same time. Checked on xdist's scheduler itself, driven as xdist's
controller drives it, so that an xdist release that stops consulting the scope (as its
``loadgroup`` did under pytest 9.2) fails here instead of quietly running drills side by side."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.parallel import ONE_WORKER_EACH, OneWorkerEach

ROOT = Path(__file__).resolve().parent.parent
BROWSER = [f"tests/browser/test_wall.py::test_view[{k}]" for k in range(6)] + ["tests/browser/test_access.py::test_a"]
DRILLS = ["tests/drills/test_drills.py::test_store_hung[sqlite]", "tests/drills/test_drills.py::test_redis_hung",
          "tests/drills/test_scope_isolation.py::test_alternating_viewers"]
OTHERS = [f"tests/metrics/test_m.py::test_{k}" for k in range(30)]


class Worker:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.queue: list[int] = []

    def send_runtest_some(self, indices) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


def run(collection: list[str], workers: int = 2) -> dict[str, str]:
    """Which worker ran each test, the workers taking their next test in turn."""
    options = {"dist": "load", "tx": [f"{workers}*popen"]}
    config = SimpleNamespace(getvalue=options.__getitem__, option=SimpleNamespace(loadscopereorder=True))
    scheduler = OneWorkerEach.pytest_xdist_make_scheduler(config, None)
    nodes = [Worker(f"gw{k}") for k in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    ran: dict[str, str] = {}
    while any(node.queue for node in nodes):
        for node in nodes:
            if node.queue:
                index = node.queue.pop(0)
                ran[collection[index]] = node.gateway.id
                scheduler.mark_test_complete(node, index)
    assert scheduler.tests_finished
    return ran


def test_browser_tests_and_drills_each_run_on_one_worker():
    ran = run(OTHERS[:10] + BROWSER + OTHERS[10:20] + DRILLS + OTHERS[20:])
    assert sorted(ran) == sorted(OTHERS + BROWSER + DRILLS)  # each test once
    assert len({ran[t] for t in BROWSER}) == 1 and len({ran[t] for t in DRILLS}) == 1
    assert ran[BROWSER[0]] != ran[DRILLS[0]]  # side by side, from the start
    assert {ran[t] for t in OTHERS} == {"gw0", "gw1"}  # the rest shared out


def test_the_directories_named_hold_tests():
    """A directory renamed would quietly end its grouping."""
    for directory in ONE_WORKER_EACH:
        assert list((ROOT / directory).glob("test_*.py")), directory


def test_another_dist_given_on_the_command_line_is_left_to_xdist():
    config = SimpleNamespace(getvalue={"dist": "loadfile"}.__getitem__)
    assert OneWorkerEach.pytest_xdist_make_scheduler(config, None) is None
