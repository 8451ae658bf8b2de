"""Tables read or written through proxymap(8), and the tables proxymap agrees to serve.

A ``proxy:type:name`` table is opened by proxymap (read) or proxywrite (update) on the
program's behalf; proxymap serves only the tables listed, with ``proxy:``, in the values
of proxy_read_maps or proxy_write_maps as it reads them (proxymap.c,
authorize_proxied_maps(); proxy_map_find() refuses the others with "request for
unapproved table").  proxymap reads main.cf and its own service's overrides, not those of
the daemon that asks.
"""

from __future__ import annotations

import attrs

from ..kb import Version, load_table
from ..values import LookupTable, find_tables, parse_table, split_list, strip_braces
from .configuration import Configuration, Origin
from .services import Daemon

#: The tables Postfix opens for update (through proxywrite when they are proxy:):
#: the default of proxy_write_maps lists them.
WRITTEN_TABLES = (
    "smtp_sasl_auth_cache_name",
    "lmtp_sasl_auth_cache_name",
    "address_verify_map",
    "postscreen_cache_map",
)


def unproxied(text: str) -> str:
    """The table proxymap opens for ``proxy:type:name``: every ``proxy:`` prefix dropped."""
    while text.startswith("proxy:"):
        text = text[len("proxy:") :]
    return text


@attrs.frozen
class ProxiedTable:
    """A ``proxy:`` table written in a parameter's value: ``table`` is what proxymap is asked
    to open (``type:name``), ``text`` the reference as expanded.  ``write``: opened for
    update, so served by proxywrite and proxy_write_maps."""

    parameter: str
    text: str
    table: str
    origin: Origin
    write: bool
    daemon: Daemon | None = None


def _proxied(table: LookupTable) -> list[LookupTable]:
    """The proxy: tables in a table reference, nested ones (pipemap, unionmap) included."""
    if table.type == "proxy":
        return [table]
    found = []
    for inner in table.tables:
        found.extend(_proxied(inner))
    return found


def _in_value(value: str) -> list[LookupTable]:
    found = []
    for table in find_tables(value):
        found.extend(_proxied(table))
    return found


def proxied_tables(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[ProxiedTable, ...]:
    """Every proxy: table in main.cf's parameters (those the release knows, and the classes
    of smtpd_restriction_classes) and in the daemons' overrides, expanded in the view of
    whoever reads them; a table main.cf gives every daemon is listed once."""
    classes = {t.text for t in split_list(config.value("smtpd_restriction_classes") or "")}
    result: list[ProxiedTable] = []
    seen: set[tuple[str, str]] = set()

    def scan(view: Configuration, name: str, daemon: Daemon | None) -> None:
        if name in ("proxy_read_maps", "proxy_write_maps"):
            return  # the lists of what proxymap serves, not tables opened through it
        if not (view.kb.known(name, view.version) or name in classes):
            return
        value = view.value(name) or ""
        if "proxy:" not in value:
            return
        for table in _in_value(value):
            key = (name, table.text)
            if key in seen:
                continue
            seen.add(key)
            result.append(
                ProxiedTable(name, table.text, unproxied(table.text), view.origin(name),
                             name in WRITTEN_TABLES, daemon)
            )  # fmt: skip

    for name in config.main.effective():
        scan(config, name, None)
    for daemon in daemons:
        for name in daemon.service.overrides:
            scan(daemon.config, name, daemon)
    return tuple(result)


@attrs.frozen
class ProxyApproval:
    """The tables proxymap (or proxywrite) serves: ``tables``; ``complete`` is False when
    the list names a file whose contents count too (Postfix 3.11 and later), which pflint
    does not read."""

    parameter: str
    tables: frozenset[str]
    complete: bool


def proxy_approval(config: Configuration, write: bool, version: Version) -> ProxyApproval:
    """What proxymap.c's authorize_proxied_maps() approves from ``config`` (proxymap's own
    view): the words of proxy_read_maps (proxy_write_maps for proxywrite) that start with
    ``proxy:``; from 3.7 also inside pipemap:{...} and unionmap:{...}; from 3.11 also in
    ``{ type:name ... }`` groups, in files named by ``/path``, and (proxymap only) in the
    values of smtpd_restriction_classes."""
    parameter = "proxy_write_maps" if write else "proxy_read_maps"
    approved: set[str] = set()
    complete = True
    recent = version[:2] >= (3, 11)
    nested = version[:2] >= (3, 7)

    def authorize(value: str, depth: int = 0) -> None:
        nonlocal complete
        for token in split_list(value):
            word = token.text
            if word.startswith("{") and recent:
                inside = strip_braces(word)
                words = split_list(inside or "")
                if not words:
                    continue
                word = words[0].text
            if word.startswith("/") and recent:
                complete = False
                continue
            table = parse_table(word)
            if table is None:
                continue
            if table.type in ("pipemap", "unionmap") and nested and depth < 10:
                inside = strip_braces(table.name)
                if inside is not None:
                    authorize(inside, depth + 1)
                continue
            if table.type == "proxy":
                approved.add(unproxied(word))

    authorize(config.value(parameter) or "")
    if recent and not write:
        for token in split_list(config.value("smtpd_restriction_classes") or ""):
            authorize(config.value(token.text) or "")
    return ProxyApproval(parameter, frozenset(approved), complete)


def read_only_cache(value: str) -> LookupTable | None:
    """For a cache setting (one table Postfix updates, deletes from and scans), the table
    whose type cannot do that (rules/tables.toml ``cache``), looking through ``proxy:``;
    None when the type can, or is unknown to pflint."""
    tables = find_tables(value)
    if not tables:
        return None
    table: LookupTable | None = tables[0]
    while table is not None and table.type == "proxy":
        table = table.tables[0] if table.tables else None
    if table is None:
        return None
    info = load_table("tables").get("types", {}).get(table.type)
    if info is None or info.get("cache"):
        return None
    return table
