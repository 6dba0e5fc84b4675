"""Papers in other scripts (issue 25, item 11): clean Chinese and Russian text is read, what
a broken font encoding leaves is still refused. The PDFs are written by PyMuPDF with its
built-in Droid Sans Fallback font (CJK, Cyrillic, Latin)."""

from __future__ import annotations

import random
from pathlib import Path

import pymupdf
import pytest

from localdigest.errors import PdfError
from localdigest.pdf import extract
from localdigest.pdf.opening import _quality

ZH = (
    "深度学习模型在自然语言处理中取得了显著进展。本文提出一种新的注意力机制，"
    "在三个基准数据集上将准确率提高了百分之五。我们的方法简单有效，训练时间减少一半。"
)
RU = (
    "Глубокие нейронные сети достигли заметных успехов в обработке естественного языка. "
    "В этой статье мы предлагаем новый механизм внимания и показываем, что он повышает "
    "точность на пять процентов (с 81,2 до 86,4) при вдвое меньшем времени обучения."
)


def write(path: Path, text: str) -> Path:
    doc = pymupdf.open()
    for _ in range(2):
        page = doc.new_page()
        writer = pymupdf.TextWriter(page.rect)
        box = pymupdf.Rect(72, 72, 520, 770)
        writer.fill_textbox(box, text, font=pymupdf.Font("cjk"), fontsize=10)
        writer.write_text(page)
    doc.save(path)
    doc.close()
    return path


@pytest.mark.parametrize("text", [ZH, RU], ids=["zh", "ru"])
def test_clean_text_in_another_script_is_read(tmp_path: Path, text: str) -> None:
    doc = extract(write(tmp_path / "paper.pdf", " ".join([text] * 8)))
    assert text.split("。")[0].split(".")[0] in " ".join(doc.text.split())


def soup(alphabet: str, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices(alphabet, k=rng.randint(3, 8))) for _ in range(400))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # glyphs the font can't map come out as NUL characters
        ("private-use", " ".join([ZH[:12], soup("".join(map(chr, range(0xE000, 0xE0FF))), 1)])),
        # letters in no order a language has (the case flips inside words)
        ("letters", soup("bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ", 2)),
        ("cyrillic-letters", soup("бвгджзклмнпрстБВГДЖЗКЛМНПРСТ", 3)),
        ("symbols", soup("!#$%&*+<=>?@^_|~{}[]()/\\0123456789", 4)),
    ],
)
def test_garbage_in_any_script_is_still_refused(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(PdfError, match="gives garbage text"):
        extract(write(tmp_path / f"{name}.pdf", text))


@pytest.mark.parametrize(
    "bad", ["\ue000", "\ufffd", "\x07", "\U000f0001"], ids=["pua", "fffd", "bel", "plane15"]
)
def test_broken_characters_are_measured(bad: str) -> None:
    clean = " ".join([ZH, RU] * 4)
    letters, words, broken = _quality(clean)
    assert letters > 0.8 and words > 0.8 and broken == 0.0
    damaged = "".join(ch + bad if i % 8 == 0 else ch for i, ch in enumerate(clean))
    assert _quality(damaged)[2] > 0.05
