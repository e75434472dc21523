"""The font of the PDF report: Noto Sans SC, brought by the ``justmytype-intl-cjk`` package,
embedded in every PDF. Nothing is looked up on the machine, so a report reads the same on
a server with no CJK font, with only Droid Sans Fallback (no Latin letters or digits), or
with a full set: Chinese, Latin letters and digits all come from this one font.

Why this font: it is TrueType (glyf outlines; reportlab embeds TrueType but not CFF, which
rules out the OTF builds of Noto Sans CJK), covers simplified Chinese together with Latin,
digits and the punctuation the report uses, and its licence (SIL OFL 1.1, embedding
allowed: OS/2 fsType 0) lets every PDF carry it.

The packaged file is a variable font whose default instance is the Thin weight, which is
what reportlab would draw. So each document gets its own small static font: the glyphs of
the characters it draws, cut from the variable font (fontTools subset) and set to the
regular weight (fontTools instancer). That takes about a second, where instancing the
whole 65,000-glyph font takes a minute. Documents with the same characters share one
registered font; a font is some 10-150 KB and stays registered for the process's life
(reportlab has no way to unregister one), which a few distinct reports a day never notice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

log = logging.getLogger(__name__)

FONT_PACKAGE = "justmytype_intl_cjk"
FONT_RESOURCE = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")
FONT_PREFIX = "OrderBoardSans"
WEIGHT = 400  # regular
# Always in the font whatever the text: page numbers, and the ASCII that table cells,
# markup and number formats use.
BASE_CHARACTERS = frozenset(chr(c) for c in range(0x20, 0x7F))
# Tables that reportlab does not use; dropping them first makes cutting 5-10x faster
# (the layout tables of a CJK font are large to parse).
UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx")

_lock = threading.Lock()


def font_file() -> Path:
    """The packaged variable TrueType font (Noto Sans SC)."""
    resource = files(FONT_PACKAGE).joinpath(*FONT_RESOURCE)
    return Path(str(resource))


@cache
def font_characters() -> frozenset[str]:
    """Every character the packaged font has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font_file()), lazy=True) as font:
        return frozenset(chr(c) for c in font.getBestCmap())


def drawn_characters(texts: Iterable[str]) -> frozenset[str]:
    """The characters of ``texts`` that need a glyph (not line breaks or tabs)."""
    return frozenset(c for text in texts for c in text if c.isprintable()) | BASE_CHARACTERS


def font_name(characters: frozenset[str]) -> str:
    """The registered name (and PostScript name) of the font for ``characters``."""
    digest = hashlib.sha1("".join(sorted(characters)).encode("utf-8")).hexdigest()[:12]
    return f"{FONT_PREFIX}-{digest}"


def static_font(characters: frozenset[str], name: str, weight: int = WEIGHT) -> bytes:
    """A static TrueType font with the glyphs of ``characters`` at ``weight``, named ``name``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(font_file()))
    for tag in UNUSED_TABLES:
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True  # a missing glyph shows as a box, never as nothing
    options.name_IDs = [1, 2, 3, 4, 6]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
    # reportlab keys fonts by PostScript name: two subsets sharing one would be mixed up.
    names = font["name"]
    names.setName(name, 6, 3, 1, 0x409)
    names.setName(name, 4, 3, 1, 0x409)
    buffer = io.BytesIO()
    font.save(buffer)
    font.close()
    return buffer.getvalue()


def register_document_font(texts: Iterable[str]) -> str:
    """The name of a registered font that draws every character of ``texts`` (and ASCII).

    Characters the packaged font lacks are logged; they draw as a box.
    """
    characters = drawn_characters(texts)
    name = font_name(characters)
    with _lock:  # Dash serves callbacks from several threads
        if name in pdfmetrics.getRegisteredFontNames():
            return name
        missing = characters - font_characters()
        if missing:
            log.warning("the report font has no glyph for %s", " ".join(sorted(missing)))
        data = static_font(characters, name)
        pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
    return name


def flowable_texts(flowables: Iterable[Flowable]) -> Iterator[str]:
    """Every text the flowables draw (paragraph markup included: its tags are ASCII)."""
    for item in flowables:
        if isinstance(item, Paragraph):
            yield item.text
        elif isinstance(item, Table):
            for row in item._cellvalues:
                for cell in row:
                    if isinstance(cell, str):
                        yield cell
                    elif isinstance(cell, Flowable):
                        yield from flowable_texts([cell])
                    elif isinstance(cell, (list, tuple)):
                        yield from flowable_texts(cell)
        elif isinstance(item, KeepTogether):
            yield from flowable_texts(item._content)
