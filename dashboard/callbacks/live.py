"""Callbacks of the live overview: every tick, the cached overview becomes components.

``update_live`` is a plain function (tests call it directly); ``register`` wires it to
the timer. When the store cannot be reached the last good numbers stay on screen under
a banner; with no last good numbers, only the banner changes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dash import Dash, Input, Output, no_update

from dashboard.context import AppContext
from dashboard.layouts.live import AS_OF, BANNER, STAGES, TIMER, TOTALS, stages_view, totals_view
from datasource.snapshot import overview


def update_live(n_intervals: int | None, ctx: AppContext, now: datetime | None = None) -> tuple:
    """(as-of text, totals, stage cards, banner text, banner hidden) for one tick."""
    moment = now or datetime.now(timezone.utc)
    try:
        result = ctx.service.get("live.overview", {"store": ctx.store_key},
                                 lambda: overview(ctx.engine, moment))
    except Exception as exc:  # noqa: BLE001 - the screen must never crash
        message = f"数据源不可用 · store unreachable: {str(exc).splitlines()[0][:160]}"
        return no_update, no_update, no_update, message, False
    ov = result.value
    local = ov.as_of.astimezone(ctx.tz)
    as_of = f"数据时间 data as of {local:%H:%M:%S} ({ctx.settings.timezone})"
    if result.stale:
        since = (result.stale_since or moment).astimezone(ctx.tz)
        banner = (f"数据源不可用 · store unreachable since {since:%H:%M:%S}; "
                  f"showing the data of {local:%H:%M:%S}")
        return as_of, totals_view(ov), stages_view(ov), banner, False
    return as_of, totals_view(ov), stages_view(ov), "", True


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output(AS_OF, "children"),
        Output(TOTALS, "children"),
        Output(STAGES, "children"),
        Output(BANNER, "children"),
        Output(BANNER, "hidden"),
        Input(TIMER, "n_intervals"),
    )
    def _refresh_live(n_intervals: int | None) -> tuple:
        return update_live(n_intervals, ctx)
