"""The app factory: ``create_app(settings, engine)`` builds one Dash app.

Nothing happens at import. The factory creates (or takes) the store engine, the cache and
the cached service, the shell layout (a URL location and a page slot, no navigation
chrome, so wall screens stay clean), and registers every page's callbacks once. Scheduled
jobs are not started here: see ``orderboard.jobs`` and the ``serve``/``worker`` commands.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import DependencyException
from flask import Flask, Response, redirect, request
from flask_caching import Cache
from sqlalchemy import Engine
from werkzeug.exceptions import BadRequest

from dashboard.access import cache_scope, current
from dashboard.auth import install as install_auth
from dashboard.auth import is_wall_path
from dashboard.components.page import not_found, register_lang_switch
from dashboard.context import AppContext
from dashboard.limits import MAX_REQUEST_BYTES
from dashboard.pages import Page, default_pages, resolve
from dashboard.service import CachedService, cache_config, redis_timeouts
from dashboard.url_state import href, parse
from dashboard.webfont import register_font_route
from dashboard.words import word
from datasource.settings import Settings, load_settings
from datasource.store import data_version, make_engine

ASSETS = Path(__file__).resolve().parent.parent / "assets"
URL = "url"
PAGE = "page"
RENDERED = "page-rendered-path"  # the path the page slot shows
SERVICE_PERIOD_S = 15  # the default wall refresh: a wall and the overview share one summary per period


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    pages: list[Page] | None = None,
) -> Dash:
    """A Dash app over the store of ``settings`` (default: defaults < config < environment)."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url, wait_s=settings.wait_s)
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        use_pages=False,
        title="OrderBoard",
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    cache = Cache(config=cache_config(settings.cache_url, settings.cache_dir,
                                      cache_wait_s=settings.cache_wait_s))
    cache.init_app(app.server)
    service = CachedService(cache, lambda: data_version(engine), period_s=SERVICE_PERIOD_S,
                            redis_client=_redis_client(settings.cache_url, settings.cache_wait_s),
                            lock_wait_s=settings.wait_s, scope_key=cache_scope)
    ctx = AppContext(settings, engine, service)
    _ = ctx.catalog  # a wrong [metrics] table in the config stops the start, naming the key
    pages = pages if pages is not None else default_pages()
    app.layout = lambda: html.Div(className="ob-shell", children=[
        dcc.Location(id=URL, refresh=False),
        dcc.Store(id=RENDERED),
        html.Main(id=PAGE, className="ob-main"),
        access_note(settings),
    ])
    wall_outputs: set[str] = set()  # the callbacks a display token may call: the shell's and the wall's
    install_auth(app, settings, engine, lambda: wall_outputs)  # the gate comes first
    register_font_route(app.server)
    guard_requests(app.server, app.callback_map)
    _register_retired_paths(app.server)
    _register_router(app, ctx, pages)
    register_lang_switch(app)
    wall_outputs.update(app.callback_map)
    registered: set[int] = set()
    for page in pages:
        if page.register is not None and id(page.register) not in registered:
            registered.add(id(page.register))
            before = set(app.callback_map)
            page.register(app, ctx)
            if is_wall_path(page.pattern):
                wall_outputs |= set(app.callback_map) - before
    app.server.config["ORDERBOARD_CONTEXT"] = ctx  # for WSGI middleware and tests
    return app


def access_note(settings: Settings) -> html.Div:
    """Who is signed in, with the way out; or that this server has no login and serves
    this computer only. Not on walls (``assets/base.css``): a TV shows its board only."""
    viewer = current()
    # the layout is asked for by the page, whose URL (and its ?lang=) is the referrer
    lang = parse(urlparse(request.referrer or "").query).lang or settings.lang
    admin = [" · ", html.A(word("access", "admin", lang), href=f"/admin?lang={lang}")] if viewer.can("admin") else []
    if viewer.kind == "local":
        return html.Div(className="ob-access", children=[word("access", "local_only", lang), *admin])
    if viewer.kind == "user":
        return html.Div(className="ob-access", children=[
            word("access", "signed_in_as", lang, name=viewer.name, role=viewer.role), *admin, " · ",
            html.A(word("access", "sign_out", lang), href=f"/logout?lang={lang}"),
        ])
    return html.Div(className="ob-access", hidden=True)


def _register_router(app: Dash, ctx: AppContext, pages: list[Page]) -> None:
    @app.callback(Output(PAGE, "children"), Output(RENDERED, "data"),
                  Input(URL, "pathname"), Input(URL, "search"), State(RENDERED, "data"))
    def _route(pathname: str | None, search: str | None, rendered: str | None):
        if rendered is not None and rendered == pathname and keeps_query(pages, pathname):
            return no_update, no_update  # the page follows its own query (Page.owns_query)
        return render_page(ctx, pages, pathname, search), pathname


# Paths of retired pages and where their content lives now (a permanent redirect, so
# bookmarks and wall URLs keep working).
RETIRED_PATHS = {"/live": "/"}


def _register_retired_paths(server) -> None:
    for path, target in RETIRED_PATHS.items():
        def _moved(target: str = target):
            return redirect(target, code=308)

        server.add_url_rule(path, f"retired{path.replace('/', '-')}", _moved, strict_slashes=False)


def keeps_query(pages: list[Page], pathname: str | None) -> bool:
    found = resolve(pages, pathname)
    return found is not None and found[0].owns_query


def render_page(ctx: AppContext, pages: list[Page], pathname: str | None, search: str | None):
    """The layout for a URL, or a short not-found page."""
    viewer = current()
    if viewer.kind == "token":
        # A display token opens walls only, always with its own wall setting.
        if not is_wall_path(pathname or "/"):
            return not_found(pathname or "/", word("access", "token_walls_only", ctx.page_lang()),
                             ctx.page_lang(), "/wall")
        search = "?" + (viewer.wall_query or "")
    found = resolve(pages, pathname, search)
    if found is None:
        state = parse(search)
        lang = ctx.page_lang(state.lang)
        return not_found(pathname or "/", word("common", "no_page", lang, path=pathname),
                         lang, href("/", state.scope()))
    page, params = found
    return page.layout(ctx, **params)


def guard_requests(server: Flask, callbacks: dict) -> None:
    """Bounds and answers for requests that are not the app's own (``dashboard.limits``):
    a body over ``MAX_REQUEST_BYTES`` is a 413; a NUL byte anywhere in the path, the query
    or a JSON body is a 400 (no store accepts one in text, and no screen sends one); a
    callback request that is not JSON of dash-renderer's shape, or names no callback of
    ``callbacks``, is a 400; an asset path Dash does not serve is a 404. None of them
    logs a traceback."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @server.before_request
    def _refuse_nul_bytes():
        query = request.query_string
        if "\x00" in request.path or b"\x00" in query or b"%00" in query:
            raise BadRequest("NUL byte in the URL")
        if request.method in ("POST", "PUT", "PATCH") and request.content_length != 0:
            body = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH (413 beyond it)
            if b"\x00" in body or b"\\u0000" in body or b"%00" in body:  # %00: a URL in a callback
                raise BadRequest("NUL byte in the request body")
        if request.method == "POST" and request.path.endswith("/_dash-update-component"):
            _check_callback_request(request.get_json(silent=True), callbacks)
        return None

    @server.errorhandler(DependencyException)
    def _unknown_asset(_exc: DependencyException):
        return Response("not found", status=404, mimetype="text/plain")


def _check_callback_request(body: object, callbacks: dict) -> None:
    """A 400 unless ``body`` names a callback and carries lists of inputs and state."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise BadRequest("a callback request is a JSON object naming its output")
    if body["output"] not in callbacks:
        raise BadRequest("no such callback")
    if not (isinstance(body.get("inputs"), list) and isinstance(body.get("state", []), list)
            and isinstance(body.get("outputs"), (list, dict))):
        raise BadRequest("a callback request carries lists of inputs and state")


def _redis_client(cache_url: str | None, cache_wait_s: float):
    """A Redis client for cross-process locks and counters (connects on first use; each
    call bounded by ``cache_wait_s``)."""
    if not cache_url or not cache_url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    return redis.Redis.from_url(cache_url, **redis_timeouts(cache_wait_s))
