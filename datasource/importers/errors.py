"""The two ways an import can go wrong: the whole file, or one row."""

from __future__ import annotations


class ImportSetupError(Exception):
    """The file or the mapping cannot be used at all (unreadable, wrong encoding, a mapped
    column missing, not a spreadsheet, empty, an invalid mapping). Raised before anything
    is written; ``str()`` is one line meant for the user."""


class RowRejected(Exception):
    """One row cannot be stored; ``str()`` is the reason written to the rejects file."""


class RowSkipped(Exception):
    """The mapping leaves this row out: its event type is mapped to ``skip``. ``str()``
    is the event type as the file writes it. Counted, neither stored nor rejected."""
