"""Which parameter names a configuration makes meaningful, beyond Postfix's built-in ones.

postconf accepts more names than its table lists: ``<service>_<suffix>`` for master.cf
delivery services, ``<prefix>_<suffix>`` for database tables configured in main.cf
(``ldap:prefix``), restriction classes, and any name that another value references as
``$name``.  The rules come from rules/dynamic_names.toml.
"""

from __future__ import annotations

import functools
import os
from typing import Iterable

from ..kb import load_table
from ..values import find_references, find_tables, split_list
from .context import Context


class NameSpace:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @functools.cached_property
    def _data(self) -> dict:  # type: ignore[type-arg]
        return load_table("dynamic_names")

    @functools.cached_property
    def service_names(self) -> set[str]:
        """``<service><suffix>`` names made valid by the master.cf services."""
        names: set[str] = set()
        programs = self._data.get("service", {})
        for config in self.ctx.services:
            service = config.service
            program = os.path.basename(service.command)
            info = programs.get(program)
            if not info:
                continue
            for suffix in info.get("suffixes", []):
                names.add(service.name + suffix)
        return names

    def _values(self) -> Iterable[str]:
        for entry in self.ctx.entries():
            yield entry.value
        for config in self.ctx.services:
            for override in config.service.override_list:
                yield override.value

    @functools.cached_property
    def dbms_names(self) -> set[str]:
        """``<prefix>_<suffix>`` names of database tables configured inside main.cf."""
        names: set[str] = set()
        dbms = self._data.get("dbms", {})
        if not dbms:
            return names
        for value in self._values():
            for table in _all_tables(value):
                info = dbms.get(table.type)
                if not info or table.name.startswith("/") or not table.name:
                    continue
                for suffix in info.get("suffixes", []):
                    names.add(f"{table.name}_{suffix}")
        return names

    @functools.cached_property
    def referenced(self) -> set[str]:
        """Names that some main.cf or master.cf value uses as ``$name``."""
        return {ref.name for value in self._values() for ref in find_references(value)}

    @functools.cached_property
    def restriction_classes(self) -> set[str]:
        main = self.ctx.main
        entry = main.get("smtpd_restriction_classes") if main else None
        return {item.text for item in split_list(entry.value)} if entry else set()

    def accepted(self, name: str) -> bool:
        """Whether postconf would accept ``name`` as a used parameter in this configuration."""
        return (
            self.ctx.kb.known(name)
            or name in self.service_names
            or name in self.dbms_names
            or name in self.restriction_classes
            or name in self.referenced
        )

    def defined(self, name: str) -> bool:
        """Whether ``$name`` expands to something Postfix defines (main.cf or a default)."""
        main = self.ctx.main
        if main is not None and main.get(name) is not None:
            return True
        return self.ctx.kb.known(name) or name in self.service_names or name in self.dbms_names

    def all_defined(self) -> list[str]:
        main_names = [e.name for e in self.ctx.entries()]
        return sorted(set(main_names) | set(self.ctx.kb.names()))


def _all_tables(value: str):  # type: ignore[no-untyped-def]
    stack = find_tables(value)
    while stack:
        table = stack.pop()
        yield table
        stack.extend(table.tables)
