"""Per-screen settings of a wall, read from its URL (each TV is configured by its bookmark).

    /wall?views=main,trend&rotate=30&refresh=15&line=Line%20A&channel=online&lang=en&kiosk=1&reload=6
    /wall/trend            (one view, no rotation)
    /wall?views=main,alerts  (the overview, then the firing alerts)

The settings are declared as data (``WALL_SETTINGS``) so the docs and tests read one list.
A bad value never breaks a screen: it falls back to the default (numbers out of range
are clamped), and unknown views are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from datasource.settings import DEFAULT_LANG, LANGS
from metrics.window import Filters

VIEWS = ("main", "kpi", "flow", "bottleneck", "trend", "overdue", "exceptions", "alerts")
DEFAULT_VIEWS = ("main", "bottleneck", "trend", "exceptions")
TRUE_WORDS = ("1", "true", "yes", "on", "y")
MAX_FILTER_CHARS = 100
MIN_RELOAD_H = 1.0  # a reload blanks the screen for a moment: never more than once an hour


@dataclass(frozen=True)
class WallSetting:
    name: str
    default: str
    help: str


WALL_SETTINGS: tuple[WallSetting, ...] = (
    WallSetting("views", ",".join(DEFAULT_VIEWS),
                f"Views to rotate through, comma-separated, from {', '.join(VIEWS)}."),
    WallSetting("rotate", "30", "Seconds each view stays on screen (5-3600)."),
    WallSetting("refresh", "15", "Seconds between data refreshes (2-600), without a page reload."),
    WallSetting("line", "", "Only orders of this production line (e.g. Line A)."),
    WallSetting("channel", "", "Only orders of this sales channel (e.g. online)."),
    WallSetting("lang", DEFAULT_LANG, "Labels: zh or en (default: the deployment's `lang` setting)."),
    WallSetting("kiosk", "0", "1 hides the navigation links (for TVs in kiosk mode)."),
    WallSetting("reload", "6", "Hours after which the page reloads itself (0 = never, else 1-168); "
                "it reloads only once the server answers."),
)


@dataclass(frozen=True)
class WallConfig:
    """The parsed settings of one screen."""

    views: tuple[str, ...] = DEFAULT_VIEWS
    rotate_s: int = 30
    refresh_s: int = 15
    line: str | None = None
    channel: str | None = None
    lang: str = "zh"
    kiosk: bool = False
    reload_h: float = 6.0

    @property
    def filters(self) -> Filters:
        return Filters(production_line=self.line, channel=self.channel)

    def filter_query(self) -> str:
        """The active filters as a query string for links (``?line=Line+A``), or ""."""
        pairs = [(k, v) for k, v in (("line", self.line), ("channel", self.channel)) if v]
        return "?" + urlencode(pairs) if pairs else ""

    def link_query(self) -> str:
        """The filters and the language, for links to other pages (``?line=Line+A&lang=zh``)."""
        pairs = [(k, v) for k, v in (("line", self.line), ("channel", self.channel)) if v]
        return "?" + urlencode([*pairs, ("lang", self.lang)])

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
            return parse_wall_settings({
                "views": ",".join(data.get("views") or ()), "rotate": data.get("rotate_s"),
                "refresh": data.get("refresh_s"), "line": data.get("line"),
                "channel": data.get("channel"), "lang": data.get("lang"),
                "kiosk": "1" if data.get("kiosk") else "0", "reload": data.get("reload_h"),
            })
        except Exception:  # noqa: BLE001 - a damaged store never breaks the screen
            return cls()


def _number(value: object, default: float, low: float, high: float) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    if number != number or number in (float("inf"), float("-inf")):
        return default
    return min(high, max(low, number))


def _reload_hours(value: object) -> float:
    """0 (never), else between ``MIN_RELOAD_H`` and a week."""
    hours = _number(value, 6.0, 0.0, 168.0)
    return hours if hours == 0 else max(MIN_RELOAD_H, hours)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()[:MAX_FILTER_CHARS]
    return text or None


def parse_views(value: object) -> tuple[str, ...]:
    """Known view names in the order given, without repeats; the defaults when none is known."""
    names = [v.strip().lower() for v in str(value or "").split(",")]
    known = tuple(dict.fromkeys(v for v in names if v in VIEWS))
    return known or DEFAULT_VIEWS


def parse_wall_settings(params: Mapping[str, object], view: str | None = None,
                        default_lang: str = DEFAULT_LANG) -> WallConfig:
    """The settings of a screen from its query parameters (and path view, which pins the
    screen to that one view when it is a known view); without a known ``lang``, the
    deployment's ``default_lang``."""
    views = parse_views(params.get("views"))
    pinned = str(view or "").strip().lower()
    if pinned in VIEWS:
        views = (pinned,)
    lang = str(params.get("lang") or "").strip().lower()
    return WallConfig(
        views=views,
        rotate_s=int(_number(params.get("rotate"), 30, 5, 3600)),
        refresh_s=int(_number(params.get("refresh"), 15, 2, 600)),
        line=_text(params.get("line")),
        channel=_text(params.get("channel")),
        lang=lang if lang in LANGS else default_lang,
        kiosk=str(params.get("kiosk") or "").strip().lower() in TRUE_WORDS,
        reload_h=_reload_hours(params.get("reload")),
    )
