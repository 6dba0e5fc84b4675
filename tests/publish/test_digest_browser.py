"""The HTML digest in a real browser: Debian's Chromium, driven by Playwright.

It loads from a file with no console error and no request leaving the file, shows each
key figure, every link has a safe scheme, it reads in light and dark colour schemes and at
phone width, and it prints cleanly (the PDF Chromium prints is checked with PyMuPDF).
Set LOCALDIGEST_SCREENSHOT=FILE.png to keep the screenshot (`make screenshot` writes the
README's). Skips with the reason where Playwright or Chromium is not installed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from digest_helpers import build_issue, make_summary

from localdigest.pdf.document import file_sha256
from localdigest.publish import digest

CHROMIUM = os.environ.get("LOCALDIGEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root needs --no-sandbox; a closed network refuses its background traffic.
FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]
PAPERS = [
    ("1706.03762.pdf", "1706.03762"),
    ("1810.04805.pdf", "1810.04805"),
    ("1503.02531.pdf", "1503.02531"),  # no figure
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (make browser)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (make browser, or apt-get install chromium)"
        )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_file(corpus: Path, expected: list[dict[str, Any]], tmp_path: Path) -> Path:
    """A digest of three corpus papers (their abstracts as the summaries), two with figures."""
    records = {r["arxiv_id"].split("v")[0]: r for r in expected}
    papers = []
    for n, (name, arxiv_id) in enumerate(PAPERS, 1):
        pdf = corpus / "pdfs" / name
        record = records[arxiv_id]
        s = make_summary(
            n,
            record["title"],
            arxiv_id=arxiv_id,
            path=pdf,
            summary=record["abstract_clean"],
            authors=["First Author", "Second Author", "Third Author"],
        )
        first = record["abstract_clean"].split(". ")[0].rstrip(".")
        papers.append(dataclasses.replace(s, sha256=file_sha256(pdf), tldr=f"{first}."))
    local = tmp_path / "notes on a local paper.pdf"
    shutil.copyfile(corpus / "pdfs" / "1212.5701.pdf", local)
    papers.append(make_summary(4, "A Local Copy of ADADELTA", path=local, authors=[]))
    issue = build_issue(papers, today=dt.date(2024, 5, 12), name="localdigest")
    path = tmp_path / "digest.html"
    path.write_text(digest.to_html(issue), encoding="utf-8")
    return path


def open_page(browser: Any, path: Path, **context: Any) -> tuple[Any, Any, list[str], list[str]]:
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return ctx, page, problems, requests


def luminance(rgb: str) -> float:
    values = [float(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [
        (v / 255 / 12.92) if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4
        for v in values
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (a + 0.05) / (b + 0.05)


COLOURS = """() => {
  const bg = getComputedStyle(document.querySelector('main')).backgroundColor;
  const pick = sel => getComputedStyle(document.querySelector(sel)).color;
  return {bg, text: pick('article p:last-of-type'), meta: pick('.meta'),
          link: pick('.meta a'), caption: pick('figcaption'), title: pick('article h2')};
}"""


def test_loads_with_no_errors_and_no_requests(browser: Any, page_file: Path) -> None:
    ctx, page, problems, requests = open_page(browser, page_file)
    try:
        assert problems == []
        assert [u for u in requests if u != page_file.as_uri() and not u.startswith("data:")] == []
        assert page.evaluate("document.scripts.length") == 0
        assert page.title().startswith("localdigest — ")
        headings = page.eval_on_selector_all("article h2", "els => els.map(e => e.textContent)")
        assert headings[0] == "Attention Is All You Need" and len(headings) == 4
    finally:
        ctx.close()


def test_figures_display(browser: Any, page_file: Path) -> None:
    ctx, page, _, _ = open_page(browser, page_file, viewport={"width": 1000, "height": 900})
    try:
        images = page.eval_on_selector_all(
            "article img",
            """els => els.map(e => ({done: e.complete, natural: e.naturalWidth,
                 shown: e.getBoundingClientRect().width, alt: e.alt,
                 room: e.closest('main').clientWidth}))""",
        )
        assert len(images) == 3  # Attention, BERT, the local ADADELTA; Distilling has none
        for image in images:
            assert image["done"] and image["natural"] > 200
            assert 200 < image["shown"] <= image["room"]
            assert image["alt"].startswith("Figure 1: ")
        in_article = page.eval_on_selector_all(
            "article", "els => els.map(a => a.querySelectorAll('img').length)"
        )
        assert in_article == [1, 1, 0, 1]  # the local ADADELTA copy has its Fig. 1 too
    finally:
        ctx.close()


def test_every_link_has_a_safe_scheme(browser: Any, page_file: Path) -> None:
    ctx, page, _, _ = open_page(browser, page_file)
    try:
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert links
        ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        for href in links:
            if href.startswith("#"):
                assert href[1:] in ids
            else:
                assert href.split(":", 1)[0] in ("https", "http", "file"), href
        assert "https://arxiv.org/abs/1706.03762" in links
    finally:
        ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reads_in_light_and_dark(browser: Any, page_file: Path, scheme: str) -> None:
    ctx, page, problems, _ = open_page(browser, page_file, color_scheme=scheme)
    try:
        colours = page.evaluate(COLOURS)
        background = luminance(colours["bg"])
        assert (background > 0.8) if scheme == "light" else (background < 0.05), colours
        assert contrast(colours["text"], colours["bg"]) >= 7, colours
        for part in ("meta", "link", "caption", "title"):
            assert contrast(colours[part], colours["bg"]) >= 4.5, (part, colours)
        assert problems == []
    finally:
        ctx.close()


def test_fits_a_phone(browser: Any, page_file: Path) -> None:
    phone = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
    ctx, page, _, _ = open_page(browser, page_file, **phone)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        widest = page.eval_on_selector_all(
            "main *", "els => Math.max(...els.map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 375
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('article p:not(.meta)')).fontSize)"
        )
        assert size >= 15
    finally:
        ctx.close()


def test_prints_cleanly(browser: Any, page_file: Path, tmp_path: Path) -> None:
    ctx, page, _, _ = open_page(browser, page_file)
    try:
        page.emulate_media(media="print")
        assert page.evaluate(COLOURS)["bg"] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
        pdf = page.pdf(format="A4", prefer_css_page_size=True)  # the page's own margins
    finally:
        ctx.close()
    out = tmp_path / "printed.pdf"
    out.write_bytes(pdf)
    with pymupdf.open(out) as doc:
        assert 2 <= doc.page_count <= 8
        text = " ".join(p.get_text() for p in doc)
        for title in ("Attention Is All You Need", "Distilling the Knowledge in a Neural Network"):
            assert " ".join(title.split()) in " ".join(text.split())
        margin = 15 / 25.4 * 72 - 1  # 15 mm, in points, less rounding
        inside = pymupdf.Rect(
            margin, margin, doc[0].rect.width - margin, doc[0].rect.height - margin
        )
        images = 0
        for p in doc:
            for info in p.get_image_info():
                box = pymupdf.Rect(info["bbox"])
                assert inside.contains(box) and box.width > 100, box  # whole, on one page
                images += 1
        assert images == 3
        for p in doc:  # no text runs into the margins
            for block in p.get_text("blocks"):
                assert inside.contains(pymupdf.Rect(block[:4])), block


def test_screenshot(browser: Any, page_file: Path, tmp_path: Path) -> None:
    ctx, page, _, _ = open_page(
        browser, page_file, viewport={"width": 760, "height": 1180}, device_scale_factor=1
    )
    try:
        shot = tmp_path / "digest.png"
        page.screenshot(path=str(shot), type="png")
    finally:
        ctx.close()
    pix = pymupdf.Pixmap(str(shot))
    assert (pix.width, pix.height) == (760, 1180)
    keep = os.environ.get("LOCALDIGEST_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
