"""A mapping written for you: ``orderboard mapping suggest FILE``.

Reads the file as an import would (encoding, title rows, merged cells, totals row),
places each header name by the names ledgers use in Chinese and English, and returns a
mapping TOML to review, with comments saying what was found and which columns it could
not place. Nothing is guessed silently: a column placed is one whose name (spaces,
case and a trailing unit in brackets aside) is in the lists below, or, for a
milestone, names a pipeline stage (its code, Chinese or English label) with or without
时间/日期/time/date.

Shape: a stage column (环节, 工序, stage, activity...) and a time column make an event
log (``events``, with ``[stages]`` for the stage names found in the column); otherwise
stage columns make a milestone sheet (``milestones``). The column names of process-mining
exports (``Case ID``/``case:concept:name``, ``Activity``/``concept:name``, ``Complete
Timestamp``/``time:timestamp``, ``Resource``/``org:resource``) are among them. A
lifecycle column (``lifecycle:transition``) gets ``[event_types]`` for each value found:
``complete`` is the activity's event, so it enters the stage (``"enter"``; left as is it
would read as OrderBoard's own ``complete``, which closes a stage and enters none), and
every other transition (``start``, ``schedule``, ``suspend``...) is skipped, as the
independent figures of process-mining tools count completions.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any

from datasource.importers.attributes import text
from datasource.importers.mapping import SKIP
from datasource.importers.reading import Table, read_table
from datasource.importers.timestamps import _XXY, parse_timestamp
from datasource.pipeline import Pipeline
from datasource.schema import EVENT_TYPES

NAMES: dict[str, tuple[str, ...]] = {
    "order_number": ("单号", "订单号", "订单编号", "订单号码", "订单单号", "销售单号", "合同号",
                     "order id", "order_id", "orderid", "order number", "order no", "order",
                     "case id", "case", "caseid", "case:concept:name"),
    "customer": ("客户", "客户名称", "客户名", "客户简称", "customer", "customer name", "client"),
    "promised": ("交期", "交货日期", "承诺日期", "承诺交期", "要求交期", "约定交期", "交货期",
                 "预计交期", "promised", "promised date", "due", "due date", "delivery date"),
    "owner": ("负责人", "业务员", "跟单", "跟单员", "销售", "销售员", "owner", "salesperson", "sales"),
    "channel": ("渠道", "销售渠道", "channel"),
    "production_line": ("产线", "生产线", "线别", "line", "production line"),
    "product_line": ("产品线", "产品类别", "品类", "product line", "category"),
    "quantity": ("数量", "订单数量", "订货数量", "qty", "quantity"),
    "amount": ("金额", "订单金额", "总金额", "合同金额", "amount", "total amount", "value"),
    "priority": ("优先级", "紧急程度", "priority"),
    "status": ("状态", "订单状态", "status", "order status"),
    "stage": ("环节", "工序", "节点", "阶段", "stage", "activity", "step", "concept:name",
              "activity name"),
    "timestamp": ("时间", "发生时间", "日期时间", "操作时间", "timestamp", "time", "event time",
                  "complete timestamp", "time:timestamp"),
    "operator": ("操作人", "经办人", "操作员", "处理人", "operator", "user", "resource", "org:resource"),
    "event_type": ("事件类型", "event type", "event_type", "lifecycle:transition", "lifecycle",
                   "transition"),
    "note": ("备注", "说明", "note", "notes", "remark", "remarks"),
}
EVENT_ONLY = ("stage", "timestamp", "operator", "event_type", "note")
LIFECYCLE = ("lifecycle:transition", "lifecycle", "transition")  # names of a lifecycle column
# Other names of the default pipeline's stages in ledgers.
STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "placed": ("下单", "接单", "订单日期", "下单日期"),
    "reviewed": ("审核", "审批", "评审"),
    "paid": ("付款", "收款", "回款"),
    "prepared": ("备货", "备料", "采购"),
    "produced": ("生产", "完工", "生产完成"),
    "inspected": ("质检", "检验"),
    "shipped": ("出库", "发货", "出货"),
    "in_transit": ("运输", "在途"),
    "received": ("签收", "到货", "收货"),
}
SUFFIXES = ("时间", "日期", "日", "time", "date", "at", "timestamp")
_UNIT = re.compile(r"[(（【\[].*?[)）】\]]$")


def normal(name: str) -> str:
    """A header name compared: without a trailing bracket, spaces, ``_``/``-``, case."""
    return re.sub(r"[\s_\-:：]+", " ", _UNIT.sub("", name)).strip().casefold()


def suggest_mapping(path: str | Path, pipeline: Pipeline, sheet: str | None = None,
                    encoding: str | None = None) -> str:
    """The mapping TOML for a file (see the module docstring); ImportSetupError if the
    file cannot be read."""
    table = read_table(path, encoding, None, sheet)
    columns = _place_fields(table.header)
    stage_col = columns.get("stage")
    shape = "events" if stage_col and "timestamp" in columns else "milestones"
    if shape == "milestones":
        for name in EVENT_ONLY:
            columns.pop(name, None)
    milestones = _place_stages(table.header, pipeline, set(columns.values())) if shape == "milestones" else {}
    rows = list(table.rows())
    lines = [f"# Mapping suggested for {Path(path).name}: review it, then",
             f"#   orderboard import {Path(path).name} --mapping THIS_FILE.toml"]
    if table.header_line != 1:
        lines.append(f"# The header is on line {table.header_line}; the lines above it are skipped "
                     f"(header_row = {table.header_line} says so explicitly).")
    if table.encoding not in (None, "utf-8", "utf-8-sig"):
        lines.append(f"# Read as {table.encoding} text (found from the file; encoding = \"...\" overrides).")
    if table.totals:
        lines.append("# Totals row(s) left out: " + ", ".join(f"line {n} ({w})" for n, w in table.totals))
    lines += [f'shape = "{shape}"', f'timezone = "{pipeline.timezone}"']
    if sheet is not None:
        lines.append(f"sheet = {_q(sheet)}")
    date_cols = [c for f, c in columns.items() if f in ("promised", "timestamp")] + list(milestones.values())
    lines += _date_order(table, rows, date_cols)
    promised = columns.get("promised")
    if promised and _all_midnight(table, rows, promised):
        lines.append("promised_is_date = true  # promised values have no time of day: the end of that day")
    fill = _fill_down(table, rows, columns.get("order_number"))
    if fill:
        lines.append(f"fill_down = [{_q(fill)}]  # order numbers given once for several rows (merged cells)")
    lines += ["", "[columns]"]
    lines += [f"{field} = {_q(column)}" for field, column in columns.items()]
    if "order_number" not in columns:
        lines.append('# order_number = "?"  # REQUIRED: no column is named like an order number')
    if shape == "milestones":
        lines += ["", "[milestones]"]
        lines += [f"{stage} = {_q(column)}" for stage, column in milestones.items()]
        if not milestones:
            lines.append('# placed = "?"  # no column is named like a pipeline stage')
    elif stage_col is not None:  # the events shape always has its stage column
        lines += _stage_values(table, rows, stage_col, pipeline)
        if "event_type" in columns:
            lines += _event_type_values(table, rows, columns["event_type"])
    placed = set(columns.values()) | set(milestones.values())
    unplaced = [c for c in table.header if c and c not in placed]
    lines.append("")
    if unplaced:
        lines.append("# Not placed: " + ", ".join(unplaced))
        lines.append("# (add any that means one of the fields above under [columns] or [milestones])")
    else:
        lines.append("# Every column is placed.")
    return "\n".join(lines) + "\n"


def _place_fields(header: list[str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for field, names in NAMES.items():
        wanted = {normal(n) for n in names}
        for column in header:
            if column and column not in taken and normal(column) in wanted:
                columns[field] = column
                taken.add(column)
                break
    return columns


def _place_stages(header: list[str], pipeline: Pipeline, taken: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for stage in pipeline.stages:
        words = {stage.code, stage.label_zh, stage.label_en, *STAGE_WORDS.get(stage.code, ())}
        names = {normal(w) for w in words} | {normal(w + s) for w in words for s in SUFFIXES} | {
            normal(f"{w} {s}") for w in words for s in SUFFIXES}
        for column in header:
            if column and column not in taken and normal(column) in names:
                found[stage.code] = column
                taken.add(column)
                break
    return found


def _stage_values(table: Table, rows: list, column: str, pipeline: Pipeline) -> list[str]:
    """``[stages]`` entries for the stage names found in the stage column."""
    i = table.header.index(column)
    values = list(dict.fromkeys(v for _, r in rows if i < len(r) and (v := text(r[i]))))
    lines, unknown = ["", "[stages]"], []
    for value in values:
        key = normal(value)
        code = next((s.code for s in pipeline.stages
                     if key in {normal(w) for w in (s.code, s.label_zh, s.label_en,
                                                    *STAGE_WORDS.get(s.code, ()))}), None)
        if code is None:
            unknown.append(value)
        elif value != code:
            lines.append(f"{_q(value)} = \"{code}\"")
    if unknown:
        lines.append(f"# stage names not placed (rows with them are rejected): {', '.join(unknown)}")
    return lines


def _event_type_values(table: Table, rows: list, column: str) -> list[str]:
    """``[event_types]`` entries for the values found in the event type column: a
    lifecycle column's ``complete`` enters the stage and its other transitions are
    skipped (module docstring); in any other column a value that is not one of the
    store's event types is named, since rows with it would be rejected."""
    i = table.header.index(column)
    values = list(dict.fromkeys(v for _, r in rows if i < len(r) and (v := text(r[i]))))
    lines = ["", "[event_types]"]
    if normal(column) in {normal(n) for n in LIFECYCLE}:
        lines.append("# a lifecycle column: the completion of an activity is its event (it enters the")
        lines.append("# stage); the other transitions are left out and counted (\"note\" would keep them)")
        for key in dict.fromkeys(v.casefold() for v in values):
            lines.append(f"{_q(key)} = \"{'enter' if key == 'complete' else SKIP}\"")
        return lines
    unknown = [v for v in values if v.casefold() not in EVENT_TYPES]
    if unknown:
        lines.append("# values that are not one of " + ", ".join(EVENT_TYPES)
                     + f" (rows with them are rejected unless mapped here): {', '.join(unknown)}")
    return lines if len(lines) > 2 else []


def _date_order(table: Table, rows: list, columns: list[str]) -> list[str]:
    """``date_order`` when year-last dates are found: what unambiguous ones say, or a
    line to fill in."""
    seen_ambiguous, order, example = None, None, None
    for column in columns:
        i = table.header.index(column)
        for _, r in rows:
            v = r[i] if i < len(r) else None
            if not isinstance(v, str):
                continue
            m = _XXY.fullmatch(v.strip())
            if not m:
                continue
            first, second = int(m[1]), int(m[2])
            if first > 12 >= second:
                order, example = "dmy", (column, v.strip())
            elif second > 12 >= first:
                order, example = "mdy", (column, v.strip())
            elif seen_ambiguous is None:
                seen_ambiguous = (column, v.strip())
    if order is not None and example is not None:
        return [f'date_order = "{order}"  # from {example[0]} {example[1]!r}']
    if seen_ambiguous is not None:
        return [f'# date_order = "dmy"  # REQUIRED, "dmy" or "mdy": {seen_ambiguous[0]} has '
                f'{seen_ambiguous[1]!r}, which reads both ways']
    return []


def _all_midnight(table: Table, rows: list, column: str) -> bool:
    i = table.header.index(column)
    seen = False
    for _, r in rows:
        try:
            reading = parse_timestamp(r[i] if i < len(r) else None, None, "dmy")
        except Exception:  # noqa: BLE001 - a bad value is the import's business
            continue
        if reading is None:
            continue
        seen = True
        if not (reading.date_only or reading.value.time() == time()):
            return False
    return seen


def _fill_down(table: Table, rows: list, column: str | None) -> str | None:
    """The order column, when it is empty on rows below a value (a CSV saved from merged
    cells); XLSX merges are read as such and need no entry."""
    if column is None or table.kind != "csv":
        return None
    i = table.header.index(column)
    seen_value = False
    for _, r in rows:
        v: Any = r[i] if i < len(r) else None
        if text(v) is None and seen_value:
            return column
        seen_value = seen_value or text(v) is not None
    return None


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

