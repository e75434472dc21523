"""Listing the data-quality findings stored by imports (``orderboard quality``)."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from datasource.schema import DataQualityFinding


def finding_counts(engine: Engine) -> list[tuple[str, int]]:
    """``(kind, number of findings)`` for every kind stored, most frequent first, then by kind."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(DataQualityFinding.kind, func.count())
            .group_by(DataQualityFinding.kind)
        ).all()
    return sorted(((k, int(n)) for k, n in rows), key=lambda r: (-r[1], r[0]))


def findings_of_kind(engine: Engine, kind: str) -> list[dict]:
    """Every finding of one kind, ordered by source, line and order number."""
    t = DataQualityFinding
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.order_number, t.kind, t.detail, t.source, t.line, t.found_at)
            .where(t.kind == kind)
            .order_by(t.source, t.line, t.order_number)
        ).all()
    return [
        {"order_number": r.order_number, "kind": r.kind, "detail": r.detail,
         "source": r.source, "line": r.line, "found_at": r.found_at.isoformat()}
        for r in rows
    ]


def render_quality(engine: Engine, kind: str | None = None, as_json: bool = False) -> str:
    """The text ``orderboard quality`` prints.

    Without ``kind``: one ``<count>  <kind>`` line per kind and a total (JSON: a list of
    ``{"kind", "count"}``). With ``kind``: one line per finding, ``<order>  line <n> of
    <source>: <detail>`` (JSON: the list of findings).
    """
    if kind is None:
        counts = finding_counts(engine)
        if as_json:
            return json.dumps([{"kind": k, "count": n} for k, n in counts], indent=2)
        from datasource.importers.history import change_count

        changes = change_count(engine)
        changed = (f"\n{changes} values changed by later imports (see: orderboard history)"
                   if changes else "")
        if not counts:
            return "no data-quality findings" + changed
        width = max(len(str(n)) for _, n in counts)
        lines = [f"{n:>{width}}  {k}" for k, n in counts]
        lines.append(f"{sum(n for _, n in counts)} findings of {len(counts)} kinds")
        return "\n".join(lines) + changed
    found = findings_of_kind(engine, kind)
    if as_json:
        return json.dumps(found, indent=2, ensure_ascii=False)
    if not found:
        return f"no findings of kind {kind!r}"
    lines = [
        f"{f['order_number'] or '-'}  line {f['line'] if f['line'] is not None else '?'} of "
        f"{f['source'] or '?'}: {f['detail']}"
        for f in found
    ]
    lines.append(f"{len(found)} findings of kind {kind}")
    return "\n".join(lines)
