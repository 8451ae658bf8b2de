"""Who may relay through an smtpd: the start-up check smtpd makes of its relay protection,
the clients it trusts (mynetworks), and what its lists do with a stranger's relay attempt.

Two different questions, as smtpd_check.c asks them:

- :func:`startup_check`: smtpd_check_init() walks smtpd_recipient_restrictions and
  smtpd_relay_restrictions with has_required() and stops smtpd (fail_required()) when
  neither holds a "working" relay check before a ``permit``;
- :func:`stranger_relay`: at RCPT TO, generic_checks() evaluates the lists in order for a
  client outside mynetworks, not authenticated, sending to a domain that is not ours; the
  first restriction that answers decides each list (a ``permit`` ends only its own list).

Nothing here judges; the rules (pfconf.lint.rules.relay) ask.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import attrs

from ..kb import parse_version
from ..values import split_list
from .configuration import Configuration, yes
from .restrictions import LISTS, Restriction, RestrictionList, Written, _Reader, read_list
from .smtpd import SmtpServer

#: rcpt_required[] of smtpd_check_init() (smtpd/smtpd_check.c): the restrictions that count
#: as relay protection; at least one must be in the relay or recipient list, before a permit.
REQUIRED = (
    "reject_unauth_destination",
    "defer_unauth_destination",
    "reject",
    "defer",
    "defer_if_permit",
    "check_relay_domains",
)

RELAY_LIST = "smtpd_relay_restrictions"
RECIPIENT_LIST = "smtpd_recipient_restrictions"

#: The lists smtpd evaluates before the relay list for each recipient (with
#: smtpd_delay_reject = yes, the default; without it they run at CONNECT, HELO, MAIL FROM).
EARLY_LISTS = LISTS[:3]


def evaluation_order(config: Configuration) -> tuple[str, ...]:
    """smtpd's lists in the order it evaluates them for a recipient (with
    smtpd_delay_reject = yes; without it the first three run at earlier commands, in the
    same order): the relay list before the recipient list only with
    smtpd_relay_before_recipient_restrictions = yes (the default from compatibility level
    3.6; before Postfix 3.6 the recipient list always came first: smtpd_check_rcpt())."""
    first = (RELAY_LIST, RECIPIENT_LIST)
    if not yes(config.value("smtpd_relay_before_recipient_restrictions")):
        first = (RECIPIENT_LIST, RELAY_LIST)
    return (*EARLY_LISTS, *first, *LISTS[5:])


def class_definitions(server: SmtpServer) -> dict[str, RestrictionList]:
    """Each name of smtpd_restriction_classes that has a definition, with the list it stands
    for (smtpd_check_init() parses them all when smtpd starts, used in a list or not: an
    access table may answer with a class name).  In name order."""
    found: dict[str, RestrictionList] = {}
    for name in sorted(server.restriction_classes):
        if (server.config.value(name) or "").strip():
            found[name] = read_list(server.config, name, server.restriction_classes)
    return found


# -- the start-up check --------------------------------------------------------------------


@attrs.frozen
class StartupCheck:
    """What has_required() finds in one smtpd's relay and recipient lists: the restriction
    that satisfies it (None: smtpd stops at start-up with "specify at least one working
    instance of ..."), and per list the ``permit`` its search stopped at, if any."""

    found: Restriction | None
    stopped_at: dict[str, Restriction] = attrs.field(factory=dict)

    @property
    def starts(self) -> bool:
        return self.found is not None


def _words(items: tuple[Restriction, ...]) -> Iterator[tuple[str, Restriction]]:
    """The words of a list as smtpd_check_parse() stores them (a restriction, then its
    argument as a word of its own), each with the restriction it belongs to."""
    for item in items:
        yield item.name, item
        if item.argument is not None:
            yield item.argument, item


def _has_required(
    listed: RestrictionList, items: tuple[Restriction, ...], seen: tuple[str, ...]
) -> tuple[Restriction | None, Restriction | None]:
    """has_required() of smtpd_check.c: (the required restriction found, or None; the
    ``permit`` that ended the search of this list, or None).  ``warn_if_reject`` makes it
    skip the next word; a word that names a class (looked up case-sensitively) is searched
    in turn, and a ``permit`` there ends only the class's search."""
    words = list(_words(items))
    i = 0
    while i < len(words):
        word, item = words[i]
        lowered = word.lower()
        if lowered == "warn_if_reject" and i + 1 < len(words):
            i += 2
            continue
        if lowered == "permit":
            return None, item
        if lowered in REQUIRED:
            return item, None
        inner = listed.class_lists.get(word)
        if inner is not None and word not in seen:
            found, _ = _has_required(listed, inner.items, (*seen, word))
            if found is not None:
                return found, None
        i += 1
    return None, None


def startup_check(server: SmtpServer) -> StartupCheck:
    """smtpd_check_init(): has_required() on the recipient list, then on the relay list."""
    stopped: dict[str, Restriction] = {}
    for name in (RECIPIENT_LIST, RELAY_LIST):
        listed = server.restrictions[name]
        found, permit = _has_required(listed, listed.items, ())
        if found is not None:
            return StartupCheck(found)
        if permit is not None:
            stopped[name] = permit
    return StartupCheck(None, stopped)


# -- who is trusted ------------------------------------------------------------------------


@attrs.frozen
class Network:
    """One item of an explicit mynetworks, where it is written, and the network it names
    (None: a host name, a file, a table or an exclusion, which the model does not read)."""

    text: str
    written: Written
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None

    @property
    def whole_internet(self) -> bool:
        """0.0.0.0/0 or ::/0: every client of that address family."""
        return self.network is not None and self.network.prefixlen == 0

    @property
    def public(self) -> bool:
        """Whether it holds addresses routed on the Internet (not only private, loopback or
        link-local ones)."""
        net = self.network
        if net is None:
            return False
        if net.prefixlen == 0:
            return True
        return not (net.is_private or net.is_loopback or net.is_link_local)

    @property
    def over_wide(self) -> bool:
        """The whole Internet, or a public range of a /8 (IPv4) or /16 (IPv6) or wider: far
        more clients than any site's own."""
        net = self.network
        if net is None or not self.public:
            return False
        return net.prefixlen <= (8 if net.version == 4 else 16)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A mynetworks item as cidr_match_parse() reads a network: ``addr/len`` or an address,
    IPv6 in brackets (``[::1]/128``)."""
    if text.startswith("!"):
        return None  # an exclusion
    bare = text.replace("[", "").replace("]", "")
    if bare in ("0/0",):
        bare = "0.0.0.0/0"
    try:
        return ipaddress.ip_network(bare, strict=False)
    except ValueError:
        return None


def trusted_networks(config: Configuration) -> tuple[Network, ...] | None:
    """mynetworks as ``config`` (a service's view) has it, each item with where it is
    written, read as a match list (up to a word that starts with ``#``); None when
    mynetworks is not set and Postfix computes it from the machine's interfaces
    (mynetworks_style), which only the machine knows."""
    if not config.is_set("mynetworks"):
        return None
    found = []
    for text, written in _Reader(config).words("mynetworks"):
        if text.startswith("#"):
            break
        found.append(Network(text, written, _network(text)))
    return tuple(found)


def own_networks_public(config: Configuration) -> bool:
    """Whether permit_mynetworks can let through clients with public addresses: an explicit
    mynetworks with a public network (or an item the model cannot read), or one computed
    with mynetworks_style ``subnet`` or ``class`` (the machine's networks, which may be
    public).  ``host`` style trusts the machine itself only."""
    networks = trusted_networks(config)
    if networks is None:
        style = (config.value("mynetworks_style") or "").strip().lower()
        return style not in ("host",)
    return any(n.public or n.network is None for n in networks)


# -- a stranger's relay attempt ------------------------------------------------------------


@attrs.frozen
class Opening:
    """A restriction that lets a stranger through its list: ``permit``, ``permit_mynetworks``
    with a network of mynetworks that takes in the Internet (``network``), or another permit
    any client can satisfy; ``list_name`` is the smtpd list it is evaluated in, and
    ``skips`` the relay check after it in that list that it keeps from running (None:
    the list has none)."""

    restriction: Restriction
    list_name: str
    network: Network | None = None
    skips: Restriction | None = None


@attrs.frozen
class ListEnd:
    """How one list ends for a stranger's relay attempt: refused by ``refused_by`` (with the
    lookups met before it, whose answers could end the list first), let through by
    ``opened`` (or neither: the list falls through, which smtpd takes as "no objection")."""

    list_name: str
    refused_by: Restriction | None = None
    lookups: tuple[Restriction, ...] = ()
    opened: Opening | None = None
    mx_backup: tuple[Restriction, ...] = ()


@attrs.frozen
class StrangerRelay:
    """What smtpd's lists do when a client outside mynetworks, not authenticated, asks to
    relay (RCPT TO a domain that is not ours).

    ``refused_by``: the restriction that refuses it (the first in evaluation order).
    Otherwise ``openings``: the permits that let it through the relay and recipient lists,
    those that keep a relay check of their own list from running when there are any (the
    other list has none, so they are what opens the relay), else the first one; empty when
    the model cannot tell.  ``lookups``: access-table and policy lookups before the
    refusals, when every list that refuses has one (their answers, which only the tables
    know, could then let a client through all of them), each with the refusal it
    precedes.  ``mx_backup``: each ``permit_mx_backup`` met without
    permit_mx_backup_networks."""

    refused_by: Restriction | None = None
    openings: tuple[Opening, ...] = ()
    lookups: tuple[tuple[Restriction, Restriction], ...] = ()
    mx_backup: tuple[Restriction, ...] = ()

    @property
    def open(self) -> bool:
        return self.refused_by is None and bool(self.openings)


def is_lookup(name: str) -> bool:
    """An access-table or policy lookup (``check_*_access``, ``check_policy_service``): its
    answer, which only the table knows, may be OK, a reject, or nothing."""
    name = name.lower()
    return (name.startswith("check_") and name.endswith("_access")) or name in (
        "check_policy_service",
    )


def may_permit(item: Restriction) -> bool:
    """Whether a restriction can answer OK and so end its list (a permit of any kind, or a
    lookup whose table may say OK)."""
    return item.lowered.startswith("permit") or is_lookup(item.name)


def _opening(
    item: Restriction, config: Configuration, networks: tuple[Network, ...] | None
) -> Network | bool:
    """Whether ``item`` answers OK for any stranger: True, or the network of mynetworks
    that makes permit_mynetworks do so; False otherwise."""
    name = item.lowered
    if name == "permit":
        return True
    if name == "permit_mynetworks" and networks:
        wide = [n for n in networks if n.whole_internet] or [n for n in networks if n.over_wide]
        return wide[0] if wide else False
    if name == "permit_naked_ip_address":
        # smtpd_check.c: OK for any client whose HELO name is a bare IP address, which the
        # client chooses (Postfix 3.9 removed it; then it is an unknown restriction)
        return config.kb.restriction(name) is not None and not _removed(config, name)
    return False


def _removed(config: Configuration, name: str) -> bool:
    removed = (config.kb.restriction(name) or {}).get("removed_in")
    return bool(removed) and config.version[:2] >= parse_version(str(removed))[:2]


def _refuses(item: Restriction, server: SmtpServer, delayed: bool, early: bool) -> bool:
    """Whether ``item`` refuses every stranger's relay attempt: a relay check (which, in
    the client, helo and sender lists, sees the recipient only with smtpd_delay_reject =
    yes), an unconditional reject or defer, or a name smtpd does not know (it answers
    "451 Server configuration error")."""
    name = item.lowered
    if name in ("reject", "defer"):
        return True
    if name in REQUIRED:
        return delayed or not early
    if ":" in item.name or item.name in server.restriction_classes:
        return False
    info = server.config.kb.restriction(item.name)
    return info is None or _removed(server.config, name)


def _list_end(server: SmtpServer, list_name: str, delayed: bool) -> ListEnd:
    """generic_checks() over one list for a stranger's relay attempt."""
    config = server.config
    early = list_name in EARLY_LISTS
    networks = trusted_networks(config)
    mx_networks = (config.value("permit_mx_backup_networks") or "").strip()
    lookups: list[Restriction] = []
    mx_backup: list[Restriction] = []
    items = server.restrictions[list_name].flattened()
    warn_only = False
    for index, item in enumerate(items):
        name = item.lowered
        if name == "warn_if_reject":
            warn_only = True
            continue
        # warn_if_reject: a reject of the next restriction is only logged
        refuses, warn_only = _refuses(item, server, delayed, early) and not warn_only, False
        if refuses:
            return ListEnd(list_name, item, tuple(lookups), None, tuple(mx_backup))
        how = _opening(item, config, networks)
        if how is not False:
            later = (r for r in items[index + 1 :] if _refuses(r, server, delayed, early))
            network = how if isinstance(how, Network) else None
            opening = Opening(item, list_name, network, next(later, None))
            return ListEnd(list_name, None, (), opening, tuple(mx_backup))
        if is_lookup(name):
            lookups.append(item)
        elif name == "permit_mx_backup" and not mx_networks:
            mx_backup.append(item)
    return ListEnd(list_name, mx_backup=tuple(mx_backup))


def stranger_relay(server: SmtpServer) -> StrangerRelay:
    """Evaluate the lists as generic_checks() and smtpd_check_rcpt() do for a stranger's
    relay attempt: the client, helo and sender lists can only refuse it (a permit there
    ends only that list); it gets through when neither the relay nor the recipient list
    refuses it, each list on its own (classes followed where they are used)."""
    delayed = yes(server.config.value("smtpd_delay_reject"))
    order = evaluation_order(server.config)
    for list_name in order[:3]:
        end = _list_end(server, list_name, delayed)
        if end.refused_by is not None:
            return StrangerRelay(end.refused_by)
    ends = [_list_end(server, name, delayed) for name in order[3:5]]
    mx_backup = tuple(r for end in ends for r in end.mx_backup)
    refusing = [end for end in ends if end.refused_by is not None]
    if refusing:
        lookups: tuple[tuple[Restriction, Restriction], ...] = ()
        if all(end.lookups for end in refusing):
            lookups = tuple(
                (r, end.refused_by)
                for end in refusing
                if end.refused_by is not None
                for r in end.lookups
            )
        return StrangerRelay(refusing[0].refused_by, (), lookups, mx_backup)
    openings = [end.opened for end in ends if end.opened is not None]
    causes = [o for o in openings if o.skips is not None] or openings[:1]
    return StrangerRelay(None, tuple(causes), (), mx_backup)


def reachable_by_strangers(server: SmtpServer) -> bool:
    """Whether clients of other machines can connect: not when master listens for this
    service on a loopback address only, or inet_interfaces has only loopback addresses."""
    endpoint = server.daemon.endpoint if server.daemon is not None else None
    if endpoint is not None and endpoint.host and _loopback(endpoint.host):
        return False
    interfaces = server.config.main_view().value("inet_interfaces") or ""
    words = [t.text.lower() for t in split_list(interfaces)]
    if words == ["loopback-only"]:
        return False
    return not (words and all(_loopback(w) for w in words))


def _loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
