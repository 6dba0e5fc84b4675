"""Stage 5, sections: headings split the items; each section gets its kind."""

from __future__ import annotations

import re
from collections import Counter

from localdigest.pdf.document import Section
from localdigest.pdf.headings import Heading
from localdigest.pdf.paragraphs import Item

_REF_ENTRY_RE = re.compile(r"^\[?(\d{1,3})[\].]?\s+\S")


def _looks_like_reference_list(item: Item) -> bool:
    """Lines numbered 1, 2, 3... : a bibliography without a heading (REVTeX)."""
    numbers = [int(m[1]) for ln in item.lines if (m := _REF_ENTRY_RE.match(ln.text))]
    return len(numbers) >= 3 and numbers[:3] == [1, 2, 3]


_KEYWORDS_RE = re.compile(r"^(Index Terms|Keywords|Key words)\b", re.I)


def _item_size(item: Item) -> float:
    sizes: Counter[float] = Counter()
    for line in item.lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0]


class _Sectionizer:
    """Walks headings and paragraphs, deciding each section's kind from what came before."""

    def __init__(self, has_references_heading: bool) -> None:
        self.sections: list[Section] = []
        self.heading, self.kind, self.page = "", "front", 1
        self.paras: list[str] = []
        self.para_pages: list[tuple[int, int]] = []
        self.top_kind = "front"
        self.top_scheme = ""
        self.after_references = False
        self.seen_numbered = False
        self.has_references_heading = has_references_heading
        self.abstract_size: float | None = None

    def flush(self) -> None:
        if self.heading or self.paras:
            text = "\n\n".join(self.paras)
            pages = tuple(self.para_pages)
            self.sections.append(Section(self.heading, self.kind, text, self.page, pages))
        self.paras = []
        self.para_pages = []

    def start(self, heading: str, kind: str, page: int) -> None:
        self.flush()
        self.heading, self.kind, self.page = heading, kind, page

    def add_heading(self, h: Heading, page: int) -> None:
        guessed = (h.scheme == "letter" and "." not in h.number) or (
            not h.scheme and h.named is None
        )
        if guessed and not self.seen_numbered:
            self.add_paragraph(h.text, (page, page))  # bold "A Study of..." or authors
            return
        is_sub = "." in h.number or (h.scheme == "letter" and self.top_scheme == "roman")
        if h.named and h.named not in ("body",):
            kind = h.named
        elif self.after_references:
            kind = "appendix"
        elif is_sub:
            kind = self.top_kind if self.top_kind == "appendix" else "body"
        else:
            kind = "body"
        if kind == "references":
            self.after_references = True
        if h.scheme:
            self.seen_numbered = True
        if not is_sub:
            self.top_kind = kind
            self.top_scheme = h.scheme or self.top_scheme
        self.start(h.text, kind, page)

    def add_paragraph(self, text: str, pages: tuple[int, int], item: Item | None = None) -> None:
        page = pages[0]
        if (
            item is not None
            and not self.has_references_heading
            and self.kind in ("body", "acknowledgments")
            and _looks_like_reference_list(item)
        ):
            self.has_references_heading = True
            self.after_references = True
            self.start("References", "references", page)
        if self.kind == "abstract" and _KEYWORDS_RE.match(text):
            self.start("Keywords", "front", page)  # "Index Terms— ..." closes the abstract
        elif self.kind == "abstract" and item is not None:
            size = _item_size(item)
            if self.abstract_size is None:
                self.abstract_size = size
            elif abs(size - self.abstract_size) > 0.6:
                # A footnote (smaller) or body text (when a heading was missed) follows.
                self.start("", "front" if size < self.abstract_size else "body", page)
        if not self.paras and not self.heading:
            self.page = page
        self.paras.append(text)
        self.para_pages.append(pages)


def sectionize(items: list[Item], has_title: bool) -> list[Section]:
    has_refs = any(it.heading and it.heading.named == "references" for it in items)
    walker = _Sectionizer(has_refs)
    for item in items:
        if item.heading:
            walker.add_heading(item.heading, item.page)
        else:
            walker.add_paragraph(item.text, (item.page, item.lines[-1].page), item)
    walker.flush()
    # Without a title the first page is missing or unreadable: no front matter to search.
    sections = _split_abstract(walker.sections) if has_title else walker.sections
    return _body_when_none(sections)


def _body_when_none(sections: list[Section]) -> list[Section]:
    """A readable PDF without headings (a note, a page of plain text) would be all front
    matter, and nothing of it read. Without any body section, the front matter after the
    abstract (all of it, when there is no abstract) becomes one body section."""
    if any(s.kind == "body" for s in sections):
        return sections
    after = next((i + 1 for i, s in enumerate(sections) if s.kind == "abstract"), 0)
    front = [i for i in range(after, len(sections)) if sections[i].kind == "front"]
    paragraphs = [p for i in front for p in sections[i].paragraphs() if p[0].strip()]
    if not paragraphs:
        return sections
    # with each paragraph's pages, so its sentences are grounded on the page they are on
    body = Section("", "body", "", sections[front[0]].page).with_paragraphs(paragraphs)
    kept = [s for i, s in enumerate(sections) if i not in front]
    kept.insert(front[0], body)  # where the front matter began: nothing before it moved
    return kept


def _split_abstract(sections: list[Section]) -> list[Section]:
    """Find the abstract when no "Abstract" heading announced it (REVTeX) or trim it.

    REVTeX prints the abstract as the paragraph after "(Dated: ...)"; otherwise the
    longest front-matter paragraph of 60+ words is taken.
    """
    if any(s.kind == "abstract" for s in sections):
        return sections
    front = next((s for s in sections if s.kind == "front"), None)
    if front is None:
        return sections
    paras = front.text.split("\n\n")
    pages = [pages for _, pages in front.paragraphs()]
    pick = None
    for i, para in enumerate(paras):
        if re.match(r"^\(?(Dated|Received|Date)[: ]", para) and i + 1 < len(paras):
            pick = i + 1
            break
    if pick is None:
        long = [i for i, p in enumerate(paras) if len(p.split()) >= 60]
        pick = max(long, key=lambda i: len(paras[i]), default=None)
    if pick is None:
        return sections
    index = sections.index(front)

    def part(heading: str, kind: str, lo: int, hi: int) -> Section:
        return Section(heading, kind, "\n\n".join(paras[lo:hi]), front.page, tuple(pages[lo:hi]))

    replaced = [part(front.heading, "front", 0, pick), part("Abstract", "abstract", pick, pick + 1)]
    if paras[pick + 1 :]:
        replaced.append(part("", "front", pick + 1, len(paras)))
    return sections[:index] + [s for s in replaced if s.text or s.heading] + sections[index + 1 :]
