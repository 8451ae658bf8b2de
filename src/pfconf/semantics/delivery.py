"""Where mail leaves through smtp(8) and lmtp(8): next hops as the client parses them, the
routes main.cf sends mail along, and the addresses this host counts as its own.

A route is a setting that names a next hop (``relayhost``, the ``:nexthop`` part of a
transport, a fallback relay) together with the master.cf service that delivers there.  The
model reads only what main.cf and master.cf say: next hops that come from tables
(transport_maps, sender_dependent_relayhost_maps) or from the recipient's domain are not
routes here.  Nothing in this module looks anything up in DNS or on the machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import attrs

from ..model import Override
from ..values import alldig, host_port, split_list
from .configuration import Configuration, Origin
from .services import WELL_KNOWN_PORTS, Daemon

#: The programs that are the SMTP/LMTP client; smtp(8) runs in LMTP mode under the name lmtp.
CLIENT_PROGRAMS = ("smtp", "lmtp")


# -- next hops ------------------------------------------------------------------------------


@attrs.frozen
class Destination:
    """One next-hop destination as smtp_connect.c reads it (smtp_parse_destination() with
    host_port()): ``host`` and ``service`` (the port as written, or the client's default),
    ``port`` its number when pflint can resolve it, ``unix`` the socket path of an LMTP
    ``unix:`` destination; ``problem`` is the reason smtp(8) stops on it, in its words."""

    text: str
    host: str | None = None
    service: str | None = None
    port: int | None = None
    #: the host was written in brackets: no MX lookup
    literal: bool = False
    unix: str | None = None
    problem: str | None = None

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host as a numeric address, when it is one."""
        return ip_address(self.host) if self.host is not None else None


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an IP address (``ipv6:`` prefix and brackets allowed), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def port_number(service: str) -> int | None:
    """A TCP port written as a number or as a name Postfix's own master.cf uses; None for
    another name (the host's services file decides) or an impossible number."""
    if alldig(service):
        number = int(service)
        return number if 0 < number < 65536 else None
    return WELL_KNOWN_PORTS.get(service.lower())


def parse_destination(text: str, default_service: str, lmtp: bool = False) -> Destination:
    """One destination of a next hop as smtp(8) reads it before it connects: LMTP's
    ``unix:path`` and ``inet:`` forms, then host_port() and the port number check of
    smtp_parse_destination() ("bad network port" for 0 or more than 65535)."""
    if lmtp and text.startswith("unix:"):
        return Destination(text, unix=text[5:])
    body = text[5:] if lmtp and text.startswith("inet:") else text
    parsed = host_port(body, None, default_service)
    if isinstance(parsed, str):
        return Destination(text, problem=f"{parsed} in server description: {body}")
    host, service, bracketed = parsed.host, parsed.port, parsed.bracketed
    if alldig(service):
        number = int(service)
        if number == 0 or number >= 65536:
            return Destination(text, host, service, None, bracketed,
                problem=f"bad network port: {service} for destination: {body}")  # fmt: skip
    return Destination(text, host, service, port_number(service), bracketed)


# -- this host's addresses -----------------------------------------------------------------

_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


@attrs.frozen
class OwnAddresses:
    """The addresses smtp(8) counts as this host (own_inet_addr_list() and
    proxy_inet_addr_list(), global/own_inet_addr.c): those of ``inet_interfaces`` (``all``:
    every interface, ``loopback-only``: the loopback ones) and of ``proxy_interfaces``.
    Only what is sure without asking the machine is listed: written addresses, and the
    loopback addresses that ``all``, ``loopback-only`` and ``localhost`` stand for."""

    #: each sure address, with the setting that makes it this host's
    addresses: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str]

    def why(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str | None:
        """Why ``address`` is this host's (the setting, in words), or None."""
        if address is None:
            return None
        return self.addresses.get(address)


def _protocols(config: Configuration) -> tuple[bool, bool]:
    """(IPv4, IPv6) as inet_protocols enables them (util/inet_proto.c: ``all`` is both).
    Its default is the build's (util/sys_defs.h: ``all`` with IPv6 support, else ``ipv4``):
    IPv4 either way, IPv6 not known."""
    value = config.value("inet_protocols")
    if value is None:
        return True, False
    words = {t.text.lower() for t in split_list(value)}
    both = "all" in words
    return both or "ipv4" in words, both or "ipv6" in words


def own_addresses(config: Configuration) -> OwnAddresses:
    ipv4, ipv6 = _protocols(config)
    enabled = [a for a, on in zip(_LOOPBACK, (ipv4, ipv6)) if on]
    found: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
    interfaces = config.value("inet_interfaces") or ""
    # own_inet_addr_init() compares the whole value with "all" and "loopback-only"
    if interfaces in ("all", "loopback-only"):
        for address in enabled:
            found.setdefault(address, f"inet_interfaces = {interfaces}")
        words: list[tuple[str, str]] = []
    else:
        words = [(t.text, "inet_interfaces") for t in split_list(interfaces, " \t,")]
    proxies = config.value("proxy_interfaces") or ""
    words += [(t.text, "proxy_interfaces") for t in split_list(proxies, " \t,")]
    for word, parameter in words:
        written = ip_address(word)
        if written is not None:
            if (written.version == 4 and ipv4) or (written.version == 6 and ipv6):
                found.setdefault(written, f"{parameter} lists {word}")
        elif word.lower() == "localhost":
            for address in enabled:
                found.setdefault(address, f"{parameter} lists localhost")
    return OwnAddresses(found)


# -- routes ---------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Route:
    """A next hop a setting sends mail to, and the master.cf service that delivers there.

    ``nexthop`` is the expanded text (a list of destinations from Postfix 3.5 on);
    ``origin`` is where it is written; ``daemon`` the ``unix`` service named by the
    transport (None when master.cf defines none).  ``config`` is the configuration the
    setting was read in."""

    parameter: str
    transport: str
    nexthop: str
    origin: Origin
    daemon: Daemon | None
    config: Configuration
    #: a fallback relay: tried only after the other next hops failed
    fallback: bool = False

    @property
    def program(self) -> str | None:
        return self.daemon.program if self.daemon is not None else None

    @property
    def lmtp(self) -> bool:
        return self.program == "lmtp"

    @property
    def client_config(self) -> Configuration | None:
        """The configuration of the smtp(8)/lmtp(8) service that delivers, or None when
        the transport does not run the SMTP client."""
        if self.daemon is None or self.program not in CLIENT_PROGRAMS:
            return None
        return self.daemon.config

    @property
    def default_service(self) -> str:
        """The port smtp(8) uses when a destination names none (smtp_tcp_port or
        lmtp_tcp_port of the delivering service)."""
        config = self.client_config or self.config
        name = "lmtp_tcp_port" if self.lmtp else "smtp_tcp_port"
        return (config.value(name) or "").strip() or ("24" if self.lmtp else "25")

    @property
    def unix_socket(self) -> str | None:
        """The socket path of an LMTP ``unix:`` next hop: smtp_connect() takes all that
        follows ``unix:`` as one path (lists of destinations are for TCP only); None for
        another next hop, or a service that does not run lmtp(8)."""
        nexthop = self.nexthop.strip()
        if not self.lmtp or not nexthop.startswith("unix:"):
            return None
        return nexthop[5:]

    @property
    def destinations(self) -> tuple[Destination, ...]:
        """The destinations smtp(8) tries, in order (argv_split at commas and blanks)."""
        return tuple(
            parse_destination(t.text, self.default_service, self.lmtp)
            for t in split_list(self.nexthop, ", \t\r\n", parens="\0\0")
        )


#: Transport settings trivial-rewrite (resolve.c) or local(8) (mailbox.c, unknown.c) reads,
#: with the address class whose mail takes them (None: the local recipients local(8) hands
#: on).  default_transport and relay_transport take relayhost when they name no next hop.
TRANSPORT_ROUTES = (
    ("default_transport", "default"),
    ("relay_transport", "relay"),
    ("virtual_transport", "virtual mailbox"),
    ("local_transport", "local"),
    ("mailbox_transport", None),
    ("fallback_transport", None),
)


#: The transport setting of each address class (resolve.c).
TRANSPORT_CLASSES = {
    "local_transport": "local",
    "virtual_transport": "virtual mailbox",
    "relay_transport": "relay",
    "default_transport": "default",
}


def split_transport(value: str) -> tuple[str, str | None] | None:
    """``transport:nexthop`` as resolve.c splits it (split_at the first ``:``): the
    transport and the next hop (None when there is none); None for an empty value."""
    value = value.strip()
    if not value:
        return None
    transport, colon, nexthop = value.partition(":")
    return transport, (nexthop if colon and nexthop else None)


def class_reachable(config: Configuration, name: str) -> bool:
    """Whether mail can resolve to address class ``name``: local and default always; the
    others only with domains listed (virtual_mailbox_domains, relay_domains)."""
    parameter = {"virtual mailbox": "virtual_mailbox_domains", "relay": "relay_domains"}.get(name)
    if parameter is None:
        return True
    listed = config.match_list(parameter)
    return listed is not None and bool(listed.items)


def routes(
    config: Configuration, daemons: tuple[Daemon, ...], clients: tuple[Daemon | None, ...]
) -> tuple[Route, ...]:
    """The next hops main.cf (and the overrides of the daemons that read content_filter
    or a fallback relay) names, each with the service that delivers there.  ``clients``
    are the smtp/lmtp services (None: main.cf alone)."""

    def unix_service(name: str) -> Daemon | None:
        found = None
        for daemon in daemons:
            if daemon.name == name and daemon.type == "unix":
                found = daemon
        return found

    result: list[Route] = []
    relayhost = (config.value("relayhost") or "").strip()
    for parameter, klass in TRANSPORT_ROUTES:
        if klass is not None and not class_reachable(config, klass):
            continue
        split = split_transport(config.value(parameter) or "")
        if split is None or not split[0]:
            continue
        transport, nexthop = split
        if nexthop is not None:
            result.append(Route(parameter, transport, nexthop, config.origin(parameter),
                                unix_service(transport), config))  # fmt: skip
        elif klass in ("default", "relay") and relayhost:
            result.append(Route("relayhost", transport, relayhost, config.origin("relayhost"),
                                unix_service(transport), config))  # fmt: skip
    # content_filter: read by smtpd, pickup and qmqpd, each with its own overrides
    readers = [d.config for d in daemons if d.program in ("smtpd", "pickup", "qmqpd")]
    for reader in readers or [config]:
        split = split_transport(reader.value("content_filter") or "")
        if split is None or not split[0] or split[1] is None:
            continue
        origin = reader.origin("content_filter")
        if any(r.parameter == "content_filter" and r.origin is origin for r in result):
            continue  # main.cf's setting, seen by another daemon already
        result.append(Route("content_filter", split[0], split[1], origin,
                            unix_service(split[0]), reader))  # fmt: skip
    for client in clients:
        view = client.config if client is not None else config
        name = "lmtp_fallback_relay" if client is not None and client.program == "lmtp" else (
            "smtp_fallback_relay")  # fmt: skip
        value = (view.value(name) or "").strip()
        if value:
            result.append(Route(name, client.name if client is not None else "smtp", value,
                                view.origin(name) or view.origin("fallback_relay"), client,
                                view, fallback=True))  # fmt: skip
    return tuple(result)


#: The program that reads each transport setting of TRANSPORT_ROUTES: trivial-rewrite
#: resolves the address classes (trivial-rewrite.c, resolve.c), local(8) hands mail on
#: through deliver_pass() (mailbox.c, deliver_mailbox(); unknown.c, deliver_unknown()).
ROUTE_READERS = {
    "default_transport": "trivial-rewrite",
    "relay_transport": "trivial-rewrite",
    "virtual_transport": "trivial-rewrite",
    "local_transport": "trivial-rewrite",
    "mailbox_transport": "local",
    "fallback_transport": "local",
}


def reader_routes(
    config: Configuration,
    daemons: tuple[Daemon, ...],
    main_routes: tuple[Route, ...],
    reached: Callable[[Daemon], bool],
) -> tuple[Route, ...]:
    """``main_routes`` (:func:`routes`) as the daemons that read each transport setting see
    it: each running reader's ``-o`` of a setting of ROUTE_READERS adds the route it gives
    (read in that reader's configuration), and main.cf's route of such a setting is kept
    only while some running reader takes main.cf's value.  A local(8) service counts only
    when mail ``reached`` it.  Without master.cf, ``main_routes`` as they are."""
    if config.master is None:
        return main_routes

    def readers(parameter: str) -> list[Daemon]:
        program = ROUTE_READERS[parameter]
        return [
            d for d in daemons
            if d.program == program and d.started and (program != "local" or reached(d))
        ]  # fmt: skip

    found: list[Route] = []
    for route in main_routes:
        if route.parameter in ROUTE_READERS and all(
            isinstance(d.config.origin(route.parameter), Override) for d in readers(route.parameter)
        ):
            continue  # no running reader takes main.cf's value
        found.append(route)
    for parameter in ROUTE_READERS:
        for reader in readers(parameter):
            if not isinstance(reader.config.origin(parameter), Override):
                continue
            for route in routes(reader.config, daemons, ()):
                if route.parameter == parameter:
                    found.append(route)
    return tuple(found)
