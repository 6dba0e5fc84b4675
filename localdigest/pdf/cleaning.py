"""Text cleaning: ligatures, TeX accents and symbol-font glyphs, Unicode normalization."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
# Symbol-font glyphs that TeX PDFs map to the wrong code point (1212.5701: "*" -> "⇤").
_MISMAPPED = str.maketrans({"⇤": "*", "\u00ad": ""})
# TeX draws accents as separate spacing glyphs before the letter ("Teˇsanovi´c"); turning
# them into combining marks lets NFKC compose "š", "ć". NFKC alone would leave " ́c".
_SPACING_ACCENTS = {
    "´": "\u0301",
    "ˇ": "\u030c",
    "¨": "\u0308",
    "˜": "\u0303",
    "¸": "\u0327",
    "˘": "\u0306",
    "˙": "\u0307",
    "˚": "\u030a",
    "˝": "\u030b",
}
# Some pdfTeX builds embed Computer Modern math fonts whose glyphs come out as dingbats
# (1412.6980: "✓t = ✓t-1 - ↵ ..." for "θt = θt-1 - α ..."); the font tells which table.
TEX_MATH_FONTS: dict[str, dict[int, Any]] = {
    "CMMI": str.maketrans("↵✏⌘✓⇡⇢⌧⇣", "αεηθπρτζ"),
    "CMSY": str.maketrans({"⇤": "*", "⇥": "×", "⇠": "∼", "⇡": "≈"}),
    "CMEX": str.maketrans(dict.fromkeys("✓◆⇢⇣⌘", "")),  # big delimiters
}
_ACCENT_RE = re.compile("([" + "".join(_SPACING_ACCENTS) + r"])\s?([A-Za-zıȷ])")
ARXIV_STAMP_RE = re.compile(
    r"arXiv:\s?\d{4}\.\d{4,5}(?:v\d+)?\s*\[[^\]]{2,30}\]\s*\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}"
)


def normalize_text(text: str) -> str:
    """Expand ligatures, fix TeX accents and symbol-font glyphs, then NFKC.

    NFKC also maps math-italic letters (𝐾 -> K) and full-width forms to plain ones.
    """
    text = text.translate(_LIGATURES).translate(_MISMAPPED)
    text = _ACCENT_RE.sub(
        lambda m: m.group(2).replace("ı", "i") + _SPACING_ACCENTS[m.group(1)], text
    )
    return unicodedata.normalize("NFKC", text)


def count_letters(text: str) -> int:
    return sum(c.isalpha() for c in text)
