"""Writing files so that no reader, crash or second process sees half of one.

The one place ``gan`` knows how to (1) replace a file atomically, (2) build
a folder out of sight and publish it in one rename, (3) keep two processes
apart with a lock that the kernel releases however the holder dies, and
(4) hold off Ctrl-C and SIGTERM while something must not be torn. Run
directories, sampled PNG folders, reports, scaffolded plugins and sweeps all
use these, so each guarantee is written (and tested) once.

Everything here respects the umask: temporary files and folders, which
tempfile creates private, are given the mode open() and mkdir() would have
given them before they are renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import GanError


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask sets it, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def umask_mode(mode: int = 0o666) -> int:
    """``mode`` as the umask allows: mkstemp and mkdtemp create private files, ours are what open() would make."""
    return mode & ~_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either its old or its new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, umask_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_bytes(obj: Any) -> bytes:
    """How gan writes a JSON file (run.json, eval.json...): indented, keys in their order, a final newline."""
    return (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode()


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json_bytes(obj))


def write_synced(path: Path, data: bytes) -> None:
    """Write a new file and flush it to disk (inside a folder that is published later by a rename)."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def sync_folder(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def staged_folder(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """A hidden folder beside ``final`` to fill; renamed to ``final`` in one step when the block ends cleanly.

    ``final`` must be absent or an empty folder, unless ``replace``: then an
    existing ``final`` is swapped out and removed only once the new one is
    in place (a reader sees the old folder or the new one). An error or
    Ctrl-C inside the block removes the staging folder and leaves ``final``
    as it was. Each call gets a folder of its own, so two processes
    publishing the same ``final`` never clear each other's work.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        os.chmod(staging, umask_mode(0o777))
        yield staging
        if replace and final.exists() and any(final.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, old / final.name)
            try:
                os.replace(staging, final)
            except BaseException:
                os.replace(old / final.name, final)
                raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            if final.exists():
                final.rmdir()  # empty (a non-empty one raises: the caller checked it before the work)
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class FileLock:
    """An exclusive flock on ``path``, held from construction to :meth:`release` (or the ``with`` block's end).

    The kernel drops an flock when its process ends, however it ends, so a
    killed holder never leaves a stale lock. ``busy`` builds the sentence
    for a second process, from what the holder wrote into the file (its
    ``holder`` text). The folder of ``path`` must exist: a lock never
    creates folders, so refused input leaves nothing behind.
    """

    def __init__(self, path: Path, *, holder: str, busy: Callable[[str], str]) -> None:
        self.path = path
        self._handle = self._acquire(busy)
        try:
            self._handle.write(holder)
            self._handle.flush()
        except BaseException:
            self.release()
            raise

    def _acquire(self, busy: Callable[[str], str]) -> Any:
        import fcntl

        while True:
            handle = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise GanError(busy(holder)) from exc
            except OSError as exc:  # a file system without locks (some NFS, Lustre, FUSE mounts): say so
                handle.close()
                raise GanError(f"the file system of {self.path.parent} does not support file locks "
                               f"({exc.strerror}), which keep two gan processes apart; use a folder on a local disk") from exc
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the holder removed the file as we opened it: lock the new one
                handle.seek(0)
                handle.truncate()
                return handle
            handle.close()

    def release(self) -> None:
        """Remove the lock file (while still holding it, so no one locks a file about to vanish), then unlock."""
        if not self._handle.closed:
            self.path.unlink(missing_ok=True)
            self._handle.close()

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


@contextmanager
def deferred_signals(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the block runs, then deliver them, in order, to the handlers they were for.

    A Python signal handler runs between two bytecodes, so a second Ctrl-C
    could otherwise raise KeyboardInterrupt halfway through a checkpoint.
    Only the main thread installs handlers; elsewhere the block runs as is.
    (kill -9 cannot be held: what is written under this guard must also be
    safe to cut anywhere, as a run's checkpoint is.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {}
    for signum in signums:
        handler = signal.getsignal(signum)
        if handler is None:  # installed outside Python: leave it alone
            continue
        previous[signum] = handler
        signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in caught:
            signal.raise_signal(signum)
