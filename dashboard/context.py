"""What pages and callbacks share: settings, the store engine and the cached service.

Built once per app by ``create_app`` and passed explicitly to layouts and callback
registration (no module-level state: gunicorn workers share no memory).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboard.formatting import local_time
from dashboard.service import CachedService
from dashboard.words import word
from datasource.settings import Settings
from metrics.catalog import CATALOG, Catalog

SINCE_FORMAT = "%H:%M"  # "unreachable since 14:03": the minute is what a viewer needs


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine
    service: CachedService

    @cached_property
    def catalog(self) -> Catalog:
        """The metric catalog with this deployment's thresholds (``[metrics.<name>]``)."""
        return CATALOG.with_thresholds(self.settings.metric_thresholds)

    def moment(self, period_s: int | None = None) -> datetime:
        """The instant a request computes for: the service's clock floored to the cache
        period, so every number of one screen (and the list it drills into) is computed
        for the same now within a period. The one source of "now" for pages and callbacks."""
        now = self.service.clock()
        period = max(1, int(period_s or self.service.period_s))
        return datetime.fromtimestamp(int(now.timestamp()) // period * period, tz=timezone.utc)

    def page_lang(self, requested: object = None) -> str:
        """The language of a page: its URL's ``?lang=`` when it is one, else the ``lang`` setting."""
        from dashboard.words import resolve_lang

        return resolve_lang(requested, self.settings.lang)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def store_unreachable(self, exc: SQLAlchemyError, lang: str) -> str:
        """What a page says when the store failed it: plain words and the local time the
        failures began ("Order store unreachable since 14:03"). The driver's message, with
        its hosts and ports, goes to the log once per streak, never to the screen."""
        self.service.store_faults.failed("a page's query", exc)
        return word("common", "store_unreachable", lang, since=self.failing_since())

    def failing_since(self) -> str:
        """The local minute the store's current streak of failures began ("14:03"); now
        when none is recorded in this process."""
        since = self.service.store_faults.since or self.service.clock()
        return local_time(since, self.tz, SINCE_FORMAT)

    def stale_note(self, stale_since: datetime | None, computed_at: datetime, lang: str) -> str:
        """The banner over a page showing the last good numbers of a failing store."""
        since = stale_since or self.service.clock()
        return word("common", "stale", lang, since=local_time(since, self.tz, SINCE_FORMAT),
                    at=local_time(computed_at, self.tz, SINCE_FORMAT))

    @property
    def store_key(self) -> str:
        """Identifies the store in cache keys, so two stores never share cached results:
        the engine's URL with a SQLite file's path made absolute (two demos started in
        different folders both say ``sqlite:///orderboard-demo.db``)."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            url = url.set(database=str(Path(url.database).resolve()))
        text = url.render_as_string(hide_password=False)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
