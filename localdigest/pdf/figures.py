"""The key figure of a paper: the one a reader looks at first, rendered once as a PNG.

Finding it: captions are text blocks that start with "Figure N:" / "Fig. N." / "FIG. N"
(PyMuPDF's blocks). The figure sits above its caption: the images and drawing clusters
(``Page.cluster_drawings``) between the caption and the body text above it, with the
short labels around them. The paper body ends at the references heading; figures after it
(appendices) are not considered. The first figure of the body is the key figure, unless
one of the first three captions names an overview/architecture/framework figure: that
one wins. A caption without graphics above it (a table captioned "Figure", text only) is
passed over; a paper without a usable figure has none.

Rendering: the region is drawn at up to 150 dpi and at most ``MAX_SIDE`` pixels on its
longer side (so an embedded copy stays small), once, and stored next to the PDF when it
is in the library (``<library>/<id>/figure.png``), else under
``LOCALDIGEST_HOME/figures/<sha256>.png``. A ``.json`` beside it records the PDF's sha256,
the finder's version and the caption, also when no figure was found, so neither a figure
nor its absence is computed twice. Summary cache keys do not involve any of this.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest.errors import LocaldigestError
from localdigest.fsutil import read_inside, write_atomically
from localdigest.pdf.document import file_sha256
from localdigest.pdf.mupdf import load_pymupdf

FIGURE_VERSION = 1  # bump when the finder or the rendering changes: figures are redone
MAX_SIDE = 1000  # pixels on the longer side of the PNG
MAX_DPI = 150
MAX_IMAGE_BYTES = 20 << 20  # a figure file larger than this is not ours
MAX_PAGES = 20  # a key figure further in than this is no "first look"
PNG_NAME = "figure.png"
INFO_NAME = "figure.json"

_CAPTION_RE = re.compile(r"^\s*(?:Figure|Fig\.|FIG\.?|FIGURE)\s*(\d+)\s*[:.|]\s*(.*)", re.DOTALL)
_REFERENCES_RE = re.compile(r"^\s*(?:\d+\.?\s*)?(?:References|REFERENCES|Bibliography)\s*$")
_OVERVIEW_RE = re.compile(
    r"\b(overview|architecture|framework|pipeline|illustration|schematic|approach)\b", re.I
)


@dataclass(frozen=True)
class FigureRegion:
    """Where the key figure is in the PDF (points, page coordinates)."""

    page: int  # 0-based
    number: int
    caption: str
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class KeyFigure:
    """A rendered key figure on disk."""

    path: Path
    caption: str
    number: int
    page: int  # 1-based, as a reader counts
    width: int
    height: int
    root: Path  # the folder it is kept in (the library or the figures folder)

    def read(self) -> tuple[bytes, str] | None:
        """(its bytes, their MIME type) for publishing, or None when the file is gone, is
        a link or leads out of ``root`` (a shared home may hold planted links), or is no
        PNG or JPEG image."""
        try:
            data = read_inside(self.path, self.root, MAX_IMAGE_BYTES)
        except LocaldigestError:
            return None
        kind = image_type(data)
        return (data, kind) if kind else None

    @property
    def label(self) -> str:
        """``Figure 1: The Transformer - model architecture.`` (for alt text and captions)."""
        return f"Figure {self.number}: {self.caption}" if self.caption else f"Figure {self.number}"


# ----------------------------------------------------------------------------- finding


Box = tuple[float, float, float, float]


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _x_overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0]))


def _intersects(a: Box, b: Box, pad: float = 0.0) -> bool:
    return a[0] - pad < b[2] and b[0] < a[2] + pad and a[1] - pad < b[3] and b[1] < a[3] + pad


def _graphics(page: Any, blocks: list[tuple[Box, str]]) -> list[Box]:
    """Image rectangles and drawing clusters, without rules, specks, page frames and the
    boxes drawn around a paragraph (highlighted equations, theorem frames, link borders)."""
    page_w, page_h = page.rect.width, page.rect.height
    boxes: list[Box] = [tuple(info["bbox"]) for info in page.get_image_info()]
    try:
        clusters = page.cluster_drawings()
    except (RuntimeError, ValueError):  # a damaged content stream: images only
        clusters = []
    boxes += [(r.x0, r.y0, r.x1, r.y1) for r in clusters]
    long_text = [box for box, text in blocks if _is_long(text)]
    kept = []
    for b in boxes:
        w, h = b[2] - b[0], b[3] - b[1]
        if w < 8 or h < 8:  # a rule, an underline, a table line
            continue
        if w > 0.95 * page_w and h > 0.95 * page_h:  # a frame around the page
            continue
        if any(_area(b) <= 1.5 * _area(t) and _covered(t, b) > 0.8 for t in long_text):
            continue  # a frame around a paragraph
        kept.append(b)
    return kept


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _covered(inner: Box, outer: Box) -> float:
    """How much of ``inner`` lies inside ``outer`` (0 to 1)."""
    x = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    y = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    return x * y / _area(inner) if _area(inner) else 0.0


def _is_long(text: str) -> bool:
    """Running text: long lines, several of them (axis ticks and "(a) (b) (c)" are not)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return len(text) >= 60 and len(text) / max(len(lines), 1) >= 25


def _is_body_text(block: Box, text: str, graphics: list[Box]) -> bool:
    """A paragraph of running text, not a label or a text box inside a graphic."""
    return _is_long(text) and not any(_covered(block, g) > 0.8 for g in graphics)


def region_above(page: Any, caption: Box, blocks: list[tuple[Box, str]]) -> Box | None:
    """The figure drawn above ``caption`` on ``page``, or None when there is none."""
    graphics = _graphics(page, blocks)
    # The caption's column: its own width, so the other column of a two-column page
    # never counts (a centred short caption still overlaps the wider figure above it).
    band: Box = (caption[0], 0.0, caption[2], caption[1])
    ceiling = 0.0
    for box, text in blocks:
        in_band = box[3] <= caption[1] + 1 and _x_overlap(box, band) > 0
        if in_band and box != caption and _is_body_text(box, text, graphics):
            ceiling = max(ceiling, box[3])
    above = [
        g
        for g in graphics
        if g[3] <= caption[1] + 6 and g[1] >= ceiling - 2 and _x_overlap(g, band) > 0
    ]
    if not above:
        return None
    above.sort(key=lambda g: -g[3])  # nearest the caption first
    region = above[0]
    if caption[1] - region[3] > 0.25 * page.rect.height:
        return None  # the nearest graphic is far above: it belongs to something else
    grew = True
    while grew:
        grew = False
        for g in above:
            if g != region and _union(region, g) != region and g[3] >= region[1] - 24:
                region = _union(region, g)
                grew = True
    for box, text in blocks:  # labels: short text touching the graphics
        if box == caption or box[1] < ceiling - 1 or box[3] > caption[1] + 1:
            continue
        if _intersects(box, region, pad=10.0) and not _is_body_text(box, text, graphics):
            region = _union(region, box)
    pad = 4.0
    clip = (
        max(region[0] - pad, 0.0),
        max(region[1] - pad, ceiling),
        min(region[2] + pad, page.rect.width),
        min(region[3] + pad, caption[1]),
    )
    w, h = clip[2] - clip[0], clip[3] - clip[1]
    if w < 80 or h < 50 or w * h < 0.02 * page.rect.width * page.rect.height:
        return None
    return clip


def _caption_text(text: str) -> tuple[int, str] | None:
    match = _CAPTION_RE.match(text)
    if not match:
        return None
    caption = " ".join(match[2].split())
    return int(match[1]), caption


@dataclass(frozen=True)
class _Caption:
    page: int
    box: Box
    number: int
    text: str


def find_key_figure(pdf: Path, password: str | None = None) -> FigureRegion | None:
    """Where the key figure of ``pdf`` is, or None (no usable figure, or unreadable).

    Captions are read first (text only: cheap); graphics are clustered only on the pages
    of the captions tried, in the order ``preferred`` gives.
    """
    pymupdf = load_pymupdf()
    try:
        doc = pymupdf.open(pdf)
    except (RuntimeError, ValueError, OSError):
        return None
    with doc:
        if doc.needs_pass and not (password and doc.authenticate(password)):
            return None
        captions: list[_Caption] = []
        pages: dict[int, list[tuple[Box, str]]] = {}
        for number in range(min(doc.page_count, MAX_PAGES)):
            try:
                raw = doc[number].get_text("blocks")
            except (RuntimeError, ValueError):
                continue  # an unreadable page
            blocks = [(tuple(b[:4]), str(b[4]).strip()) for b in raw if b[6] == 0]
            pages[number] = blocks
            end = _references_top(blocks)
            for box, text in blocks:
                if end is not None and box[1] >= end:
                    break
                parsed = _caption_text(text)
                if parsed is not None and all(c.number != parsed[0] for c in captions):
                    captions.append(_Caption(number, box, *parsed))
            if end is not None or len(captions) >= 6:
                break
        for caption in preferred(captions):
            try:
                region = region_above(doc[caption.page], caption.box, pages[caption.page])
            except (RuntimeError, ValueError):
                continue
            if region is not None:
                return FigureRegion(caption.page, caption.number, caption.text, region)
    return None


def _references_top(blocks: list[tuple[Box, str]]) -> float | None:
    for box, text in blocks:
        first = text.split("\n", 1)[0]
        if _REFERENCES_RE.match(first):
            return box[1]
    return None


def preferred(captions: list[_Caption]) -> list[_Caption]:
    """The order to try: an overview/architecture figure among the first three, then
    every figure in the order of the paper."""
    overview = [c for c in captions[:3] if _OVERVIEW_RE.search(c.text.split(". ")[0])]
    return overview + [c for c in captions if c not in overview]


# ----------------------------------------------------------------------------- rendering


def render_region(pdf: Path, region: FigureRegion, password: str | None = None) -> bytes:
    """The region as PNG bytes, at most ``MAX_SIDE`` pixels on its longer side."""
    pymupdf = load_pymupdf()
    with pymupdf.open(pdf) as doc:
        if doc.needs_pass and password:
            doc.authenticate(password)
        page = doc[region.page]
        clip = pymupdf.Rect(*region.bbox)
        # MuPDF rounds the pixel box outwards: leave it two pixels of room.
        zoom = min(MAX_DPI / 72, (MAX_SIDE - 2) / max(clip.width, clip.height))
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=clip, alpha=False)
        return bytes(pix.tobytes("png"))


def figure_paths(pdf: Path, sha256: str, library: Path, figures: Path) -> tuple[Path, Path]:
    """(PNG, JSON) where the key figure of this PDF is kept: beside it in the ``library``,
    else in the ``figures`` folder."""
    folder = pdf.expanduser().resolve().parent
    if folder.parent == library.resolve() and pdf.name == "paper.pdf":
        return folder / PNG_NAME, folder / INFO_NAME
    return figures / f"{sha256}.png", figures / f"{sha256}.json"


# The fields of a figure's record that are read, by type: a record with another type in
# one of them (a damaged or planted file) is no record, so the figure is found again.
_INFO_TYPES: dict[str, type] = {
    **dict.fromkeys(("version", "number", "page", "width", "height"), int),
    **{"sha256": str, "caption": str, "found": bool},
}


def _read_info(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    for key, kind in _INFO_TYPES.items():
        value = data.get(key)
        if value is None:
            continue
        if type(value) is not kind or (isinstance(value, int) and not 0 <= value < 1 << 31):
            return None
    return data


def key_figure(
    pdf: Path, sha256: str | None = None, *, library: Path, figures: Path
) -> KeyFigure | None:
    """The key figure of ``pdf``, rendered on first use and reused after; None if the
    paper has none (or the PDF is gone or unreadable). Never raises for a bad PDF; a
    folder that can't be written just means the figure is not kept."""
    pdf = pdf.expanduser()
    if not pdf.is_file():
        return None
    sha256 = sha256 or file_sha256(pdf)
    png, info_path = figure_paths(pdf, sha256, library, figures)
    root = library if png.parent.parent == library.resolve() else figures
    info = _read_info(info_path)
    fresh = info is not None and info.get("sha256") == sha256
    if fresh and info is not None and info.get("version") == FIGURE_VERSION:
        if not info.get("found"):
            return None
        if png.is_file():
            return _from_info(png, info, root)
    region = find_key_figure(pdf)
    record: dict[str, Any] = {"version": FIGURE_VERSION, "sha256": sha256, "found": False}
    figure = None
    if region is not None:
        data = render_region(pdf, region)
        width, height = png_size(data)
        record.update(
            found=True,
            number=region.number,
            caption=region.caption,
            page=region.page + 1,
            bbox=[round(v, 1) for v in region.bbox],
            width=width,
            height=height,
        )
        try:
            write_atomically(png, data)
        except OSError:
            return None
        figure = _from_info(png, record, root)
    else:
        with contextlib.suppress(OSError):
            png.unlink(missing_ok=True)  # the figure of an earlier version of this PDF
    with contextlib.suppress(OSError):  # not kept: found again next time
        write_atomically(info_path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return figure


def _from_info(png: Path, info: dict[str, Any], root: Path) -> KeyFigure:
    return KeyFigure(
        root=root,
        path=png,
        caption=str(info.get("caption") or ""),
        number=int(info.get("number") or 1),
        page=int(info.get("page") or 1),
        width=int(info.get("width") or 0),
        height=int(info.get("height") or 0),
    )


def image_type(data: bytes) -> str | None:
    """The MIME type of a PNG or JPEG by its first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
