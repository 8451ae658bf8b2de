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

import attrs

from ..values import split_list
from .configuration import Configuration, MatchList


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


@attrs.frozen
class NamedTransport:
    """A transport a setting sends mail to, and the parameter that names it."""

    transport: str
    parameter: str


def named_transports(config: Configuration) -> tuple[NamedTransport, ...]:
    """Transports named by main.cf's transport settings (not table contents).  An empty value
    names none; ``content_filter`` with an empty transport (``:host``) names none either."""
    found = []
    for parameter in TRANSPORT_PARAMETERS:
        if parameter.endswith("_maps"):
            continue
        value = (config.value(parameter) or "").strip()
        if not value:
            continue
        for token in split_list(value)[:1]:
            name = transport_name(token.text)
            if name:
                found.append(NamedTransport(name, parameter))
    return tuple(found)
