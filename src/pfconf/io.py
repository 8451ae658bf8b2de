"""Reading and writing configuration files: decoding, kind detection and atomic replacement.

Text is decoded as UTF-8 with surrogateescape, so any byte sequence (Windows-1251 comments,
stray Latin-1) comes back out unchanged.  Writes go through a temporary file in the same
directory, fsync and rename, keeping the file's mode, owner and group.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Union

from .errors import PfconfError

ENCODING = "utf-8"
ERRORS = "surrogateescape"

PathLike = Union[str, "os.PathLike[str]"]


def decode(data: bytes) -> str:
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)


def split_lines(text: str) -> list[str]:
    """Physical lines as Postfix sees them, each with its ``\n`` (the last may have none).

    Postfix ends a line at ``\n`` only.  ``str.splitlines()`` would also break at a lone
    ``\r``, ``\v``, ``\f``, ``\x1c``-``\x1e``, U+0085, U+2028 and U+2029, which are
    ordinary characters inside a Postfix line (a comment may hold them): every line number
    the parser, the editor and the reports use comes from this one function.
    """
    if not text:
        return []
    lines = text.split("\n")
    last = lines.pop()
    result = [line + "\n" for line in lines]
    if last:
        result.append(last)
    return result


#: Characters that some programs take for a line break but Postfix does not (see split_lines).
#: A value that holds one reads differently in Postfix and in most editors, so pfedit will
#: not write one.
LINE_BREAK_LOOKALIKES = frozenset("\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


_SERVICE_TYPES = ("unix", "fifo", "inet", "pass", "unix-dgram")


def kind_of(path: PathLike, data: bytes | None = None) -> str:
    """Which file ``path`` is: ``"master"`` or ``"main"``.

    The name decides when it says (``master.cf``, ``main.cf.proto``); otherwise the content
    does: a first entry like ``smtp inet n - y - - smtpd`` (a service type as second word, no
    ``=`` in the first word) is a master.cf.
    """
    name = Path(path).name.lower()
    if "master" in name:
        return "master"
    if "main" in name or data is None:
        return "main"
    looked = 0
    for line in decode(data).split("\n"):
        if not line.strip(" \t\v\f\r") or line.lstrip(" \t\v\f\r").startswith("#"):
            continue
        if line[0] in " \t\v\f\r":
            continue
        words = line.split()
        if len(words) >= 2 and "=" not in words[0] and words[1] in _SERVICE_TYPES:
            return "master"
        if "=" in line:
            return "main"
        looked += 1
        if looked >= 20:
            break
    return "main"


def write_atomic(path: PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never half.

    A symlink is followed: its target is replaced and the link is kept.
    """
    target = Path(os.path.realpath(path))
    directory = target.parent
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, info.st_mode & 0o7777)
            try:
                os.chown(tmp, info.st_uid, info.st_gid)
            except PermissionError:
                pass  # not root: the file stays ours, which is what we could write anyway
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# -- Postfix's edit_file protocol ---------------------------------------------------------------

#: The mode of a temporary file while it is being written: nobody else can read it, whatever
#: it will hold (util/edit_file.c: EDIT_FILE_MODE).
TEMPORARY_MODE = 0o600

#: How long to wait for another editor (pfedit, postconf -e) to finish with a file.
LOCK_TIMEOUT = 30.0


class FileWriteError(PfconfError):
    """A file could not be written (or locked); the message names the real file."""


class Locked(FileWriteError):
    """Another program holds the lock on a file: it is being edited."""


class EditFile:
    """One file being replaced the way postconf -e replaces main.cf (util/edit_file.c).

    ``PATH.tmp`` is created with mode 0600 and locked exclusively (flock, Postfix's internal
    lock style on Linux and the BSDs) before the original is read, so that two editors that
    follow the protocol, pfedit and postconf -e among them, take turns.  The new content goes
    into the temporary file, which gets its final mode and owner only then, and is renamed
    over the original: readers see the old file or the new one, never half of either.
    ``abort`` removes the temporary file instead.  A symlink is replaced at its target.
    """

    def __init__(self, path: PathLike, timeout: float | None = None) -> None:
        self.label = os.fspath(path)
        self.path = os.path.realpath(path)
        self.tmp = self.path + ".tmp"
        self.fd: int | None = None
        deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
        while True:
            try:
                fd = os.open(
                    self.tmp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                    TEMPORARY_MODE,
                )  # fmt: skip
            except OSError as exc:
                raise FileWriteError(_describe(self.label, exc)) from None
            if not _flock(fd, deadline):
                os.close(fd)
                raise Locked(
                    f"{self.label}: another program is editing it ({self.tmp} is locked)"
                )
            # While we waited, the holder may have renamed or removed the file we opened.
            opened = os.fstat(fd)
            try:
                named = os.stat(self.tmp, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                continue
            if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
                os.close(fd)
                continue
            # A leftover of a crash (content, a link, the wrong mode): remove it, start over.
            if (
                not stat.S_ISREG(named.st_mode)
                or named.st_size > 0
                or named.st_nlink > 1
                or stat.S_IMODE(named.st_mode) != TEMPORARY_MODE
            ):
                os.unlink(self.tmp)
                os.close(fd)
                continue
            self.fd = fd
            return

    def write(self, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
        """Fill the temporary file and give it its final mode and owner (not renamed yet)."""
        assert self.fd is not None
        try:
            os.ftruncate(self.fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            os.fsync(self.fd)
            if owner is not None:
                try:
                    os.fchown(self.fd, *owner)
                except PermissionError:
                    pass  # not root: the file stays ours, which is all we could write anyway
            os.fchmod(self.fd, mode)
        except OSError as exc:
            raise FileWriteError(_describe(self.label, exc)) from None

    def commit(self) -> None:
        """Rename the temporary file over the original and let go of the lock.  When the
        rename fails, the temporary file and the lock stay for :meth:`abort`."""
        assert self.fd is not None
        try:
            os.rename(self.tmp, self.path)
        except OSError as exc:
            raise FileWriteError(_describe(self.label, exc)) from None
        os.close(self.fd)
        self.fd = None
        fsync_directory(os.path.dirname(self.path))

    def abort(self) -> None:
        """Remove the temporary file and let go of the lock; the original is untouched."""
        if self.fd is None:
            return
        try:
            named = os.stat(self.tmp, follow_symlinks=False)
            if named.st_ino == os.fstat(self.fd).st_ino:
                os.unlink(self.tmp)
        except OSError:
            pass  # gone already: nothing of ours is left
        os.close(self.fd)
        self.fd = None


def _flock(fd: int, deadline: float) -> bool:
    """An exclusive flock on ``fd``, waiting until ``deadline``; False when it was not had."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _describe(label: str, exc: OSError) -> str:
    """``main.cf: No space left on device``: the real file, never a temporary one."""
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    return f"{label}: {reason}"


def fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` survive a crash."""
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: PathLike, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    """Replace ``path`` atomically with a file that has ``mode`` and ``owner``, its content
    never readable with a wider mode (a backup of a password table, a built table)."""
    target = os.path.realpath(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", dir=os.path.dirname(target))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        if owner is not None:
            try:
                os.fchown(fd, *owner)
            except PermissionError:
                pass
        os.fchmod(fd, mode)
        os.close(fd)
        fd = -1
        os.rename(tmp, target)
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise FileWriteError(_describe(os.fspath(path), exc)) from None
    fsync_directory(os.path.dirname(target))
