"""Atomic outputs that never delete or change anything but the intended output.

Every output (a file or a directory) is built under a temporary name beside its target and renamed
over the target only when complete, so a reader sees the old output or the new one, never a mix.

- Temporaries are named ``.<target name>.leadscore-<pid>-<random>.tmp``: recognisably leadscore's
  and the writer's own. They are removed on any exception and on SIGTERM/SIGHUP (the process then
  exits 128 + the signal number). A SIGKILL cannot be handled: the next write to the same target
  sweeps the temporaries whose writer pid is no longer alive, and never touches anything else.
- A new output gets the permissions the umask gives (0666/0777 & ~umask); a replaced output keeps
  the mode it had.
- A directory is only ever replaced when it is empty or carries leadscore's marker file
  (:data:`MARKER`), which every directory written here gets; any other existing directory is refused.
- Two writers to the same target: each builds its own temporary; the one that renames last wins
  whole. Directory swaps (two renames) are serialised with a lock on the parent directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadscore.errors import OutputError

try:  # POSIX only; elsewhere directory swaps are not serialised.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

MARKER = ".leadscore-output"
_TEMP_TAIL = re.compile(r"^(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.(?P<kind>tmp|old)$")
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


# -- names and the sweep ----------------------------------------------------------------------------
def temp_sibling(target: Path, *, kind: str = "tmp") -> Path:
    """A fresh temporary name beside ``target`` owned by this process (``kind``: tmp or old)."""
    return target.with_name(f".{target.name}.leadscore-{os.getpid()}-{secrets.token_hex(4)}.{kind}")


def _owner_pid(target: Path, name: str) -> tuple[int, str] | None:
    """(pid, kind) if ``name`` is one of leadscore's temporaries for ``target``, else None."""
    prefix = f".{target.name}.leadscore-"
    if not name.startswith(prefix):
        return None
    match = _TEMP_TAIL.match(name[len(prefix) :])
    return (int(match["pid"]), match["kind"]) if match else None


def pid_alive(pid: int) -> bool:
    """True if a process with ``pid`` exists (signal 0 probes without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGHUP until the block ends, so a clean-up is not cut short (they arrive after)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _remove(path: Path) -> None:
    """Remove a temporary file or directory; missing is fine; not interrupted by SIGTERM."""
    with _signals_deferred(), contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def sweep_stale(target: str | Path) -> list[Path]:
    """Remove ``target``'s temporaries left by leadscore writers that are no longer running.

    Only names of the form ``.<target name>.leadscore-<pid>-<8 hex>.tmp|.old`` whose pid is dead
    are touched. An ``.old`` directory whose swap was cut short (the target is missing) is put back
    instead of removed. Returns the paths removed or restored.
    """
    target = Path(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    swept = []
    for entry in entries:
        owner = _owner_pid(target, entry.name)
        if owner is None or pid_alive(owner[0]):
            continue
        path = Path(entry.path)
        if owner[1] == "old" and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.replace(path, target)
                swept.append(path)
            continue
        _remove(path)
        swept.append(path)
    return swept


# -- permissions ------------------------------------------------------------------------------------
def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask is set-and-get)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(target: Path, *, directory: bool) -> int:
    """The mode ``target`` should get: its current one if it exists, else the umask's default."""
    with contextlib.suppress(OSError):
        existing = target.stat()
        if stat.S_ISDIR(existing.st_mode) == directory:
            return stat.S_IMODE(existing.st_mode)
    return (0o777 if directory else 0o666) & ~current_umask()


# -- checks before anything is written --------------------------------------------------------------
def _check_parent(target: Path) -> None:
    """Raise unless ``target``'s directory exists or can be created, and is writable."""
    ancestor = target.absolute().parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{target}: cannot create it: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: cannot write in {ancestor} (permission denied)")


def check_file_target(target: str | Path) -> None:
    """Raise :class:`OutputError` unless a file can be written at ``target`` (it is not a directory)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: is a directory; give a file name (e.g. {target / 'scores.parquet'})")
    _check_parent(target)


def is_leadscore_directory(path: Path) -> bool:
    """True if ``path`` carries leadscore's marker file (it was written by leadscore)."""
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8")).get("written_by") == "leadscore"
    except (OSError, ValueError, AttributeError):
        return False


def check_directory_target(target: str | Path) -> None:
    """Raise :class:`OutputError` unless ``target`` may be replaced by a directory.

    Allowed: a new path, an empty directory, or a directory leadscore wrote (it has the marker).
    """
    target = Path(target)
    if os.path.lexists(target) and not target.is_dir():
        raise OutputError(
            f"{target}: exists and is not a directory (give a .parquet or .csv name for a single file output)"
        )
    if target.is_dir() and not is_leadscore_directory(target):
        try:
            entries = sorted(p.name for p in target.iterdir())
        except OSError as err:
            raise OutputError(f"{target}: cannot read this directory ({err.strerror})") from None
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise OutputError(
                f"{target}: an existing directory not written by leadscore (no {MARKER} file; holds {len(entries)} "
                f"{'entry' if len(entries) == 1 else 'entries'}: {shown}); refusing to replace it: "
                "give a new or empty directory, or a .parquet/.csv file"
            )
    _check_parent(target)


# -- signals ----------------------------------------------------------------------------------------
class Terminated(SystemExit):
    """Raised in the main thread by SIGTERM/SIGHUP while an output is being written."""


@contextlib.contextmanager
def _exit_on_signal() -> Iterator[None]:
    """While writing, turn SIGTERM/SIGHUP into :class:`Terminated` (exit 128 + signal number).

    The exception unwinds through every ``finally``, which removes the temporaries. Only the main
    thread can install handlers; elsewhere (and for ignored signals, e.g. under nohup) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Terminated(128 + signum)

    previous = {}
    for sig in _SIGNALS:
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN:
            continue
        previous[sig] = current
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``directory`` (best effort: unsupported filesystems go unlocked)."""
    fd = None
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _io_error(target: Path, action: str, err: OSError) -> OutputError:
    where = f" ({err.filename})" if err.filename and str(err.filename) != str(target) else ""
    return OutputError(f"{target}: could not {action}: {err.strerror or err}{where}")


def _make_parent(target: Path) -> list[Path]:
    """Create ``target``'s missing directories; return the ones created (outermost first)."""
    missing, parent = [], target.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _remove_empty(missing[::-1])
        raise _io_error(target, "create its directory", err) from None
    return missing[::-1]


def _remove_empty(directories: list[Path]) -> None:
    """Remove the directories a failed write created, innermost first, if still empty."""
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            directory.rmdir()


# -- the writers ------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only if the block succeeds.

    The block writes the file at the yielded path. A new file gets the umask's mode, a replaced one
    keeps its mode. On an exception or SIGTERM the temporary (and any directory created for it) is
    removed and ``target`` is untouched.
    """
    target = Path(target)
    check_file_target(target)
    created = _make_parent(target)
    sweep_stale(target)
    tmp, done = temp_sibling(target), False
    with _exit_on_signal():
        try:
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as err:
                raise _io_error(target, "create a temporary file beside it", err) from None
            yield tmp
            try:
                os.chmod(tmp, output_mode(target, directory=False))
                os.replace(tmp, target)
                done = True
            except OSError as err:
                raise _io_error(target, "put the finished file in place", err) from None
        finally:
            _remove(tmp)
            if not done:
                _remove_empty(created)


def marker_content(**extra: Any) -> dict[str, Any]:
    """The marker file's JSON: who wrote the directory (and anything the caller adds)."""
    return {"written_by": "leadscore", **extra}


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, marker: dict[str, Any] | None = None) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; swap it in for ``target`` only if the block succeeds.

    ``target`` must be new, empty or a directory leadscore wrote (see :func:`check_directory_target`);
    the finished directory gets the marker file. The old directory is renamed aside, the new one
    renamed in, then the old one removed; if the process dies between the two renames, the next
    write puts the old one back.
    """
    target = Path(target)
    check_directory_target(target)
    created = _make_parent(target)
    with _locked(target.parent):
        sweep_stale(target)
    tmp, done = temp_sibling(target), False
    with _exit_on_signal():
        try:
            try:
                tmp.mkdir(mode=0o700)
            except OSError as err:
                raise _io_error(target, "create a temporary directory beside it", err) from None
            yield tmp
            try:
                (tmp / MARKER).write_text(json.dumps(marker or marker_content(), indent=2) + "\n", encoding="utf-8")
                with _locked(target.parent):
                    # Checked again: the directory may have changed while the output was being built.
                    check_directory_target(target)
                    os.chmod(tmp, output_mode(target, directory=True))
                    _swap(tmp, target)
                    done = True
            except OSError as err:
                raise _io_error(target, "put the finished directory in place", err) from None
        finally:
            _remove(tmp)
            if not done:
                _remove_empty(created)


def _swap(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``, moving an existing ``target`` aside first and removing it after.

    Signals are held for the two renames so that a SIGTERM cannot leave ``target`` missing.
    """
    with _signals_deferred():
        if not os.path.lexists(target):
            os.replace(new, target)
            return
        old = temp_sibling(target, kind="old")
        os.replace(target, old)
        try:
            os.replace(new, target)
        except OSError:
            os.replace(old, target)
            raise
    _remove(old)
