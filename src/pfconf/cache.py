"""A cache of the knowledge base in a form that loads fast, keyed by the data's hash.

rules/parameters.toml alone takes about 50 ms to parse as TOML, more than the rest of a lint
of a small main.cf; the same data read with ``marshal`` takes under 2 ms.  Each table is
cached in its own file named after a SHA-256 of its TOML bytes, the Python version and
pfconf's version, so a changed table, an upgrade or another interpreter never reads a stale
entry: it misses, parses the TOML and writes a new file beside the old one.

Where:  ``$PFCONF_CACHE_DIR``, else ``$XDG_CACHE_HOME/pfconf``, else ``~/.cache/pfconf``.
``PFCONF_NO_CACHE=1`` turns the cache off.  The directory is made 0700 and files are written
0600 from their first byte (a temporary file, then a rename).  A cache file is read only
when it is a regular file owned by this user in a directory owned by this user, neither
writable by others: root running pflint must not read data another user could have put
there.  Any failure (read-only home, full disk, corrupt or foreign file) falls back to the
TOML, silently: the cache saves time, it never changes an answer.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
from collections.abc import Callable
from typing import Any

_FORMAT = 1


def cache_dir() -> str | None:
    """Where cache files go, or None when the cache is off or there is no home to put it in."""
    if os.environ.get("PFCONF_NO_CACHE"):
        return None
    explicit = os.environ.get("PFCONF_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if base.startswith("~"):  # no home directory to expand
        return None
    return os.path.join(base, "pfconf")


def _key(name: str, source: bytes) -> str:
    from . import __version__

    digest = hashlib.sha256(source)
    digest.update(
        f"\0{name}\0{__version__}\0{sys.version_info[:2]}\0{marshal.version}\0{_FORMAT}".encode()
    )
    return digest.hexdigest()[:40]


def _trusted(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(directory: str, path: str) -> Any:
    if not _trusted(os.stat(directory)):
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _trusted(info):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return marshal.loads(b"".join(chunks))


def _write(directory: str, path: str, data: bytes) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not _trusted(os.stat(directory)):
        return
    # mkstemp creates the file 0600; the rename makes it appear whole or not at all, and two
    # processes writing the same entry write the same bytes.
    import tempfile  # only a miss writes

    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def cached(name: str, source: bytes, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What ``make()`` returns for ``source`` (the bytes it reads), from the cache when an
    entry for exactly these bytes is there; otherwise made and stored."""
    directory = cache_dir()
    if directory is None:
        return make()
    path = os.path.join(directory, f"{name}-{_key(name, source)}.marshal")
    try:
        found = _read(directory, path)
        if isinstance(found, dict):
            return found
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data = make()
    try:
        _write(directory, path, marshal.dumps(data))
    except (OSError, ValueError):
        pass  # unwritable, full, or data marshal cannot hold: the TOML still answers
    return data
