"""The one reader of the host under ``pflint --live``: files, directories and Postfix's tools.

Every live rule looks at the machine through a :class:`Host` and nothing else, so that what
is read, how (never blocking, never following a FIFO or a device, never more than a size
cap) and what a failure becomes (a problem in words, never an exception) is decided here
once.  It judges nothing and knows no rule; it must not write, connect or resolve names.
"""

from __future__ import annotations

import errno
import grp
import os
import platform
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import attrs

from .. import postfix
from ..errors import MissingFile, ReadError
from ..io import read_config_file, reason
from ..kb import Version, parse_version

#: The most bytes read of one file on the host (a lookup table's source, a client
#: configuration, a certificate): enough for any of them, little enough for a wrong path.
READ_LIMIT = 16 * 1024 * 1024

#: Seconds a Postfix tool may take before the Host gives up on it (postconf -m, postmap -q
#: on one table): they read local files only, so this is a hung program, not a slow one.
TOOL_TIMEOUT = 30.0

_KINDS = (
    (stat.S_ISREG, "file", "a regular file"),
    (stat.S_ISDIR, "directory", "a directory"),
    (stat.S_ISSOCK, "socket", "a socket"),
    (stat.S_ISFIFO, "fifo", "a named pipe (FIFO)"),
    (stat.S_ISCHR, "character device", "a character device"),
    (stat.S_ISBLK, "block device", "a block device"),
)


@attrs.frozen
class PathInfo:
    """What is at a path, symbolic links followed (``link``: where the path itself points
    when it is one).  ``problem`` is None when the path exists and could be examined, else
    why not, in words a message can end with: ``does not exist``, ``is a dangling symbolic
    link to X``, ``cannot be examined: permission denied``.  The other fields are the
    status of what the path leads to (None when there is nothing).  ``denied``: the problem
    is that pflint's user may not look (EACCES, EPERM), which says nothing about what
    Postfix, running as root, finds there."""

    path: str
    kind: str | None = None
    problem: str | None = None
    denied: bool = False
    link: str | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    mtime: float | None = None

    @property
    def exists(self) -> bool:
        return self.problem is None

    @property
    def what(self) -> str:
        """The kind in words (``a directory``), for messages."""
        for _, kind, words in _KINDS:
            if kind == self.kind:
                return words
        return "not a regular file"

    @property
    def permissions(self) -> int:
        """The permission bits (``0o640``); 0 when unknown."""
        return stat.S_IMODE(self.mode) if self.mode is not None else 0


@attrs.frozen
class Account:
    """A user as the kernel checks access for it: its ids and its groups."""

    name: str
    uid: int
    groups: frozenset[int]


@attrs.frozen
class FileText:
    """A regular file's bytes (``data``), or why they could not be read (``problem``)."""

    info: PathInfo
    data: bytes | None = None
    problem: str | None = None
    denied: bool = False


@attrs.frozen
class Listing:
    """A directory's entry names, sorted, or why it could not be listed."""

    path: str
    names: tuple[str, ...] = ()
    problem: str | None = None


@attrs.frozen
class ToolRun:
    """What a Postfix tool did: its exit status and output, or why it did not run."""

    command: str
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.returncode == 0


def _mode_kind(mode: int) -> str:
    for test, kind, _ in _KINDS:
        if test(mode):
            return kind
    return "other"


class Host:
    """This machine as ``pflint --live`` reads it.

    ``config_dir`` is the configuration directory the Postfix tools are pointed at with
    ``-c`` (the directory of the main.cf being linted); None, or a main.cf not named
    main.cf, runs them with an empty main.cf of their own, so that only compiled-in
    settings count.  Answers are cached for the run; :attr:`looked_at` lists every path
    examined, in order, and :attr:`notes` what could not be asked (for ``pflint -v``).
    """

    def __init__(self, config_dir: str | None = None, *, timeout: float = TOOL_TIMEOUT) -> None:
        self.config_dir = config_dir
        self.timeout = timeout
        self.looked_at: list[str] = []
        self.notes: list[str] = []
        self._info: dict[str, PathInfo] = {}
        self._text: dict[tuple[str, int], FileText] = {}
        self._runs: dict[tuple[str, tuple[str, ...]], ToolRun] = {}
        self._scratch: str | None = None

    def close(self) -> None:
        """Remove what the Host made for the tools (an empty configuration directory)."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- files ------------------------------------------------------------------------------

    def inspect(self, path: str) -> PathInfo:
        """What is at ``path`` (lstat, then stat to follow a symbolic link)."""
        if path in self._info:
            return self._info[path]
        self.looked_at.append(path)
        info = self._inspect(path)
        self._info[path] = info
        return info

    def _inspect(self, path: str) -> PathInfo:
        link = None
        try:
            own = os.lstat(path)
        except FileNotFoundError:
            return PathInfo(path, problem="does not exist")
        except OSError as exc:
            return PathInfo(path, problem=_unexaminable(exc), denied=_denied(exc))
        if stat.S_ISLNK(own.st_mode):
            try:
                link = os.readlink(path)
            except OSError:
                link = "?"
        try:
            found = os.stat(path)
        except FileNotFoundError:
            return PathInfo(path, problem=f"is a dangling symbolic link to {link}", link=link)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return PathInfo(path, problem="is a symbolic link loop", link=link)
            return PathInfo(path, problem=_unexaminable(exc), denied=_denied(exc), link=link)
        return PathInfo(
            path,
            kind=_mode_kind(found.st_mode),
            link=link,
            mode=found.st_mode,
            uid=found.st_uid,
            gid=found.st_gid,
            size=found.st_size,
            mtime=found.st_mtime,
        )

    def read(self, path: str, limit: int = READ_LIMIT) -> FileText:
        """The bytes of the regular file at ``path`` (symbolic links followed), at most
        ``limit``.  A FIFO, device, socket or directory is refused before it is opened, and
        the file is opened without blocking (pfconf.io.read_config_file)."""
        key = (path, limit)
        if key in self._text:
            return self._text[key]
        info = self.inspect(path)
        if info.problem is not None:
            found = FileText(info, problem=info.problem, denied=info.denied)
        elif info.kind != "file":
            found = FileText(info, problem=f"is {info.what}, not a regular file")
        else:
            try:
                data, _ = read_config_file(path, limit)
                found = FileText(info, data=data)
            except MissingFile:
                found = FileText(info, problem="does not exist")
            except ReadError as exc:
                found = FileText(info, problem=_read_problem(exc), denied=_denied(exc))
        self._text[key] = found
        return found

    def listdir(self, path: str) -> Listing:
        """The names in the directory ``path``, sorted."""
        self.looked_at.append(path)
        try:
            return Listing(path, tuple(sorted(os.listdir(path))))
        except FileNotFoundError:
            return Listing(path, problem="does not exist")
        except OSError as exc:
            return Listing(path, problem=f"cannot be listed: {reason(exc)}")

    @staticmethod
    def user_name(uid: int | None) -> str:
        """The name of user ``uid`` (the number when it has none)."""
        try:
            return pwd.getpwuid(uid).pw_name if uid is not None else "?"
        except KeyError:
            return f"uid {uid}"

    @staticmethod
    def group_name(gid: int | None) -> str:
        """The name of group ``gid`` (the number when it has none)."""
        try:
            return grp.getgrgid(gid).gr_name if gid is not None else "?"
        except KeyError:
            return f"gid {gid}"

    @staticmethod
    def account(name: str) -> Account | None:
        """The user ``name`` with its groups (its own and those that list it), or None
        when this host has no such user."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        groups = {entry.pw_gid}
        try:
            groups.update(os.getgrouplist(name, entry.pw_gid))
        except OSError:  # pragma: no cover - a broken group database
            pass
        return Account(name, entry.pw_uid, frozenset(groups))

    def owners(self, info: PathInfo) -> str:
        """``owner:group`` of what ``info`` describes, by name."""
        return f"{self.user_name(info.uid)}:{self.group_name(info.gid)}"

    @staticmethod
    def resolve(path: str, *, queue_directory: str, chroot: bool = False) -> str:
        """Where a path a daemon opens is on this host.

        Every daemon runs in queue_directory (the master.cf skeletons chdir there before
        they call the program's initialisation: master/single_server.c,
        single_server_main()), so a relative path is taken from there.  A daemon that runs
        chrooted (master.cf's chroot column) opens what it opens *after* its
        initialisation inside queue_directory, so an absolute path is then taken below it;
        what it opens during initialisation (lookup tables, certificates and keys) is
        opened before the chroot: pass ``chroot=False`` for those.
        """
        if os.path.isabs(path):
            if chroot:
                return os.path.join(queue_directory, path.lstrip("/"))
            return path
        return os.path.join(queue_directory, path)

    @staticmethod
    def command_search_path() -> tuple[str, ...] | None:
        """The PATH Postfix gives the commands it runs: _PATH_DEFPATH of the C library it
        was built with (global/pipe_command.c, pipe_command(), sets it after
        export_environment has cleaned the environment, so nothing else counts).  Known
        for glibc, FreeBSD and macOS (``/usr/bin:/bin`` in each one's <paths.h>); None
        elsewhere (musl's, for one, starts with /usr/local/bin)."""
        if sys.platform.startswith("linux"):
            return ("/usr/bin", "/bin") if platform.libc_ver()[0] == "glibc" else None
        if sys.platform.startswith(("freebsd", "darwin")):
            return ("/usr/bin", "/bin")
        return None

    # -- Postfix's tools --------------------------------------------------------------------

    def _tool_dir(self) -> str:
        if self.config_dir is not None:
            return self.config_dir
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="pflint-live-")
            main = os.path.join(self._scratch, "main.cf")
            with open(main, "w", encoding="utf-8"):
                pass
            # Postfix's programs wait for a main.cf changed within the last second to
            # settle before they read it (a second per run); this one is settled
            when = time.time() - 60
            os.utime(main, (when, when))
        return self._scratch

    def run(self, program: str, args: Sequence[str], *, with_config: bool = True) -> ToolRun:
        """Run Postfix's ``program`` (``postconf``, ``postmap``) with ``-c`` the
        configuration directory (``with_config``), bounded by the Host's timeout; the
        answer is cached for the run."""
        key = (program, tuple(args) + (("-c",) if with_config else ()))
        if key in self._runs:
            return self._runs[key]
        config_dir = self._tool_dir() if with_config else None
        shown = " ".join([program, *(["-c", config_dir] if config_dir else []), *args])
        try:
            proc = postfix.run(program, args, config_dir=config_dir, timeout=self.timeout)
            found = ToolRun(
                shown,
                proc.returncode,
                proc.stdout.decode("utf-8", "replace"),
                proc.stderr.decode("utf-8", "replace"),
            )
        except postfix.PostfixError as exc:
            found = ToolRun(shown, problem=str(exc))
            self.note(f"--live: {exc}")
        except subprocess.SubprocessError as exc:  # pragma: no cover - defensive
            found = ToolRun(shown, problem=str(exc))
            self.note(f"--live: {shown}: {exc}")
        self._runs[key] = found
        return found

    def postfix_version(self) -> Version | None:
        """The installed Postfix's release, or None when it cannot be asked."""
        found = self.run("postconf", ["-d", "-h", "mail_version"], with_config=False)
        if not found.ok:
            return None
        try:
            return parse_version(found.stdout.strip())
        except ValueError:
            return None

    def compiled_defaults(self) -> dict[str, str]:
        """Every parameter's default as the installed Postfix was built (``postconf -d``);
        empty when it cannot be asked."""
        found = self.run("postconf", ["-d"], with_config=False)
        if not found.ok:
            return {}
        values = {}
        for line in found.stdout.splitlines():
            name, sep, value = line.partition(" = ")
            if not sep:
                name, sep, value = line.partition(" =")
            if sep:
                values[name.strip()] = value
        return values

    def table_types(self) -> frozenset[str] | None:
        """The lookup table types the installed Postfix lists (``postconf -m``: the built-in
        ones and those dynamicmaps.cf registers, whether or not their plugin is there);
        None when it cannot be asked."""
        found = self.run("postconf", ["-m"])
        if not found.ok:
            if found.problem is None:
                self.note(f"--live: {found.command} failed: {_first_line(found.stderr)}")
            return None
        return frozenset(found.stdout.split())

    def postmap_query(self, table: str, key: str = "pflint-live-probe") -> ToolRun:
        """``postmap -q KEY TABLE``: makes postmap open the table as Postfix's programs open
        it, which is when they read a regexp, pcre or cidr file and warn about its lines."""
        return self.run("postmap", ["-q", key, table])


def _unexaminable(exc: OSError) -> str:
    return f"cannot be examined: {reason(exc)}"


def _denied(exc: OSError) -> bool:
    return exc.errno in (errno.EACCES, errno.EPERM)


def _read_problem(exc: ReadError) -> str:
    return f"cannot be read: {exc.reason}"


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"
