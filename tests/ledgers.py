"""Ledgers as people keep them, generated for the tests: a GBK CSV milestone ledger and
an XLSX event ledger, each with a title row, merged order numbers, a totals row, Chinese
headers and every date style the importer reads. The expected orders are worked out by
hand in the tests (Asia/Shanghai is UTC+8 all year).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl

CSV_HEADER = "订单号,客户,业务员,数量,金额,交期,下单时间,审核时间,发货时间,签收时间"
# line: the row as Excel on a Chinese Windows saves it (empty cells under a merged
# order number; a title and a note above the header; a totals row at the bottom).
CSV_ROWS = {
    1: "2026年11月 订单交付台账,,,,,,,,,",
    2: "制表：王芳,,,,,,,,,",
    3: CSV_HEADER,
    4: "SO-1001,华东机电,王芳,10,1200.5,2026/11/10,2026/11/3 9:00,2026-11-3 10:30,2026.11.05,2026年11月8日 下午3:00",
    5: "SO-1002,南方电子,李强,5,800,2026-11-12,2026年11月4日 上午9:05,46330.5,2026/11/11 17:45,2026年11月13日 14时30分",
    6: "SO-1003,北方重工,王芳,3,300,2026年11月6日,46331,,,",
    7: ",,,,,,,2026/11/5 下午2:00,07/11/2026 09:00,",
    8: "SO-1004,东方物流,李强,2,0,13/11/2026,2026-11-09 08:00:00,,,",
    9: "SO-1005,,王芳,1,99.9,2026/11/20,2026/11/10 上午12:30,,,",
    10: "SO-1006,西部机械,李强,两件,100,2026/11/25,2026/11/12 9:00,,,",
    11: ",,,,,,,,,",
    12: "合计,,,21,2400.4,,,,,",
}


def write_csv_ledger(path: Path, changes: dict[int, dict[int, str]] | None = None) -> Path:
    """The CSV ledger in GBK; ``changes``: line -> {column index: new cell}."""
    lines = []
    for n, row in CSV_ROWS.items():
        cells = row.split(",")
        for i, value in (changes or {}).get(n, {}).items():
            cells[i] = value
        lines.append(",".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def write_xlsx_ledger(path: Path) -> Path:
    """The XLSX event ledger: one row per stage reached, the order's number, customer and
    promised date merged over its rows."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "发货记录"
    ws.append(["2026年11月 订单流转记录"])
    ws.merge_cells("A1:F1")
    ws.append(["订单编号", "客户", "承诺日期", "环节", "时间", "操作人"])
    ws.append(["X-1", "华东机电", datetime(2026, 11, 12), "下单", datetime(2026, 11, 2, 9, 0), "王芳"])  # row 3
    ws.append([None, None, None, "审核", 46328.4375, "李强"])                    # a number cell: 2026-11-02 10:30
    ws.append([None, None, None, "付款", "2026年11月2日 下午4:15", "李强"])
    ws.append([None, None, None, "出库", "2026/11/4 8:00", "赵六"])               # row 6
    ws.append(["X-2", "南方电子", "2026.11.20", "下单", "46330", "王芳"])         # serial as text
    ws.append([None, None, None, "审核", "2026-11-5 10:00", "李强"])              # row 8
    ws.append(["合计", "2 单", None, None, None, None])                            # row 9
    for cells in ("A3:A6", "B3:B6", "C3:C6", "A7:A8", "B7:B8", "C7:C8"):
        ws.merge_cells(cells)
    ws["C3"].number_format = "yyyy/m/d"
    ws["E3"].number_format = "yyyy/m/d h:mm"
    book.save(path)
    return path
