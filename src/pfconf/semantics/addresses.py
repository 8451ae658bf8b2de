"""Where mail goes: Postfix's address classes, their transports, and who counts as local.

trivial-rewrite(8) resolves a recipient domain to the first class that lists it, in this
order (resolve.c, resolve_addr()): local (mydestination, and the machine's own addresses
in inet_interfaces/proxy_interfaces), virtual alias (virtual_alias_domains), virtual
mailbox (virtual_mailbox_domains), relay (relay_domains), and default for every other
domain.  Each class has its transport; a content_filter reroutes whatever the SMTP server
or pickup accepts before any of them.  transport_maps can override all of it per address;
its contents are in a table the model does not read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..expand import expand
from ..model import Override, Parameter
from ..values import Token, find_tables, split_list
from .configuration import Configuration, MatchList
from .restrictions import Written, _span
from .services import Daemon

if TYPE_CHECKING:
    from .services import Daemon


@attrs.frozen
class AddressClass:
    """One address class: the parameter that lists its domains, the domains as the match list
    reads them (None for the default class), and the transport it delivers with."""

    name: str
    domains_parameter: str | None
    domains: MatchList | None
    transport_parameter: str | None
    transport: str | None


#: (class, parameter listing its domains, parameter naming its transport), in the order
#: resolve_addr() tries them.
CLASSES = (
    ("local", "mydestination", "local_transport"),
    ("virtual alias", "virtual_alias_domains", None),
    ("virtual mailbox", "virtual_mailbox_domains", "virtual_transport"),
    ("relay", "relay_domains", "relay_transport"),
    ("default", None, "default_transport"),
)


def address_classes(config: Configuration) -> tuple[AddressClass, ...]:
    result = []
    for name, domains, transport in CLASSES:
        result.append(
            AddressClass(
                name,
                domains,
                config.match_list(domains) if domains else None,
                transport,
                config.value(transport) if transport else None,
            )
        )
    return tuple(result)


def transport_name(nexthop: str) -> str:
    """The transport of a ``transport:nexthop`` value (``lmtp`` of ``lmtp:unix:private/x``)."""
    return nexthop.strip().split(":", 1)[0]


@attrs.frozen
class MyNetworks:
    """The clients Postfix trusts (permit_mynetworks, and relaying by default): either the
    items of an explicit mynetworks, or the networks of the machine's interfaces chosen by
    mynetworks_style (``host``: its own addresses; ``subnet``: its subnets; ``class``: whole
    class A/B/C networks), which only the machine knows."""

    items: MatchList | None
    style: str | None

    @property
    def explicit(self) -> bool:
        return self.items is not None


def my_networks(config: Configuration) -> MyNetworks:
    """mynetworks as mail_params.c computes it: main.cf's value when set (or a value computed
    elsewhere and given in ``runtime``), else from the interfaces by mynetworks_style."""
    if config.is_set("mynetworks") or "mynetworks" in config.runtime:
        return MyNetworks(config.match_list("mynetworks"), None)
    style = (config.value("mynetworks_style") or "").strip().lower() or None
    return MyNetworks(None, style)


#: Parameters whose value is a transport (or transport:nexthop) that qmgr must find in
#: master.cf (qmgr_transport.c: "mail transport unavailable" when it is not there).
TRANSPORT_PARAMETERS = (
    "local_transport",
    "virtual_transport",
    "relay_transport",
    "default_transport",
    "content_filter",
    "fallback_transport",
    "mailbox_transport",
    "mailbox_transport_maps",
)


#: Tables whose results name transports (trivial-rewrite's transport_maps, the
#: sender-dependent and verification variants, local(8)'s per-user tables); the model
#: reads the contents of ``inline:`` and ``static:`` ones only, which are in the setting.
TRANSPORT_TABLES = (
    "transport_maps",
    "sender_dependent_default_transport_maps",
    "address_verify_transport_maps",
    "address_verify_sender_dependent_default_transport_maps",
    "mailbox_transport_maps",
    "fallback_transport_maps",
)


@attrs.frozen
class NamedTransport:
    """A transport a setting sends mail to, and the parameter that names it.

    ``nexthop`` is what follows the transport (``[127.0.0.1]:10024``); ``written`` where the
    transport's word is written (None: the release's default names it); ``daemon`` the
    service whose ``-o`` names it (None: main.cf).
    """

    transport: str
    parameter: str
    nexthop: str = ""
    written: Written | None = None
    daemon: Daemon | None = None


def named_transports(
    config: Configuration, daemons: tuple[Daemon, ...] = ()
) -> tuple[NamedTransport, ...]:
    """Transports that settings name: main.cf's transport settings (defaults included), then
    each ``-o`` of a service that sets one, then the ``inline:`` and ``static:`` tables of
    the transport tables (the contents of other tables are not read).  An empty value names
    none; ``content_filter`` with an empty transport (``:host``) names none either."""
    found = list(_settings(config, None))
    for daemon in daemons:
        found.extend(_settings(daemon.config, daemon))
    views: list[tuple[Daemon | None, Configuration]] = [(None, config)]
    views += [(d, d.config) for d in daemons]
    for service, view in views:
        for parameter in TRANSPORT_TABLES:
            origin = view.origin(parameter)
            if origin is None or (service is not None and not isinstance(origin, Override)):
                continue
            found.extend(_table_entries(parameter, origin, service))
    return tuple(found)


def _settings(view: Configuration, daemon: Daemon | None) -> list[NamedTransport]:
    """The transports a view's settings name: all of main.cf's (``daemon`` None), only the
    ``-o`` ones of a service."""
    found = []
    for parameter in TRANSPORT_PARAMETERS:
        if parameter.endswith("_maps"):
            continue
        origin = view.origin(parameter)
        if daemon is not None and not isinstance(origin, Override):
            continue
        value = (view.value(parameter) or "").strip()
        if not value:
            continue
        transport, _, nexthop = value.partition(":")
        transport = transport.strip()
        if not transport:
            continue
        written = None
        if origin is not None:
            raw = origin.value
            start = len(raw) - len(raw.lstrip())
            literal = raw[start:].startswith(transport)
            token = Token(transport, start, start + len(transport))
            written = Written(origin, _span(origin, token) if literal else None)
        found.append(NamedTransport(transport, parameter, nexthop, written, daemon))
    return found


def _table_entries(
    parameter: str, origin: Override | Parameter, daemon: Daemon | None
) -> list[NamedTransport]:
    """The transports of the ``inline:`` and ``static:`` tables in a transport table setting
    (``inline:{ example.com=relay:[mx], ... }``), each placed at its word."""
    found = []
    value = origin.value
    for table in find_tables(value):
        if table.type not in ("inline", "static"):
            continue
        cursor = table.start
        for entry in table.entries:
            result = (entry if table.type == "static" else entry.partition("=")[2]).strip()
            transport, _, nexthop = result.partition(":")
            if not transport or "$" in transport:
                continue
            at = value.find(result, cursor, table.end)
            if at < 0:
                continue
            cursor = at + len(result)
            token = Token(transport, at, at + len(transport))
            found.append(
                NamedTransport(
                    transport, parameter, nexthop, Written(origin, _span(origin, token)), daemon
                )
            )
    return found



# -- which daemon delivers each class ---------------------------------------------------------


@attrs.frozen
class Delivery:
    """An address class and the master.cf service its transport names: the daemon that gets
    its mail (None when master.cf has no such service, or is not known)."""

    address_class: AddressClass
    transport: str | None
    daemon: Daemon | None

    @property
    def program(self) -> str | None:
        """The program that delivers (``local``, ``virtual``, ``lmtp``...); None when no
        master.cf service runs the transport."""
        return self.daemon.program if self.daemon is not None else None

    @property
    def receives(self) -> bool:
        """Whether any domain resolves to this class: the default class always; another only
        when its list (read as a match list, so not past a ``#`` word) has an item."""
        domains = self.address_class.domains
        return self.address_class.domains_parameter is None or bool(domains and domains.items)


def deliveries(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[Delivery, ...]:
    """Each address class with the daemon its transport names (qmgr looks the transport up
    as a unix service of master.cf; the last entry of a name is the one master runs)."""
    result = []
    for address_class in address_classes(config):
        value = (address_class.transport or "").strip()
        transport = transport_name(value) if value else None
        daemon = None
        for candidate in daemons:
            if candidate.name == transport and candidate.type == "unix":
                daemon = candidate
        result.append(Delivery(address_class, transport, daemon))
    return tuple(result)


# -- whether a domain list names a domain -----------------------------------------------------


#: The domain lists of CLASSES that trivial-rewrite reads with domain_list_init(), whose items
#: match_hostname() compares (parent domains may match); it reads the others with
#: string_list_init(), whose items match_string() compares whole (resolve.c, resolve_init();
#: global/resolve_local.c, resolve_local_init()).
HOSTNAME_LISTS = frozenset({"relay_domains"})


@attrs.frozen
class Listed:
    """A domain that a domain list names: the list, the item that matched (expanded, as
    Postfix compares it) and the word of the value as written that gave it (``$mydomain``),
    None when that word is the item itself."""

    parameter: str
    domain: str
    item: str
    written: str | None = None

    def describe(self) -> str:
        """``mydestination lists example.com (as $mydomain)``."""
        how = []
        if self.item.lower() != self.domain:
            how.append(f"through {self.item}")
        if self.written:
            how.append(f"as {self.written}")
        return f"{self.parameter} lists {self.domain}" + (f" ({', '.join(how)})" if how else "")


def domain_listed(config: Configuration, parameter: str, domain: str) -> Listed | None:
    """Whether the domain list ``parameter`` (mydestination, virtual_alias_domains,
    virtual_mailbox_domains, relay_domains) names ``domain``, as trivial-rewrite matches it
    (util/match_list.c, match_list_match(): the first item that matches decides, ``!``
    negates it; util/match_ops.c: match_string() for string lists, match_hostname() for
    relay_domains, where a parent domain matches its subdomains when
    parent_domain_matches_subdomains names the list, and ``.example.com`` does otherwise).

    Items that Postfix looks up in a table (``type:name``) or reads from a file
    (``/file/name``) are not read here: they never make a domain listed.
    """
    found = config.match_list(parameter)
    if found is None:
        return None
    name = domain.strip().lower().removesuffix(".")  # resolve_local(): one trailing dot
    if not name:
        return None
    parent = False
    if parameter in HOSTNAME_LISTS:
        style = config.match_list("parent_domain_matches_subdomains")
        parent = style is not None and parameter in (i.lower() for i in style.items)
    for item in found.items:
        pattern = item
        negated = False
        while pattern.startswith("!"):
            negated = not negated
            pattern = pattern[1:]
        if not pattern:
            return None  # "no pattern after '!'": Postfix stops at start-up
        if pattern.startswith("/") or (pattern[0] != "[" and ":" in pattern):
            continue  # a file or a table: its contents are not read
        pattern = pattern.lower()
        if not _domain_matches(name, pattern, parameter in HOSTNAME_LISTS, parent):
            continue
        if negated:
            return None
        return Listed(parameter, name, item, _written_as(config, parameter, item))
    return None


def _domain_matches(name: str, pattern: str, hostname: bool, parent: bool) -> bool:
    """match_string() (``hostname`` False) or match_hostname() on casefolded text."""
    if name == pattern:
        return True
    if not hostname:
        return False
    if parent:
        return name.endswith("." + pattern) and len(name) > len(pattern) + 1
    return pattern.startswith(".") and name.endswith(pattern) and len(name) > len(pattern)


def _written_as(config: Configuration, parameter: str, item: str) -> str | None:
    """The word of ``parameter``'s value as written (main.cf's, or the default) whose
    expansion gave ``item``; None when the item is written as it is, or cannot be told."""
    raw = config.raw(parameter) or ""
    words = [t.text for t in split_list(raw)]
    if any(w.lower() == item.lower() for w in words):
        return None
    for word in words:
        if "$" not in word:
            continue
        expanded = expand(word, config.raw).text
        if item.lower() in (t.text.lower() for t in split_list(expanded)):
            return word
    return None
