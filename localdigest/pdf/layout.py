"""Stage 2, reading order: two-column pages read column by column within bands."""

from __future__ import annotations

from collections import Counter

from localdigest.pdf.lines import Line, Page


def order_page(page: Page) -> None:
    """Put the page's lines in reading order, in place, and tag columns."""
    mid = page.width / 2
    slack = 0.1 * page.width  # a line must cross the gutter by this much to be full width

    def side(x0: float, x1: float) -> int:
        if x1 <= mid + 2:
            return 1
        if x0 >= mid - 2:
            return 2
        return 0 if (x0 < mid - slack and x1 > mid + slack) else (1 if (x0 + x1) / 2 < mid else 2)

    chars = Counter[int]()
    for line in page.lines:
        chars[side(line.x0, line.x1)] += len(line.text)
    total = sum(chars.values()) or 1
    two_columns = chars[1] > 0.2 * total and chars[2] > 0.2 * total and chars[0] < 0.5 * total
    groups = group_blocks(page.lines)
    if not two_columns:
        groups.sort(key=lambda g: (round(g[0].y0), g[0].x0))
        page.lines = [line for group in groups for line in group]
        return
    # Split blocks that straddle the gutter line by line, then classify each part.
    parts: list[tuple[int, list[Line]]] = []
    for group in groups:
        by_side: dict[int, list[Line]] = {}
        for line in group:
            by_side.setdefault(side(line.x0, line.x1), []).append(line)
        if 1 in by_side and 2 in by_side:
            parts.extend(by_side.items())  # MuPDF merged blocks across the gutter
        else:
            whole = side(min(ln.x0 for ln in group), max(ln.x1 for ln in group))
            parts.append((whole, group))
    parts.sort(key=lambda p: min(line.y0 for line in p[1]))
    ordered: list[Line] = []
    band = 0
    columns: dict[int, list[list[Line]]] = {1: [], 2: []}

    def flush() -> None:
        for col in (1, 2):
            for part in sorted(columns[col], key=lambda p: p[0].y0):
                for line in part:
                    line.col, line.band = col, band
                    ordered.append(line)
            columns[col] = []

    cuts = _balanced_cuts(parts)
    for col, part in parts:
        if cuts and part[0].y0 >= cuts[0]:
            cuts.pop(0)
            flush()
            band += 1
        if col == 0:
            flush()
            band += 1
            for line in part:
                line.col, line.band = 0, band
            ordered.extend(part)
            band += 1
        else:
            columns[col].append(part)
    flush()
    page.lines = ordered


def _balanced_cuts(parts: list[tuple[int, list[Line]]]) -> list[float]:
    """Heights where both columns end together and restart together after a gap.

    REVTeX balances the columns and then starts the bibliography as a new pair of columns
    below them; reading column by column down the whole page would mix the two.
    """
    spans: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for col, part in parts:
        if col:
            spans[col].append((min(ln.y0 for ln in part), max(ln.y1 for ln in part)))
    gaps: dict[int, list[tuple[float, float]]] = {}
    for col, items in spans.items():
        items.sort()
        gaps[col] = []
        bottom = None
        for top, low in items:
            if bottom is not None and top - bottom > 15:
                gaps[col].append((bottom, top))
            bottom = low if bottom is None else max(bottom, low)
    cuts = []
    for a_end, a_start in gaps[1]:
        for b_end, b_start in gaps[2]:
            if abs(a_end - b_end) < 12 and abs(a_start - b_start) < 12:
                cuts.append(min(a_start, b_start) - 1)
    return sorted(cuts)


def group_blocks(lines: list[Line]) -> list[list[Line]]:
    groups: dict[int, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.block, []).append(line)
    return list(groups.values())
