"""Whether a user may read a file, judged from the permission bits pflint examined.

A daemon that runs as mail_owner (proxymap, for one) opens a file only when the file lets
that user read it and every directory above it lets that user pass: the owner's bits when
the user owns it, else the group's when one of the user's groups owns it, else the others'
(the order of POSIX's file access check; root, which Postfix's unprivileged daemons are
not, skips it).  Access control lists and other security modules are not looked at.
Nothing here touches the host: the Host gives the PathInfo of each path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from .host import Account, PathInfo


def _bits(info: PathInfo, account: Account) -> int:
    """The three permission bits that apply to ``account`` (rwx as 4, 2, 1)."""
    mode = info.permissions
    if info.uid == account.uid:
        return (mode >> 6) & 7
    if info.gid in account.groups:
        return (mode >> 3) & 7
    return mode & 7


def _owners(info: PathInfo, names: Callable[[PathInfo], str]) -> str:
    return f"mode {info.permissions:04o}, {names(info)}"


def denied(
    path: str,
    account: Account,
    inspect: Callable[[str], PathInfo],
    names: Callable[[PathInfo], str],
) -> str | None:
    """Why ``account`` may not read the file at ``path`` (an absolute path), in words a
    message can end with; None when it may, or when something on the way could not be
    examined (other rules report what is missing).  ``names`` gives a PathInfo's
    ``owner:group`` for the message."""
    parts = path.split("/")[1:-1]
    directory = "/"
    for part in ["", *parts]:
        directory = posixpath.join(directory, part) if part else directory
        info = inspect(directory)
        if info.problem is not None or info.mode is None:
            return None
        if not _bits(info, account) & 1:
            return (
                f"the directory {directory} ({_owners(info, names)}) does not let "
                f"{account.name} pass"
            )
    info = inspect(path)
    if info.problem is not None or info.mode is None:
        return None
    if not _bits(info, account) & 4:
        return f"{path} ({_owners(info, names)}) does not let {account.name} read it"
    return None
