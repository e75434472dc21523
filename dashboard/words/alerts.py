"""Alerts: the ``/alerts`` page, its acknowledge link, and what an alert is about and says
(``dashboard.alert_text``, also on the wall). Rule names, channel names and people are
the configuration's and the data's own words."""

WORDS: dict[str, tuple[str, str]] = {
    "page_title": ("预警", "Alerts"),
    "your_name": ("你的名字", "Your name"),
    "ack_selected": ("确认所选", "Acknowledge selected"),
    "acknowledged_n": ("已确认 {n} 条", "Acknowledged {n}"),
    "nothing_selected": ("未选择预警", "Nothing selected"),
    "count": ("{label}：{n}", "{label}: {n}"),
    # states (``datasource.alert_store.alert_list`` status)
    "status_firing": ("触发中", "Firing"),
    "status_acknowledged": ("已确认", "Acknowledged"),
    "status_resolved": ("已恢复", "Resolved"),
    "severity_warning": ("警告", "Warning"),
    "severity_critical": ("严重", "Critical"),
    # grid columns
    "col_status": ("状态", "Status"),
    "col_severity": ("级别", "Severity"),
    "col_rule": ("规则", "Rule"),
    "col_what": ("对象", "What"),
    "col_summary": ("说明", "Summary"),
    "col_whose": ("负责人", "Whose"),
    "col_fired_at": ("触发时间", "Fired"),
    "col_told": ("已通知", "Told"),
    "col_told_at": ("通知时间", "Told at"),
    "col_acknowledged": ("确认", "Acknowledged"),
    "col_ack_after": ("响应用时", "Response"),
    "col_resolved_at": ("恢复时间", "Resolved"),
    "col_resolved_after": ("持续", "Lasted"),
    # silences
    "silences_title": ("生效中的静默", "Silences in force"),
    "no_silences": ("没有生效中的静默", "No silences in force"),
    "silence_id": ("编号", "ID"),
    "silence_matches": ("匹配", "Matches"),
    "silence_until": ("截止", "Until"),
    "silence_by": ("设置人", "Set by"),
    "silence_why": ("原因", "Why"),
    # what an alert says, by rule kind (``metrics.alert_rules``); {h}: a duration
    "what_exception": ("{order} · {kind}异常 #{id}", "{order} · {kind} exception #{id}"),
    "said_stage_sla": ("在{stage}已 {h}（SLA {sla}）", "{stage} for {h} (SLA {sla})"),
    "said_stage_sla_share": ("在{stage}已 {h}，达 SLA {sla} 的 {share}",
                             "{stage} for {h}, {share} of its SLA {sla}"),
    "said_overdue": ("已逾期 {h}", "overdue by {h}"),
    "said_due_soon": ("{h}后到期", "due in {h}"),
    "said_at_risk": ("有延误风险：{h}后到期", "at risk: due in {h}"),
    "said_exception_open": ("已开启 {h}，无人确认", "open for {h}, not acknowledged"),
    "said_metric": ("{metric} = {value}", "{metric} = {value}"),
    # rule kinds (``metrics.alert_rules.KINDS``)
    "kind_stage_sla": ("超出环节SLA", "over a stage's SLA"),
    "kind_overdue": ("订单逾期", "order overdue"),
    "kind_due_soon": ("即将到期", "due soon"),
    "kind_at_risk": ("订单可能延误", "order at risk"),
    "kind_exception_open": ("异常未确认", "exception not acknowledged"),
    "kind_metric": ("指标超限", "metric past its limit"),
    "kinds_list": ("规则类型：{kinds}", "Rule kinds: {kinds}"),
    # the acknowledge link's pages
    "ack_ask": ("确认这条预警？", "Acknowledge this alert?"),
    "ack_button": ("确认", "Acknowledge"),
    "ack_done": ("已确认", "Acknowledged"),
    "ack_already": ("已被确认", "Already acknowledged"),
    "ack_by": ("{by}，{at}", "{by}, {at}"),
}
