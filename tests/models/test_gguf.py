"""GGUF headers: the quick read (vocabularies jumped over) gives what the exact walk gives,
on the two real test models and on a file made to mislead it."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from model_stores import gemma_path, smollm2_path, write_gguf

from localdigest.errors import ModelError
from localdigest.models.gguf import FILE_TYPES, read_gguf


@pytest.mark.parametrize("model", [smollm2_path, gemma_path])
def test_quick_read_equals_the_exact_walk(model) -> None:
    path = model()
    assert read_gguf(path, quick=True) == read_gguf(path)


def test_a_vocabulary_that_mimics_an_entry_does_not_mislead(tmp_path: Path) -> None:
    # "tokenizer.fake" followed by a short token looks exactly like an entry's start.
    tokens = [b"tok%d" % i for i in range(5000)]
    tokens[100:102] = [b"tokenizer.fake", b"abcde"]
    path = write_gguf(tmp_path / "tricky.gguf", tokens)
    exact = read_gguf(path)
    assert exact.chat_template == "{{ messages }}" and exact.parameters == 3 * 64 * 32
    assert read_gguf(path, quick=True) == exact


def test_an_absurd_array_length_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "huge.gguf", [b"a", b"b"])
    data = bytearray(path.read_bytes())
    at = data.index(b"tokenizer.ggml.tokens") + len(b"tokenizer.ggml.tokens") + 8
    data[at : at + 8] = struct.pack("<Q", 1 << 60)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"huge\.gguf"):
        read_gguf(path)


def test_the_file_types_are_llama_cpps() -> None:
    """Every file type the gguf package (llama.cpp's own Python library) names is ours, with
    its name; ours has only the retired Q4_0_4_4/4_8/8_8 (33-35) besides, which published
    files still carry."""
    package = pytest.importorskip("gguf", reason="the gguf package (dev extra) is not installed")
    theirs = {
        t.value: t.name.removeprefix("MOSTLY_").removeprefix("ALL_")
        for t in package.LlamaFileType
        if t.name != "GUESSED"
    }
    assert {k: FILE_TYPES.get(k) for k in theirs} == theirs
    assert set(FILE_TYPES) - set(theirs) == {33, 34, 35}


def test_a_gpt_oss_file_type_is_named(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "gpt-oss.gguf", [b"a", b"b"])
    data = bytearray(path.read_bytes())
    at = data.index(b"general.file_type") + len(b"general.file_type") + 4
    data[at : at + 4] = struct.pack("<I", 38)
    path.write_bytes(bytes(data))
    assert read_gguf(path).quantization == "MXFP4_MOE"  # was "type 38"
