"""Rules about DNS blocklists in restriction lists: dead zones, zones that list everything,
duplicates, zones inside other zones, the wrong kind of lookup, and unsafe placement.

Which zone is what comes from rules/dnsbl.toml, each fact with its source.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import Any

from ...kb import load_table
from ...semantics import yes
from .. import location as at
from ..context import Context
from ..finding import Fix
from ..restrictions import Restriction, configurations, item_fix
from ..rule import Rule, register

IP_LOOKUPS = {"reject_rbl_client", "reject_rbl", "permit_dnswl_client"}
DOMAIN_LOOKUPS = {
    "reject_rhsbl_client",
    "reject_rhsbl_sender",
    "reject_rhsbl_helo",
    "reject_rhsbl_recipient",
    "reject_rhsbl_reverse_client",
    "permit_rhswl_client",
}


def split_zone(argument: str) -> tuple[str, str | None]:
    """``zen.spamhaus.org=127.0.0.[2..11]`` -> ("zen.spamhaus.org", "127.0.0.[2..11]")."""
    zone, _, result_filter = argument.partition("=")
    return zone.lower().rstrip("."), (result_filter or None)


def zone_info(zone: str) -> dict[str, Any] | None:
    data = load_table("dnsbl")
    info = data.get("zones", {}).get(zone)
    if info is not None:
        return dict(info)
    for family, facts in data.get("families", {}).items():
        if zone == family or zone.endswith("." + family):
            return dict(facts)
    return None


def dnsbl_queries(ctx: Context) -> Iterator[tuple[Restriction, str, str | None]]:
    """Every DNS list query of every smtpd service (main.cf's lists once per service: the
    engine reports each place once)."""
    for _, lists in configurations(ctx):
        for restrictions in lists.values():
            for restriction in restrictions:
                name = restriction.lowered
                if name not in IP_LOOKUPS | DOMAIN_LOOKUPS or not restriction.argument:
                    continue
                zone, result_filter = split_zone(restriction.argument)
                yield restriction, zone, result_filter


def _kind_fits(restriction: Restriction, info: dict[str, Any]) -> bool:
    kind = info.get("kind")
    if restriction.lowered in IP_LOOKUPS:
        return kind == "ip"
    return kind in ("domain", "uri")


def _octets(result_filter: str | None) -> list[set[int]] | None:
    """The answers a result filter admits, one set per octet; None when it has none.

    The syntax of util/ip_match.c (ip_match_parse()): four fields separated by ".", each a
    number or a "[...]" of ";"-separated numbers and number..number ranges.  A filter this
    cannot read gives an empty list, which admits nothing (callers then assume the worst).
    """
    if result_filter is None:
        return None
    # Split on the dots between fields, not on those of a "[n..m]" range.
    fields = re.findall(r"\[[^\]]*\]|[^.\[\]]+", result_filter)
    if len(fields) != 4 or ".".join(fields) != result_filter:
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


def _admits(wider: str | None, narrower: str) -> bool:
    """Whether every answer ``narrower`` admits passes ``wider`` too (no filter: all pass)."""
    outer, inner = _octets(wider), _octets(narrower)
    if outer is None:
        return True
    if not outer or not inner:
        return False
    return all(i <= o for i, o in zip(inner, outer))


def _successor(info: dict[str, Any]) -> tuple[str, str]:
    """A superseded zone's successor and the filter that picks this zone's data from it."""
    zone = info["superseded_by"]
    result_filter = info.get("successor_filter") or (zone_info(zone) or {}).get("filter", "")
    return zone, result_filter


def _asked_already(ctx: Context) -> dict[tuple[Any, ...], Restriction | None]:
    """For each query of a superseded zone: the query that already asks for its data, if any.

    That is an earlier query of the same zone, or a query of a live zone that is (or
    contains) the successor, with a filter that lets the successor's answers for this data
    through, by the same kind of lookup in the same smtpd service (client, helo, sender and
    recipient lists all run for each recipient, as for RBL003).  A place main.cf's lists
    give to several services counts as asked only if it is in all of them.
    """
    found: dict[tuple[Any, ...], Restriction | None] = {}
    for _, lists in configurations(ctx):
        queries = [
            (r, *split_zone(r.argument))
            for restrictions in lists.values()
            for r in restrictions
            if r.lowered in IP_LOOKUPS | DOMAIN_LOOKUPS and r.argument
        ]
        for position, (restriction, zone, _) in enumerate(queries):
            info = zone_info(zone)
            if not info or info.get("status") != "superseded":
                continue
            successor, wanted = _successor(info)
            containers = (zone_info(successor) or {}).get("contained_in", [])
            covering = None
            for other_position, (other, other_zone, other_filter) in enumerate(queries):
                if other is restriction or _lookup_key(other) != _lookup_key(restriction):
                    continue
                if other_zone == zone and other_position < position:
                    covering = other
                    break
                other_info = zone_info(other_zone) or {}
                if other_info.get("status") != "live":
                    continue
                if (other_zone == successor or other_zone in containers) and _admits(
                    other_filter, wanted
                ):
                    covering = other
                    break
            key = (restriction.path, restriction.span)
            if key in found and found[key] is None:
                continue
            found[key] = covering
    return found


@register
class DeadDnsbl(Rule):
    """
    ## What it finds
    A DNS blocklist that no longer works: shut down (list.dsbl.org, the RFC-Ignorant zones,
    blackhole.securitysage.com, every SORBS zone, ix.dnsbl.manitu.net...), or a zone whose
    data another zone now serves (cbl.abuseat.org, moved to the Spamhaus XBL in 2021).
    Which zone is which, and since when, comes from rules/dnsbl.toml with a source for each.

    ## Why it matters
    A dead list blocks nothing and costs a DNS query per recipient; many dead domains are
    later parked or bought, and a domain that starts answering for every address makes
    Postfix reject all mail (see RBL002).  A moved list is not dead: deleting it would lose
    the blocking it still does, so it is moved to its successor instead.

    ## Example
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
        reject_rbl_client dul.dnsbl.sorbs.net,
        reject_rbl_client cbl.abuseat.org
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
        reject_rbl_client xbl.spamhaus.org=127.0.0.[4..7]
    ```

    ## Fix
    A dead zone is removed (safe: it blocks nothing).  A moved zone is replaced by its
    successor with the result filter that selects the same data, such as
    `xbl.spamhaus.org=127.0.0.[4..7]` for cbl.abuseat.org (safe: the same addresses are
    rejected, and the filter keeps Spamhaus's refusal answers from counting as listings).
    It is removed instead when the same service already asks for that data (the successor,
    a zone containing it such as zen.spamhaus.org, or an earlier query of the same zone),
    or when the lookup is of the wrong kind and can never match (RBL005).  Either way the
    restriction goes with its argument, so the list stays well formed.
    """

    code = "RBL001"
    name = "dead-dnsbl"
    severity = "warning"
    summary = "DNS blocklist that has shut down or been replaced"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        asked = _asked_already(ctx)
        for restriction, zone, _ in dnsbl_queries(ctx):
            info = zone_info(zone)
            if not info:
                continue
            status = info.get("status")
            fix = item_fix(restriction, f"remove {restriction.name} {zone}")
            if status == "dead":
                if info.get("since"):
                    message = f"{zone} has not worked since {info['since']}: remove it"
                else:
                    message = f"{zone} no longer works: remove it"
            elif status == "superseded":
                message, fix = _superseded(ctx, restriction, zone, info, asked)
            else:
                continue
            self.report(at.restriction(restriction), message, fix=fix)


def _superseded(
    ctx: Context,
    restriction: Restriction,
    zone: str,
    info: dict[str, Any],
    asked: dict[tuple[Any, ...], Restriction | None],
) -> tuple[str, Fix]:
    """RBL001's message and fix for a zone whose data another zone now serves: the query
    moves to the successor, unless it asks the wrong kind of question (RBL005) or the
    successor's data is queried already; then it goes."""
    successor, wanted = _successor(info)
    moved = f"{zone} moved to {successor}"
    if info.get("since"):
        moved += f" in {info['since']}"
    remove = item_fix(restriction, f"remove {restriction.name} {zone}")
    if not _kind_fits(restriction, info):
        return f"{moved}, and {restriction.name} cannot match it: remove it", remove
    covering = asked.get((restriction.path, restriction.span))
    if covering is not None:
        where = f"line {covering.span.line}"
        if covering.path != restriction.path and covering.path:
            where += f" of {os.path.basename(covering.path)}"
        asker = f"{covering.name} {covering.argument} ({where})"
        return f"{moved}, and {asker} already asks for that data: remove it", remove
    # Postfix 2.8 and later read a result filter; before that the zone goes alone.
    query = f"{successor}={wanted}" if wanted and ctx.target[:2] >= (2, 8) else successor
    return (
        f"{moved}: query {query} instead",
        item_fix(
            restriction,
            f"query {query} instead of {zone}",
            replacement=f"{restriction.name} {query}",
        ),
    )


@register
class DnsblListsEverything(Rule):
    """
    ## What it finds
    A DNS blocklist whose zone, after it was shut down, answers "listed" for every address
    or domain: list.dsbl.org, dnsbl.njabl.org, relays.ordb.org, the AHBL zones,
    bl.spamcannibal.org and others in the knowledge base.

    ## Why it matters
    `reject_rbl_client` rejects when the zone answers at all, so such a zone rejects every
    client: all incoming mail is refused with "blocked using ...".  This has happened to
    real sites each time one of these domains lapsed.

    ## Example
    ```
    smtpd_client_restrictions = reject_rbl_client dnsbl.njabl.org
    ```

    ## Use instead
    ```
    smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]
    ```

    ## Fix
    Remove the item now.
    """

    code = "RBL002"
    name = "dnsbl-lists-everything"
    severity = "error"
    summary = "dead DNS blocklist that now lists every address"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        for restriction, zone, _ in dnsbl_queries(ctx):
            info = zone_info(zone)
            if info and info.get("status") == "lists-everything":
                since = f" (shut down {info['since']})" if info.get("since") else ""
                self.report(
                    at.restriction(restriction),
                    f'{zone}{since} has been reported to answer "listed" for every query: '
                    "it can reject all mail; remove it",
                    fix=item_fix(restriction, f"remove {restriction.name} {zone}"),
                )


def _lookup_key(restriction: Restriction) -> str:
    name = restriction.lowered
    return "reject_rbl_client" if name == "reject_rbl" else name


@register
class DuplicateDnsbl(Rule):
    """
    ## What it finds
    The same DNS list queried twice with the same kind of lookup, in one restriction list
    or across the client, helo, sender and recipient lists (which all run for every
    recipient while `smtpd_delay_reject = yes`, the default).  Case and a `=127.0.0.x`
    result filter do not make a zone different.

    ## Why it matters
    The second query can only repeat the first one's answer: it adds nothing but a line to
    maintain, and usually shows that two configurations were pasted together.

    ## Example
    ```
    smtpd_recipient_restrictions = ...,
        reject_rbl_client bl.spamcop.net,
        reject_rbl_client bl.spamcop.net
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = ...,
        reject_rbl_client bl.spamcop.net
    ```

    ## Fix
    Remove the later occurrence (safe).
    """

    code = "RBL003"
    name = "duplicate-dnsbl"
    severity = "warning"
    summary = "DNS list queried twice"
    fix_safety = "safe"
    # each service has its own first query of a zone: the first service's words stand
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for config, lists in configurations(ctx):
            first: dict[tuple[str, str], Restriction] = {}
            for restrictions in lists.values():
                for restriction in restrictions:
                    if (
                        restriction.lowered not in IP_LOOKUPS | DOMAIN_LOOKUPS
                        or not restriction.argument
                    ):
                        continue
                    zone, _ = split_zone(restriction.argument)
                    key = (_lookup_key(restriction), zone)
                    if key not in first:
                        first[key] = restriction
                        continue
                    earlier = first[key]
                    self.report(
                        at.restriction(restriction),
                        f"{zone} is already queried by {earlier.name} on line {earlier.span.line}",
                        fix=item_fix(restriction, f"remove this {restriction.name} {zone}"),
                    )


@register
class ContainedDnsbl(Rule):
    """
    ## What it finds
    A DNS list whose entries are already part of another list that is queried too, such as
    sbl.spamhaus.org, xbl.spamhaus.org, pbl.spamhaus.org or cbl.abuseat.org next to
    zen.spamhaus.org.

    ## Why it matters
    The combined zone already answers for these addresses, so the extra query adds nothing;
    Spamhaus asks users not to query zen together with its parts.

    ## Example
    ```
    reject_rbl_client zen.spamhaus.org, reject_rbl_client xbl.spamhaus.org
    ```

    ## Use instead
    ```
    reject_rbl_client zen.spamhaus.org
    ```

    ## Fix
    Remove the contained list.
    """

    code = "RBL004"
    name = "contained-dnsbl"
    severity = "warning"
    summary = "DNS list already contained in another list that is queried"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        queries = list(dnsbl_queries(ctx))
        zones = {zone for _, zone, _ in queries}
        for restriction, zone, _ in queries:
            info = zone_info(zone) or {}
            for container in info.get("contained_in", []):
                if container in zones:
                    self.report(
                        at.restriction(restriction),
                        f"{zone} is part of {container}, which is queried too",
                        fix=item_fix(restriction, f"remove {restriction.name} {zone}"),
                    )
                    break


@register
class WrongDnsblKind(Rule):
    """
    ## What it finds
    A DNS list used with the wrong kind of lookup: a domain list (dbl.spamhaus.org,
    dsn.rfc-ignorant.org) or a URI list (multi.uribl.com, multi.surbl.org) with
    `reject_rbl_client`, which looks up the client's IP address, or an IP address list with
    a `reject_rhsbl_*` restriction, which looks up a domain name.

    ## Why it matters
    The query asks the list a question it does not answer, so it never matches (or, for
    lists whose error answers look like listings, matches wrongly).  URI lists hold
    domains seen in message bodies and belong in a content filter such as SpamAssassin or
    rspamd.

    ## Example
    ```
    reject_rbl_client multi.uribl.com
    ```

    ## Use instead
    ```
    reject_rhsbl_sender dbl.spamhaus.org=127.0.1.[2..99]
    ```
    (and query URI lists from the content filter)

    ## Fix
    Use the restriction that matches the list, or remove it.
    """

    code = "RBL005"
    name = "wrong-dnsbl-kind"
    severity = "error"
    summary = "DNS list queried with the wrong kind of lookup"

    def check(self, ctx: Context) -> None:
        for restriction, zone, _ in dnsbl_queries(ctx):
            info = zone_info(zone)
            if not info:
                continue
            kind = info.get("kind")
            name = restriction.lowered
            if name in IP_LOOKUPS and kind in ("domain", "uri"):
                what = (
                    "a domain list"
                    if kind == "domain"
                    else "a list of domains found in message bodies"
                )
                self.report(
                    at.restriction(restriction),
                    f"{zone} is {what}, but {restriction.name} looks up the client's IP address: "
                    "it never matches",
                )
            elif name in DOMAIN_LOOKUPS and kind == "ip":
                self.report(
                    at.restriction(restriction),
                    f"{zone} lists IP addresses, but {restriction.name} looks up a domain name: "
                    "it never matches",
                )


_PERMITS = ("permit_mynetworks", "permit_sasl_authenticated")


@register
class DnsblBeforePermit(Rule):
    """
    ## What it finds
    An IP address blocklist in a restriction list that has no `permit_mynetworks` or
    `permit_sasl_authenticated` before it, while the configuration uses that permit for
    your own users (`permit_sasl_authenticated` counts only where SASL is on).  A permit
    ends only the list it is in (smtpd_check.c, generic_checks()), and a reject in any list
    is final, so a permit in `smtpd_recipient_restrictions` does not protect your users
    from a blocklist in `smtpd_client_restrictions`.

    ## Why it matters
    Your own users connect from home and mobile networks, whose dynamic addresses are on
    many blocklists (Spamhaus PBL, SpamCop).  Checked first, the blocklist rejects them
    before the permit that was meant for them is reached, and they cannot send mail.

    ## Example
    ```
    smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org
    smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
        reject_unauth_destination
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
        reject_unauth_destination, reject_rbl_client zen.spamhaus.org
    ```

    ## Fix
    Move the blocklist after the permits.
    """

    code = "RBL006"
    name = "dnsbl-before-permit"
    severity = "warning"
    summary = "IP blocklist checked before your own users are permitted"
    # services differ in the permits they have (SASL on or off): the first one's words stand
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for config, lists in configurations(ctx):
            value = functools.partial(ctx.value, config)
            ordered = [r for restrictions in lists.values() for r in restrictions]
            # The permits meant for your own users that this smtpd has: a permit the lists
            # use, and for permit_sasl_authenticated only where SASL is on (without it the
            # permit never matches, so it protects nobody).
            permits: dict[str, Restriction] = {}
            for r in ordered:
                if r.lowered in _PERMITS and r.lowered not in permits:
                    if r.lowered == "permit_sasl_authenticated" and not yes(
                        value("smtpd_sasl_auth_enable")
                    ):
                        continue
                    permits[r.lowered] = r
            for restriction in ordered:
                if restriction.lowered not in ("reject_rbl_client", "reject_rbl"):
                    continue
                # A permit ends only the list it is in (smtpd_check.c, generic_checks():
                # SMTPD_CHECK_OK returns from that list alone); a reject in any list is
                # final.  Only a permit earlier in the same list lets your users past this one.
                own = lists[restriction.list_name]
                earlier = {r.lowered for r in own[: restriction.index]}
                missing = [p for p in _PERMITS if p in permits and p not in earlier]
                if not missing:
                    continue
                zone, _ = split_zone(restriction.argument or "")
                same = [r for r in own[restriction.index + 1 :] if r.lowered in missing]
                if same:
                    message = (
                        f"{zone} is checked before {same[0].name} (line {same[0].span.line}) "
                        f"in {restriction.list_name}: your own users on listed addresses are "
                        "rejected"
                    )
                else:
                    permit = permits[missing[0]]
                    message = (
                        f"{zone} rejects in {restriction.list_name}, where no {permit.name} "
                        f"comes before it; the one in {permit.list_name} (line "
                        f"{permit.span.line}) cannot undo a reject from another list: your own "
                        "users on listed addresses are rejected"
                    )
                self.report(
                    at.restriction(restriction, service=config.key if config else None), message
                )


@register
class UnfilteredDnsbl(Rule):
    """
    ## What it finds
    A query to a DNS list whose refusal answers look like listings, without a result
    filter: Spamhaus answers 127.255.255.254 to queries through public resolvers, URIBL
    answers 127.0.0.1 to refused queries.

    ## Why it matters
    Without a filter, `reject_rbl_client zone` rejects on any answer, so the day the server
    uses a public or shared resolver every client is "listed" and mail is refused.  Postfix
    2.8 and later accept a filter such as `zen.spamhaus.org=127.0.0.[2..11]` that matches
    only real listings.

    ## Example
    ```
    reject_rbl_client zen.spamhaus.org
    ```

    ## Use instead
    ```
    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]
    ```

    ## Fix
    Add the filter given in the message.
    """

    code = "RBL007"
    name = "unfiltered-dnsbl"
    severity = "warning"
    summary = "DNS list queried without a result filter"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 8):
            return
        for restriction, zone, result_filter in dnsbl_queries(ctx):
            info = zone_info(zone)
            if (
                not info
                or result_filter
                or not info.get("error_codes")
                or info.get("status") != "live"
            ):
                continue
            if not _kind_fits(restriction, info):
                continue  # RBL005 says what is wrong
            suggestion = f"{zone}={info['filter']}" if info.get("filter") else None
            use = (
                f"; use {suggestion}"
                if suggestion
                else "; add a =127.0.0.x filter for real listings"
            )
            self.report(
                at.restriction(restriction),
                f"{zone} answers {', '.join(info['error_codes'])} when it refuses a query, "
                f"and without a filter that counts as listed{use}",
                fix=item_fix(
                    restriction,
                    f"filter the answers of {zone}",
                    replacement=f"{restriction.name} {suggestion}",
                )
                if suggestion
                else Fix.display_only(f"filter the answers of {zone}"),
            )
