"""Property: a figure's record (``figures/<sha256>.json``, in a shared home) of any shape
— random JSON, the fields read holding other types (issue 25, item 9: ``"number": "one"``)
— gives the key figure found again or read back, never a traceback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from localdigest.pdf import figures
from localdigest.pdf.document import file_sha256

JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["version", "sha256", "found", "number", "caption", "page", "width", "height"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4), whole=st.booleans())
@example(changes={"number": "one"}, whole=False)
@example(changes={"page": 2**40, "width": -1}, whole=False)
def test_a_figure_record_of_any_shape(
    corpus: Path, changes: dict[str, object], whole: bool
) -> None:
    pdf = corpus / "pdfs" / "1706.03762.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        library, kept = Path(tmp) / "library", Path(tmp) / "figures"
        first = figures.key_figure(pdf, library=library, figures=kept)
        assert first is not None
        record = kept / f"{file_sha256(pdf)}.json"
        good = json.loads(record.read_text())
        record.write_text(json.dumps(changes if whole else {**good, **changes}))
        again = figures.key_figure(pdf, library=library, figures=kept)
        if again is not None:
            for value in (again.number, again.page, again.width, again.height):
                assert type(value) is int and 0 <= value < 1 << 31
            assert isinstance(again.caption, str)
            assert again.read() is not None
