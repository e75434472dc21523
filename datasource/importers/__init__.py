"""Importers: CSV and XLSX files in two shapes, described by a mapping file.

- ``events`` (long): one row per event (order id, stage, timestamp, ...).
- ``milestones`` (wide): one row per order, one timestamp column per stage.

Modules: ``mapping`` (the mapping TOML), ``encoding`` (the text of a CSV), ``reading``
(CSV/XLSX rows with line numbers: header found under title rows, merged cells, totals
row), ``timestamps`` (dates as ledgers write them; naive local -> UTC, DST handling),
``attributes`` (order columns), ``milestones`` and ``eventlog`` (one row -> records),
``batch`` (rows merged per order; what a later file changes), ``run`` (batches through
``datasource.ingest.ingest``, the rejects and warnings files, the summary line),
``lock`` (one import per store at a time), ``suggest`` (a mapping from a file's
header), ``quality`` (stored data-quality findings) and ``history`` (recorded changes).
"""

from datasource.importers.errors import ImportSetupError, RowRejected
from datasource.importers.mapping import Mapping, load_mapping
from datasource.importers.run import ImportReport, import_file, prepare_import

__all__ = [
    "ImportReport",
    "ImportSetupError",
    "Mapping",
    "RowRejected",
    "import_file",
    "load_mapping",
    "prepare_import",
]
