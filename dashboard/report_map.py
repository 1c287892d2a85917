"""The map of the incident report, drawn with reportlab on a canvas: roads in
thin grey, the incident, each dispatched unit's track in its own colour with
a start mark (open circle), an end mark (filled circle) and its call sign, a
scale bar, a north arrow and a legend.

Positions go through :class:`geo.earth.LocalProjection` about the
middle of the review's extent (x scaled by cos(latitude)), then one scale in
points per metre for both axes, so the map keeps true shapes and the scale
bar holds everywhere on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from reportlab.lib.colors import Color, HexColor, white

from dashboard import report_text as txt
from geo.incident_review import Review, centre_of, dispatched_units
from geo.replay import Track, split_at_gaps

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from dashboard.report import Fonts

PALETTE = tuple(
    HexColor(c)
    for c in ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
)
INCIDENT = HexColor("#d62728")
ROAD_CAR, ROAD_FOOT = HexColor("#a0a0a0"), HexColor("#d0d0d0")
INK = HexColor("#222222")
SCALE_STEPS_M = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)


class Rect(NamedTuple):
    x: float
    y: float
    w: float
    h: float


class Frame:
    """WGS84 degrees -> page points for one extent fitted (centred) in a rectangle."""

    def __init__(self, extent: tuple[float, float, float, float], rect: Rect) -> None:
        self.proj = centre_of(extent)
        x0, y0 = self.proj.xy(extent[0], extent[1])
        x1, y1 = self.proj.xy(extent[2], extent[3])
        self.pt_per_m = min(rect.w / (x1 - x0), rect.h / (y1 - y0))
        self.ox = rect.x + (rect.w - (x1 - x0) * self.pt_per_m) / 2 - x0 * self.pt_per_m
        self.oy = rect.y + (rect.h - (y1 - y0) * self.pt_per_m) / 2 - y0 * self.pt_per_m

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.proj.xy(lon, lat)
        return self.ox + x * self.pt_per_m, self.oy + y * self.pt_per_m


def _polyline(c: Canvas, frame: Frame, coords: Sequence[Sequence[float]]) -> None:
    path = c.beginPath()
    path.moveTo(*frame.point(coords[0][0], coords[0][1]))
    for lon, lat in coords[1:]:
        path.lineTo(*frame.point(lon, lat))
    c.drawPath(path, stroke=1, fill=0)


def _roads(c: Canvas, frame: Frame, roads: Sequence[tuple[bool, list[list[float]]]]) -> None:
    for car, color, width in ((False, ROAD_FOOT, 0.3), (True, ROAD_CAR, 0.5)):
        c.setStrokeColor(color)
        c.setLineWidth(width)
        for is_car, coords in roads:
            if is_car == car and len(coords) >= 2:
                _polyline(c, frame, coords)


def _label(c: Canvas, x: float, y: float, text: str, font: str, color: Color) -> None:
    """A label on a white patch, so roads do not run through it."""
    width = c.stringWidth(text, font, 7.5)
    c.setFillColor(white)
    c.rect(x - 1, y - 2, width + 2, 9, stroke=0, fill=1)
    c.setFillColor(color)
    c.setFont(font, 7.5)
    c.drawString(x, y, text)


def _track(c: Canvas, frame: Frame, track: Track, color: Color, stale_s: float) -> None:
    """The track, broken at silences longer than ``stale_s``, with its marks."""
    c.setStrokeColor(color)
    c.setLineWidth(1.6)
    c.setLineJoin(1)
    c.setLineCap(1)
    for piece in split_at_gaps(track, stale_s):
        if len(piece) >= 2:
            _polyline(c, frame, [(f.lon, f.lat) for f in piece.fixes])
    first = track.fixes[0]
    c.setFillColor(white)
    c.circle(*frame.point(first.lon, first.lat), 2.8, stroke=1, fill=1)


def _end(c: Canvas, frame: Frame, track: Track, color: Color, call_sign: str, font: str) -> None:
    """The end mark and call sign, drawn over the incident (a unit on scene
    ends on it)."""
    x, y = frame.point(track.fixes[-1].lon, track.fixes[-1].lat)
    c.setStrokeColor(white)
    c.setLineWidth(0.8)
    c.setFillColor(color)
    c.circle(x, y, 3.2, stroke=1, fill=1)
    _label(c, x + 6, y - 10, call_sign, font, color)


def _incident(c: Canvas, frame: Frame, review: Review, font: str) -> None:
    x, y = frame.point(review.incident["lon"], review.incident["lat"])
    c.setStrokeColor(INCIDENT)
    c.setFillColor(white)
    c.setLineWidth(2.0)
    c.circle(x, y, 6, stroke=1, fill=1)
    c.setFillColor(INCIDENT)
    c.circle(x, y, 2.2, stroke=0, fill=1)
    _label(c, x + 8, y + 4, f"#{review.incident['id']}", font, INCIDENT)


def _scale_bar(c: Canvas, frame: Frame, rect: Rect, font: str) -> None:
    fits = [m for m in SCALE_STEPS_M if m * frame.pt_per_m <= rect.w / 5]
    metres = fits[-1] if fits else SCALE_STEPS_M[0]
    length, x, y = metres * frame.pt_per_m, rect.x + 10, rect.y + 10
    c.setFillColor(white)
    c.rect(x - 4, y - 4, length + 8, 18, stroke=0, fill=1)
    c.setStrokeColor(INK)
    c.setLineWidth(1.0)
    c.lines([(x, y, x + length, y), (x, y - 2, x, y + 3), (x + length, y - 2, x + length, y + 3)])
    c.setFillColor(INK)
    c.setFont(font, 7)
    c.drawString(x, y + 4, f"{metres / 1000:g} km" if metres >= 1000 else f"{metres} m")


def _north(c: Canvas, rect: Rect, font: str) -> None:
    x, y = rect.x + rect.w - 14, rect.y + rect.h - 26
    c.setFillColor(INK)
    path = c.beginPath()
    path.moveTo(x, y + 14)
    path.lineTo(x - 4, y + 2)
    path.lineTo(x + 4, y + 2)
    path.close()
    c.drawPath(path, stroke=0, fill=1)
    c.setFont(font, 7)
    c.drawCentredString(x, y - 7, "N")


def _legend(c: Canvas, rect: Rect, f: Fonts, language: str) -> None:
    x, y = rect.x + rect.w - 150, rect.y + 6
    c.setFillColor(white)
    c.rect(x - 4, y - 2, 148, 12, stroke=0, fill=1)
    c.setLineWidth(1.2)
    marks = ((INCIDENT, white, "incident"), (INK, white, "start"), (INK, INK, "end"))
    for stroke, fill, label in marks:
        c.setStrokeColor(stroke)
        c.setFillColor(fill)
        c.circle(x + 3, y + 3, 2.8, stroke=1, fill=1)
        c.setFillColor(INK)
        c.setFont(f.regular, 7)
        c.drawString(x + 9, y, txt.t(label, language))
        x += 48


def draw_map(
    c: Canvas,
    review: Review,
    rect: tuple[float, float, float, float],
    f: Fonts,
    stale_s: float,
    language: str = "en",
) -> None:
    """Draw the review's map into ``rect`` (x, y, width, height in points)."""
    box = Rect(*rect)
    frame = Frame(review.extent, box)
    c.saveState()
    clip = c.beginPath()
    clip.rect(*box)
    c.clipPath(clip, stroke=0, fill=0)
    c.setFillColor(HexColor("#fbfbf8"))
    c.rect(*box, stroke=0, fill=1)
    _roads(c, frame, review.roads)
    order = [u for u in dispatched_units(review.events) if review.tracks.get(u)]
    for n, unit_id in enumerate(order):
        _track(c, frame, review.tracks[unit_id], PALETTE[n % len(PALETTE)], stale_s)
    _incident(c, frame, review, f.bold)
    for n, unit_id in enumerate(order):
        call_sign = review.call_signs.get(unit_id, unit_id)
        _end(c, frame, review.tracks[unit_id], PALETTE[n % len(PALETTE)], call_sign, f.bold)
    _scale_bar(c, frame, box, f.regular)
    _north(c, box, f.regular)
    _legend(c, box, f, language)
    c.restoreState()
    c.setStrokeColor(INK)
    c.setLineWidth(0.6)
    c.rect(*box, stroke=1, fill=0)
