"""Every word the screens and reports show, in one place: one (zh, en) table per domain
(``common``, ``access``, ``admin``, ``filters``, ``overview``, ``stage``, ``order``, ``wall``,
``review``, ``figures``, ``kinds``, ``alerts``), read through one lookup, ``word(domain, key, lang)``.

Metric labels are not here: they live in ``metrics.catalog`` (``Metric.label(lang)``),
the one place for them. Labels that come with the data (a stage's ``label_zh`` and
``label_en`` from the pipeline) are chosen with ``pick``.

A page shows one language: ``?lang=zh|en`` in its URL, else the deployment's default
(the ``lang`` setting, ``datasource.settings``). Importing this package needs no Dash, so
the worker renders reports with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping

from dashboard.words import (
    access,
    admin,
    alerts,
    common,
    figures,
    filters,
    kinds,
    order,
    overview,
    review,
    stage,
    wall,
)
from datasource.settings import DEFAULT_LANG, LANGS

Pair = tuple[str, str]

TABLES: Mapping[str, Mapping[str, Pair]] = {
    "common": common.WORDS,
    "access": access.WORDS,
    "admin": admin.WORDS,
    "filters": filters.WORDS,
    "overview": overview.WORDS,
    "stage": stage.WORDS,
    "order": order.WORDS,
    "wall": wall.WORDS,
    "review": review.WORDS,
    "figures": figures.WORDS,
    "kinds": kinds.WORDS,
    "alerts": alerts.WORDS,
}
# The names of the languages, each in itself: what the language switch shows.
LANG_NAMES: Mapping[str, str] = {"zh": "中文", "en": "English"}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def pick(pair: Pair, lang: str) -> str:
    """The half of a (zh, en) pair for ``lang``."""
    return pair[LANGS.index(check_lang(lang))]


def word(domain: str, key: str, lang: str, default: Pair | None = None, **values: object) -> str:
    """The word ``key`` of ``domain`` in ``lang``, with ``{name}`` fields filled from
    ``values``. An unknown key is a KeyError naming it, unless a ``default`` pair is given
    (for codes from the data, such as exception kinds the table does not know)."""
    table = TABLES[domain]
    if key in table:
        pair = table[key]
    elif default is not None:
        pair = default
    else:
        raise KeyError(f"no word {key!r} in the {domain!r} table")
    text = pick(pair, lang)
    return text.format(**values) if values else text


def resolve_lang(requested: object, default: str = DEFAULT_LANG) -> str:
    """The language a URL asks for (``?lang=``) when it is one of ``LANGS``, else ``default``."""
    text = str(requested or "").strip().lower()
    return text if text in LANGS else default


def kind_label(kind: str, lang: str) -> str:
    """The label of an exception kind; unknown kinds read as their code with spaces."""
    spaced = kind.replace("_", " ")
    return word("kinds", kind, lang, default=(spaced, spaced.capitalize()))


__all__ = ["LANGS", "LANG_NAMES", "TABLES", "check_lang", "kind_label", "pick", "resolve_lang", "word"]
