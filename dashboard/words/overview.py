"""The manager overview ``/``."""

WORDS: dict[str, tuple[str, str]] = {
    "title": ("订单履约管理概览", "Order fulfilment overview"),
    "wall": ("大屏", "Wall"),
    "window": ("时间", "Window"),
    "dates": ("日期", "Dates"),
    "last_days": ("近{n}天", "Last {n} days"),
    "custom": ("自定日期", "Custom dates"),
    "all": ("全部", "All"),
    "reset": ("重置", "Reset"),
    "clear_focus": ("× 取消聚焦", "× Clear focus"),
    "focus": ("聚焦环节：{stage}", "Stage in focus: {stage}"),
    "as_of": ("{scope} · 数据时间 {time}（{tz}）", "{scope} · data as of {time} ({tz})"),
    # chart titles: a metric's label (from the catalog) and how it is split
    "by_stage": ("{what} · 按环节", "{what} by stage"),
    "by_line": ("{what} · 按产线", "{what} by line"),
    "by_channel": ("{what} · 按渠道", "{what} by channel"),
    "by_kind": ("{what} · 按类型", "{what} by kind"),
    "daily_trend": ("每日趋势", "Daily trend"),
    "wip_in": ("在制 · {stage}", "Open · {stage}"),
    "click_stage": ("点击环节聚焦", "Click a stage to focus on it"),
    "click_day": ("点击某天只看那天", "Click a day to pick it"),
    "click_filter": ("点击筛选", "Click to filter"),
    # KPI tile footnotes
    "since_midnight": ("今日0点起", "since midnight"),
    "now": ("当前", "now"),
    "late_of_completed": ("延误 {late} / 签收 {completed}", "{late} late / {completed} completed"),
    "completed_n": ("{n} 单签收", "{n} completed"),
    # stage cards
    "in_stage_now": ("在此环节", "in the stage now"),
    "over_sla": ("超SLA", "over SLA"),
    "delayed": ("延误", "delayed"),
    "breaches": ("超时记录", "breaches"),
    "median": ("中位", "median"),
    "colour": ("颜色：{metric} {value}", "Colour: {metric} {value}"),
}
