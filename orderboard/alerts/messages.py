"""What a message says: its alerts (``Item``), title and the people it mentions, and
the text of it in each channel's markup, cut to the channel's size limit with "N more"
and a link to ``/alerts`` (where every alert is listed, so nothing is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

SECTION_TITLES = {
    "firing": "🔴 触发 Firing",
    "repeat": "🔁 仍在触发 Still firing",
    "escalation": "⏫ 升级 Escalated (not acknowledged)",
    "resolved": "✅ 已恢复 Resolved",
}
SECTION_ORDER = ("escalation", "firing", "repeat", "resolved")


@dataclass(frozen=True)
class Item:
    """One alert in a message; ``status`` is why it is there (firing, repeat,
    escalation, resolved); ``people``: the names of those responsible."""

    id: int
    rule: str
    status: str
    severity: str
    summary: str
    labels: dict
    fired_at: datetime | None
    resolved_at: datetime | None
    ack_url: str
    people: tuple[str, ...] = ()
    rule_kind: str = ""

    def subject(self) -> str:
        lab = self.labels
        if lab.get("exception"):
            return f"异常 exception #{lab['exception']} · {lab.get('order', '')}"
        if lab.get("order"):
            return f"{lab['order']} · {lab.get('stage', '')}".rstrip(" ·")
        if lab.get("metric"):
            where = lab.get("stage") or lab.get("scope", "all")
            return f"{lab['metric']} · {where}"
        return self.rule


@dataclass(frozen=True)
class Message:
    """One message to one channel. ``kind``: firing, resolved, escalation,
    data_unavailable, data_available or test (a message with any firing item is a firing
    one)."""

    channel: str
    kind: str
    title: str
    items: tuple[Item, ...] = ()
    group_keys: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    note: str = ""
    alerts_url: str = ""

    def merged_with(self, others: Sequence[Message]) -> Message:
        """One digest of this message and ``others`` (same channel)."""
        everything = (self, *others)
        items = tuple(i for m in everything for i in m.items)
        kinds = {m.kind for m in everything}
        kind = next((k for k in ("escalation", "firing", "resolved") if k in kinds), self.kind)
        rules = sorted({i.rule for i in items})
        title = f"OrderBoard 预警汇总 digest: {len(items)} alerts ({', '.join(rules)})"
        return replace(self, kind=kind, title=title, items=items,
                       group_keys=tuple(k for m in everything for k in m.group_keys),
                       people=_unique(p for m in everything for p in m.people))


def _unique(values) -> tuple:
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class Markup:
    """How a channel writes bold text, a link and a list line."""

    bold: Callable[[str], str] = lambda t: f"**{t}**"
    link: Callable[[str, str], str] = lambda text, url: f"[{text}]({url})"
    bullet: str = "- "
    newline: str = "\n"
    escape: Callable[[str], str] = lambda t: t


MARKDOWN = Markup()
SLACK = Markup(bold=lambda t: f"*{t}*", link=lambda text, url: f"<{url}|{text}>", bullet="• ",
               escape=lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
PLAIN = Markup(bold=lambda t: t, link=lambda text, url: f"{text}: {url}")


def item_line(item: Item, markup: Markup) -> str:
    who = ", ".join(item.people)
    parts = [f"[{item.severity}] " + markup.escape(item.subject()), markup.escape(item.summary)]
    if who:
        parts.append(markup.escape(who))
    if item.status != "resolved" and item.ack_url:
        parts.append(markup.link("确认 Ack", item.ack_url))
    return markup.bullet + " · ".join(p for p in parts if p)


def render(message: Message, markup: Markup, limit: int, max_lines: int = 20, tail: str = "",
           measure: Callable[[str], int] = lambda t: len(t.encode("utf-8"))) -> str:
    """The message as text in ``markup``: title, a section per status with one line per
    alert, then ``tail`` (mentions). Lines that do not fit ``limit`` (as ``measure``
    counts) or ``max_lines`` become "… N more" with the link to the alerts page."""
    nl = markup.newline
    head = [markup.bold(markup.escape(message.title))]
    if message.note:
        head.append(markup.escape(message.note))
    body: list[str] = []
    shown = 0
    total = len(message.items)
    for status in SECTION_ORDER:
        mine = [i for i in message.items if i.status == status]
        if mine:
            body.append((status, markup.bold(f"{SECTION_TITLES[status]} ({len(mine)})"), mine))  # type: ignore[arg-type]
    lines = list(head)
    budget = limit - measure(tail) - 200  # room for the "more" line
    for _status, title, mine in body:  # type: ignore[misc]
        if measure(nl.join(lines + [title])) > budget:
            break
        lines.append(title)
        for item in mine:
            line = item_line(item, markup)
            if shown >= max_lines or measure(nl.join(lines + [line])) > budget:
                break
            lines.append(line)
            shown += 1
    if shown < total:
        more = f"… 还有 {total - shown} 条 · {total - shown} more"
        lines.append(markup.link(more, message.alerts_url) if message.alerts_url else more)
    elif message.alerts_url and total:
        lines.append(markup.link("全部预警 · all alerts", message.alerts_url))
    text = nl.join(lines)
    return text + (nl + tail if tail else "")
