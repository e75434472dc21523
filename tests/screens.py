"""Screens without a browser: component trees walked (objects or the JSON a browser
receives), and a wall rendered and refreshed once."""

from __future__ import annotations

from datetime import datetime

from dashboard.callbacks.wall import refresh_wall
from dashboard.layouts import wall as wall_layout


def demo_context(store, tmp_path, n_orders: int, end: datetime):
    """The page context of an app over ``store`` seeded with ``n_orders`` demo orders up to
    ``end``, which is also its clock ("now" of every page)."""
    from dashboard.app import create_app
    from datasource.demo import generate, seed_store
    from datasource.settings import Settings

    seed_store(store.engine, store.pipeline, generate(seed=4, n_orders=n_orders, end=end))
    settings = Settings(database_url=store.url, cache_dir=str(tmp_path / "cache"), pipeline=store.pipeline)
    ctx = create_app(settings, engine=store.engine).server.config["ORDERBOARD_CONTEXT"]
    ctx.service.clock = lambda: end
    return ctx


def props(component) -> dict:
    """A component's properties; refresh outputs are sent as plain dicts (``as_sent``)."""
    return component["props"] if isinstance(component, dict) else component.to_plotly_json()["props"]


def prop(component, name: str):
    return props(component).get(name) if isinstance(component, dict) else getattr(component, name, None)


def walk(component):
    """Every component in a tree (objects or their JSON dicts), depth first."""
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from walk(c)
        return
    if component is None or isinstance(component, (str, int, float)):
        return
    yield component
    yield from walk(prop(component, "children"))


def texts(component) -> list[str]:
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in texts(c)]
    children = prop(component, "children")
    return texts(children) if children is not None else []


def by_class(component, name: str) -> str:
    """The text of the first component with class ``name`` inside ``component``."""
    return next(texts(c)[0] for c in walk(component) if name in (prop(c, "className") or "").split())


def slot_ids(layout, kind: str) -> list[dict]:
    return [c.id for c in walk(layout) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == kind]


def render_wall(ctx, query: dict, view: str | None, screen: dict | None, now: datetime | None):
    """(layout, html slot ids, graph slot ids, refresh outputs) of a wall opened with ``query``."""
    layout = wall_layout.layout(ctx, view=view, **query)
    config = next(c for c in walk(layout) if getattr(c, "id", None) == wall_layout.CONFIG).data
    html_ids, graph_ids = slot_ids(layout, wall_layout.HTML_SLOT), slot_ids(layout, wall_layout.GRAPH_SLOT)
    out = refresh_wall(1, screen or {"w": 1920, "h": 1080}, config, html_ids, graph_ids, ctx, now=now)
    return layout, html_ids, graph_ids, out
