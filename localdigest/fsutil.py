"""Every file localdigest writes goes through here: never seen half-done, never through a
planted link, never outside the folder it belongs in.

A write makes a fresh temporary file in the target's own folder (``O_CREAT | O_EXCL |
O_NOFOLLOW``, a random name, opened relative to the folder's descriptor, so nothing planted
there is followed or reused), fills it, renames it over the target within that same folder
and checks that the name now holds the file written. The folder is checked to lie inside
``inside`` when a root is given (a notes vault, the library). A write that fails says which
file and why (``StorageError``, exit 6). Partial files left by a killed process
(``.<name>.<random>.part``) are swept when the same file is written again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from localdigest.errors import InputError, StorageError, UsageError

PART_SUFFIX = ".part"
STALE_SECONDS = 3600.0  # a partial file untouched this long belongs to no live process
_NAME_ROOM = 100  # characters of the target's name kept in its temporary file's name
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.replace in os.supports_dir_fd and os.open in os.supports_dir_fd


def partial_prefix(name: str) -> str:
    """The start of every temporary file name made for ``name`` (what sweeps look for)."""
    return f".{name[:_NAME_ROOM]}."


def why(error: OSError) -> str:
    return error.strerror or str(error)


def storage_error(path: Path, error: OSError, what: str = "") -> StorageError:
    """The one-line message for a write that failed."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some disk space"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "fix the folder's permissions or choose another place"
    else:
        hint = "check the path, its permissions and free space"
    return StorageError(f"Cannot write {what or path} ({why(error)}) — {hint}")


# ----------------------------------------------------------------------------- checks


def check_inside(root: Path, path: Path) -> Path:
    """``path`` when its folder (resolved) is ``root`` or lies within it; refuse anything else."""
    real_root = root.resolve()
    folder = path.parent.resolve()
    if folder != real_root and not folder.is_relative_to(real_root):
        raise StorageError(f"Refusing to write {path}: it is outside {root}")
    return path


def check_output(path: Path, flag: str = "--output") -> Path:
    """Refuse an output file that cannot work, before any work is done.

    A folder, or a path under a file: ``UsageError`` (exit 2). A folder we may not write
    in, or a disk without free space: ``StorageError`` (exit 6). Missing folders are fine
    (they are created on writing).
    """
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(
            f"{flag} {path} is a folder — give a file name (e.g. {path / 'digest.md'})"
        )
    _check_writable_folder(path.parent, f"{flag} {path}")
    return path


def check_folder(path: Path, flag: str) -> Path:
    """The same for an output folder (``--notes``, ``--out-dir``): not a file, not under one,
    writable where it exists or would be created."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file — give a folder")
    _check_writable_folder(path, f"{flag} {path}")
    return path


def _check_writable_folder(folder: Path, shown: str) -> None:
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{shown}: {ancestor} is a file, not a folder — choose another path")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise StorageError(
            f"Cannot write {shown}: {ancestor} is not writable — fix its permissions or "
            "choose another path"
        )
    with contextlib.suppress(OSError):
        if os.statvfs(ancestor).f_bavail == 0:
            raise StorageError(f"Cannot write {shown}: its disk is full — free some space")


# ----------------------------------------------------------------------------- reading


def open_inside(path: Path, root: Path) -> BinaryIO:
    """``path`` opened to read, only as a plain file that is no link itself and lies inside
    ``root`` once every link on its way is followed: what is published from a shared home
    (a figure, a library PDF) can't be a planted link to a file elsewhere (a key, say).
    ``root`` itself may be a link. Anything else: ``InputError`` naming the file."""
    real_root = root.expanduser().resolve()
    try:
        real = path.expanduser().resolve()
        if real != real_root and not real.is_relative_to(real_root):
            raise InputError(
                f"{path} leads outside {root} (a link to {real}) — not reading it; remove the link"
            )
        flags = os.O_RDONLY | _O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path.expanduser(), flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(f"{path} is a link — not reading it; remove the link") from e
        raise InputError(f"Cannot read {path} ({why(e)}) — check the file") from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{path} is not a plain file — not reading it")
    return os.fdopen(fd, "rb")


def read_inside(path: Path, root: Path, limit: int) -> bytes:
    """The bytes of ``path`` read through ``open_inside``, refused when over ``limit``."""
    with open_inside(path, root) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path} is over {limit:,} bytes — not reading it")
    return data


# ----------------------------------------------------------------------------- writing


def write_atomically(path: Path, data: str | bytes, *, inside: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary sibling renamed into place.

    Readers (and a run killed mid-write) see the old file or the new one, never part of one.
    """
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(path, inside=inside) as f:
        _filling(path, lambda: f.write(blob))


def copy_atomically(source: Path | BinaryIO, path: Path, *, inside: Path | None = None) -> None:
    """Copy the file ``source`` (a path, or a file opened by ``open_inside``) to ``path``
    the same way (its bytes, never a link to it)."""
    if isinstance(source, Path):
        try:
            src: BinaryIO = source.open("rb")
        except OSError as e:
            raise StorageError(f"Cannot read {source} ({why(e)}) — check the file") from e
    else:
        src = source
    with src, atomic_file(path, inside=inside) as f:
        _filling(path, lambda: shutil.copyfileobj(src, f, 1 << 20))


def _filling(path: Path, fill: Callable[[], object]) -> None:
    try:
        fill()
    except OSError as e:
        raise storage_error(path, e) from e


@contextlib.contextmanager
def atomic_file(
    path: Path, *, inside: Path | None = None, before_commit: Callable[[], None] | None = None
) -> Iterator[BinaryIO]:
    """An open temporary file that becomes ``path`` when the block ends without an error
    (after ``before_commit``, if given), and leaves nothing behind when it does not.

    Errors of the file system (permissions, disk full, a folder where the file belongs)
    become ``StorageError``; exceptions of the block pass through unchanged.
    """
    path = Path(path)
    folder = path.parent
    with contextlib.ExitStack() as stack:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if inside is not None:
                check_inside(inside, path)
            if path.is_dir() and not path.is_symlink():
                raise StorageError(f"Cannot write {path}: a folder is in its place — move it")
            sweep_partials(folder, partial_prefix(path.name))
            dir_fd = stack.enter_context(_folder(folder))
            tmp, f = stack.enter_context(exclusive_temp(folder, path.name, dir_fd))
        except OSError as e:
            raise storage_error(path, e) from e
        yield f
        try:
            f.flush()
            if before_commit is not None:
                before_commit()
            written = os.fstat(f.fileno())
            _replace(tmp, path.name, folder, dir_fd)
            _check_landed(path.name, folder, dir_fd, written)
        except OSError as e:
            raise storage_error(path, e) from e


@contextlib.contextmanager
def _folder(folder: Path) -> Iterator[int | None]:
    """A descriptor of ``folder`` (not followed if it is a link), or None where the
    platform has no ``dir_fd`` calls."""
    if not _DIR_FD:
        yield None
        return
    fd = os.open(folder, os.O_RDONLY | _O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_temp(
    folder: Path, name: str, dir_fd: int | None = None
) -> Iterator[tuple[str, BinaryIO]]:
    """A new, empty temporary file for ``name`` in ``folder``: ``(its name, open file)``.

    Created exclusively (never an existing file or a link planted under that name) with a
    random name starting with ``partial_prefix(name)``; removed again unless the caller
    renamed it away.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = f"{partial_prefix(name)}{secrets.token_hex(6)}{PART_SUFFIX}"
        try:
            if dir_fd is not None:
                fd = os.open(tmp, flags, 0o644, dir_fd=dir_fd)
            else:
                fd = os.open(folder / tmp, flags, 0o644)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))
    try:
        with os.fdopen(fd, "wb") as f:
            yield tmp, f
    finally:
        with contextlib.suppress(OSError):
            if dir_fd is not None:
                os.unlink(tmp, dir_fd=dir_fd)
            else:
                (folder / tmp).unlink()


def open_for_append(path: Path) -> BinaryIO:
    """A partial file that is resumed on purpose (a model download), opened to append: a
    plain file of ours, created if missing, never a link planted at its name."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        raise storage_error(path, e) from e
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StorageError(f"Cannot write {path}: it is not a plain file — remove it")
    return os.fdopen(fd, "ab")


def _replace(tmp: str, name: str, folder: Path, dir_fd: int | None) -> None:
    if dir_fd is not None:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    else:
        os.replace(folder / tmp, folder / name)


def _check_landed(name: str, folder: Path, dir_fd: int | None, written: os.stat_result) -> None:
    """The rename's check: the name now holds the very file written, as a plain file."""
    if dir_fd is not None:
        now = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    else:
        now = os.lstat(folder / name)
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (
        written.st_dev,
        written.st_ino,
    ):
        raise StorageError(f"Writing {folder / name} was interfered with — check that folder")


def sweep_partials(folder: Path, prefix: str, older_than: float = STALE_SECONDS) -> int:
    """Remove ``<prefix>*.part`` files in ``folder`` untouched for ``older_than`` seconds:
    what a killed process left behind (a live one keeps touching its file). The count."""
    removed = 0
    cutoff = time.time() - older_than
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(PART_SUFFIX)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_mtime < cutoff and not stat.S_ISDIR(info.st_mode):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # another process swept it first, or it is not ours to remove
    return removed


# ----------------------------------------------------------------------------- state files

T = TypeVar("T")
DAMAGED_SUFFIX = ".damaged"


def load_state(
    path: Path, parse: Callable[[Any], T], on_damage: Callable[[str], None] | None = None
) -> T | None:
    """One of our JSON state files, read by ``parse``; None when there is none.

    A damaged one (unreadable, not JSON, or of a shape ``parse`` refuses with ValueError,
    TypeError or KeyError) means "start afresh": it is moved aside to ``<name>.damaged``
    (kept for a look, out of the way of the next write) and ``on_damage`` hears why.
    """
    try:
        raw = path.read_bytes()
        return parse(json.loads(raw))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as e:
        aside = path.with_name(path.name + DAMAGED_SUFFIX)
        why_not = why(e) if isinstance(e, OSError) else str(e) or type(e).__name__
        try:
            os.replace(path, aside)
            kept = f"kept as {aside.name}"
        except OSError:
            kept = "left where it is"
        if on_damage is not None:
            on_damage(f"{path} is damaged ({why_not}) — starting afresh; it was {kept}")
        return None
