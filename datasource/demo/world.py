"""The cast of the demo factory: customers, channels, products, people, stage timings.

Everything here is data plus vectorised samplers, shared by the history generator
(``datasource.demo``) and the live feed (``datasource.demo.feed``) so that new orders look
like old ones. The factory makes pumps, valves, motors and control cabinets on two
production lines; an online shop sells spare parts and small pumps from stock (its orders
skip production and inspection).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasource.pipeline import Pipeline

LINE_A, LINE_B = "Line A", "Line B"
CHANNELS = ("direct", "distributor", "online")
CHANNEL_SHARE = (0.45, 0.30, 0.25)
PRODUCTION_STAGES = ("produced", "inspected")  # online orders skip these
REWORK_FROM, REWORK_TO = "inspected", "produced"  # failed QC sends an order back
ORDER_PREFIX = "SO"


@dataclass(frozen=True)
class Customer:
    name: str
    channel: str
    owner: str  # the salesperson who owns the account


CUSTOMERS: tuple[Customer, ...] = (
    Customer("杭州恒远机电", "direct", "张伟"),
    Customer("苏州宏达自动化", "direct", "张伟"),
    Customer("宁波东海水务", "direct", "王芳"),
    Customer("无锡华光电力", "direct", "王芳"),
    Customer("上海申江化工", "direct", "李娜"),
    Customer("南京金陵制药", "direct", "李娜"),
    Customer("合肥长江建设", "direct", "刘洋"),
    Customer("常州天元纺织", "direct", "刘洋"),
    Customer("华东工业品分销", "distributor", "陈静"),
    Customer("广州南方机电贸易", "distributor", "陈静"),
    Customer("成都西部泵阀", "distributor", "杨磊"),
    Customer("北京京北工控", "distributor", "杨磊"),
    Customer("天猫旗舰店", "online", "赵敏"),
    Customer("京东自营", "online", "赵敏"),
    Customer("官网商城", "online", "黄强"),
)

# product line -> (production line, median quantity, unit price CNY)
PRODUCTS: dict[str, tuple[str | None, float, float]] = {
    "Pumps": (LINE_A, 12, 3_800.0),
    "Valves": (LINE_A, 40, 650.0),
    "Motors": (LINE_B, 8, 5_200.0),
    "Control cabinets": (LINE_B, 2, 28_000.0),
    "Spare parts": (None, 6, 180.0),
}
FACTORY_PRODUCTS = ("Pumps", "Valves", "Motors", "Control cabinets")
FACTORY_PRODUCT_SHARE = (0.35, 0.25, 0.28, 0.12)
ONLINE_PRODUCTS = ("Spare parts", "Pumps")
ONLINE_PRODUCT_SHARE = (0.75, 0.25)
PRIORITIES = ("normal", "high", "urgent")
PRIORITY_SHARE = (0.80, 0.15, 0.05)

# Who does the work, by the stage's owning department (pipeline TOML ``department``).
OPERATORS: dict[str, tuple[str, ...]] = {
    "Sales": ("孙丽", "周杰", "吴霞"),
    "Finance": ("郑洁", "冯涛"),
    "Procurement": ("何斌", "许静", "吕成"),
    "Production": ("马超", "朱红", "胡军", "郭亮", "林峰", "高勇"),
    "Quality": ("罗琳", "梁晨"),
    "Warehouse": ("宋刚", "谢磊", "韩梅"),
    "Logistics": ("唐亮", "曹阳", "顺丰速运", "德邦物流"),
    "Customer service": ("邓颖", "袁媛"),
}
GENERAL_OPERATORS = ("值班员", "系统")

# Median hours in a stage and the spread (sigma of the log) for factory orders, chosen
# around the default SLAs (datasource/default_pipeline.toml) so that roughly one stay in
# ten breaches its SLA, and production on Line B is the usual bottleneck.
STAGE_HOURS: dict[str, tuple[float, float]] = {
    "placed": (1.5, 0.8),
    "reviewed": (3.0, 0.7),
    "paid": (10.0, 0.8),
    "prepared": (20.0, 0.7),
    "produced": (40.0, 0.5),
    "inspected": (4.0, 0.7),
    "shipped": (5.0, 0.6),
    "in_transit": (48.0, 0.5),
}
# Online orders are reviewed automatically, paid at checkout and picked from stock.
ONLINE_HOURS: dict[str, tuple[float, float]] = {
    "placed": (0.3, 0.8),
    "reviewed": (0.5, 0.8),
    "paid": (0.2, 0.6),
    "prepared": (8.0, 0.7),
    "shipped": (4.0, 0.6),
    "in_transit": (36.0, 0.5),
}
LINE_B_PRODUCTION_FACTOR = 1.3
REWORK_FACTOR = 0.5  # a rework stay takes about half as long as the first one

# Exceptions: kind -> (stage where it happens, share of orders, median extra hours, severity)
EXCEPTION_KINDS: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "customer_change": ("reviewed", 0.025, 20.0, ("low", "medium")),
    "payment_overdue": ("paid", 0.035, 48.0, ("medium", "high")),
    "shortage": ("prepared", 0.045, 36.0, ("medium", "high")),
    "logistics_delay": ("in_transit", 0.035, 40.0, ("medium",)),
}
QUALITY_FAILURE = "quality_failure"
LATE_CLOSE_SHARE = 0.2  # exceptions whose record is closed days after the problem went away
LATE_CLOSE_MEDIAN_HOURS = 144.0
EXCEPTION_NOTES = {
    "customer_change": "客户变更规格 / customer changed the specification",
    "payment_overdue": "付款逾期 / payment overdue",
    "shortage": "物料短缺 / material shortage",
    "logistics_delay": "运输延误 / carrier delay",
    QUALITY_FAILURE: "质检不合格，返工 / failed inspection, rework",
}
STAGE_EXCEPTION = {stage: kind for kind, (stage, *_rest) in EXCEPTION_KINDS.items()}


def stage_hours(pipeline: Pipeline, code: str, online: bool) -> tuple[float, float]:
    """Median hours and log-spread of a stay in a stage; unknown stages sit near their SLA."""
    table = ONLINE_HOURS if online else STAGE_HOURS
    if code in table:
        return table[code]
    sla = pipeline.stage(code).sla_hours
    return (0.45 * sla if sla > 0 else 2.0), 0.6


def operators_for(pipeline: Pipeline, code: str) -> tuple[str, ...]:
    return OPERATORS.get(pipeline.stage(code).department, GENERAL_OPERATORS)


def production_codes(pipeline: Pipeline) -> tuple[str, ...]:
    return tuple(c for c in PRODUCTION_STAGES if c in pipeline.positions)


def order_path(pipeline: Pipeline, online: bool) -> tuple[str, ...]:
    """The stages an order goes through, ending with the terminal stage."""
    skip = set(production_codes(pipeline)) if online else set()
    flow = tuple(s.code for s in pipeline.flow_stages if s.code not in skip)
    if pipeline.terminal is None:
        raise ValueError("the demo needs a pipeline with a terminal stage")
    return (*flow, pipeline.terminal)


def sample_attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Customer, channel, products, owner, quantity, amount and priority of n new orders."""
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    customer = np.empty(n, dtype=np.int64)
    for ch, name in enumerate(CHANNELS):
        pool = [i for i, c in enumerate(CUSTOMERS) if c.channel == name]
        mask = channel == ch
        customer[mask] = rng.choice(pool, size=int(mask.sum()))
    online = channel == CHANNELS.index("online")
    product = np.where(
        online,
        rng.choice([list(PRODUCTS).index(p) for p in ONLINE_PRODUCTS], size=n, p=ONLINE_PRODUCT_SHARE),
        rng.choice([list(PRODUCTS).index(p) for p in FACTORY_PRODUCTS], size=n, p=FACTORY_PRODUCT_SHARE),
    )
    spec = list(PRODUCTS.values())
    median_qty = np.array([s[1] for s in spec])[product]
    price = np.array([s[2] for s in spec])[product]
    quantity = np.maximum(1, np.rint(median_qty * rng.lognormal(0.0, 0.6, n))).astype(np.int64)
    quantity = np.where(online, np.maximum(1, quantity // 4), quantity)
    amount = np.round(quantity * price * rng.uniform(0.88, 1.05, n), 2)
    priority = rng.choice(len(PRIORITIES), size=n, p=PRIORITY_SHARE)
    return {
        "channel": channel, "customer": customer, "product": product, "online": online,
        "quantity": quantity, "amount": amount, "priority": priority,
    }


def production_line_of(product_index: int, online: bool) -> str | None:
    """Online orders ship from stock: they have no production line."""
    return None if online else list(PRODUCTS.values())[product_index][0]


def promise_lead_days(rng: np.random.Generator, expected_hours: np.ndarray,
                      priority: np.ndarray) -> np.ndarray:
    """Days promised to the customer: the typical lead time plus a margin sales negotiated.

    Urgent orders get a tighter promise, so they are late more often.
    """
    margin: np.ndarray = rng.lognormal(np.log(1.4), 0.25, int(expected_hours.shape[0]))
    margin = np.where(priority == PRIORITIES.index("urgent"), margin * 0.8, margin)
    return np.maximum(2, np.ceil(expected_hours * margin / 24.0)).astype(np.int64)
