"""Words every page shares: navigation, the not-found page, store trouble, units."""

WORDS: dict[str, tuple[str, str]] = {
    "back_overview": ("← 概览", "← Overview"),
    "back_home": ("返回概览", "Back to the overview"),
    "no_page": ("没有这个页面：{path}", "No page at {path}"),
    "no_stage": ("没有这个环节“{code}”（现有环节：{known}）", "No stage “{code}” (stages: {known})"),
    "store_unreachable": ("订单库无法访问（自 {since} 起）", "Order store unreachable since {since}"),
    "stale": ("订单库无法访问（自 {since} 起）· 显示 {at} 的数据",
              "Order store unreachable since {since} · showing data from {at}"),
    "last_days": ("近{n}天", "last {n} days"),
    "lang_switch": ("语言", "Language"),
    # duration units (``dashboard.formatting.duration_parts``)
    "unit_h": ("小时", "h"),
    "unit_d": ("天", "d"),
    "unit_min": ("分钟", "min"),
}
