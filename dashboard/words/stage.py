"""The stage list ``/stages/<code>``: its lists, grid columns and toolbar."""

WORDS: dict[str, tuple[str, str]] = {
    # the lists of a stage (``dashboard.layouts.stage.STAGE_VIEWS``); at_risk and exceptions
    # read their metric's label from the catalog
    "view_wip": ("在此环节", "In the stage now"),
    "view_breached": ("已超SLA(在制)", "Over SLA now"),
    "view_overdue": ("已逾期(在制)", "Past promised date now"),
    "view_delayed": ("延误订单(本环节超时)", "Late orders delayed here"),
    "view_breaches": ("超时记录(期间内)", "SLA breaches in the window"),
    "view_rework": ("返工记录", "Rework visits in the window"),
    "view_visits": ("离开本环节(期间内)", "Visits ended in the window"),
    # grid columns (``dashboard.layouts.stage.COLUMNS``); open_exceptions: the catalog's label
    "col_order_number": ("订单", "Order"),
    "col_customer": ("客户", "Customer"),
    "col_owner": ("负责人", "Owner"),
    "col_stage": ("环节", "Stage"),
    "col_entered_at": ("进入环节", "Entered stage"),
    "col_time_in_stage_h": ("环节用时 h", "Time in stage (h)"),
    "col_sla_h": ("SLA (h)", "SLA (h)"),
    "col_promised_at": ("承诺交期", "Promised"),
    "col_hours_late": ("延误 h", "Hours late"),
    "col_contribution_h": ("超时贡献 h", "Beyond SLA here (h)"),
    "col_placed_at": ("下单时间", "Placed"),
    "col_completed_at": ("签收", "Completed"),
    "col_cycle_time_h": ("履约周期 h", "Cycle time (h)"),
    "col_kind": ("异常类型", "Exception"),
    "col_opened_at": ("异常发生", "Opened"),
    "hours_late_tip": ("超过承诺交期的小时数（仅延误订单）", "Hours past the promised date (late orders only)"),
    "search": ("搜索订单、客户、负责人", "Search order, customer, owner"),
    "total": ("共 {n} 单", "{n} rows"),
    "export_limit": ("导出仅含前 {exported} 单(共 {total} 单);其余请缩小筛选或日期范围",
                     "The file holds the first {exported} of {total} rows (export limit); narrow "
                     "the filters or the dates for the rest"),
    "range_too_long": ("时间范围 {first}..{last} 共 {days} 天,超过页面可计算的 {max_days} 天;"
                       "更长的时段请用 `{instead}`",
                       "{first}..{last} is {days} days, longer than the {max_days} days a page "
                       "computes; for longer periods use `{instead}`"),
    "stats": ("{visits} 次 · 平均 {mean} · 中位 {median} · P90 {p90} · 合计 {total}",
              "{visits} visits · mean {mean} · median {median} · P90 {p90} · total {total}"),
}
