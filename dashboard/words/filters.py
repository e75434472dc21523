"""The order attributes screens filter by (``metrics.window.FILTER_COLUMNS``), and what a
filter that matches nothing says (``dashboard.filter_check``)."""

WORDS: dict[str, tuple[str, str]] = {
    "production_line": ("产线", "line"),
    "customer": ("客户", "customer"),
    "channel": ("渠道", "channel"),
    "product_line": ("产品线", "product line"),
    "owner": ("负责人", "owner"),
    "unknown": ("没有{name}为“{value}”的订单{tail}", "No order has {name} “{value}”{tail}"),
    "existing": (";现有{name}:{values}", "; the {name} values in the store: {values}"),
    "none_existing": (";订单中没有任何{name}", "; no order has any {name}"),
}
