"""The weekly review report: the data (``weekly``), its PDF (``pdf``) and workbook (``xlsx``)."""
