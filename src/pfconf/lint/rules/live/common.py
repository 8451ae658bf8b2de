"""What every live rule shares: the host, the model as this host runs it, the tables named.

A live rule subclasses :class:`LiveRule`; the engine runs it only under ``pflint --live``
(pfconf.live says how the parts fit).  Helpers here turn the model's references into places
to report and paths on the host; they read nothing themselves but through the Host.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import ClassVar

import attrs

from ....live import Host
from ....semantics import Postfix
from ....semantics.tables import READ, TableReference
from ... import location as at
from ...context import Context
from ...location import Location
from ...rule import Rule


@attrs.frozen
class NamedTable:
    """A lookup table as a live rule sees it: the model's reference, where a finding about
    it points, and the path its name leads to on this host (None for a name that is no
    path, such as ``{ ... }`` or a main.cf prefix of a database client)."""

    reference: TableReference
    where: Location
    path: str | None

    @property
    def text(self) -> str:
        return self.reference.text

    @property
    def shown(self) -> str:
        """The table for a message: ``type:name``, and the parameter whose default names it
        when no file does (the finding then stands on main.cf's first line)."""
        if self.reference.written.origin is None:
            return f"{self.text} ({self.reference.parameter} by default)"
        return self.text

    @property
    def type(self) -> str:
        return self.reference.table.type


class LiveRule(Rule):
    """A rule that looks at the host (``pflint --live``)."""

    live: ClassVar[bool] = True
    #: main.cf says where things are (queue_directory, the tables' parameters): a master.cf
    #: alone gives too little to look for.
    needs_main: ClassVar[bool] = True

    def host(self, ctx: Context) -> Host:
        """The host; the engine runs live rules only with one."""
        if ctx.host is None:
            raise RuntimeError(f"{self.code} is a live rule: run it with pflint --live")
        return ctx.host

    def model(self, ctx: Context) -> Postfix:
        """The files as this host's Postfix runs them (Context.host_postfix)."""
        return ctx.host_postfix

    def tables(self, ctx: Context, access: str | None = READ) -> Iterator[NamedTable]:
        """Every lookup table the configuration makes a program open (``access``: READ,
        UPDATE, BUILD of semantics.tables, None for all), each once per place it is named.
        A table named only by a default is pointed at through :func:`at.unwritten`, and not
        at all when the files name the same table somewhere."""
        references = self.model(ctx).table_references
        written = {r.text for r in references if r.written.origin is not None}
        seen: set[tuple[object, ...]] = set()
        for reference in references:
            if access is not None and reference.access != access:
                continue
            where = at.reference(reference)
            if where is None:
                if reference.text in written:
                    continue
                where = at.unwritten(reference.parameter, reference.daemon)
            # the parameter does not count: $alias_maps in local_recipient_maps is one place
            key = (reference.text, where.file, where.span, where.service)
            if key in seen:
                continue
            seen.add(key)
            yield NamedTable(reference, where, self._path(ctx, reference))

    def cannot_look(self, where: Location, subject: str, path: str, denied: bool) -> bool:
        """When pflint's own user may not look at ``path`` (``denied``, and not root), say so
        at ``where`` as information and return True: Postfix's programs open what they
        read as root, so that is no sign of a problem for them."""
        if not denied or os.geteuid() == 0:
            return False
        self.report(
            where,
            f"{subject}: pflint may not look at {path} (permission denied), which Postfix "
            "opens as root: run pflint --live as root to check it",
            severity="info",
        )
        return True

    def _path(self, ctx: Context, reference: TableReference) -> str | None:
        name = reference.table.name
        if not name or name.startswith("{"):
            return None
        config = reference.daemon.config if reference.daemon is not None else None
        queue = (config or self.model(ctx).config).value("queue_directory") or "/"
        # tables are opened during initialisation, before any chroot
        return Host.resolve(name, queue_directory=queue, chroot=False)
