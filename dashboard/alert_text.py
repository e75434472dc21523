"""What an alert is about and what it says, in the page's language (the ``/alerts`` page
and the wall's alerts view).

An alert instance keeps its facts as labels and one number (``value``, as of its last
change: see ``metrics.alert_rules`` for each kind's number) besides an English
``summary`` for the messages. The screens say the same from the labels and the number,
in one language; the configuration's rule names, the data's order numbers and names
are shown as they are. A kind this module does not know shows its stored summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dashboard.formatting import MISSING, duration, is_missing, number, percent
from dashboard.words import kind_label, pick, word
from datasource.pipeline import Pipeline
from metrics.alert_rules import KINDS
from metrics.catalog import Catalog


def _w(key: str, lang: str, **values: object) -> str:
    return word("alerts", key, lang, **values)


def stage_label(pipeline: Pipeline, code: object, lang: str) -> str:
    if not code:
        return ""
    try:
        stage = pipeline.stage(str(code))
    except KeyError:
        return str(code)
    return pick((stage.label_zh, stage.label_en), lang)


def stage_namer(pipeline: Pipeline, lang: str) -> Callable[[str], str]:
    return lambda code: stage_label(pipeline, code, lang)


def subject(labels: Mapping[str, str], rule_kind: str, lang: str, stage_name: Callable[[str], str],
            catalog: Catalog, compact: bool = False) -> str:
    """What the alert is about: ``PO-1 · 备货``, ``PO-1 · 缺料异常 #12``, ``延误率 · 生产``
    (``stage_name`` names a stage code in the language); ``compact`` (a wall's list)
    leaves out the words around an exception's kind: ``PO-1 · 缺料``."""
    stage = stage_name(labels["stage"]) if labels.get("stage") else ""
    if labels.get("exception"):
        kind = kind_label(labels.get("kind", ""), lang)
        if compact:
            return " · ".join(p for p in (labels.get("order", ""), kind) if p)
        return _w("what_exception", lang, id=labels["exception"], kind=kind, order=labels.get("order", ""))
    if labels.get("order"):
        return " · ".join(p for p in (labels["order"], stage) if p)
    if labels.get("metric"):
        metric = catalog[labels["metric"]].label(lang) if labels["metric"] in catalog else labels["metric"]
        scope = labels.get("scope", "")
        return " · ".join(p for p in (metric, stage, "" if scope == "all" else scope) if p)
    return rule_kind


def whose(labels: Mapping[str, str]) -> str:
    """Who is responsible, most direct first: the exception's owner, the order's owner,
    the person at the stage, the stage's department (as many as are known)."""
    names = [labels.get(k, "") for k in ("exception_owner", "owner", "operator", "department")]
    return ", ".join(dict.fromkeys(n for n in names if n)) or MISSING


def first_responsible(labels: Mapping[str, str]) -> str:
    """The one name a wall has room for (see ``whose``)."""
    return whose(labels).split(", ")[0]


def kinds_text(lang: str) -> str:
    """The rule kinds there are, in words: "Rule kinds: over a stage's SLA, order overdue, ..."."""
    sep = "、" if lang == "zh" else ", "
    return _w("kinds_list", lang, kinds=sep.join(_w(f"kind_{k}", lang) for k in KINDS))


def status_word(status: str, lang: str) -> str:
    return word("alerts", f"status_{status}", lang, default=(status, status))


def severity_word(severity: str, lang: str) -> str:
    return word("alerts", f"severity_{severity}", lang, default=(severity, severity))


def metric_value(catalog: Catalog, name: str, value: float | None, lang: str) -> str:
    if is_missing(value):
        return MISSING
    unit = catalog[name].unit if name in catalog else ""
    if unit == "ratio":
        return percent(value)
    if unit == "h":
        return duration(value, lang)
    return number(value, 0 if float(value or 0).is_integer() else 2)


def said(rule_kind: str, labels: Mapping[str, str], value: float | None, summary: str, lang: str,
         pipeline: Pipeline, catalog: Catalog) -> str:
    """What the alert says, from its kind, labels and number."""
    if is_missing(value) and rule_kind != "metric":
        return summary
    h = duration(value, lang)
    if rule_kind == "stage_sla":
        code = labels.get("stage", "")
        try:
            sla_h = pipeline.stage(code).sla_hours
        except KeyError:
            return summary
        stage = stage_label(pipeline, code, lang)
        if value is not None and sla_h and value <= sla_h:
            return _w("said_stage_sla_share", lang, stage=stage, h=h, sla=duration(sla_h, lang),
                      share=percent(value / sla_h, 0))
        return _w("said_stage_sla", lang, stage=stage, h=h, sla=duration(sla_h, lang))
    if rule_kind in ("overdue", "due_soon", "at_risk", "exception_open"):
        return _w(f"said_{rule_kind}", lang, h=h)
    if rule_kind == "metric" and labels.get("metric"):
        name = labels["metric"]
        label = catalog[name].label(lang) if name in catalog else name
        return _w("said_metric", lang, metric=label, value=metric_value(catalog, name, value, lang))
    return summary
