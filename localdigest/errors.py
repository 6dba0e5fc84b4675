"""One error family, each with its exit code. Core code raises; only the CLI exits."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes of every localdigest command."""

    OK = 0
    BUG = 1  # an unexpected exception: a bug, shown with its traceback
    USAGE = 2  # bad flags or arguments
    INPUT = 3  # some inputs (papers) failed; the others were still done
    MODEL = 4  # the model file can't be used
    NETWORK = 5  # arXiv could not be reached or answered with an error
    STORAGE = 6  # a file or folder can't be written (permissions, disk full), or is damaged
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15), e.g. `kill` or a service manager stopping us


class LocaldigestError(Exception):
    """Base of every error meant for the user: one line, what failed and what to do."""

    exit_code: ExitCode = ExitCode.BUG

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LocaldigestError):
    exit_code = ExitCode.USAGE


class InputError(LocaldigestError):
    """One input (a paper, a path, an id) could not be used; others in the batch go on."""

    exit_code = ExitCode.INPUT


class PdfError(InputError):
    """A PDF could not be read or holds no usable text."""


class ModelError(LocaldigestError):
    exit_code = ExitCode.MODEL


class NetworkError(LocaldigestError):
    exit_code = ExitCode.NETWORK


class StorageError(LocaldigestError, OSError):
    """A file can't be written (permissions, disk full, a folder in its place): what every
    write through ``fsutil`` raises. Also an OSError, so code that treats a failed write
    as "best effort" (``except OSError``) keeps doing so."""

    exit_code = ExitCode.STORAGE


class CacheError(LocaldigestError):
    """The cache or library folder can't be written (permissions, disk full) or is damaged.
    Not an OSError: it stops a run (it would fail every paper), never only one paper."""

    exit_code = ExitCode.STORAGE


class ServerError(LocaldigestError):
    """arXiv answered, but with something that is not a usable answer (malformed, cut
    off). Unlike ``NetworkError`` it concerns one request: the rest of a batch goes on."""

    exit_code = ExitCode.NETWORK


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every clean-up on the way out runs (exit 143)."""
