"""The weekly review as a PDF (reportlab), A4 portrait, for the meeting and for sending round.

Page 1: the period, the KPIs against the previous period (change coloured by each
metric's good direction) and the trend over 8 periods. Then the other charts, the
per-stage table, the worst late orders, exceptions by kind and the metric definitions.
Charts are the review's figure builders rendered to PNG by ``dashboard.export``; when no
export browser is available the report is still written, with a note where each chart
would be.

Text is drawn in the font the package brings (``dashboard.report.fonts``), embedded in the
PDF: Chinese, Latin letters and digits never depend on the fonts of the machine that
writes or reads the report.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

from dashboard.export import ExportError, figure_bytes
from dashboard.figures.theme import THEMES
from dashboard.report.charts import CHARTS, review_figure
from dashboard.report.fonts import flowable_texts, register_document_font
from dashboard.report.tables import REPORT_DEFINITIONS, definitions_table, table_spec, table_text
from dashboard.report.text import cover_lines, empty_note, period_text, word
from metrics.review import WeeklyReport

log = logging.getLogger(__name__)

# Lays the story out to collect its text before the document's own font exists
# (a standard font: building flowables measures nothing).
PROVISIONAL_FONT = "Helvetica"
LIGHT = THEMES["light"]
INK = colors.HexColor(LIGHT.text)
MUTED = colors.HexColor(LIGHT.muted)
RULE = colors.HexColor(LIGHT.grid)
HEAD_FILL = colors.HexColor("#eef2f6")
VERDICT_COLOUR = {"better": colors.HexColor(LIGHT.good), "worse": colors.HexColor(LIGHT.critical)}
CONTENT_W = A4[0] - 30 * mm
CHART_PX = (1100, 520)  # CSS pixels of an exported chart; drawn CONTENT_W wide


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, textColor=INK)
    return {
        "body": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8.5, leading=11),
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=28, spaceAfter=2 * mm),
        "period": ParagraphStyle("period", parent=base, fontSize=14, leading=19, spaceAfter=1 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=17, spaceBefore=5 * mm,
                             spaceAfter=2.5 * mm, textColor=colors.HexColor(LIGHT.primary)),
        "note": ParagraphStyle("note", parent=base, fontSize=11, leading=15, borderColor=colors.HexColor(LIGHT.warning),
                               borderWidth=1, borderPadding=3 * mm, backColor=colors.HexColor("#fff8e5"),
                               spaceBefore=4 * mm, spaceAfter=5 * mm),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "cell_r": ParagraphStyle("cell_r", parent=base, fontSize=7.5, leading=9.5, alignment=TA_RIGHT),
        "def_name": ParagraphStyle("def_name", parent=base, fontSize=9, leading=12, spaceBefore=2 * mm),
        "def": ParagraphStyle("def", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
    }


def _grid(font: str, size: float, numeric_from: int = 1) -> list:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def kpi_block(report: WeeklyReport, lang: str, font: str) -> Table:
    headers, rows = table_text(report, "kpis", lang)
    table = Table([headers, *rows], colWidths=[70 * mm, 35 * mm, 35 * mm, 40 * mm], repeatRows=1)
    style = _grid(font, 10.5) + [("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
    for i, kpi in enumerate(report.kpis, start=1):
        colour = VERDICT_COLOUR.get(kpi.verdict)
        if colour is not None:
            style.append(("TEXTCOLOR", (3, i), (3, i), colour))
    table.setStyle(TableStyle(style))
    return table


def data_table(report: WeeklyReport, table_id: str, lang: str, font: str,
               styles: dict[str, ParagraphStyle], widths: list[float] | None = None,
               numeric_from: int = 1, empty: str | None = None) -> Flowable:
    """Table ``table_id`` under its heading, kept on one page when it fits."""
    heading = Paragraph(escape(table_spec(table_id).title(lang)), styles["h2"])
    headers, rows = table_text(report, table_id, lang)
    if not rows:
        return KeepTogether([heading, Paragraph(escape(empty or "—"), styles["muted"])])
    head = [Paragraph(escape(h), styles["cell_r" if i >= numeric_from else "cell"])
            for i, h in enumerate(headers)]
    table = Table([head, *rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(_grid(font, 7.5, numeric_from)))
    return KeepTogether([heading, table])


ChartImage = bytes | str  # PNG bytes, or the note saying why there is no chart


def chart_images(report: WeeklyReport, lang: str) -> dict[str, ChartImage]:
    """Each review chart as PNG bytes, or the note to print in its place.

    After the first failure the other charts get the same note without trying again: the
    cause (no browser, a hung one) is the same, and each try would wait again.
    """
    out: dict[str, ChartImage] = {}
    failure: str | None = None
    for spec in CHARTS:
        if failure is None:
            try:
                out[spec.id] = figure_bytes(review_figure(report, spec.id, lang, "light"), "png",
                                            *CHART_PX, scale=2)
                continue
            except ExportError as exc:
                log.warning("report charts not rendered: %s", exc)
                failure = f"{word('charts_unavailable', lang)}: {exc}"
        out[spec.id] = failure
    return out


def chart_flowables(report: WeeklyReport, chart_ids: Iterable[str], lang: str,
                    styles: dict[str, ParagraphStyle], images: dict[str, ChartImage]) -> list[Flowable]:
    out: list[Flowable] = []
    for spec in (c for c in CHARTS if c.id in set(chart_ids)):
        heading = Paragraph(escape(spec.title(lang)), styles["h2"])
        image = images[spec.id]
        if isinstance(image, str):
            out.append(KeepTogether([heading, Paragraph(escape(image), styles["note"])]))
            continue
        height = CONTENT_W * CHART_PX[1] / CHART_PX[0]
        out.append(KeepTogether([heading, Image(io.BytesIO(image), width=CONTENT_W, height=height)]))
    return out


def _cover(report: WeeklyReport, lang: str, font: str, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = [
        Paragraph(escape(word("title", lang)), styles["title"]),
        Paragraph(escape(period_text(report)), styles["period"]),
    ]
    details = [f"{k}: {v}" for k, v in cover_lines(report, lang)[1:] if k != "!"]
    flow.append(Paragraph(escape(" · ".join(details)), styles["muted"]))
    note = empty_note(report, lang)
    if note:
        flow.append(Paragraph(escape(note), styles["note"]))
    flow.append(Paragraph(escape(table_spec("kpis").title(lang)), styles["h2"]))
    flow.append(kpi_block(report, lang, font))
    return flow


def _definitions(lang: str, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = [Paragraph(escape(word("definitions", lang)), styles["h2"])]
    frame = definitions_table(lang, REPORT_DEFINITIONS)
    for row in frame.itertuples(index=False):
        label, name, unit, description = row
        flow.append(Paragraph(f"{escape(str(label))} <font color='#57606a'>({escape(str(name))}, "
                              f"{escape(str(unit))})</font>", styles["def_name"]))
        flow.append(Paragraph(escape(str(description)), styles["def"]))
    return flow


def _story(report: WeeklyReport, lang: str, font: str, images: dict[str, ChartImage]) -> list[Flowable]:
    styles = _styles(font)
    story: list[Flowable] = _cover(report, lang, font, styles)
    story += chart_flowables(report, ["weeks"], lang, styles, images)
    story.append(PageBreak())
    story += chart_flowables(report, ["days", "stage_time", "bottleneck", "exceptions"], lang, styles, images)
    story.append(data_table(report, "stages", lang, font, styles,
                            widths=[21 * mm] + [13.5 * mm] * 11))
    story.append(data_table(report, "late_orders", lang, font, styles,
                            widths=[25 * mm, 26 * mm, 14 * mm, 14 * mm, 19 * mm, 19 * mm, 19 * mm, 22 * mm, 22 * mm],
                            numeric_from=7, empty=word("no_late", lang)))
    story.append(data_table(report, "exceptions", lang, font, styles, widths=[50 * mm, 30 * mm, 30 * mm],
                            empty=word("no_exceptions", lang)))
    story += _definitions(lang, styles)
    return story


def report_pdf(report: WeeklyReport, lang: str = "en") -> bytes:
    """The PDF bytes of ``report`` in ``lang`` (labels zh or en)."""
    images = chart_images(report, lang)
    footer = f"OrderBoard · {word('title', lang)} · {period_text(report)}"
    # The story is laid out twice: once to learn its characters, then in the font cut for them.
    texts = [footer, *flowable_texts(_story(report, lang, PROVISIONAL_FONT, images))]
    font = register_document_font(texts)
    story = _story(report, lang, font, images)

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(15 * mm, 9 * mm, footer)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, str(doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm, initialFontName=font,
                            title=f"{word('title', 'en')} {report.label}", author="OrderBoard")
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
