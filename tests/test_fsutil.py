"""The one writer every file goes through: exclusive temporary files, checked renames,
partial files swept, failures as one line (exit 6)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from localdigest import fsutil
from localdigest.errors import ExitCode, StorageError, UsageError


def test_a_planted_link_at_any_temporary_name_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "vault"
    folder.mkdir()
    # Every name the old writers used, and ones that look like ours.
    for name in (".note.md.part", ".note.md.abc.part", ".note.md.000000000000.part"):
        (folder / name).symlink_to(outside)
    fsutil.write_atomically(folder / "note.md", "new text")
    assert outside.read_text() == "precious"
    assert (folder / "note.md").read_text() == "new text"
    assert not (folder / "note.md").is_symlink()


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "file.md"
    target.symlink_to(outside)
    fsutil.write_atomically(target, "mine")
    assert outside.read_text() == "precious"
    assert not target.is_symlink() and target.read_text() == "mine"


def test_copy_is_a_plain_file_with_the_bytes(tmp_path: Path) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF-1.4 x %%EOF")
    target = tmp_path / "attachments" / "a.pdf"
    fsutil.copy_atomically(source, target, inside=tmp_path / "attachments")
    assert target.read_bytes() == source.read_bytes() and not target.is_symlink()


def test_writes_outside_the_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "escape").symlink_to(tmp_path)
    with pytest.raises(StorageError, match="outside"):
        fsutil.write_atomically(root / "escape" / "x.md", "x", inside=root)
    assert not (tmp_path / "x.md").exists()


def test_a_folder_in_the_targets_place_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "digest.md").mkdir()
    with pytest.raises(StorageError, match="a folder is in its place") as caught:
        fsutil.write_atomically(tmp_path / "digest.md", "x")
    assert caught.value.exit_code == ExitCode.STORAGE


def test_a_full_disk_is_a_storage_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StorageError, match=r"No space left on device.*free some disk space"):
        fsutil.write_atomically(tmp_path / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_files_are_swept_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / ".x.json.0123456789ab.part"
    fresh = tmp_path / ".x.json.ba9876543210.part"
    other = tmp_path / ".y.json.0123456789ab.part"
    for p in (stale, fresh, other):
        p.write_text("half")
    old = time.time() - 2 * fsutil.STALE_SECONDS
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    fsutil.write_atomically(tmp_path / "x.json", "{}")
    assert not stale.exists()
    assert fresh.exists()  # maybe another process writing right now
    assert other.exists()  # another file's: swept when that one is written


def test_output_paths_are_checked_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UsageError, match="is a folder"):
        fsutil.check_output(tmp_path / "folder")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        fsutil.check_output(tmp_path / "file.txt" / "out.md")
    with pytest.raises(UsageError, match="is a file"):
        fsutil.check_folder(tmp_path / "file.txt", "--notes")
    assert fsutil.check_output(tmp_path / "new" / "out.md") == tmp_path / "new" / "out.md"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_exit_6_before_the_work(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StorageError, match="not writable") as caught:
            fsutil.check_output(locked / "out.md")
        assert caught.value.exit_code == ExitCode.STORAGE
    finally:
        locked.chmod(0o700)


def test_a_resumed_partial_is_never_a_planted_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"precious")
    partial = tmp_path / "blob.incomplete"
    partial.symlink_to(outside)
    with pytest.raises(StorageError):
        fsutil.open_for_append(partial)
    assert outside.read_bytes() == b"precious"
    partial.unlink()
    with fsutil.open_for_append(partial) as f:
        f.write(b"ab")
    with fsutil.open_for_append(partial) as f:
        f.write(b"cd")
    assert partial.read_bytes() == b"abcd"
