"""The one-page incident report as PDF (A4, reportlab). Pure: a
:class:`geo.incident_review.Review` and the station's settings in, bytes out.

The page: a title block (incident, type, priority, place, created time in the
station's time zone), a map of the window (roads from ``road_edges`` in thin
grey, the incident, each dispatched unit's track with start and end marks and
call sign; local equirectangular projection, x scaled by cos(latitude), stated
under the map), the timeline with operators, the response intervals against
their targets, and who was suggested against who was sent. Everything is
real PDF text (searchable); long lists end with "… N more" so the report
always fits one page. Chinese needs a font: see :func:`fonts`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from dashboard import report_text as txt
from dashboard.report_map import draw_map
from geo.incident_review import Review

PAGE_W, PAGE_H = A4
MARGIN = 36.0
MAP_H = 360.0
MAP_ASPECT = (PAGE_W - 2 * MARGIN) / MAP_H
"""Width / height of the map on the page: ``load_review`` fits the map to it."""
ROW_PT = 10.5
LEFT_W = 300.0  # the timeline column; intervals and suggestions take the rest
CJK_FONTS = (
    # Noto CJK (fonts-noto-cjk) has CFF outlines, which reportlab cannot embed;
    # it is tried first so a TrueType build of it would be used if installed.
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
GREY = HexColor("#555555")
INK = HexColor("#000000")
OVER = HexColor("#c62828")
WITHIN = HexColor("#2e7d32")


class Fonts(NamedTuple):
    regular: str
    bold: str


def fonts(language: str) -> Fonts:
    """Helvetica for English. For Chinese the first TrueType CJK font of
    :data:`CJK_FONTS` found is embedded (subset). Without one, Adobe's
    STSong-Light: a CID font reportlab names but does not embed, so the text
    stays Chinese and searchable, but a reader without Adobe's Chinese
    language pack (poppler without poppler-data) shows nothing."""
    if language != "zh":
        return Fonts("Helvetica", "Helvetica-Bold")
    name = _cjk_font()
    return Fonts(name, name)


@cache
def _cjk_font() -> str:
    for path in CJK_FONTS:
        if Path(path).exists():
            try:
                pdfmetrics.registerFont(TTFont("DispatchmapCJK", path))
            except TTFError:  # PostScript (CFF) outlines: not embeddable here
                continue
            return "DispatchmapCJK"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with "…" to at most ``width`` points in ``font`` at ``size``."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class Page:
    """A canvas with the report's fonts and a pen moving down the page."""

    def __init__(self, canvas: Canvas, f: Fonts, language: str) -> None:
        self.c, self.f, self.lang = canvas, f, language

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 8.0,
        bold: bool = False,
        width: float | None = None,
        color: Color | None = None,
    ) -> None:
        font = self.f.bold if bold else self.f.regular
        self.c.setFont(font, size)
        self.c.setFillColor(color or INK)
        self.c.drawString(x, y, fit(s, font, size, width) if width else s)

    def heading(self, x: float, y: float, label: str) -> float:
        self.text(x, y, txt.t(label, self.lang), 10.0, bold=True)
        return y - ROW_PT - 3


def _title(page: Page, review: Review, tz: ZoneInfo) -> float:
    """Title block at the top; returns the y under it."""
    i, lang, width = review.incident, page.lang, PAGE_W - 2 * MARGIN
    y = PAGE_H - MARGIN - 14
    page.text(MARGIN, y, txt.title(i, lang), 15.0, bold=True, width=width)
    y -= 16
    page.text(MARGIN, y, txt.place(i, lang), 9.0, width=width)
    y -= 12
    page.text(MARGIN, y, txt.created(i, tz, lang), 9.0, width=width)
    if i.get("notes"):
        y -= 12
        page.text(MARGIN, y, f"{txt.t('Notes', lang)}: {i['notes']}", 9.0, width=width)
    return y - 8


def _rows(
    page: Page,
    x: float,
    y: float,
    bottom: float,
    rows: Sequence[Sequence[str]],
    columns: Sequence[float],
    colors: Sequence[Color | None] = (),
    keep_last: int = 0,
) -> float:
    """Table rows from ``y`` down to ``bottom``, ``columns`` being the x
    offsets of the cells and then the table's width. Rows that do not fit
    give way to one "… N more" line, before the ``keep_last`` last rows
    (a timeline keeps its ending)."""
    room = max(1 + keep_last, int((y - bottom) / ROW_PT))
    cut = len(rows) > room
    head = rows[: room - 1 - keep_last] if cut else rows
    tail = rows[len(rows) - keep_last :] if cut and keep_last else []
    for n, row in enumerate([*head, None, *tail] if cut else head):
        if row is None:
            page.text(x, y, txt.more(len(rows) - len(head) - len(tail), page.lang), 8.0, color=GREY)
        else:
            color = colors[n] if n < len(colors) else None
            for k, cell in enumerate(row):
                width = columns[k + 1] - columns[k] - 4
                page.text(x + columns[k], y, cell, 8.0, width=width, color=color if k else None)
        y -= ROW_PT
    return y


def _timeline(page: Page, review: Review, tz: ZoneInfo, top: float, bottom: float) -> None:
    y = page.heading(MARGIN, top, "Timeline")
    rows = txt.timeline_rows(review.events, tz, review.call_signs, page.lang)
    _rows(page, MARGIN, y, bottom, rows, (0, 44, 160, 205, LEFT_W), keep_last=1)


def _intervals(
    page: Page, review: Review, targets: Mapping[str, float | None], x: float, top: float
) -> float:
    y = page.heading(x, top, "Response intervals")
    rows = txt.interval_rows(review.intervals, targets, page.lang)
    verdicts = {txt.t("over", page.lang): OVER, txt.t("ok", page.lang): WITHIN}
    colors = [verdicts.get(r[3], INK) for r in rows]
    header = [[txt.t(h, page.lang) for h in ("interval", "actual", "target", "")]]
    y = _rows(page, x, y, 0, header, (0, 110, 150, 190, 223), [GREY])
    return _rows(page, x, y, 0, rows, (0, 110, 150, 190, 223), colors)


def _suggestions(
    page: Page, review: Review, tz: ZoneInfo, x: float, top: float, bottom: float
) -> None:
    y = page.heading(x, top, "Suggested and sent")
    rows = txt.suggestion_rows(review.events, review.call_signs, tz, page.lang)
    if not rows:
        page.text(x, y, txt.t("no suggestion or dispatch logged", page.lang), 8.0, color=GREY)
        return
    _rows(page, x, y, bottom, rows, (0, 16, 60, 100, 223))


def incident_report_pdf(
    review: Review,
    targets: Mapping[str, float | None],
    tz: ZoneInfo,
    language: str = "en",
    stale_s: float = 60.0,
    generated_at: datetime | None = None,
) -> bytes:
    """The one-page A4 report of ``review`` as PDF bytes. ``targets`` are the
    interval targets in seconds (None: no target); times are shown in ``tz``;
    ``language`` "en" or "zh"; tracks are not drawn across silences longer
    than ``stale_s``. The same arguments give the same bytes."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(f"Incident {review.incident['id']} report")
    canvas.setAuthor("dispatchmap")
    page = Page(canvas, fonts(language), language)
    y = _title(page, review, tz)
    map_top = y
    map_rect = (MARGIN, map_top - MAP_H, PAGE_W - 2 * MARGIN, MAP_H)
    draw_map(page.c, review, map_rect, page.f, stale_s, language)
    y = map_top - MAP_H - 10
    page.text(
        MARGIN, y, txt.map_note(review.extent, language), 7.0, color=GREY, width=PAGE_W - 2 * MARGIN
    )
    y -= 18
    bottom = MARGIN + 14
    right = MARGIN + LEFT_W + 12
    _timeline(page, review, tz, y, bottom)
    y = _intervals(page, review, targets, right, y)
    _suggestions(page, review, tz, right, y - 8, bottom)
    page.text(
        MARGIN,
        MARGIN,
        txt.footer(review, tz, generated_at, language),
        7.0,
        color=GREY,
        width=PAGE_W - 2 * MARGIN,
    )
    if (chain := txt.chain_line(review, language)) is not None:
        # Under the footer, in the margin: the page's layout above stays as it was.
        page.text(MARGIN, MARGIN - 10, chain, 7.0, color=GREY, width=PAGE_W - 2 * MARGIN)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def report_filename(incident: Mapping[str, Any]) -> str:
    """The name a report of ``incident`` is saved under."""
    return f"incident-{incident['id']}-report.pdf"
