"""Reading and writing configuration files: decoding, kind detection and atomic replacement.

Every configuration file pfconf reads goes through read_config(), which refuses what is not
a regular file and caps the size, so that a FIFO cannot hang a command nor /dev/zero fill the
memory.  Text is decoded as UTF-8 with surrogateescape, so any byte sequence (Windows-1251
comments, stray Latin-1) comes back out unchanged.  Writes go through a temporary file in the
same directory, fsync and rename, keeping the file's mode, owner and group.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from pathlib import Path
from typing import Union

from .errors import MissingFile, ReadError, WriteError

ENCODING = "utf-8"
ERRORS = "surrogateescape"

PathLike = Union[str, "os.PathLike[str]"]


#: The largest file read_config() reads.  Parsing holds about 40 bytes of memory per byte of
#: main.cf (a 20 MiB file took 860 MB and 50 s), and the largest real-world main.cf in our
#: corpus is 65 KB: 16 MiB is 250 times that, yet keeps a wrong path (a log, a disk image)
#: below a gigabyte.
MAX_CONFIG_SIZE = 16 * 1024 * 1024

_CHUNK = 1024 * 1024

# What a path is when it is not a regular file, in the words of the error message.
_NOT_REGULAR = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)

_REASONS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symbolic link loop (too many levels of symbolic links)",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EISDIR: "is a directory",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
}


def reason(exc: OSError) -> str:
    """What went wrong, in the lower-case words of pfconf's messages (``permission denied``)."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _refuse_unless_regular(name: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    for test, what in _NOT_REGULAR:
        if test(mode):
            raise ReadError(name, what)
    raise ReadError(name, "not a regular file")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def read_config(path: PathLike, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` (MAX_CONFIG_SIZE) of them.

    See :func:`read_config_file`, which also says which file was read.
    """
    return read_config_file(path, limit)[0]


def read_config_file(path: PathLike, limit: int | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path``, at most ``limit`` (MAX_CONFIG_SIZE) of them,
    with the status of the very file they came from (its inode tells it from a file put in
    its place later).

    Raises MissingFile when nothing is at ``path``, and ReadError (naming ``path``) for a
    dangling symbolic link, a symbolic link loop, a directory, a FIFO, a device, a file
    larger than ``limit`` or any error of the system.  Never blocks on a FIFO and never
    holds more than ``limit + 1`` bytes, whatever the file system says about the size.
    """
    name = os.fspath(path)
    if limit is None:
        limit = MAX_CONFIG_SIZE
    # The type is checked before opening: opening a FIFO for reading waits for a writer,
    # and opening a device can have effects of its own (a tape rewinds).
    try:
        before = os.stat(name)
    except FileNotFoundError:
        if os.path.islink(name):
            raise ReadError(
                name, f"dangling symbolic link to {os.readlink(name)}", errno.ENOENT
            ) from None
        raise MissingFile(name, "no such file", errno.ENOENT) from None
    except OSError as exc:
        raise ReadError(name, reason(exc), exc.errno or 0) from None
    _refuse_unless_regular(name, before.st_mode)
    try:
        # O_NONBLOCK: if a FIFO took the file's place since the stat, open returns at once
        # instead of waiting for a writer, and the fstat below refuses it.
        fd = os.open(
            name,
            os.O_RDONLY
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_NOCTTY", 0)
            | getattr(os, "O_CLOEXEC", 0),
        )
    except OSError as exc:
        raise ReadError(name, reason(exc), exc.errno or 0) from None
    try:
        info = os.fstat(fd)
        _refuse_unless_regular(name, info.st_mode)
        if info.st_size > limit:
            raise ReadError(name, f"larger than {_size(limit)}, the most pfconf reads")
        chunks = []
        left = limit + 1  # one byte more than allowed tells a file that grew or lied
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ReadError(name, reason(exc), exc.errno or 0) from None
    finally:
        os.close(fd)
    if left <= 0:
        raise ReadError(name, f"larger than {_size(limit)}, the most pfconf reads")
    return b"".join(chunks), info


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


def kind_by_name(path: PathLike) -> str | None:
    """``"master"`` or ``"main"`` when the file's name says which (``master.cf``,
    ``main.cf.proto``), else None: see :func:`kind_of`."""
    name = Path(path).name.lower()
    if "master" in name:
        return "master"
    if "main" in name:
        return "main"
    return None


def kind_of(path: PathLike, data: bytes | None = None) -> str:
    """Which file ``path`` is: ``"master"`` or ``"main"``.

    The name decides when it says (``master.cf``, ``main.cf.proto``); otherwise the content
    does: a first entry like ``smtp inet n - y - - smtpd`` (a service type as second word, no
    ``=`` in the first word) is a master.cf.
    """
    by_name = kind_by_name(path)
    if by_name is not None:
        return by_name
    if data is None:
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

    A symlink is followed: its target is replaced and the link is kept.  Raises WriteError
    naming ``path`` (not the temporary file beside it) when that cannot be done.
    """
    name = os.fspath(path)
    try:
        _write_atomic(name, data)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(name, f"cannot write: {reason(exc)}", exc.errno or 0) from None


def _write_atomic(name: str, data: bytes) -> None:
    target = Path(os.path.realpath(name))
    directory = target.parent
    try:
        info: os.stat_result | None = target.stat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        # rename() would replace an empty directory, or a FIFO or device node, with a file
        for test, what in _NOT_REGULAR:
            if test(info.st_mode):
                raise WriteError(name, f"cannot write: {what}")
        raise WriteError(name, "cannot write: not a regular file")
    if not directory.is_dir():
        raise WriteError(name, f"cannot write: no such directory {directory}", errno.ENOENT)
    import tempfile  # only writing needs it: kept out of a lint's start-up

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


class Locked(WriteError):
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
                raise WriteError(self.label, f"cannot write: {reason(exc)}", exc.errno or 0) from None
            if not _flock(fd, deadline):
                os.close(fd)
                raise Locked(self.label, f"another program is editing it ({self.tmp} is locked)")
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
            raise WriteError(self.label, f"cannot write: {reason(exc)}", exc.errno or 0) from None

    def commit(self) -> None:
        """Rename the temporary file over the original and let go of the lock.  When the
        rename fails, the temporary file and the lock stay for :meth:`abort`."""
        assert self.fd is not None
        try:
            os.rename(self.tmp, self.path)
        except OSError as exc:
            raise WriteError(self.label, f"cannot write: {reason(exc)}", exc.errno or 0) from None
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
    import tempfile

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
        raise WriteError(os.fspath(path), f"cannot write: {reason(exc)}", exc.errno or 0) from None
    fsync_directory(os.path.dirname(target))
