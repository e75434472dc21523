"""The one cached summary every screen reads: the wall and the overview ask for the same
window and filters under the same key, so N screens of either kind cost one computation
per period.

The key holds the store, the window as the page states it (``{"days": 7}`` or
``{"from": ..., "to": ...}``, never an absolute now) and the active filters. A screen
passes its period; screens with the same period share the computation.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from dashboard.access import scoped
from metrics.summary import Summary, compute_summary
from metrics.window import Filters, Window

if TYPE_CHECKING:
    from dashboard.context import AppContext
    from dashboard.service import Result

NAMESPACE = "summary"


class SummaryUnavailable(RuntimeError):
    """The shared summary is only a stale copy (the store could not be read)."""


def summary_params(ctx: AppContext, window_key: dict[str, Any], filters: Filters) -> dict:
    active = {k: list(v) if isinstance(v, tuple) else v for k, v in filters.active().items()}
    return {"store": ctx.store_key, "window": window_key, "filters": active}


def summary_result(ctx: AppContext, window_key: dict[str, Any], window: Window, filters: Filters,
                   now: datetime, period_s: int | None = None) -> Result[Summary]:
    """The cached summary of ``window`` (stated as ``window_key``) under ``filters`` as of
    ``now``, a ``service.Result`` (stale with the last good value when the store fails).
    ``filters`` are narrowed to the viewer's scope here, so the key names what is computed."""
    filters = scoped(filters)
    return ctx.service.get(
        NAMESPACE, summary_params(ctx, window_key, filters),
        lambda: compute_summary(ctx.engine, ctx.settings.pipeline, window, filters, now),
        period_s=period_s)


def fresh_summary(ctx: AppContext, window_key: dict[str, Any], window: Window, filters: Filters,
                  now: datetime, period_s: int | None = None) -> Summary:
    """The shared summary for a computation that builds on it (the wall's frame): a stale
    copy raises ``SummaryUnavailable`` so the caller's own last good value is served."""
    result = summary_result(ctx, window_key, window, filters, now, period_s)
    if result.stale:
        raise SummaryUnavailable(result.error or "store unreachable")
    return result.value
