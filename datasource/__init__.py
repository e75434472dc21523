"""The order store: schema, pipeline, ingest, importers and the demo simulator.

The bottom layer: it never imports ``metrics`` or ``dashboard``.
"""
