"""Every page's state <-> the URL query string, from one declaration of each parameter.

A link reproduces a view, and a TV is set up by its bookmark, so the query string is an
interface: ``PARAMS`` declares each name once (default, bounds in its reader, help, the
pages that read it); the README's "URL parameters" table lists the same entries (a test
compares them). Two states are read and written by the same machinery:

- ``ViewState``: the manager pages (``/``, ``/stages/<code>``) and every link between
  pages (window, filters, language), read by ``parse`` and written by ``to_search``;
- ``WallConfig``: one wall screen (``/wall``, ``/wall/<view>``), read by
  ``parse_wall_settings`` and written by ``wall_search`` (a display token's wall setting
  keeps the same names: ``dashboard.display_tokens``).

Reading is lenient, with one rule per kind of value, because URLs are typed and pasted by
people: a number out of bounds is clamped, anything that is not a number (text, nan, inf)
is the default, a whole-number parameter keeps the whole part; text is trimmed and blank
means "none" (filters keep at most ``MAX_FILTER_CHARS`` characters); an unknown language
is the deployment's; unknown names are ignored. Writing leaves defaults out, in the
declared order, so equal states give equal URLs. ``lang`` is kept in every link built
from a state (``ViewState.scope``), so a page opened in English leads to English pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from urllib.parse import parse_qsl, quote, urlencode

from datasource.settings import DEFAULT_LANG, LANGS
from metrics.window import Filters, Window

DEFAULT_DAYS = 7
MAX_DAYS = 3660
MAX_FILTER_CHARS = 100
MIN_RELOAD_H = 1.0  # a reload blanks the screen for a moment: never more than once an hour
TRUE_WORDS = ("1", "true", "yes", "on", "y")
COLUMN_FILTER_PREFIX = "f."
# query name -> Filters field
FILTER_PARAMS = {
    "line": "production_line", "customer": "customer", "channel": "channel",
    "product": "product_line", "owner": "owner",
}
VIEWS = ("main", "kpi", "flow", "bottleneck", "trend", "overdue", "exceptions", "alerts")
DEFAULT_VIEWS = ("main", "bottleneck", "trend", "exceptions")

# -- readers: text (or a stored value) -> value, never raising -----------------------------


def _number(value: object, default: float, low: float, high: float) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    if number != number or number in (float("inf"), float("-inf")):
        return default
    return min(high, max(low, number))


def whole(default: int, low: int, high: int) -> Callable[[object], int]:
    """A whole number within ``low..high`` (decimals keep their whole part), else ``default``."""
    return lambda value: int(_number(value, default, low, high))


def reload_hours(value: object) -> float:
    """0 (never), else between ``MIN_RELOAD_H`` and a week."""
    hours = _number(value, 6.0, 0.0, 168.0)
    return hours if hours == 0 else max(MIN_RELOAD_H, hours)


def text(value: object) -> str | None:
    """Trimmed text; blank is None."""
    cleaned = str(value if value is not None else "").strip()
    return cleaned or None


def filter_text(value: object) -> str | None:
    """A filter's value: trimmed, at most ``MAX_FILTER_CHARS`` characters; blank is None."""
    return text(str(value).strip()[:MAX_FILTER_CHARS]) if value is not None else None


def iso_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def lang(value: object) -> str | None:
    """One of ``LANGS`` (case and spaces ignored), else None: the deployment's language."""
    cleaned = str(value or "").strip().lower()
    return cleaned if cleaned in LANGS else None


def flag(value: object) -> bool:
    """On for one of ``TRUE_WORDS`` (or True, from a store), else off."""
    return value is True or str(value or "").strip().lower() in TRUE_WORDS


def parse_views(value: object) -> tuple[str, ...]:
    """Known view names in the order given, without repeats; the defaults when none is known."""
    given = ",".join(value) if isinstance(value, (list, tuple)) else str(value or "")
    names = [v.strip().lower() for v in given.split(",")]
    return tuple(dict.fromkeys(v for v in names if v in VIEWS)) or DEFAULT_VIEWS


# -- the declaration -------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One query parameter: its name in the URL, its default as written there, what it
    does, the pages that read it, and the reader that makes a value of any text."""

    name: str
    default: str
    help: str
    pages: tuple[str, ...]
    read: Callable[[object], object] = text


MANAGER = ("overview", "stages")
ALL_PAGES = ("overview", "stages", "order", "review", "alerts", "admin", "wall")

PARAMS: tuple[Param, ...] = (
    Param("from", "", "Absolute window: first local date (YYYY-MM-DD), with `to`.", (*MANAGER, "review"), iso_date),
    Param("to", "", "Absolute window: last local date, included.", (*MANAGER, "review"), iso_date),
    Param("days", str(DEFAULT_DAYS), f"Relative window: the last N local days, today included (1-{MAX_DAYS}).",
          MANAGER, whole(DEFAULT_DAYS, 1, MAX_DAYS)),
    Param("week", "last week", "The review's ISO week (e.g. 2026-W46).", ("review",)),
    Param("line", "", "Only orders of this production line (e.g. Line A).", (*MANAGER, "wall"), filter_text),
    Param("customer", "", "Only orders of this customer.", MANAGER, filter_text),
    Param("channel", "", "Only orders of this sales channel (e.g. online).", (*MANAGER, "wall"), filter_text),
    Param("product", "", "Only orders of this product line.", MANAGER, filter_text),
    Param("owner", "", "Only orders of this owner (salesperson).", MANAGER, filter_text),
    Param("stage", "", "The stage in focus (the overview's cross-filter).", ("overview",)),
    Param("metric", "", "A metric of the catalog: the list of the orders behind that KPI.", ("stages",)),
    Param("view", "", "Which list of a stage (wip, breached, delayed, ...).", ("stages",)),
    Param("sort", "", "The list's sort column, `-` in front for descending.", ("stages",)),
    Param("q", "", "Free-text search (order, customer, owner).", ("stages",)),
    Param(COLUMN_FILTER_PREFIX + "<column>", "", "A list column's \"contains\" filter.", ("stages",)),
    Param("page", "1", "The list's page, 1-based.", ("stages",), whole(1, 1, 10**9)),
    Param("views", ",".join(DEFAULT_VIEWS),
          f"Views to rotate through, comma-separated, from {', '.join(VIEWS)}.", ("wall",), parse_views),
    Param("rotate", "30", "Seconds each view stays on screen (5-3600).", ("wall",), whole(30, 5, 3600)),
    Param("refresh", "15", "Seconds between data refreshes (2-600), without a page reload.",
          ("wall",), whole(15, 2, 600)),
    Param("kiosk", "0", "1 hides the navigation links (for TVs in kiosk mode).", ("wall",), flag),
    Param("reload", "6", "Hours after which the page reloads itself (0 = never, else 1-168); "
          "it reloads only once the server answers.", ("wall",), reload_hours),
    Param("lang", DEFAULT_LANG, "Labels: zh or en (default: the deployment's `lang` setting).", ALL_PAGES, lang),
)
PARAM = {p.name: p for p in PARAMS}


def params_of(page: str) -> tuple[Param, ...]:
    """The parameters ``page`` reads, in the declared order."""
    return tuple(p for p in PARAMS if page in p.pages)


def query_pairs(query: str | None) -> list[tuple[str, str]]:
    """The (name, value) pairs of a query string (``?a=1&b=2`` or ``a=1&b=2``), in their
    order, blanks dropped."""
    return parse_qsl((query or "").lstrip("?"), keep_blank_values=False)


def query_values(query: str | Mapping[str, object] | None) -> dict[str, object]:
    """A query string (the last of repeated names wins, blanks dropped) or an already
    split mapping, as one mapping."""
    if isinstance(query, Mapping):
        return dict(query)
    return dict(query_pairs(query))


def read(name: str, values: Mapping[str, object]) -> object:
    """The value of parameter ``name`` in ``values``, by its declared reader."""
    return PARAM[name].read(values.get(name))


# -- manager pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewState:
    days: int = DEFAULT_DAYS
    start: date | None = None
    end: date | None = None
    line: str | None = None
    customer: str | None = None
    channel: str | None = None
    product: str | None = None
    owner: str | None = None
    stage: str | None = None
    metric: str | None = None
    view: str | None = None
    sort: str | None = None
    q: str | None = None
    page: int = 1
    column_filters: tuple[tuple[str, str], ...] = field(default=())
    lang: str | None = None  # None: the deployment's default

    # -- conversions ------------------------------------------------------------------
    def filters(self) -> Filters:
        return Filters(**{name: getattr(self, key) for key, name in FILTER_PARAMS.items()})

    def window(self, now: datetime, tz: str) -> Window:
        """The absolute window when both dates are given, else the last ``days`` days."""
        if self.start is not None and self.end is not None:
            return Window.between_dates(self.start, self.end, tz)
        return Window.last_days(self.days, now, tz)

    def window_key(self) -> dict[str, str | int]:
        """The window as cache-key parameters: relative ("days") or dates, never now."""
        if self.start is not None and self.end is not None:
            return {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"days": self.days}

    def filter_key(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FILTER_PARAMS if getattr(self, k)}

    def with_(self, **changes) -> ViewState:
        return replace(self, **changes)

    def scope(self) -> ViewState:
        """Only window, filters and language: what a link to another page carries along."""
        return ViewState(days=self.days, start=self.start, end=self.end, lang=self.lang,
                         **{k: getattr(self, k) for k in FILTER_PARAMS})


# ViewState fields read plainly by the parameter of the same name.
_PLAIN = ("line", "customer", "channel", "product", "owner", "stage", "metric", "view", "sort", "q")


def parse(search: str | Mapping[str, object] | None) -> ViewState:
    """The state of a query string (``?a=1&b=2`` or ``a=1&b=2``) or of split parameters."""
    values = query_values(search)
    start, end = read("from", values), read("to", values)
    if start is None or end is None or end < start:  # type: ignore[operator]
        start = end = None
    column_filters = tuple(sorted(
        (k.removeprefix(COLUMN_FILTER_PREFIX), v.strip()) for k, v in
        (search.items() if isinstance(search, Mapping) else query_pairs(search))
        if k.startswith(COLUMN_FILTER_PREFIX) and isinstance(v, str) and v.strip()
    ))
    return ViewState(
        days=read("days", values), start=start, end=end,  # type: ignore[arg-type]
        **{k: read(k, values) for k in _PLAIN},  # type: ignore[arg-type]
        page=read("page", values), column_filters=column_filters,  # type: ignore[arg-type]
        lang=read("lang", values),  # type: ignore[arg-type]
    )


def lang_state(search: str | Mapping[str, object] | None) -> ViewState:
    """Only the language of a query: what a page without window or filters (order,
    review, alerts, admin) carries in its links."""
    return ViewState(lang=read("lang", query_values(search)))  # type: ignore[arg-type]


def to_search(state: ViewState) -> str:
    """The query string of ``state`` ("" for the default view), in the declared order and
    without defaults, so equal states give equal URLs."""
    pairs = search_pairs(state)
    return "?" + urlencode(pairs) if pairs else ""


def search_pairs(state: ViewState) -> list[tuple[str, str]]:
    """The (name, value) pairs of ``to_search``."""
    pairs: list[tuple[str, str]] = []
    if state.start is not None and state.end is not None:
        pairs += [("from", state.start.isoformat()), ("to", state.end.isoformat())]
    elif state.days != DEFAULT_DAYS:
        pairs.append(("days", str(state.days)))
    pairs += [(name, getattr(state, name)) for name in _PLAIN if getattr(state, name)]
    pairs += [(COLUMN_FILTER_PREFIX + k, v) for k, v in state.column_filters]
    if state.page != 1:
        pairs.append(("page", str(state.page)))
    if state.lang:
        pairs.append(("lang", state.lang))
    return pairs


def review_search(week: str | None, first: str | None, last: str | None, lang: str) -> str:
    """The review page's query: the date range when both dates are given, else the week;
    then the language."""
    period = [("from", first), ("to", last)] if first and last else [("week", week)]
    return "?" + urlencode([*period, ("lang", lang)])


def with_lang(path: str | None, search: str | None, lang: str) -> str:
    """The same URL in ``lang``: every other query parameter kept, in its order (whatever
    the page; the language switch of every page)."""
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=True) if k != "lang"]
    return (path or "/") + "?" + urlencode([*pairs, ("lang", lang)])


def href(path: str, state: ViewState) -> str:
    return path + to_search(state)


def order_href(number: str) -> str:
    """The order page's path of ``number``, percent-encoded: every character outside
    letters, digits and ``_.-~`` ("/", "#", "?", "%", spaces, Chinese) is escaped, so the
    number stays one path segment and reaches the page unchanged (``pages.Page.match``
    decodes it)."""
    return "/orders/" + quote(str(number), safe="")


# -- wall screens -------------------------------------------------------------------------


@dataclass(frozen=True)
class WallConfig:
    """The settings of one screen (``params_of("wall")``), its language resolved."""

    views: tuple[str, ...] = DEFAULT_VIEWS
    rotate_s: int = 30
    refresh_s: int = 15
    line: str | None = None
    channel: str | None = None
    lang: str = DEFAULT_LANG
    kiosk: bool = False
    reload_h: float = 6.0

    @property
    def filters(self) -> Filters:
        return self.scope().filters()

    def scope(self) -> ViewState:
        """The screen's filters and language as a page state, for links to other pages."""
        return ViewState(line=self.line, channel=self.channel, lang=self.lang)

    def filter_query(self) -> str:
        """The active filters as a query string for links (``?line=Line+A``), or ""."""
        return to_search(replace(self.scope(), lang=None))

    def link_query(self) -> str:
        """The filters and the language, for links to other pages (``?line=Line+A&lang=zh``)."""
        return to_search(self.scope())

    def to_store(self) -> dict:
        """JSON-ready, for the page's ``dcc.Store`` (callbacks read it back with ``from_store``)."""
        data = asdict(self)
        data["views"] = list(self.views)
        return data

    @classmethod
    def from_store(cls, data: Mapping | None) -> WallConfig:
        if not data:
            return cls()
        try:
            return parse_wall_settings({name: data.get(key) for key, name in _WALL_FIELDS.items()})
        except Exception:  # noqa: BLE001 - a damaged store never breaks the screen
            return cls()


# WallConfig field -> its parameter
_WALL_FIELDS = {"views": "views", "rotate_s": "rotate", "refresh_s": "refresh", "line": "line",
                "channel": "channel", "lang": "lang", "kiosk": "kiosk", "reload_h": "reload"}
WALL_SETTINGS = params_of("wall")


def parse_wall_settings(params: str | Mapping[str, object] | None, view: str | None = None,
                        default_lang: str = DEFAULT_LANG) -> WallConfig:
    """The settings of a screen from its query (and path view, which pins the screen to
    that one view when it is a known view); without a known ``lang``, the deployment's
    ``default_lang``."""
    values = query_values(params)
    config = {key: read(name, values) for key, name in _WALL_FIELDS.items()}
    pinned = str(view or "").strip().lower()
    if pinned in VIEWS:
        config["views"] = (pinned,)
    config["lang"] = config["lang"] or default_lang
    return WallConfig(**config)  # type: ignore[arg-type]


def wall_search(config: WallConfig) -> str:
    """The query of a screen's settings, defaults left out except the language (so the
    screen keeps it whatever the deployment's default)."""
    default = WallConfig()
    pairs = []
    for key, name in _WALL_FIELDS.items():
        value = getattr(config, key)
        if value != getattr(default, key) or name == "lang":
            pairs.append((name, ",".join(value) if name == "views" else
                          "1" if value is True else f"{value:g}" if isinstance(value, float) else str(value)))
    return "?" + urlencode(pairs)
