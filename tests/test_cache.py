"""Cache keys and the store's handling of damaged entries."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from localdigest.cache import Store, make_key


def test_key_is_stable_and_order_independent() -> None:
    assert make_key("notes", a=1, b="x") == make_key("notes", b="x", a=1)
    assert make_key("notes", a=1).startswith("notes/")


@given(
    st.dictionaries(
        st.sampled_from(["pdf", "model", "prompt", "n_ctx", "seed"]),
        st.one_of(st.integers(), st.text()),
        min_size=1,
    ),
    st.sampled_from(["pdf", "model", "prompt", "n_ctx", "seed"]),
    st.one_of(st.integers(), st.text()),
)
def test_property_key_changes_when_any_input_changes(parts: dict, name: str, new: object) -> None:
    changed = {**parts, name: new}
    if changed != parts:
        assert make_key("summary", **changed) != make_key("summary", **parts)


def test_roundtrip_and_info(tmp_path: Path) -> None:
    store = Store(tmp_path / "c")
    store.set("notes/abc", {"text": "hello"})
    assert store.get("notes/abc") == {"text": "hello"}
    assert store.get("notes/missing") is None
    assert store.info()["entries"] == {"notes": 1}
    assert [k for k, _ in store.items("notes")] == ["notes/abc"]
    assert store.clear() == 1


def test_damaged_entry_is_detected_and_dropped(tmp_path: Path) -> None:
    store = Store(tmp_path / "c")
    store.set("summary/x", {"title": "T"})
    raw = store.cache.get("summary/x")
    store.cache.set("summary/x", raw[:-3] + "zzz")  # bytes flipped on disk
    assert store.get("summary/x") is None
    assert "summary/x" not in store.cache  # forgotten, so it gets recomputed
    store.cache.set("summary/y", b"\x00\x01 not json")
    assert store.get("summary/y") is None
