"""The DNS lists Postfix asks, as it reads them: smtpd's DNSBL restrictions (in its lists and
in the restriction classes an access table may name) and postscreen's postscreen_dnsbl_sites.

smtpd reads a restriction's argument as ``zone[=filter]`` (smtpd_check.c: split_at() at the
first ``=``); postscreen reads each site as ``zone[=filter][*weight]`` (postscreen_dnsbl.c,
psc_dnsbl_add_site(): the weight split off at the first ``*``, then the filter at ``=``).  A
filter is read as util/ip_match.c reads it.  Nothing here knows which zone is alive.
"""

from __future__ import annotations

import re

import attrs

from .configuration import Configuration
from .relay import class_definitions, evaluation_order, may_permit
from .restrictions import Restriction, Written, _Reader, ip_pattern_error
from .smtpd import SmtpServer

#: smtpd restrictions that look up the client's address in a DNS list (smtpd_check.c:
#: reject_rbl_addr(), permit_dnswl_addr(); ``reject_rbl`` is the old name of
#: reject_rbl_client).
ADDRESS_LOOKUPS = ("reject_rbl_client", "reject_rbl", "permit_dnswl_client")
#: smtpd restrictions that look up a domain name (reject_rbl_domain(), permit_dnswl_domain()).
NAME_LOOKUPS = (
    "reject_rhsbl_client",
    "reject_rhsbl_sender",
    "reject_rhsbl_helo",
    "reject_rhsbl_recipient",
    "reject_rhsbl_reverse_client",
    "permit_rhswl_client",
)

#: The ``lookup`` of a postscreen site: postscreen asks for the client's address.
POSTSCREEN = "postscreen"


@attrs.frozen
class DnsblQuery:
    """One question to a DNS list, as written.

    ``lookup`` is the restriction (``reject_rbl`` folded into ``reject_rbl_client``) or
    ``postscreen``; ``zone`` in lower case without a final dot; ``filter`` the answers that
    count (None: any); ``weight`` postscreen's (None for smtpd, or a weight postscreen
    refuses); ``word`` the argument or site as written, at ``written``.  ``list_name`` is
    the smtpd list it runs in (None: postscreen, or a restriction class no list uses, which
    runs only when an access table answers with its name); ``restriction`` smtpd's.
    """

    lookup: str
    zone: str
    filter: str | None
    word: str
    written: Written
    weight: int | None = None
    list_name: str | None = None
    restriction: Restriction | None = None
    #: the restrictions before it in its list that can answer OK and so end the list
    #: before it is asked (by their text; a policy service's answer depends on the stage, so
    #: its entry names the list too)
    guards: frozenset[str] = frozenset()

    @property
    def by_address(self) -> bool:
        """Whether the list is asked about an IP address (else about a domain name)."""
        return self.lookup in (*ADDRESS_LOOKUPS, POSTSCREEN)

    def always_with(self, other: DnsblQuery) -> bool:
        """Whether smtpd asks this query of every client it asks ``other`` for: every
        restriction that can spare a client this one (answer OK before it in its list) is
        also before ``other`` in its list, so a client that reaches ``other`` reached this
        one too, or will (a reject in any list is final, and every list runs for each
        recipient).  A query in a class no list uses is asked only when a table says so."""
        if self.list_name is None:
            return False
        return self.guards <= other.guards

    @property
    def place(self) -> tuple[object, ...]:
        """Where the query is written (a class used twice is still one query written)."""
        r = self.restriction
        return (self.written, r.written if r is not None else None)


def split_zone(argument: str) -> tuple[str, str | None]:
    """``zen.spamhaus.org=127.0.0.[2..11]`` -> ("zen.spamhaus.org", "127.0.0.[2..11]")."""
    zone, _, result_filter = argument.partition("=")
    return zone.lower().rstrip("."), (result_filter or None)


def split_site(site: str) -> tuple[str, str | None, int | None]:
    """A postscreen_dnsbl_sites entry: zone, filter, and weight (1 when none is written;
    None when sscanf("%d") would refuse it, which stops postscreen)."""
    rest, star, weight_text = site.partition("*")
    weight: int | None = 1
    if star:
        match = re.fullmatch(r"\s*([+-]?[0-9]+)", weight_text)
        weight = int(match.group(1)) if match else None
    zone, result_filter = split_zone(rest)
    return zone, result_filter, weight


def site_problem(site: str) -> tuple[str, str] | None:
    """Why psc_dnsbl_add_site() (postscreen/postscreen_dnsbl.c) stops postscreen on a
    postscreen_dnsbl_sites entry, as (what, detail), or None.  It checks in this order:
    the weight after the first ``*`` (sscanf "%d" and nothing after), the filter after the
    first ``=`` (ip_match_parse(), as :func:`ip_pattern_error` reads it), then the zone (valid_hostname())."""
    from ..values import hostname_problem

    rest, star, weight_text = site.partition("*")
    if star and not re.fullmatch(r"\s*[+-]?[0-9]+", weight_text):
        return "weight", f'bad DNSBL weight factor "{weight_text}"'
    zone, equals, pattern = rest.partition("=")
    if equals:
        error = ip_pattern_error(pattern)
        if error is not None:
            return "filter", f"bad DNSBL filter syntax: {error}"
    problem = hostname_problem(zone)
    if problem is not None:
        return "zone", f'bad DNSBL domain name "{zone}" ({problem})'
    return None


def _lookup(restriction: Restriction) -> str:
    name = restriction.lowered
    return "reject_rbl_client" if name == "reject_rbl" else name


def _query(
    restriction: Restriction, list_name: str | None, guards: frozenset[str] = frozenset()
) -> DnsblQuery | None:
    name = restriction.lowered
    if name not in (*ADDRESS_LOOKUPS, *NAME_LOOKUPS) or not restriction.argument:
        return None
    zone, result_filter = split_zone(restriction.argument)
    written = restriction.argument_written or restriction.written
    return DnsblQuery(
        _lookup(restriction),
        zone,
        result_filter,
        restriction.argument,
        written,
        None,
        list_name,
        restriction,
        guards,
    )


def smtpd_queries(server: SmtpServer) -> tuple[DnsblQuery, ...]:
    """Every DNS list query of one smtpd, in the order smtpd asks them: its lists in turn
    (evaluation_order(); classes followed where a list uses them), then the restriction
    classes no list uses."""
    found: list[DnsblQuery] = []
    places: set[tuple[object, ...]] = set()
    for list_name in evaluation_order(server.config):
        guards: set[str] = set()
        for item in server.restrictions[list_name].flattened():
            query = _query(item, list_name, frozenset(guards))
            if query is not None:
                found.append(query)
                places.add(query.place)
            if may_permit(item):
                stage = f" ({list_name})" if item.lowered == "check_policy_service" else ""
                guards.add(item.text.lower() + stage)
    for definition in class_definitions(server).values():
        for item in definition.flattened():
            query = _query(item, None)
            if query is not None and query.place not in places:
                found.append(query)
                places.add(query.place)
    return tuple(found)


def postscreen_queries(config: Configuration) -> tuple[DnsblQuery, ...]:
    """postscreen_dnsbl_sites as a postscreen with ``config`` reads it (argv_split() at
    commas and blanks), each site with where it is written."""
    found = []
    for word, written in _Reader(config).words("postscreen_dnsbl_sites"):
        zone, result_filter, weight = split_site(word)
        found.append(DnsblQuery(POSTSCREEN, zone, result_filter, word, written, weight))
    return tuple(found)


def result_filter(text: str | None) -> list[set[int]] | None:
    """The answers a result filter admits, one set per octet; None when there is no filter.

    The syntax of util/ip_match.c (ip_match_parse()): four fields separated by ".", each a
    number or a "[...]" of ";"-separated numbers and number..number ranges.  A filter this
    cannot read gives an empty list, which admits nothing (callers then assume the worst).
    """
    if text is None:
        return None
    # Split on the dots between fields, not on those of a "[n..m]" range.
    fields = re.findall(r"\[[^\]]*\]|[^.\[\]]+", text)
    if len(fields) != 4 or ".".join(fields) != text:
        return []
    octets: list[set[int]] = []
    for field in fields:
        values: set[int] = set()
        items = field[1:-1].split(";") if field.startswith("[") and field.endswith("]") else [field]
        for item in items:
            match = re.fullmatch(r"([0-9]{1,3})(?:\.\.([0-9]{1,3}))?", item)
            if match is None:
                return []
            first = int(match.group(1))
            last = int(match.group(2) or first)
            if last > 255 or first > last:
                return []
            values.update(range(first, last + 1))
        octets.append(values)
    return octets


def admits(wider: str | None, narrower: str | None) -> bool:
    """Whether every answer the filter ``narrower`` admits passes ``wider`` too (no filter:
    every answer)."""
    outer, inner = result_filter(wider), result_filter(narrower)
    if outer is None:
        return True
    if inner is None or not outer or not inner:
        return False
    return all(i <= o for i, o in zip(inner, outer))
