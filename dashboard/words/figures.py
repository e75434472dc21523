"""Chart words (``dashboard.figures``): axis titles, legends, notes of empty charts.
Series named after a metric (orders placed, completed, delay rate) read the catalog."""

WORDS: dict[str, tuple[str, str]] = {
    "delay_hours": ("超出SLA小时", "Hours beyond SLA"),
    "bottleneck": ("瓶颈", "bottleneck"),
    "orders": ("订单数", "Orders"),
    "exceptions": ("异常数", "Exceptions"),
    "no_delay": ("所选时段没有延误订单", "No late orders in this period"),
    "no_trend": ("暂无数据", "No data yet"),
    "no_exceptions": ("所选时段没有新异常", "No exceptions opened in this period"),
    # WIP by an attribute (``breakdown_figure``)
    "no_open": ("没有在制订单", "No open orders"),
    "unset": ("另有 {n:,} 单未指定{what}", "{n:,} more without a {what}"),
    # the order's stage timeline (``timeline_figure``)
    "within": ("SLA内", "within SLA"),
    "beyond": ("超SLA", "beyond SLA"),
    "rework": ("返工", "rework"),
    "sla_due": ("SLA到期", "SLA due"),
    "in_progress": ("进行中", "in progress"),
    "end": ("完成", "completed"),
    "no_visits_recorded": ("暂无环节记录", "No stage visits recorded"),
    "promised": ("承诺交期", "promised"),
    "now": ("现在", "now"),
    # the review's own charts (``dashboard.figures.review``)
    "median_h": ("周期中位数 (小时)", "Cycle time median (h)"),
    "hours": ("小时", "Hours"),
    "this": ("本期", "This period"),
    "previous": ("上期", "Previous period"),
    "sla": ("SLA", "SLA"),
    "no_visits": ("所选时段没有完成的工序", "No stage visits ended in this period"),
}
