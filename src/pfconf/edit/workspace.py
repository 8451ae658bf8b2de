"""A configuration directory being changed: main.cf and master.cf read once, edited, shown
as a diff, and written back safely.

Writing is all or nothing per file: a temporary file in the same directory, fsync, rename,
mode, owner and group kept (pfconf.io.write_atomic).  Before anything is written, every file
is read again; if one changed on disk since it was read, nothing is written and
ConcurrentChange is raised.  Extra files (a SASL password table) can be added with
:meth:`Workspace.put_file`; those marked secret never appear in diffs.
"""

from __future__ import annotations

import difflib
import os
import shutil
from typing import TypeVar

import attrs

from .. import loads
from ..errors import ParseError, PfconfError
from ..io import decode, encode, write_atomic
from ..model import MainCf, MasterCf
from .base import Change
from .main import MainEditor
from .master import MasterEditor


class ConcurrentChange(PfconfError):
    """A file changed on disk after it was read; nothing was written."""


@attrs.define
class ExtraFile:
    path: str
    old: bytes | None
    new: bytes
    mode: int
    secret: bool


class Workspace:
    """main.cf and master.cf of ``directory``, ready to be edited (see pfconf.edit)."""

    def __init__(self, directory: str, *, master_required: bool = False) -> None:
        self.directory = directory
        self.main_path = os.path.join(directory, "main.cf")
        self.master_path = os.path.join(directory, "master.cf")
        self._original: dict[str, bytes | None] = {}
        main_data = self._read(self.main_path, required=True)
        assert main_data is not None
        self.main = MainEditor(_parse(main_data, "main", self.main_path, MainCf))
        master_data = self._read(self.master_path, required=master_required)
        self.master: MasterEditor | None = (
            MasterEditor(_parse(master_data, "master", self.master_path, MasterCf))
            if master_data is not None
            else None
        )
        self.extra: dict[str, ExtraFile] = {}

    def _read(self, path: str, required: bool) -> bytes | None:
        from ..io import read_config

        try:
            data: bytes | None = read_config(path)
        except FileNotFoundError:
            if required:
                raise
            data = None
        self._original[path] = data
        return data

    # -- extra files ---------------------------------------------------------------------------

    def put_file(
        self, name: str, content: str, *, mode: int = 0o644, secret: bool = False, reason: str = ""
    ) -> bool:
        """Have ``name`` (relative to the directory) hold ``content``; False if it already does."""
        path = os.path.join(self.directory, name)
        from ..io import read_config

        try:
            old: bytes | None = read_config(path)
        except FileNotFoundError:
            old = None
        new = encode(content)
        if old == new and (old is None or (os.stat(path).st_mode & 0o777) == mode):
            return False
        self._original.setdefault(path, old)
        self.extra[path] = ExtraFile(path, old, new, mode, secret)
        self.main.changes.append(
            Change(name, "write" if old is None else "update", name, None, None, reason, secret)
        )
        return True

    # -- what changed --------------------------------------------------------------------------

    @property
    def changes(self) -> list[Change]:
        return self.main.changes + (self.master.changes if self.master else [])

    def _pending(self) -> list[tuple[str, bytes | None, bytes, bool, int | None]]:
        """(path, old bytes, new bytes, secret, mode) of every file that would change."""
        result: list[tuple[str, bytes | None, bytes, bool, int | None]] = []
        for path, editor in ((self.main_path, self.main), (self.master_path, self.master)):
            if editor is None:
                continue
            new = editor.dumps()
            new_bytes = new if isinstance(new, bytes) else encode(new)
            if new_bytes != self._original[path]:
                result.append((path, self._original[path], new_bytes, False, None))
        for extra in self.extra.values():
            result.append((extra.path, extra.old, extra.new, extra.secret, extra.mode))
        return result

    @property
    def changed(self) -> bool:
        return bool(self._pending())

    def diff(self) -> str:
        """A unified diff of every file that would change (secret files summarised)."""
        out: list[str] = []
        for path, old, new, secret, _ in self._pending():
            if secret:
                out.append(
                    f"--- {path}\n+++ {path}\n@@ secret content not shown ({len(new)} bytes) @@\n"
                )
                continue
            before = decode(old).splitlines(True) if old is not None else []
            after = decode(new).splitlines(True)
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
        """Write every changed file; returns their paths.

        Raises ConcurrentChange (writing nothing) when a file changed since it was read.
        With ``backup`` (a suffix such as ``.bak``) the old file is copied first.
        """
        pending = self._pending()
        for path, _, _, _, _ in pending:
            try:
                with open(path, "rb") as handle:
                    now: bytes | None = handle.read()
            except FileNotFoundError:
                now = None
            if now != self._original.get(path):
                raise ConcurrentChange(
                    f"{path}: changed on disk since it was read; nothing written"
                )
        written = []
        for path, old, new, _, mode in pending:
            if backup and old is not None:
                target = os.path.realpath(path)
                shutil.copy2(target, target + backup)
            write_atomic(path, new)
            if mode is not None:
                os.chmod(os.path.realpath(path), mode)
            written.append(path)
        for path, _, new, _, _ in pending:
            self._original[path] = new
        return written


D = TypeVar("D", MainCf, MasterCf)


def _parse(data: bytes, kind: str, path: str, cls: type[D]) -> D:
    try:
        doc = loads(data, kind, path=path)
    except ParseError as exc:
        raise exc.with_path(path) from None
    assert isinstance(doc, cls)
    return doc
