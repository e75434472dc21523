"""Importers: CSV and XLSX files in two shapes, described by a mapping file.

- ``events`` (long): one row per event (order id, stage, timestamp, ...).
- ``milestones`` (wide): one row per order, one timestamp column per stage.

Modules: ``mapping`` (the mapping TOML), ``reading`` (CSV/XLSX rows with line numbers),
``timestamps`` (naive local -> UTC, DST handling), ``attributes`` (order columns),
``milestones`` and ``eventlog`` (one row -> records), ``run`` (batches through
``datasource.ingest.ingest``, the rejects and warnings files, the summary line) and
``quality`` (listing stored data-quality findings).
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
