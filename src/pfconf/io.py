"""Reading and writing configuration files: decoding, kind detection and atomic replacement.

Text is decoded as UTF-8 with surrogateescape, so any byte sequence (Windows-1251 comments,
stray Latin-1) comes back out unchanged.  Writes go through a temporary file in the same
directory, fsync and rename, keeping the file's mode, owner and group.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

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
