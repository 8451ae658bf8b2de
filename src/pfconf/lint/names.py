"""Which parameter names a configuration makes meaningful, beyond Postfix's built-in ones.

postconf accepts more names than its table lists: ``<service>_<suffix>`` for master.cf
delivery services (the suffixes are in rules/parameters.toml), ``<prefix>_<setting>`` for
database tables configured in main.cf (``ldap:prefix``), restriction classes, and any name
that another value references as ``$name``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

from ..kb import load_table
from ..spelling import NameIndex, closest
from ..values import LookupTable, find_references, find_tables, split_list
from .context import Context


class NameSpace:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @functools.cached_property
    def _suffixes(self) -> dict[str, list[str]]:
        services = load_table("parameters").get("services", {})
        return dict(services.get("suffixes", {}))

    @functools.cached_property
    def service_names(self) -> set[str]:
        """``<service><suffix>`` names made valid by the master.cf services."""
        names: set[str] = set()
        for daemon in self.ctx.postfix.daemons:
            for suffix in self._suffixes.get(daemon.program, []):
                names.add(daemon.name + suffix)
        return names

    def could_be_service_name(self, name: str) -> bool:
        """Whether some master.cf service could make ``name`` valid (any service name)."""
        suffixes = {s for values in self._suffixes.values() for s in values}
        return any(name.endswith(suffix) and len(name) > len(suffix) for suffix in suffixes)

    def _values(self) -> Iterable[str]:
        for entry in self.ctx.entries():
            yield entry.value
        for daemon in self.ctx.postfix.daemons:
            for override in daemon.overrides:
                yield override.value

    @functools.cached_property
    def dbms_prefixes(self) -> set[str]:
        """Prefixes of database tables configured inside main.cf (``ldap:prefix``).

        postconf then accepts ``prefix_server_host`` and the other settings of that table
        type; any ``prefix_*`` name is accepted here, which can only err on the quiet side.
        """
        prefixes: set[str] = set()
        for value in self._values():
            for table in _all_tables(value):
                if table.type in _DBMS and table.name and not table.name.startswith("/"):
                    prefixes.add(table.name + "_")
        return prefixes

    def _dbms(self, name: str) -> bool:
        return any(name.startswith(prefix) for prefix in self.dbms_prefixes)

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
        if self.ctx.master_is_stock and (
            self.could_be_service_name(name) or name.endswith("_restrictions")
        ):
            # Without the real master.cf, a service of that name, or an -o option that
            # references the name, may well exist: stay quiet rather than guess.
            return True
        return (
            self.ctx.kb.known(name)
            or name in self.service_names
            or self._dbms(name)
            or name in self.restriction_classes
            or name in self.referenced
        )

    def defined(self, name: str) -> bool:
        """Whether ``$name`` expands to something Postfix defines (main.cf or a default)."""
        main = self.ctx.main
        if main is not None and main.get(name) is not None:
            return True
        return self.ctx.kb.known(name) or name in self.service_names or self._dbms(name)

    @functools.cached_property
    def _main_index(self) -> NameIndex:
        return NameIndex(e.name for e in self.ctx.entries())

    def close_defined(self, name: str, cutoff: float = 0.88) -> str | None:
        """The defined name (main.cf or Postfix's own) that ``name`` most likely misspells."""
        return closest(name, [self._main_index, self.ctx.kb.name_index()], cutoff)


# Table types whose settings can live in main.cf under a prefix (postconf_dbms.c).
_DBMS = frozenset({"ldap", "mysql", "pgsql", "sqlite", "memcache", "mongodb"})


def _all_tables(value: str) -> Iterator[LookupTable]:
    stack = find_tables(value)
    while stack:
        table = stack.pop()
        yield table
        stack.extend(table.tables)
