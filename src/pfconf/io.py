"""Reading and writing configuration files: decoding, kind detection and atomic replacement.

Text is decoded as UTF-8 with surrogateescape, so any byte sequence (Windows-1251 comments,
stray Latin-1) comes back out unchanged.  Writes go through a temporary file in the same
directory, fsync and rename, keeping the file's mode, owner and group.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional, Union

ENCODING = "utf-8"
ERRORS = "surrogateescape"

PathLike = Union[str, "os.PathLike[str]"]


def decode(data: bytes) -> str:
    return data.decode(ENCODING, ERRORS)


def encode(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)


def kind_of(path: PathLike) -> str:
    """``"master"`` for master.cf-like names (``master.cf``, ``master.cf.proto``), else ``"main"``."""
    name = Path(path).name.lower()
    return "master" if name.startswith("master") or "master" in name else "main"


def write_atomic(path: PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never half.

    A symlink is followed: its target is replaced and the link is kept.
    """
    target = Path(os.path.realpath(path))
    directory = target.parent
    try:
        info: Optional[os.stat_result] = target.stat()
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
