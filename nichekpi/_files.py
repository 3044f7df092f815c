"""Writing files so that an interrupted run never leaves a half-written one.

A file is written to a temporary file beside it, named ``.NAME.XXXXXXXX.tmp``, which is
flushed to disk and then renamed over ``NAME`` (an atomic replace), after which the
folder is flushed too. An interrupted run leaves ``NAME`` as it was; a run killed
outright (SIGKILL, power cut) can leave its temporary file behind, which
:func:`remove_stale_temporaries` removes on the next run that holds :func:`exclusive`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

if os.name == "nt":
    import msvcrt

    def _try_lock(descriptor: int) -> None:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError from None
else:
    import fcntl

    def _try_lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)


_SUFFIX = ".tmp"


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


@contextlib.contextmanager
def replacing(path: Path, *, before_replace: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends well, it replaces ``path`` at once.

    If the block fails (or is interrupted), the temporary file is removed and ``path``
    is left as it was. A new file gets the usual permissions; a replaced one keeps its own.
    ``before_replace`` runs last before the replace; it can still stop it by raising.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=_SUFFIX, dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        _flush(temporary)
        if before_replace is not None:
            before_replace()
        os.replace(temporary, path)
        if os.name != "nt":  # Windows cannot open a folder to flush it; NTFS journals the rename
            _flush(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _flush(path: Path) -> None:
    """Make what was written to ``path`` (a file or a folder) durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through :func:`replacing`."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="")


def lock_path(path: Path) -> Path:
    """The file beside ``path`` that :func:`exclusive` locks, there while a holder runs."""
    return path.with_name(f".{path.name}.nichekpi-lock")


@contextlib.contextmanager
def exclusive(path: Path, *, wait: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (through :func:`lock_path`, which a replace leaves alone).

    ``flock`` on Unix, ``msvcrt.locking`` on Windows. Waits up to ``wait`` seconds for
    another holder, then raises :class:`TimeoutError`. The holder removes the lock file
    before letting go, so a waiter that then gets the lock checks that it locked the file
    still there, or starts again. A killed holder's lock goes with its process; its file
    stays until the next holder removes it.
    """
    lock = lock_path(path)
    deadline = time.monotonic() + wait
    while True:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            while True:
                try:
                    _try_lock(descriptor)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"{path} is locked") from None
                    time.sleep(0.05)
            try:
                locked, current = os.fstat(descriptor), os.stat(lock)
                still_there = (locked.st_dev, locked.st_ino) == (current.st_dev, current.st_ino)
            except FileNotFoundError:
                still_there = False
        except BaseException:
            os.close(descriptor)
            raise
        if still_there:
            break
        os.close(descriptor)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):  # Windows keeps a file that is open
            lock.unlink()
        os.close(descriptor)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files :func:`replacing` left beside ``path`` in a run that was killed.

    Call it only while holding :func:`exclusive` on ``path``, so that no running
    replace loses its temporary file.
    """
    prefix = _temporary_prefix(path)
    removed = []
    for name in os.listdir(path.parent):
        rest = name[len(prefix) : -len(_SUFFIX)]
        if name.startswith(prefix) and name.endswith(_SUFFIX) and len(rest) == 8 and "." not in rest:
            (path.parent / name).unlink(missing_ok=True)
            removed.append(path.parent / name)
    return removed
