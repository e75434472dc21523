"""Labels of things the store names by code: exception kinds and chart words, zh and en."""

from __future__ import annotations

from dashboard.i18n import pick

from metrics.catalog import CATALOG

KIND_LABELS: dict[str, tuple[str, str]] = {
    "shortage": ("缺料", "Shortage"),
    "quality_failure": ("质量问题", "Quality failure"),
    "logistics_delay": ("物流延误", "Logistics delay"),
    "payment_overdue": ("付款逾期", "Payment overdue"),
    "customer_change": ("客户变更", "Customer change"),
}

WORDS: dict[str, tuple[str, str]] = {
    **{name: (CATALOG[name].label_zh, CATALOG[name].label_en) for name in ("placed", "completed", "delay_rate")},
    "delay_hours": ("超出SLA小时", "Hours beyond SLA"),
    "bottleneck": ("瓶颈", "bottleneck"),
    "orders": ("订单数", "Orders"),
    "exceptions": ("异常数", "Exceptions"),
    "no_delay": ("所选时段没有延误订单", "No late orders in this period"),
    "no_trend": ("暂无数据", "No data yet"),
    "no_exceptions": ("所选时段没有新异常", "No exceptions opened in this period"),
}


def word(key: str, lang: str) -> str:
    return pick(WORDS[key], lang)


def kind_label(kind: str, lang: str) -> str:
    """The label of an exception kind; unknown kinds read as their code with spaces."""
    return pick(KIND_LABELS.get(kind, (kind.replace("_", " "), kind.replace("_", " ").capitalize())), lang)
