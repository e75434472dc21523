"""How the suite shares its tests out over pytest-xdist's workers (``-n 2`` in
pyproject.toml; tests/conftest.py registers ``OneWorkerEach`` when xdist is present).

The tests of each directory of ``ONE_WORKER_EACH`` go to one worker and run there one
after another: two browser tests never render at the same time, and two fault drills
(each a gunicorn, a redis-server and three screens) never run at the same time. Both
assert what a screen shows within a period or two. The other tests are handed out one by
one. (``--dist loadgroup`` with xdist_group marks would say the same, but does not group
under pytest 9.2: pytest-xdist issue 1386.)
"""

from __future__ import annotations

ONE_WORKER_EACH = ("tests/browser/", "tests/drills/")


def work_unit(nodeid: str) -> str:
    """The unit a worker takes at once: a directory of ``ONE_WORKER_EACH``, or one test."""
    return next((d for d in ONE_WORKER_EACH if nodeid.startswith(d)), nodeid)


class OneWorkerEach:
    """xdist's scheduling by scope, with ``work_unit`` as the scope, in place of its
    default (``--dist load``); another ``--dist`` given on the command line is left alone."""

    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") != "load":
            return None
        from xdist.scheduler import LoadScopeScheduling

        class Scheduling(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return work_unit(nodeid)

        return Scheduling(config, log)
