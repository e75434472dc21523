"""Chart export timing: one kaleido export browser per process (dashboard.export).

    python bench/bench_export.py sqlite:///path/to/demo.db 2026-W47

Builds the weekly report of the week, exports each review chart as PNG, SVG and PDF three
times and prints the median and worst time per format, the first (browser start) export
and the whole PDF report.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone

from dashboard.export import figure_bytes, stop_export_server
from dashboard.report.charts import CHART_IDS, review_figure
from dashboard.report.pdf import report_pdf
from metrics.review import build_weekly_report
from datasource.pipeline import default_pipeline
from datasource.store import make_engine
from metrics.window import Window


def main(url: str, week: str) -> None:
    pipeline = default_pipeline()
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    report = build_weekly_report(engine, pipeline, Window.iso_week(week, pipeline.timezone), now)
    print(f"build the report: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    figure_bytes(review_figure(report, "weeks", "en"), "png")
    print(f"first export (starts the browser): {time.perf_counter() - started:.2f} s")
    times: dict[str, list[float]] = {"png": [], "svg": [], "pdf": []}
    for _ in range(3):
        for chart in CHART_IDS:
            for fmt, seen in times.items():
                fig = review_figure(report, chart, "en")
                started = time.perf_counter()
                figure_bytes(fig, fmt)
                seen.append(time.perf_counter() - started)
    for fmt, seen in times.items():
        print(f"{fmt}: median {statistics.median(seen):.3f} s, max {max(seen):.3f} s (n={len(seen)})")
    started = time.perf_counter()
    report_pdf(report, "en")
    print(f"PDF report with 5 charts: {time.perf_counter() - started:.2f} s")
    stop_export_server()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
