"""The CMS-1500 as a PDF: the form drawn once, each claim's values placed on it, page by page.

For payers that still take paper and for billers who want to look at a claim. Deterministic on
purpose: the canvas is `invariant` (no creation date, fixed document id), so the same claims
give the same bytes. The static form is one PDF form XObject drawn once and placed on every
page, which keeps a 100-page render fast (bench/bench_cms1500.py measures it). Nothing here
logs: the pages are all PHI.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from hitclaims.core.claim import Claim
from hitclaims.formats.cms1500.fill import Put, claim_puts, page_lines, page_puts
from hitclaims.formats.cms1500.form import (
    BASELINE,
    BOXES,
    CAPTION_BOLD,
    CAPTION_FONT,
    CAPTIONS,
    CHECK_BOXES,
    COL,
    COURIER_ADVANCE,
    DATA_FONT,
    DATA_SIZE,
    DROP_OUT_RED,
    FIRST_LINE_ROW,
    FORM_COLS,
    FORM_NAME,
    FRAME_ROWS,
    GLYPH_INSET,
    GRID_SPACING,
    HEADER_EDGES,
    HEADER_ROWS,
    INK,
    LINE_COLUMN_EDGES,
    LINE_DOTTED_EDGES,
    LINE_FULL_EDGES,
    LINE_NPI_EDGE,
    LINE_NUMBER_EDGE,
    LINE_NUMBER_SIZE,
    LINES_PER_PAGE,
    MIN_DATA_SIZE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    ROW,
    RULES,
    SHADE,
    SHADES,
    SIDE_LABELS,
    Box,
    Caption,
    Field,
    Rule,
    edge_x,
    row_bottom,
    row_top,
)

__all__ = ["Placed", "place", "render_pdf"]

STAMPS: Final[dict[str, str]] = {
    "held": "HELD — NOT FOR SUBMISSION",
    "refused": "REFUSED — NOT FOR SUBMISSION",
}
STAMP_SIZE: Final = 40.0
STAMP_ANGLE: Final = 52.0  # degrees: along the page's diagonal
STAMP_ALPHA: Final = 0.3
# Not the form's red: a scanner drops red out, and the mark must survive a scan of the page.
STAMP_INK: Final = Color(0.15, 0.15, 0.15)


# --- drawing -----------------------------------------------------------------------------------------


def _caption(canvas: Canvas, caption: Caption) -> None:
    canvas.setFont(CAPTION_BOLD if caption.bold else CAPTION_FONT, caption.size)
    x = edge_x(caption.edge)
    y = row_bottom(caption.row) + 1.5 if caption.low else row_top(caption.row) - caption.size - 0.4
    if caption.align == "left":
        canvas.drawString(x, y, caption.text)
    elif caption.align == "center":
        canvas.drawCentredString(x, y, caption.text)
    else:
        canvas.drawRightString(x, y, caption.text)


def _box(canvas: Canvas, box: Box) -> None:
    x0, x1 = edge_x(box.left), edge_x(box.right)
    y0, y1 = row_bottom(box.bottom), row_top(box.top)
    canvas.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)
    if box.caption:
        _caption(canvas, Caption(box.caption, box.left + 0.2, box.top))


def _rule(canvas: Canvas, rule: Rule) -> None:
    if rule.dotted:
        canvas.setDash(1, 1.5)
    else:
        canvas.setDash()
    y0 = row_top(rule.y0)
    y1 = row_top(rule.y1)
    canvas.line(edge_x(rule.x0), y0, edge_x(rule.x1), y1)


def _service_line_rules(canvas: Canvas) -> None:
    canvas.setDash()
    for index in range(LINES_PER_PAGE):
        data_row = FIRST_LINE_ROW + 2 * index
        canvas.line(edge_x(0), row_bottom(data_row), edge_x(FORM_COLS), row_bottom(data_row))
        for edge in LINE_COLUMN_EDGES:
            canvas.line(edge_x(edge), row_top(data_row), edge_x(edge), row_bottom(data_row))
        for edge in LINE_FULL_EDGES:
            canvas.line(edge_x(edge), row_top(data_row - 1), edge_x(edge), row_bottom(data_row))
        _caption(canvas, Caption("NPI", LINE_NPI_EDGE, data_row, low=True, size=5.5))
        # The line number straddles the line's two halves, as on the printed form.
        canvas.setFont(CAPTION_BOLD, LINE_NUMBER_SIZE)
        canvas.drawRightString(
            edge_x(LINE_NUMBER_EDGE), row_top(data_row) - LINE_NUMBER_SIZE / 3, str(index + 1)
        )
    canvas.setDash(1, 1.5)
    for index in range(LINES_PER_PAGE):
        data_row = FIRST_LINE_ROW + 2 * index
        for edge in LINE_DOTTED_EDGES:
            canvas.line(edge_x(edge), row_top(data_row), edge_x(edge), row_bottom(data_row))
    canvas.setDash()
    first, last = HEADER_ROWS
    for edge in HEADER_EDGES:
        canvas.line(edge_x(edge), row_top(first), edge_x(edge), row_bottom(last))


def _side_labels(canvas: Canvas) -> None:
    x = edge_x(FORM_COLS) + 4
    for text, first, last in SIDE_LABELS:
        top, bottom = row_top(first) - 2, row_bottom(last) + 2
        canvas.line(x, top, x, bottom)
        canvas.line(x - 2, top, x + 2, top)
        canvas.line(x - 2, bottom, x + 2, bottom)
        canvas.saveState()
        canvas.translate(x + 8, (top + bottom) / 2)
        canvas.rotate(-90)
        canvas.setFont(CAPTION_BOLD, 6)
        canvas.drawCentredString(0, 0, text)
        canvas.restoreState()


def _check_boxes(canvas: Canvas) -> None:
    for col, row in CHECK_BOXES:
        x = edge_x(col - 1) - 0.3
        canvas.rect(x, row_bottom(row) + 1.8, COL + 0.6, ROW - 3.6, stroke=1, fill=0)


def _define_form(canvas: Canvas) -> None:
    """The blank 1500, once per document; every page places it with `doForm`."""
    canvas.beginForm(FORM_NAME)
    canvas.setFillColor(SHADE)
    for shade in SHADES:
        x0, x1 = edge_x(shade.left), edge_x(shade.right)
        canvas.rect(x0, row_bottom(shade.row), x1 - x0, ROW, stroke=0, fill=1)
    canvas.setStrokeColor(DROP_OUT_RED)
    canvas.setFillColor(DROP_OUT_RED)
    canvas.setLineWidth(0.5)
    for box in BOXES:
        _box(canvas, box)
    for caption in CAPTIONS:
        _caption(canvas, caption)
    for rule in RULES:
        _rule(canvas, rule)
    _service_line_rules(canvas)
    _check_boxes(canvas)
    _side_labels(canvas)
    canvas.setLineWidth(1.2)
    canvas.setDash()
    first, last = FRAME_ROWS
    bottom = row_bottom(last)
    canvas.rect(edge_x(0), bottom, FORM_COLS * COL, row_top(first) - bottom, stroke=1, fill=0)
    canvas.endForm()


@dataclass(frozen=True)
class Placed:
    """A value ready to draw: where, how big, with what character spacing, and what is shown."""

    x: float
    y: float
    size: float
    spacing: float
    text: str


def place(field: Field, text: str) -> Placed:
    """On the grid when the value fits its field; else smaller and unspaced; else cut to fit."""
    y = row_bottom(field.row) + BASELINE
    if len(text) <= field.width:
        first = field.col if field.align == "left" else field.col + field.width - len(text)
        return Placed(edge_x(first - 1) + GLYPH_INSET, y, DATA_SIZE, GRID_SPACING, text)
    x = edge_x(field.col - 1) + GLYPH_INSET
    room = field.width * COL - GRID_SPACING
    size = room / (len(text) * COURIER_ADVANCE)
    if size >= MIN_DATA_SIZE:
        return Placed(x, y, size, 0.0, text)
    return Placed(x, y, MIN_DATA_SIZE, 0.0, text[: int(room / (COURIER_ADVANCE * MIN_DATA_SIZE))])


def _draw_data(canvas: Canvas, puts: Iterable[Put]) -> None:
    # One text object for the page's data: far fewer PDF operators than a string per value.
    text = canvas.beginText()
    for field, value in puts:
        if not value:
            continue
        placed = place(field, value)
        text.setTextOrigin(placed.x, placed.y)
        text.setFont(DATA_FONT, placed.size)
        text.setCharSpace(placed.spacing)
        text.textOut(placed.text)
    canvas.drawText(text)


def _stamp(canvas: Canvas, status: str) -> None:
    text = STAMPS.get(status)
    if text is None:
        return
    canvas.saveState()
    canvas.setFillColor(STAMP_INK)
    canvas.setFillAlpha(STAMP_ALPHA)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(STAMP_ANGLE)
    canvas.setFont(CAPTION_BOLD, STAMP_SIZE)
    canvas.drawCentredString(0, -STAMP_SIZE / 3, text)
    canvas.restoreState()


def _draw_claim(canvas: Canvas, claim: Claim) -> None:
    same_on_every_page = claim_puts(claim)
    chunks = page_lines(claim)
    for page, lines in enumerate(chunks, start=1):
        canvas.doForm(FORM_NAME)
        canvas.setFillColor(INK)
        _draw_data(canvas, [*same_on_every_page, *page_puts(claim, lines, page, len(chunks))])
        _stamp(canvas, claim.status)
        canvas.showPage()


def render_pdf(claims: Sequence[Claim]) -> bytes:
    """All claims as one PDF, each claim on ceil(lines/6) pages (at least one)."""
    out = io.BytesIO()
    # invariant: no creation date and a fixed document id, so equal claims give equal bytes.
    canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    canvas.setTitle("CMS-1500 (02/12) claims")
    canvas.setCreator("hitclaims")
    _define_form(canvas)
    for claim in claims:
        _draw_claim(canvas, claim)
    if not claims:
        canvas.doForm(FORM_NAME)  # a PDF needs a page: an empty run prints one blank form
        canvas.showPage()
    canvas.save()
    return out.getvalue()
