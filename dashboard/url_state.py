"""A manager view's state <-> the URL query string, so a link reproduces the view.

One ``ViewState`` serves the overview (``/``), the stage lists (``/stages/<code>``) and
links from the wall. Query names are short and stable (they are the interface the wall
and shared links rely on):

| name        | meaning                                            | default        |
|-------------|----------------------------------------------------|----------------|
| days        | relative window: the last N local days incl. today | 7              |
| from, to    | absolute window: local dates, both included        | (days instead) |
| line        | production line filter                             |                |
| customer    | customer filter                                    |                |
| channel     | channel filter                                     |                |
| product     | product line filter                                |                |
| owner       | owner (salesperson) filter                         |                |
| stage       | the stage in focus (overview cross-filter)         |                |
| metric      | a ``metrics.catalog`` name (the KPI clicked)       |                |
| view        | which list of a stage (``wip``, ``breached``...)   |                |
| sort        | grid sort, ``-`` in front for descending           |                |
| q           | free-text search (order, customer, owner)          |                |
| page        | grid page, 1-based                                 | 1              |
| f.<column>  | a grid column's "contains" filter                  |                |
| lang        | the page's language, ``zh`` or ``en``               | the ``lang`` setting |

Parsing is lenient (a bad number falls back to the default, unknown names are
ignored) because URLs are typed and pasted by people. ``lang`` is kept in every link
built from the state (``scope``), so a page opened in English leads to English pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from urllib.parse import parse_qsl, quote, urlencode

from datasource.settings import LANGS
from metrics.window import Filters, Window

DEFAULT_DAYS = 7
MAX_DAYS = 3660
# query name -> Filters field
FILTER_PARAMS = {
    "line": "production_line", "customer": "customer", "channel": "channel",
    "product": "product_line", "owner": "owner",
}
COLUMN_FILTER_PREFIX = "f."


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


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(text))) if text not in (None, "") else default
    except ValueError:
        return default


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _lang(text: str | None) -> str | None:
    text = (text or "").strip().lower()
    return text if text in LANGS else None


def parse(search: str | None) -> ViewState:
    """The state of a query string (``?a=1&b=2`` or ``a=1&b=2``)."""
    pairs = parse_qsl((search or "").lstrip("?"), keep_blank_values=False)
    values = dict(pairs)
    start, end = _date(values.get("from")), _date(values.get("to"))
    if start is None or end is None or end < start:
        start = end = None
    column_filters = tuple(sorted(
        (k.removeprefix(COLUMN_FILTER_PREFIX), v.strip()) for k, v in pairs
        if k.startswith(COLUMN_FILTER_PREFIX) and v.strip()
    ))
    return ViewState(
        days=_int(values.get("days"), DEFAULT_DAYS, 1, MAX_DAYS),
        start=start, end=end,
        **{k: _text(values.get(k)) for k in FILTER_PARAMS},
        stage=_text(values.get("stage")), metric=_text(values.get("metric")),
        view=_text(values.get("view")), sort=_text(values.get("sort")), q=_text(values.get("q")),
        page=_int(values.get("page"), 1, 1, 10**9),
        column_filters=column_filters,
        lang=_lang(values.get("lang")),
    )


def to_search(state: ViewState) -> str:
    """The query string of ``state`` ("" for the default view), in a fixed order and
    without defaults, so equal states give equal URLs."""
    pairs: list[tuple[str, str]] = []
    if state.start is not None and state.end is not None:
        pairs += [("from", state.start.isoformat()), ("to", state.end.isoformat())]
    elif state.days != DEFAULT_DAYS:
        pairs.append(("days", str(state.days)))
    for name in (*FILTER_PARAMS, "stage", "metric", "view", "sort", "q"):
        value = getattr(state, name)
        if value:
            pairs.append((name, value))
    pairs += [(COLUMN_FILTER_PREFIX + k, v) for k, v in state.column_filters]
    if state.page != 1:
        pairs.append(("page", str(state.page)))
    if state.lang:
        pairs.append(("lang", state.lang))
    return "?" + urlencode(pairs) if pairs else ""


def href(path: str, state: ViewState) -> str:
    return path + to_search(state)


STATE_FIELDS = tuple(f.name for f in fields(ViewState))


def order_href(number: str) -> str:
    """The order page's path of ``number``, percent-encoded: every character outside
    letters, digits and ``_.-~`` ("/", "#", "?", "%", spaces, Chinese) is escaped, so the
    number stays one path segment and reaches the page unchanged (``pages.Page.match``
    decodes it)."""
    return "/orders/" + quote(str(number), safe="")
