"""Text from papers, metadata, file names and the model, made safe for each file format.

Every output writes untrusted text through one of these: nothing a title, an author, a file
name or a summary holds can become Markdown or HTML structure (a heading, a link, an
``<img onerror=...>``, our notes' ``<!-- localdigest:... -->`` markers), break a YAML
scalar, or put a control character or a lone surrogate into a file (``text.visible`` runs
first everywhere). URLs keep only the schemes a reader may follow.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

from localdigest.text import one_line, paragraphs, visible

# Markdown's inline punctuation and HTML's "<" and ">": no tag, comment, autolink or link
# can start; nor Obsidian's ``%%`` comments (every ``%`` next to another is escaped).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#]|%(?=%)|(?<=%)%)")
# Inside a paragraph the writing keeps its emphasis (*, _); tags and links go, and so do
# Obsidian's comments and its inline ``#tags`` (a ``#`` that a word follows).
_MD_TEXT_SPECIAL = re.compile(r"([\\`\[\]<>]|#(?=\S)|%(?=%)|(?<=%)%)")
# A line that Markdown would read as a heading, a rule, a quote or a table row.
_MD_LINE_START = re.compile(r"^(\s*)([#>=+|]|-{3,}|\*{3,}|_{3,})")
SAFE_SCHEMES = ("http", "https", "file")


def md_inline(text: str) -> str:
    """One line of metadata for Markdown: no heading, no link, no HTML, no marker."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(visible(text)))


def md_text(text: str) -> str:
    """Paragraphs of prose (a summary) for Markdown, blank lines kept between them and the
    line structure of bullet lines kept; nothing in it can become a tag, link or heading."""
    out = []
    for para in re.split(r"\n\s*\n", visible(text).strip()):
        lines = []
        for line in para.splitlines():
            line = _MD_TEXT_SPECIAL.sub(r"\\\1", " ".join(line.split()))
            lines.append(_MD_LINE_START.sub(r"\1\\\2", line))
        joined = "\n".join(ln for ln in lines if ln)
        if joined:
            out.append(joined)
    return "\n\n".join(out)


def safe_url(url: str | None, *, relative: bool = False) -> str:
    """``url`` when it is an http(s) or file URL (or, with ``relative``, a relative one),
    with anything that could end a Markdown link or an HTML attribute percent-encoded;
    otherwise "" (no link)."""
    if not url:
        return ""
    url = visible(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if not (parts.scheme.lower() in SAFE_SCHEMES or (relative and not parts.scheme)):
        return ""
    return quote(url, safe="/:?#@!$&'*+,;=%~-._")


def file_uri(path: str) -> str:
    """A local path as a ``file://`` URI, or "" when it cannot be one."""
    try:
        return Path(visible(path)).expanduser().resolve().as_uri()
    except (OSError, ValueError, RuntimeError):
        return ""


def md_link(label: str, url: str | None, *, relative: bool = False) -> str:
    """``[label](<url>)`` with both made safe; just the label when the URL is not safe."""
    target = safe_url(url, relative=relative)
    shown = md_inline(label)
    return f"[{shown}](<{target}>)" if target else shown


def html_text(text: str) -> str:
    return html.escape(visible(text), quote=True)


def html_paragraphs(text: str) -> list[str]:
    return [html_text(p) for p in paragraphs(visible(text))]


def yaml_str(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's) on one line; characters that
    are not printable (line and paragraph separators, no-break spaces) as ``\\u`` escapes."""
    quoted = json.dumps(visible(value), ensure_ascii=False)
    return "".join(c if c.isprintable() or c == "\t" else _yaml_escape(c) for c in quoted)


def _yaml_escape(c: str) -> str:
    code = ord(c)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
