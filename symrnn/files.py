"""Atomic file writes: a reader sees the old files or the new ones, never half of either.

:func:`replace_atomically` writes one file through a temporary file in the same directory and a
rename; :func:`replace_all_atomically` does the same for a set of files, all or none: every new
file is written to a temporary first, then each old file is moved aside, the new ones renamed into
place, and the old ones deleted — and on any failure the old files are put back.  While files are
being written, SIGINT and SIGTERM are turned into exceptions, so no ``.symrnn-*.tmp`` survives a
signal that can be caught.  Failures raise :class:`WriteError`, whose message names the path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading

TEMP_PREFIX = ".symrnn-"


class WriteError(Exception):
    """A file could not be written: ``str(e)`` is one line naming the path and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: cannot write: {reason}")
        self.path = path


class Interrupted(BaseException):
    """A caught SIGTERM during a write (SIGINT raises KeyboardInterrupt as usual)."""


@contextlib.contextmanager
def _signals_raise():
    """SIGTERM raises :class:`Interrupted` inside the block (main thread only), so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Interrupted(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def _directory(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise WriteError(path, f"directory {directory} does not exist")
    return directory


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _write_temporary(path: str, data: str | bytes, temporaries: list[str]) -> str:
    """``data`` in a new temporary file beside ``path`` (appended to ``temporaries`` before it is written)."""
    directory = _directory(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=".tmp")
    except OSError as e:
        raise WriteError(path, _reason(e)) from None
    temporaries.append(tmp)
    try:
        if isinstance(data, str):
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(data)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        # mkstemp creates 0600 files; give the result the permissions a normal write would.
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as e:
        raise WriteError(path, _reason(e)) from None
    return tmp


def _remove(paths) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.unlink(p)


def replace_atomically(path: str, data: str | bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename.

    Text is written as UTF-8 with ``\\n`` line ends on every platform, so output is byte-identical
    wherever it is produced.  The directory must exist; an existing file is replaced.

    Raises:
        WriteError: the file could not be written (the directory is missing or read-only, the disk
            is full, ...); nothing is left behind.
    """
    replace_all_atomically({path: data})


def replace_all_atomically(files: dict[str, str | bytes]) -> None:
    """Write every file of ``files`` (path → data), all or none.

    Raises:
        WriteError: one of the files could not be written; every file is then as it was before
            and no temporary file is left behind.
    """
    temporaries: list[str] = []
    backups: dict[str, str] = {}  # path → where the old file waits until the new set is in place
    placed: list[str] = []
    with _signals_raise():
        try:
            news = {path: _write_temporary(path, data, temporaries) for path, data in files.items()}
            for path, tmp in news.items():
                if os.path.lexists(path) and not os.path.isdir(path):
                    backup = tmp[: -len(".tmp")] + ".old.tmp"
                    try:
                        os.replace(path, backup)
                    except OSError as e:
                        raise WriteError(path, _reason(e)) from None
                    backups[path] = backup
                try:
                    os.replace(tmp, path)
                except OSError as e:
                    raise WriteError(path, _reason(e)) from None
                placed.append(path)
        except BaseException:
            _remove(placed)
            for path, backup in backups.items():
                with contextlib.suppress(OSError):
                    os.replace(backup, path)
            _remove(temporaries)
            raise
        _remove(backups.values())
