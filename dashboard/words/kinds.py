"""Exception kinds as the store names them (``exceptions.kind``); unknown kinds read as
their code (``dashboard.words.kind_label``)."""

WORDS: dict[str, tuple[str, str]] = {
    "shortage": ("缺料", "Shortage"),
    "quality_failure": ("质量问题", "Quality failure"),
    "logistics_delay": ("物流延误", "Logistics delay"),
    "payment_overdue": ("付款逾期", "Payment overdue"),
    "customer_change": ("客户变更", "Customer change"),
}
