"""Lookup tables: every table the configuration makes a program open (table_references), the
tables read or written through proxymap(8), and the tables proxymap agrees to serve.

A ``proxy:type:name`` table is opened by proxymap (read) or proxywrite (update) on the
program's behalf; proxymap serves only the tables listed, with ``proxy:``, in the values
of proxy_read_maps or proxy_write_maps as it reads them (proxymap.c,
authorize_proxied_maps(); proxy_map_find() refuses the others with "request for
unapproved table").  proxymap reads main.cf and its own service's overrides, not those of
the daemon that asks.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..kb import Version, load_table
from ..model import Override
from ..values import LookupTable, find_tables, parse_table, split_list, strip_braces
from .configuration import Configuration, Origin
from .readers import read_by_any
from .restrictions import (
    ETRN_LIST,
    LISTS,
    Written,
    read_classes,
    read_list,
    restriction_classes,
    words,
)
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
    whoever reads them; a table main.cf gives every daemon is listed once.  An override
    counts unless its daemon neither reads the name nor expands it (Daemon.affected_by)."""
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
            if daemon.affected_by(name) is False:
                continue  # -o header_checks=proxy:... on smtpd: smtpd never opens it
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


# -- every lookup table the configuration names (pflint --live looks at their files) -------

#: How a program uses a table it names: opens it to read, updates it as a cache it creates
#: (a missing file is normal), or is the table newaliases builds (alias_database).
READ = "read"
UPDATE = "update"
BUILD = "build"


@attrs.frozen
class TableReference:
    """A lookup table a program opens, and where the configuration names it.

    ``table`` is the table opened: ``proxy:`` looked through (``proxied`` says there was
    one), each member of ``pipemap:{...}`` and ``unionmap:{...}`` on its own; ``word`` the
    word of the value that holds it, as read (expanded), with ``table.start``/``table.end``
    its offsets there; ``written`` where that word is written (origin None: a default).
    ``parameter`` is the parameter or restriction class whose value holds the word,
    ``restriction`` the restriction that takes it as its argument, if any; ``daemon`` the
    service whose ``-o`` overrides make the reference (None: main.cf's settings, or a
    default, as every program reads them).  ``access`` is READ, UPDATE or BUILD.
    """

    parameter: str
    table: LookupTable
    word: str
    written: Written
    access: str = READ
    daemon: Daemon | None = None
    restriction: str | None = None
    proxied: bool = False

    @property
    def text(self) -> str:
        """The table as ``type:name``."""
        return self.table.text


@attrs.frozen
class ListFile:
    """A ``/file/name`` item of a match list (``mynetworks = /etc/postfix/networks``): the
    program reads the file's lines as more items of the list when it builds the list, and
    takes a file it cannot open as an item whose every match fails (util/match_list.c,
    match_list_parse(): a "nofile" surrogate table).  ``path`` is the item without its
    ``!`` negations; the other fields as in TableReference."""

    parameter: str
    path: str
    word: str
    written: Written
    daemon: Daemon | None = None


def _opened(table: LookupTable, proxied: bool = False) -> list[tuple[LookupTable, bool]]:
    """The tables a reference opens: itself, and the tables inside ``proxy:``, ``pipemap:``
    and ``unionmap:`` (whose members are tables; randmap's are plain results)."""
    found = [(table, proxied)]
    if table.type == "proxy" or table.type in ("pipemap", "unionmap"):
        inner_proxied = proxied or table.type == "proxy"
        for inner in table.tables:
            found.extend(_opened(inner, inner_proxied))
    return found


def _word_tables(word: str) -> LookupTable | None:
    """The table a word names: ``type:name``, ``!type:name`` in a match list, or the first
    word of ``{ type:name option=value ... }`` (Postfix 3.7's map_search_create())."""
    if word.startswith("{"):
        inside = strip_braces(word)
        members = split_list(inside or "")
        if not members:
            return None
        table = parse_table(members[0].text)
        if table is None:
            return None
        offset = word.index(members[0].text)
        return attrs.evolve(table, start=table.start + offset, end=table.end + offset)
    stripped = word.lstrip("!")
    table = parse_table(stripped)
    if table is None:
        return None
    offset = len(word) - len(stripped)
    return attrs.evolve(table, start=table.start + offset, end=table.end + offset)


def _references_data() -> dict[str, Any]:
    return dict(load_table("tables").get("references", {}))


def _known_types() -> frozenset[str]:
    return frozenset(load_table("tables").get("types", {}))


class _Scanner:
    """Collects the references of one view (main.cf's, or a daemon's), keeping each
    (parameter, word, place) once over all views."""

    def __init__(self) -> None:
        self.found: list[TableReference] = []
        self.files: list[ListFile] = []
        self._seen: set[tuple[object, ...]] = set()
        self._types = _known_types()

    def add_file(self, parameter: str, word: str, written: Written, daemon: Daemon | None) -> None:
        """A match list's word, when it is a ``/file/name`` item."""
        path = word.lstrip("!")
        if not path.startswith("/"):
            return
        key = ("file", parameter, word, id(written.origin), written.span)
        if key in self._seen:
            return
        self._seen.add(key)
        owner = daemon if isinstance(written.origin, Override) else None
        self.files.append(ListFile(parameter, path, word, written, owner))

    def add(
        self,
        parameter: str,
        word: str,
        written: Written,
        access: str,
        daemon: Daemon | None,
        restriction: str | None = None,
    ) -> None:
        outer = _word_tables(word)
        if outer is None or outer.type not in self._types:
            return
        origin = written.origin
        key = (parameter, word, id(origin), written.span)
        if key in self._seen:
            return
        self._seen.add(key)
        # a reference main.cf (or a default) makes is main.cf's, whichever view found it
        owner = daemon if isinstance(origin, Override) else None
        for table, proxied in _opened(outer):
            if table.type not in self._types:
                continue
            self.found.append(
                TableReference(parameter, table, word, written, access, owner, restriction,
                               proxied)
            )  # fmt: skip


def _read_by(name: str, readers: dict[str, list[str]], running: frozenset[str] | None) -> bool:
    """The fallback for names rules/readers.toml does not know: whether a program that
    reads ``name`` by its prefix (rules/tables.toml [references.readers]; an unprefixed
    name is taken to be read by every program) is among ``running`` (None: not known)."""
    for prefix, programs in readers.items():
        if name.startswith(prefix):
            return running is None or bool(running & set(programs))
    return True


def _read_in_main(
    config: Configuration, name: str, prefixes: dict[str, list[str]], running: frozenset[str] | None
) -> bool:
    """Whether main.cf's setting of ``name`` is read: by a running daemon or a program that
    may always run (semantics.readers), else by the prefix rule; all when master.cf is not
    known."""
    if running is None:
        return True
    found = read_by_any(name, config.version, running)
    return _read_by(name, prefixes, running) if found is None else found


def _read_by_daemon(daemon: Daemon, name: str, prefixes: dict[str, list[str]]) -> bool:
    """Whether ``daemon``'s program reads ``name`` (semantics.readers), else the prefix
    rule for that program."""
    found = daemon.reads(name)
    return _read_by(name, prefixes, frozenset({daemon.program})) if found is None else found


def _parameter_lists(config: Configuration) -> list[tuple[str, str]]:
    """(name, access) of every parameter outside smtpd's restriction lists whose value
    names tables, for the configuration's release."""
    data = _references_data()
    caches = set(data.get("caches", ()))
    build = set(data.get("build", ()))
    names: list[tuple[str, str]] = []
    for name in config.kb.names(config.version):
        info = config.kb.parameter(name) or {}
        if name in ("proxy_read_maps", "proxy_write_maps"):
            continue  # lists of what proxymap serves: it opens them when asked
        if name in caches:
            names.append((name, UPDATE))
        elif name in build:
            names.append((name, BUILD))
        elif (
            info.get("kind") == "table_list"
            or info.get("reading") == "match_list"
            or name in data.get("single", ())
            or name in data.get("user_lists", ())
            or name in data.get("lists", ())
        ):
            names.append((name, READ))
    return names


def _scan_view(
    scanner: _Scanner,
    config: Configuration,
    names: list[tuple[str, str]],
    daemon: Daemon | None,
    readers: dict[str, list[str]],
    running: frozenset[str] | None,
) -> None:
    for name, access in names:
        if daemon is None:
            if not _read_in_main(config, name, readers, running):
                continue
        elif not _read_by_daemon(daemon, name, readers):
            continue
        if not (config.value(name) or "").strip():
            continue
        match_list = config.reads_as_match_list(name)
        for word, written in words(config, name):
            scanner.add(name, word, written, access, daemon)
            if match_list:
                scanner.add_file(name, word, written, daemon)


def _scan_restrictions(scanner: _Scanner, config: Configuration, daemon: Daemon | None) -> None:
    """smtpd_check_parse(): every word with a ``:`` of every list smtpd parses when it
    starts (the lists, smtpd_etrn_restrictions, each class's own list), except the argument
    of check_policy_service."""
    classes = restriction_classes(config)
    lists = [read_list(config, name, classes) for name in (*LISTS, ETRN_LIST)]
    lists += [c.definition for c in read_classes(config) if c.definition is not None]
    for listed in lists:
        for item in listed.items:
            if ":" in item.name:
                scanner.add(listed.name, item.name, item.written, READ, daemon)
            if (
                item.argument is not None
                and item.argument_written is not None
                and ":" in item.argument
                and item.lowered != "check_policy_service"
            ):
                scanner.add(listed.name, item.argument, item.argument_written, READ, daemon,
                            item.name)  # fmt: skip


#: Programs that open tables only when a client asks for one (proxymap.c, proxy_map_find()):
#: what their own overrides name is not opened on that account, and proxied_tables() covers
#: what they are asked for.  proxymap reads alias_maps, virtual_alias_maps... only to expand
#: proxy_read_maps (proxymap.c, main()).
_OPEN_ON_REQUEST = frozenset({"proxymap"})


def table_references(
    config: Configuration, daemons: tuple[Daemon, ...]
) -> tuple[TableReference, ...]:
    """Every lookup table the configuration makes a program open (see :func:`_scan`)."""
    return tuple(_scan(config, daemons).found)


def list_files(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[ListFile, ...]:
    """Every ``/file/name`` item of the match lists a program builds, found as the tables
    are (see :func:`_scan`)."""
    return tuple(_scan(config, daemons).files)


def _scan(config: Configuration, daemons: tuple[Daemon, ...]) -> _Scanner:
    """Every lookup table the configuration makes a program open, with where it is named,
    and the ``/file/name`` items of the match lists among them.

    main.cf's settings (and the defaults) are read as every program reads them; then each
    running daemon with ``-o`` overrides is read with them, adding what its overrides name
    (directly or through ``$name``).  smtpd's restriction lists are read for each running
    smtpd service (main.cf alone when master.cf is not known).  A main.cf setting counts
    when a program that reads it runs (master.cf runs it, or it is master or a command
    such as sendmail), and an ``-o`` only when the service's own program reads it
    (semantics.readers, from the Postfix source: ``-o header_checks`` on an smtpd service
    is not read, cleanup reads it); for names that data does not know, the name's prefix
    decides (rules/tables.toml, [references.readers]).  proxymap's own overrides are not
    scanned: it opens tables when asked (proxied_tables()).  Only types
    Postfix knows (rules/tables.toml [types]) count, so a milter's ``unix:`` socket or an
    IPv6 address is never taken for a table.
    """
    scanner = _Scanner()
    readers = dict(_references_data().get("readers", {}))
    known = config.master is not None
    started = tuple(d for d in daemons if d.started)
    running = frozenset(d.program for d in started) if known else None
    names = _parameter_lists(config)
    _scan_view(scanner, config, names, None, readers, running)
    smtpds = [d for d in started if d.program == "smtpd"]
    if not known:
        _scan_restrictions(scanner, config, None)
    for daemon in smtpds:
        _scan_restrictions(scanner, daemon.config, daemon)
    for daemon in started:
        if daemon.overrides and daemon.program not in _OPEN_ON_REQUEST:
            _scan_view(scanner, daemon.config, names, daemon, readers, running)
    return scanner
