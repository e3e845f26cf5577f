"""Fonts, paragraph styles and the page template shared by every document.

The Unicode fonts are registered once per process: parsing a TrueType file is the expensive
part, and each document then only embeds the subset of glyphs it uses. Paragraph styles are
module constants, never created per paragraph.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate, CondPageBreak, Frame, PageTemplate, Paragraph
from reportlab.platypus.tables import TableStyle

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

# Compressed streams stay binary: the ASCII85 armour reportlab adds by default only makes
# files larger and slower to write, and every PDF reader handles binary streams.
rl_config.useA85 = 0

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
_FILES = {FONT: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf",
          ITALIC: "DejaVuSans-Oblique.ttf", BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf"}

BRAND = colors.HexColor("#1f5c99")
INK = colors.HexColor("#1d2433")
MUTED = colors.HexColor("#5a6275")
RULE = colors.HexColor("#c9d3e0")
SHADE = colors.HexColor("#eef3f9")
LEVEL_SHADE = colors.HexColor("#dfe8f3")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

_lock = threading.Lock()
_registered = False
#: Code points every one of the four faces can draw; anything else becomes U+FFFD.
_covered: frozenset[int] = frozenset()
REPLACEMENT = "\ufffd"


class Font(TTFont):
    """A TrueType font that remembers the widths of the words it has measured.

    Line breaking measures every word of every paragraph, often twice (tables measure their
    cells before drawing them); the same words recur in every document. Widths depend only
    on the text, so one cache per font serves all documents and threads.
    """

    def __init__(self, name: str, filename: str):
        super().__init__(name, filename)
        self._unit_width = lru_cache(maxsize=65536)(self._measure)

    def _measure(self, text: str) -> float:
        return super().stringWidth(text, 1000)

    def stringWidth(self, text, size, encoding="utf8"):  # noqa: N802 (reportlab's name)
        if not isinstance(text, str):
            return super().stringWidth(text, size, encoding)
        return self._unit_width(text) * size / 1000


def register_fonts() -> None:
    """Register DejaVu Sans and its family with reportlab, once per process."""
    global _registered, _covered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        faces = []
        for name, filename in _FILES.items():
            font = Font(name, str(FONT_DIR / filename))
            pdfmetrics.registerFont(font)
            faces.append(set(font.face.charToGlyph))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC,
                                      boldItalic=BOLD_ITALIC)
        _covered = frozenset(set.intersection(*faces))
        _registered = True


def clean(text: object) -> str:
    """Text the fonts can draw: control and format characters removed, tabs as spaces, and
    characters the fonts lack (emoji, most non-Latin scripts' rarer signs) shown as U+FFFD."""
    register_fonts()
    value = "" if text is None else str(text)
    if value.isascii() and value.isprintable():
        return value
    out = []
    for char in value:
        if char == "\n":
            out.append(char)
            continue
        if char == "\t":
            out.append(" ")
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Cf", "Co"):
            continue
        out.append(char if ord(char) in _covered else REPLACEMENT)
    return "".join(out)


def markup(text: object) -> str:
    """Learner or instructor text as safe paragraph markup: escaped, line breaks kept."""
    return escape(clean(text).strip()).replace("\n", "<br/>")


# --- paragraph styles ---------------------------------------------------------------------

BODY = ParagraphStyle("Body", fontName=FONT, fontSize=9.5, leading=13.5, textColor=INK,
                      spaceAfter=5)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=8.5, leading=11.5, textColor=MUTED)
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=9, leading=12, spaceAfter=0)
CELL_BOLD = ParagraphStyle("CellBold", parent=CELL, fontName=BOLD)
CELL_RIGHT = ParagraphStyle("CellRight", parent=CELL, alignment=TA_RIGHT)
HEADER_CELL = ParagraphStyle("HeaderCell", parent=CELL, fontName=BOLD, textColor=colors.white)
TITLE = ParagraphStyle("Title", parent=BODY, fontName=BOLD, fontSize=20, leading=25,
                       textColor=BRAND, spaceAfter=4)
SUBTITLE = ParagraphStyle("Subtitle", parent=BODY, fontSize=12, leading=16, textColor=MUTED,
                          spaceAfter=10)
H1 = ParagraphStyle("H1", parent=BODY, fontName=BOLD, fontSize=14, leading=18,
                    textColor=BRAND, spaceBefore=14, spaceAfter=6, keepWithNext=1)
#: A heading followed by a long table: the table may start on the same page and split.
H1_BEFORE_TABLE = ParagraphStyle("H1BeforeTable", parent=H1, keepWithNext=0)
LABEL = ParagraphStyle("Label", parent=BODY, fontName=BOLD, spaceAfter=1, keepWithNext=1)
BULLET = ParagraphStyle("Bullet", parent=BODY, leftIndent=12, bulletIndent=2, spaceAfter=3,
                        bulletFontName=FONT)
# Set off by indent and colour, not italics: a third embedded face costs more than it adds.
QUOTE = ParagraphStyle("Quote", parent=BODY, leftIndent=14, rightIndent=14,
                       textColor=colors.HexColor("#33405a"))

TABLE = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("LEADING", (0, 0), (-1, -1), 12),
    ("TEXTCOLOR", (0, 0), (-1, -1), INK),
    ("FONTNAME", (0, 0), (-1, 0), BOLD),
    ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), BRAND),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
])
FACTS = TableStyle([
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTNAME", (0, 0), (0, -1), BOLD),
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("LEADING", (0, 0), (-1, -1), 12),
    ("TEXTCOLOR", (0, 0), (-1, -1), INK),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, -1), SHADE),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ("LEFTPADDING", (0, 0), (-1, -1), 6),
])


class Para(Paragraph):
    """A paragraph whose markup is parsed once per process and style, and whose lines are
    broken once per width.

    The same texts recur in every document (headings, the fixed explanations, the group's
    part of a session's debrief), and parsing is a tenth of the cost of a page. The parsed
    fragments are only read during layout, so documents and threads can share them.
    """

    _wrapped_width = None

    def _setup(self, text, style, bulletText, frags, cleaner):
        if frags is None and isinstance(text, str) and len(text) <= _PARSE_CACHE_TEXT:
            frags, style = _parsed(text, style, bulletText)
        super()._setup(text, style, bulletText, frags, cleaner)

    def wrap(self, availWidth, availHeight):
        # Line breaks depend on the width alone, and layout asks again for the same width
        # (tables measure cells, then draw them; kept-together groups are measured first).
        # A failed split throws the lines away (``blPara``); then they are broken again.
        if availWidth == self._wrapped_width and "blPara" in self.__dict__:
            return self.width, self.height
        size = super().wrap(availWidth, availHeight)
        self._wrapped_width = availWidth
        return size


_PARSE_CACHE_TEXT = 4000


@lru_cache(maxsize=4096)
def _parsed(text: str, style: ParagraphStyle, bullet_text):
    paragraph = Paragraph(text, style, bullet_text)
    return paragraph.frags, paragraph.style


class SectionHeading(Para):
    """A heading that becomes an outline entry (bookmark) where it lands on the page."""

    def __init__(self, text: str, style: ParagraphStyle, *, key: str, level: int = 0):
        super().__init__(markup(text), style)
        self.outline_title = clean(text).strip() or key
        self.outline_key = key
        self.outline_level = level


def heading(text: str, key: str) -> SectionHeading:
    return SectionHeading(text, H1, key=key, level=0)


def table_heading(text: str, key: str) -> list:
    """A heading for a section that is one long table: it starts on a new page only when
    fewer than a few rows would fit under it, instead of moving the whole table along."""
    return [CondPageBreak(90), SectionHeading(text, H1_BEFORE_TABLE, key=key, level=0)]


# --- page template ------------------------------------------------------------------------

PAGE_COUNT_FORM = "simdebriefPageCount"


class NumberedCanvas(pdfcanvas.Canvas):
    """Writes the total page count once, as a form every footer refers to: one pass, no
    second build of the document."""

    def save(self) -> None:
        pages = max(self.getPageNumber() - 1, 1)
        self.beginForm(PAGE_COUNT_FORM)
        self.setFont(FONT, 8)
        self.setFillColor(MUTED)
        self.drawString(0, 0, str(pages))
        self.endForm()
        self.showOutline()
        super().save()


class ReportDocument(BaseDocTemplate):
    """A4 with a running header, "page X of Y" and bookmarks for every section heading."""

    def __init__(self, target, *, title: str, author: str, subject: str, lang: str,
                 header_left: str, header_right: str, footer_left: str, page_of: str):
        register_fonts()
        super().__init__(
            target, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
            topMargin=MARGIN + 8 * mm, bottomMargin=MARGIN, title=clean(title),
            author=clean(author), subject=clean(subject), creator="SimDebrief",
            lang=lang, displayDocTitle=True, initialFontName=FONT)
        self.header_left = clean(header_left)
        self.header_right = clean(header_right)
        self.footer_left = clean(footer_left)
        # "Page %(page)s of %(pages)s": the total is drawn from a form written at the end.
        before, _sep, _after = page_of.partition("%(pages)s")
        self.page_prefix = before
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame],
                                            onPage=self._decorate)])

    def _decorate(self, canv, doc) -> None:
        canv.saveState()
        top = PAGE_HEIGHT - MARGIN
        canv.setFont(FONT, 8)
        canv.setFillColor(MUTED)
        canv.drawString(MARGIN, top, self.header_left[:110])
        canv.drawRightString(PAGE_WIDTH - MARGIN, top, self.header_right[:80])
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN, top - 3, PAGE_WIDTH - MARGIN, top - 3)
        bottom = MARGIN - 10 * mm
        canv.drawString(MARGIN, bottom, self.footer_left[:110])
        label = self.page_prefix % {"page": doc.page}
        width = pdfmetrics.stringWidth(label, FONT, 8)
        # Room for a total of up to three digits, so the line ends near the right margin.
        x = PAGE_WIDTH - MARGIN - width - pdfmetrics.stringWidth("00", FONT, 8)
        canv.drawString(x, bottom, label)
        canv.translate(x + width, bottom)
        canv.doForm(PAGE_COUNT_FORM)
        canv.restoreState()

    def afterFlowable(self, flowable) -> None:
        if isinstance(flowable, SectionHeading):
            self.canv.bookmarkPage(flowable.outline_key, fit="XYZ", top=self.frame._y
                                   + flowable.height + 20)
            self.canv.addOutlineEntry(flowable.outline_title, flowable.outline_key,
                                      level=flowable.outline_level, closed=False)

    def render(self, flowables: list) -> None:
        self.build(flowables, canvasmaker=NumberedCanvas)
