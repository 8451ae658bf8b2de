"""A configuration directory being changed: main.cf and master.cf read once, edited, shown
as a diff, and written back as one change set.

Writing follows Postfix's own protocol for main.cf (util/edit_file.c, which postconf -e
uses): ``main.cf.tmp`` is created with mode 0600 and locked before main.cf is read, so two
editors take turns instead of losing one's change.  A change set that touches several files
(main.cf, master.cf, a password table and the indexed file postmap builds from it) lands
whole or not at all: every new file is written and every table built under a temporary
name first; then each file is checked to be the one that was read, and only then are they
renamed into place, main.cf last; if a rename fails, the ones already made are undone.
Files marked secret are never readable by others, not even for a moment, and never shown
in diffs.
"""

from __future__ import annotations

import difflib
import os
import stat
from typing import TYPE_CHECKING, TypeVar

import attrs

from .. import loads, postfix
from ..errors import ParseError, PfconfError, ReadError, WriteError
from ..io import (
    EditFile,
    Locked,
    decode,
    encode,
    fsync_directory,
    read_config_file,
    reason,
    split_lines,
    write_private,
)
from ..model import MainCf, MasterCf
from .base import Change
from .main import MainEditor
from .master import MasterEditor

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11 on


class ConcurrentChange(PfconfError):
    """A file changed on disk after it was read; nothing was written."""


@attrs.define
class ExtraFile:
    """A file besides main.cf and master.cf that the change set writes (a password table).

    ``table``: its lookup-table type when postmap must build an indexed file from it.
    """

    path: str
    old: bytes | None
    new: bytes
    mode: int
    secret: bool
    table: str | None = None


@attrs.define
class _Pending:
    path: str
    old: bytes | None
    new: bytes
    secret: bool
    mode: int | None
    table: str | None = None


#: The identity of a file as it was read: (device, inode), or None when it did not exist.
Identity = tuple[int, int] | None


class Workspace:
    """main.cf and master.cf of ``directory``, ready to be edited (see pfconf.edit).

    With ``lock=True`` the files are locked (Postfix's edit_file protocol) before they are
    read, and stay locked until :meth:`write` or :meth:`close`; use it when the changes
    will be written, and close the workspace in every case (``with Workspace(...)``).
    """

    def __init__(
        self, directory: str, *, master_required: bool = False, lock: bool = False
    ) -> None:
        self.directory = directory
        self.main_path = os.path.join(directory, "main.cf")
        self.master_path = os.path.join(directory, "master.cf")
        self._original: dict[str, bytes | None] = {}
        self._identity: dict[str, Identity] = {}
        self._locks: dict[str, EditFile] = {}
        self._lock = lock
        #: Why a file could not be locked (a read-only directory): raised only if the change
        #: set turns out to write something.
        self._lock_error: WriteError | None = None
        #: What :meth:`write` did besides writing files, for the report ("ran postmap ...").
        self.notes: list[str] = []
        try:
            self._take_lock(self.main_path)
            main_data = self._read(self.main_path, required=True)
            assert main_data is not None
            self.main = MainEditor(_parse(main_data, "main", self.main_path, MainCf))
            if os.path.lexists(self.master_path) or master_required:
                self._take_lock(self.master_path)
            master_data = self._read(self.master_path, required=master_required)
            self.master: MasterEditor | None = (
                MasterEditor(_parse(master_data, "master", self.master_path, MasterCf))
                if master_data is not None
                else None
            )
        except BaseException:
            self.close()
            raise
        self.extra: dict[str, ExtraFile] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of every lock and remove the temporary files (when nothing was written)."""
        for lock in self._locks.values():
            lock.abort()
        self._locks.clear()

    def _take_lock(self, path: str) -> None:
        if not self._lock or path in self._locks:
            return
        try:
            self._locks[path] = EditFile(path)
        except Locked:
            raise  # another editor is at work, which is never a detail to put off
        except WriteError as exc:
            self._lock_error = self._lock_error or exc

    def _read(self, path: str, required: bool) -> bytes | None:
        data: bytes | None
        info: os.stat_result | None
        try:
            data, info = read_config_file(path)
        except FileNotFoundError:
            if required:
                raise
            data, info = None, None
        self._original[path] = data
        self._identity[path] = (info.st_dev, info.st_ino) if info else None
        return data

    # -- extra files ---------------------------------------------------------------------------

    def put_file(
        self,
        name: str,
        content: str,
        *,
        mode: int = 0o644,
        secret: bool = False,
        reason: str = "",
        table: str | None = None,
    ) -> bool:
        """Have ``name`` (relative to the directory) hold ``content``; False if it already
        does, with that mode.  ``table``: the lookup-table type postmap builds it with."""
        path = os.path.join(self.directory, name)
        self._take_lock(path)
        old: bytes | None
        info: os.stat_result | None
        try:
            old, info = read_config_file(path)
        except FileNotFoundError:
            old, info = None, None
        new = encode(content)
        if old == new and info is not None and stat.S_IMODE(info.st_mode) == mode:
            return False
        self._original.setdefault(path, old)
        self._identity.setdefault(path, (info.st_dev, info.st_ino) if info else None)
        self.extra[path] = ExtraFile(path, old, new, mode, secret, table)
        self.main.changes.append(
            Change(name, "write" if old is None else "update", name, None, None, reason, secret)
        )
        return True

    # -- what changed --------------------------------------------------------------------------

    @property
    def changes(self) -> list[Change]:
        return self.main.changes + (self.master.changes if self.master else [])

    def _pending(self) -> list[_Pending]:
        """Every file that would change: extra files first, then master.cf, then main.cf
        (the order they are renamed in: main.cf never names a table that is not there)."""
        result = [
            _Pending(e.path, e.old, e.new, e.secret, e.mode, e.table) for e in self.extra.values()
        ]
        for path, editor in ((self.master_path, self.master), (self.main_path, self.main)):
            if editor is None:
                continue
            new = editor.dumps()
            new_bytes = new if isinstance(new, bytes) else encode(new)
            if new_bytes != self._original[path]:
                result.append(_Pending(path, self._original[path], new_bytes, False, None))
        return result

    @property
    def changed(self) -> bool:
        return bool(self._pending())

    def diff(self) -> str:
        """A unified diff of every file that would change (secret files only named)."""
        out: list[str] = []
        for item in sorted(self._pending(), key=lambda p: p.path != self.main_path):
            path, old = item.path, item.old
            if item.secret:
                out.append(f"--- {path}\n+++ {path}\n@@ secret content not shown @@\n")
                continue
            before = split_lines(decode(old)) if old is not None else []
            after = split_lines(decode(item.new))
            lines = list(
                difflib.unified_diff(before, after, path if old is not None else "/dev/null", path)
            )
            for line in lines:
                out.append(
                    line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                )
        return "".join(out)

    # -- writing -------------------------------------------------------------------------------

    def write(self, backup: str | None = None) -> list[str]:
        """Write the change set, whole or not at all; returns the paths written.

        Raises ConcurrentChange when a file changed on disk since it was read, and
        WriteError (naming the real file) or PostfixError (postmap failed) when a file
        cannot be written; in each case no file is changed.  With ``backup`` (a suffix such
        as ``.bak``) the old files are kept under that name, written the same safe way.
        The workspace is closed afterwards.
        """
        try:
            pending = self._pending()
            if not pending:
                return []
            if self._lock_error is not None:
                raise self._lock_error
            return self._write(pending, backup)
        finally:
            self.close()

    def _write(self, pending: list[_Pending], backup: str | None) -> list[str]:
        staged: list[tuple[_Pending, EditFile]] = []
        built: list[tuple[str, str]] = []  # (temporary index file, its real name)
        try:
            for item in pending:
                self._take_lock(item.path)
                edit = self._locks.get(item.path) or EditFile(item.path)
                self._locks[item.path] = edit
                info = _stat(edit.path)
                mode = item.mode if item.mode is not None else (
                    stat.S_IMODE(info.st_mode) if info else 0o644
                )  # fmt: skip
                if item.secret:
                    mode &= 0o700  # never readable by others, whatever the old file allowed
                owner = (info.st_uid, info.st_gid) if info else None
                edit.write(item.new, mode, owner)
                staged.append((item, edit))
                if item.table is not None:
                    built += self._build_table(item, edit)
            # checked before the backups, so that a refused write never replaces a good
            # backup with a copy of a file that is no longer there
            for item, edit in staged:
                self._check_unchanged(item, edit.path)
            if backup:
                for item, edit in staged:
                    if item.old is not None:
                        self._backup(item, edit.path, backup)
        except BaseException:
            for temporary, _ in built:
                _unlink(temporary)
            raise  # close() removes the temporary files and the locks
        # Everything is on disk under a temporary name: now the renames, undone on failure.
        done: list[tuple[str, str | None]] = []  # (real path, link to the old file or None)
        keep: str | None = None
        try:
            for temporary, real in built:
                keep = _keep(real)
                os.rename(temporary, real)
                done.append((real, keep))
                keep = None
            for item, edit in staged:
                keep = _keep(edit.path)
                edit.commit()
                done.append((edit.path, keep))
                keep = None
                del self._locks[item.path]
        except BaseException as exc:
            if keep is not None:
                _unlink(keep)  # the file it names was not replaced
            for temporary, _ in built:
                _unlink(temporary)
            for real, old in reversed(done):
                _restore(real, old)
            if isinstance(exc, OSError) and not isinstance(exc, WriteError):
                name = os.fspath(exc.filename or self.main_path)
                raise WriteError(name, f"cannot write: {reason(exc)}", exc.errno or 0) from None
            raise
        for _, old in done:
            if old is not None:
                _unlink(old)
        for item, _ in staged:
            self._original[item.path] = item.new
        fsync_directory(os.path.realpath(self.directory))
        return [item.path for item, _ in staged]

    def _build_table(self, item: _Pending, edit: EditFile) -> list[tuple[str, str]]:
        """Run postmap on the temporary copy of a table source; the index files it makes get
        their real names with the rest of the change set."""
        if postfix.find_program("postmap") is None:
            table = f"{item.table}:{item.path}" if item.table else item.path
            self.notes.append(
                f"postmap is not available here: run 'postmap -c {self.directory} {table}' "
                "where Postfix is"
            )
            return []
        # "" is "the type a bare postmap FILE uses" (a recipe's postmap = true)
        table_type = item.table or postfix.default_database_type(self.directory)
        made = [
            (edit.tmp + suffix, edit.path + suffix)
            for suffix in postfix.INDEX_SUFFIXES.get(table_type, ())
        ]
        try:
            postfix.postmap(self.directory, f"{table_type}:{edit.tmp}", private=item.secret)
        except postfix.PostfixError as exc:
            for temporary, _ in made:
                _unlink(temporary)
            raise postfix.PostfixError(str(exc).replace(edit.tmp, edit.path)) from None
        for temporary, _ in made:
            if item.secret and os.path.exists(temporary):
                os.chmod(temporary, 0o600)
        self.notes.append(f"ran postmap -c {self.directory} {table_type}:{item.path}")
        return made

    def _backup(self, item: _Pending, real: str, suffix: str) -> None:
        info = _stat(real)
        mode = stat.S_IMODE(info.st_mode) if info else 0o600
        if item.secret:
            mode &= 0o700
        assert item.old is not None
        write_private(real + suffix, item.old, mode, (info.st_uid, info.st_gid) if info else None)

    def _check_unchanged(self, item: _Pending, real: str) -> None:
        """The file on disk is still the one that was read (same file, same bytes).

        Read the way every configuration file is read (a FIFO put in its place cannot make
        this wait), and without following a new link: that would be another file too.
        """
        try:
            now, info = read_config_file(real)
            identity: Identity = (info.st_dev, info.st_ino)
        except FileNotFoundError:
            now, identity = None, None
        except ReadError:
            now, identity = None, (-1, -1)  # something that is no file: not what was read
        if identity != self._identity.get(item.path) or now != item.old:
            raise ConcurrentChange(f"{item.path}: changed on disk since it was read; nothing written")


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _keep(real: str) -> str | None:
    """A second name for the file about to be replaced, to put it back if a later rename
    fails (None when there is no such file)."""
    if not os.path.exists(real):
        return None
    keep = f"{real}.pfedit-old"
    _unlink(keep)
    try:
        os.link(real, keep)
    except OSError:
        # no hard links here (or the file refuses them): a copy with the same mode and owner
        info = os.stat(real)
        with open(real, "rb") as handle:
            write_private(keep, handle.read(), stat.S_IMODE(info.st_mode),
                          (info.st_uid, info.st_gid))  # fmt: skip
    return keep


def _restore(real: str, kept: str | None) -> None:
    if kept is None:
        _unlink(real)  # the change set created it
    else:
        os.rename(kept, real)


D = TypeVar("D", MainCf, MasterCf)


def _parse(data: bytes, kind: str, path: str, cls: type[D]) -> D:
    try:
        doc = loads(data, kind, path=path)
    except ParseError as exc:
        raise exc.with_path(path) from None
    assert isinstance(doc, cls)
    return doc
