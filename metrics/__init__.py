"""Metrics: pure computations over frames selected by ``datasource.queries``.

The layer between the store and the screens. It never imports dash, plotly, flask or
``dashboard``. Definitions are data (``metrics.definitions``); the wall summary is
``metrics.summary.compute_summary``; the orders behind each number come from
``metrics.drilldown``.
"""
