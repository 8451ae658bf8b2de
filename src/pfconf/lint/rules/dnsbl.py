"""Rules about DNS blocklists: dead zones, zones that list everything, duplicates, zones
inside other zones, the wrong kind of lookup, unsafe placement, and missing result filters.

The queries are read by the model (pfconf.semantics.dnsbl): smtpd's DNSBL restrictions in
its lists and restriction classes, and the sites of postscreen_dnsbl_sites where a
postscreen runs.  Which zone is what comes from rules/dnsbl.toml, each fact with its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from ...kb import load_table
from ...semantics import LISTS, Configuration, Restriction, RestrictionList, SmtpServer
from ...semantics.dnsbl import (
    POSTSCREEN,
    DnsblQuery,
    admits,
    postscreen_queries,
    site_problem,
    smtpd_queries,
    split_zone,
)
from ...semantics.relay import class_definitions, own_networks_public, trusted_networks
from .. import location as at
from ..context import Context
from ..finding import Fix
from ..location import Location
from ..restrictions import item_fix, written_fix
from ..rule import Rule, register
from .relay import place, smtp_servers


def zone_info(zone: str) -> dict[str, Any] | None:
    data = load_table("dnsbl")
    info = data.get("zones", {}).get(zone)
    if info is not None:
        return dict(info)
    for family, facts in data.get("families", {}).items():
        if zone == family or zone.endswith("." + family):
            return dict(facts)
    return None


@attrs.frozen
class Asker:
    """A program that asks DNS lists: one smtpd, or one postscreen (``server`` None), with
    its queries in the order it asks them."""

    queries: tuple[DnsblQuery, ...]
    config: Configuration
    key: str | None = None
    server: SmtpServer | None = None
    #: the restriction classes of an smtpd (a fix must not leave one empty)
    classes: tuple[RestrictionList, ...] = ()

    def where(self, query: DnsblQuery) -> Location | None:
        if query.restriction is not None:
            return at.listed(query.restriction, service=self.key)
        return at.written(query.written, service=self.key)

    def fix(self, query: DnsblQuery, description: str, replacement: str | None = None) -> Fix:
        """Remove the query (``replacement`` None) or put ``replacement`` (zone, filter and
        weight as one word) in its place."""
        restriction = query.restriction
        if restriction is not None:
            return item_fix(
                restriction,
                description,
                replacement=f"{restriction.name} {replacement}" if replacement else None,
                classes=self.classes,
            )
        if replacement is not None:
            _, star, weight = query.word.partition("*")
            replacement += star + weight  # postscreen: keep the weight as written
        return written_fix(query.written, query.word, description, replacement=replacement)

    def what(self, query: DnsblQuery) -> str:
        """The query as a message names it: ``reject_rbl_client zone`` or ``zone``."""
        if query.restriction is not None:
            return f"{query.restriction.name} {query.zone}"
        return query.zone


def askers(ctx: Context) -> Iterator[Asker]:
    """Each smtpd, then each postscreen master.cf runs (main.cf's settings when master.cf is
    not known: a postscreen_dnsbl_sites there says postscreen is meant to run)."""
    for server in smtp_servers(ctx):
        yield Asker(
            smtpd_queries(server),
            server.config,
            server.key,
            server,
            tuple(class_definitions(server).values()),
        )
    screens: list[tuple[Configuration, str | None]]
    screens = [(p.config, p.daemon.key) for p in ctx.postfix.postscreens]
    if not screens and (ctx.master is None or ctx.master_is_stock):
        screens = [(ctx.postfix.config, None)]
    for config, key in screens:
        yield Asker(postscreen_queries(config), config, key)


def _kind_fits(query: DnsblQuery, info: dict[str, Any]) -> bool:
    kind = info.get("kind")
    if query.by_address:
        return kind == "ip"
    return kind in ("domain", "uri")


def _successor(info: dict[str, Any]) -> tuple[str, str]:
    """A superseded zone's successor and the filter that picks this zone's data from it."""
    zone = info["superseded_by"]
    result_filter = info.get("successor_filter") or (zone_info(zone) or {}).get("filter", "")
    return zone, result_filter


def _data(query: DnsblQuery, info: dict[str, Any]) -> str | None:
    """The answers that carry this query's data in a zone that contains it: a moved zone's
    in its successor, else the query's own filter, else the zone's listing answers."""
    if info.get("status") == "superseded":
        return _successor(info)[1] or None
    return query.filter or info.get("filter")


def duplicate_of(asker: Asker, query: DnsblQuery) -> DnsblQuery | None:
    """An earlier smtpd query of the same zone by the same kind of lookup, asked of every
    client this one is asked for, whose filter lets through every answer this one's does:
    this one can only repeat its answer."""
    if asker.server is None:
        return None  # postscreen adds up weights: a site twice counts twice
    for other in asker.queries:
        if other is query:
            return None
        if (
            other.lookup == query.lookup
            and other.zone == query.zone
            and other.place != query.place
            and other.always_with(query)
            and admits(other.filter, query.filter)
        ):
            return other
    return None


def container_of(asker: Asker, query: DnsblQuery, info: dict[str, Any]) -> DnsblQuery | None:
    """A query of a live zone that holds this one's data (rules/dnsbl.toml contained_in,
    and a moved zone's successor), by the same kind of lookup, asked of every client this
    one is asked for, with a filter that lets this data's answers through."""
    if asker.server is None:
        return None  # postscreen: a part next to its whole is a deliberate extra weight
    containers = set(info.get("contained_in", []))
    if info.get("status") == "superseded":
        containers.add(_successor(info)[0])
    wanted = _data(query, info)
    for other in asker.queries:
        if other is query or other.lookup != query.lookup or other.zone not in containers:
            continue
        if (zone_info(other.zone) or {}).get("status") != "live":
            continue
        if other.always_with(query) and admits(other.filter, wanted):
            return other
    return None


@attrs.frozen
class Redundant:
    """Why a query adds nothing: the earlier query of the same zone it repeats (RBL003), and
    the query of a zone that holds its data (RBL004, and RBL001 for a moved zone)."""

    duplicate_of: DnsblQuery | None = None
    contained_in: DnsblQuery | None = None

    def __bool__(self) -> bool:
        return self.duplicate_of is not None or self.contained_in is not None


def redundancies(ctx: Context) -> dict[tuple[object, ...], Redundant]:
    """For each place a query is written: why it is redundant, in the first smtpd that asks
    it there, when it is redundant in every smtpd that asks it there (a main.cf list serves
    several services, which may differ in what else they ask)."""
    found: dict[tuple[object, ...], Redundant] = {}
    for asker in askers(ctx):
        if asker.server is None:
            continue
        for query in asker.queries:
            info = zone_info(query.zone) or {}
            why = Redundant(duplicate_of(asker, query), container_of(asker, query, info))
            known = found.get(query.place)
            if known is None:
                found[query.place] = why
            else:
                found[query.place] = Redundant(
                    known.duplicate_of if why.duplicate_of is not None else None,
                    known.contained_in if why.contained_in is not None else None,
                )
    return found


def _asker_line(query: DnsblQuery) -> str:
    restriction = query.restriction
    return place(restriction) if restriction is not None else "postscreen_dnsbl_sites"


@register
class DeadDnsbl(Rule):
    """
    ## What it finds
    A DNS blocklist that no longer works: shut down (list.dsbl.org, the RFC-Ignorant zones,
    blackhole.securitysage.com, every SORBS zone, ix.dnsbl.manitu.net...), or a zone whose
    data another zone now serves (cbl.abuseat.org, moved to the Spamhaus XBL in 2021).
    Which zone is which, and since when, comes from rules/dnsbl.toml with a source for each.
    smtpd's queries are judged in its restriction lists and in every restriction class it
    defines (an access table may answer with a class name), and postscreen's in
    `postscreen_dnsbl_sites` wherever a postscreen runs (with no master.cf beside main.cf,
    wherever the sites are set).

    ## Why it matters
    A dead list blocks nothing and costs a DNS query per client; many dead domains are
    later parked or bought, and a domain that starts answering for every address makes
    Postfix reject all mail (see RBL002).  A moved list is not dead: deleting it would lose
    the blocking it still does, so it is moved to its successor instead.

    ## Postfix source
    - Which zones are dead, replaced or moved, since when, and the public source of each:
      `rules/dnsbl.toml` (`status`, `since`, `superseded_by`, `sources`).
    - smtpd asks the zone for every client it checks (cached per process):
      `src/smtpd/smtpd_check.c`, `reject_rbl_addr()` and `reject_rbl_domain()` through
      `rbl_pagein()`, which treats any A record as a listing and no answer as no listing.
    - postscreen's queries: `src/postscreen/postscreen_dnsbl.c`, `psc_dnsbl_add_site()` and
      `psc_dnsbl_request()`.

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
    It is removed instead when the same smtpd already asks every client it would ask for
    that data (the successor, a zone containing it such as zen.spamhaus.org with a filter
    that lets that data through, or an earlier query of the same zone: RBL003 and RBL004
    then say so too, with the same fix), or when the lookup is of the wrong kind and can
    never match (RBL005).  Either way the restriction goes with its argument, so the list
    stays well formed; a postscreen site keeps its weight.  pflint --fix edits words written
    in main.cf: an item of a master.cf `-o`, one produced by expanding a `$name` expression,
    or the only item of a restriction class (smtpd refuses to start with an empty class)
    gets a described fix only.
    """

    code = "RBL001"
    name = "dead-dnsbl"
    severity = "warning"
    summary = "DNS blocklist that has shut down or been replaced"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        redundant = redundancies(ctx)
        for asker in askers(ctx):
            for query in asker.queries:
                info = zone_info(query.zone)
                location = asker.where(query)
                if not info or location is None:
                    continue
                status = info.get("status")
                if status == "dead":
                    since = info.get("since")
                    state = f"has not worked since {since}" if since else "no longer works"
                    message = f"{query.zone} {state}: remove it"
                    fix = asker.fix(query, f"remove {asker.what(query)}")
                elif status == "superseded":
                    why = redundant.get(query.place, Redundant())
                    message, fix = _superseded(ctx, asker, query, info, why)
                else:
                    continue
                self.report(location, message, fix=fix)


def _superseded(
    ctx: Context, asker: Asker, query: DnsblQuery, info: dict[str, Any], why: Redundant
) -> tuple[str, Fix]:
    """RBL001's message and fix for a zone whose data another zone now serves: the query
    moves to the successor, unless it asks the wrong kind of question (RBL005) or the
    successor's data is queried already (RBL003, RBL004 say the same); then it goes."""
    successor, wanted = _successor(info)
    moved = f"{query.zone} moved to {successor}"
    if info.get("since"):
        moved += f" in {info['since']}"
    remove = asker.fix(query, f"remove {asker.what(query)}")
    if not _kind_fits(query, info):
        lookup = query.restriction.name if query.restriction is not None else "postscreen"
        return f"{moved}, and {lookup} cannot match it: remove it", remove
    covering = why.duplicate_of or why.contained_in
    if covering is not None and covering.restriction is not None:
        asks = f"{covering.restriction.name} {covering.word} ({_asker_line(covering)})"
        return f"{moved}, and {asks} already asks for that data: remove it", remove
    # Postfix 2.8 and later read a result filter; before that the zone goes alone.
    new = f"{successor}={wanted}" if wanted and ctx.target[:2] >= (2, 8) else successor
    return (
        f"{moved}: query {new} instead",
        asker.fix(query, f"query {new} instead of {query.zone}", replacement=new),
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
    real sites each time one of these domains lapsed.  With `permit_dnswl_client` it lets
    every client through.  In `postscreen_dnsbl_sites` it adds its weight to every client's
    score: an error when that weight alone reaches `postscreen_dnsbl_threshold` and
    `postscreen_dnsbl_action` is `enforce` or `drop`, a warning otherwise.

    ## Postfix source
    - Which lapsed zones answer for every address: `rules/dnsbl.toml` (status
      `lists-everything`, with `sources`).
    - Without a reply filter any A record is a listing: `src/smtpd/smtpd_check.c`,
      `rbl_pagein()` and `find_dnsxl_addr()`; `reject_rbl_addr()` rejects,
      `permit_dnswl_addr()` permits.
    - postscreen adds a site's weight for each matching answer (`src/postscreen/postscreen_dnsbl.c`,
      `psc_dnsbl_receive()`) and acts at `postscreen_dnsbl_threshold` by
      `postscreen_dnsbl_action`: `src/postscreen/postscreen_early.c`, `psc_early_event()`.

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
        for asker in askers(ctx):
            for query in asker.queries:
                info = zone_info(query.zone)
                location = asker.where(query)
                if not info or info.get("status") != "lists-everything" or location is None:
                    continue
                since = f" (shut down {info['since']})" if info.get("since") else ""
                said = f'{query.zone}{since} has been reported to answer "listed" for every query'
                severity = None
                if query.lookup == POSTSCREEN:
                    effect, severity = _postscreen_effect(asker.config, query)
                elif query.lookup.startswith("permit"):
                    effect = f"{query.lookup} lets every client through"
                else:
                    effect = "it can reject all mail"
                self.report(
                    location,
                    f"{said}: {effect}; remove it",
                    fix=asker.fix(query, f"remove {asker.what(query)}"),
                    severity=severity,
                )


def _postscreen_effect(config: Configuration, query: DnsblQuery) -> tuple[str, str]:
    """What a site that answers for every client does to postscreen (postscreen_dnsbl.c: each
    site that answers adds its weight to the client's score; postscreen_early.c: a score at
    postscreen_dnsbl_threshold fails the test, and the action decides what that costs)."""
    weight = query.weight if query.weight is not None else 1
    try:
        threshold = int((config.value("postscreen_dnsbl_threshold") or "1").strip())
    except ValueError:
        threshold = 1
    action = (config.value("postscreen_dnsbl_action") or "").strip().lower()
    if weight >= threshold and action in ("enforce", "drop"):
        return f"its weight {weight} fails every client's DNSBL test ({action})", "error"
    return f"postscreen adds {weight} to every client's score", "warning"


@register
class DuplicateDnsbl(Rule):
    """
    ## What it finds
    The same DNS list queried twice by smtpd with the same kind of lookup, in one
    restriction list or across its lists (they all run for every recipient, and a reject in
    any list is final), where the earlier query is asked of every client the later one is
    (nothing between them in one list, or nothing before the earlier one in its own list,
    can end that list with OK) and lets through every answer the later one does: case does
    not make a zone different, but `zen.spamhaus.org=127.0.0.2` and
    `zen.spamhaus.org=127.0.0.[10..11]` are two questions.  postscreen adds up the weights
    of its sites, so a site written twice there counts twice and is not reported.

    ## Why it matters
    The second query can only repeat the first one's answer: it adds nothing but a line to
    maintain, and usually shows that two configurations were pasted together.

    ## Postfix source
    - With `smtpd_delay_reject = yes` every list runs at each RCPT TO, and a reject in any of
      them is final: `src/smtpd/smtpd_check.c`, `smtpd_check_rcpt()`; within a list smtpd
      stops at the first item that decides: `generic_checks()`.
    - A zone's answer is cached, so the second query repeats the first:
      `src/smtpd/smtpd_check.c`, `find_dnsxl_addr()` and `find_dnsxl_domain()` (the
      `smtpd_rbl_cache` made in `smtpd_check_init()`); a reply filter
      (`zone=127.0.0.[2..11]`, Postfix 2.8 and later) selects answers: `rbl_byte_pagein()`
      with `src/util/ip_match.c`, `ip_match_execute()`.
    - postscreen keeps every site entry, duplicates included, and adds each matching
      entry's weight: `src/postscreen/postscreen_dnsbl.c`, `psc_dnsbl_add_site()` and
      `psc_dnsbl_receive()`.

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
        redundant = redundancies(ctx)
        for asker in askers(ctx):
            for query in asker.queries:
                earlier = redundant.get(query.place, Redundant()).duplicate_of
                location = asker.where(query)
                if earlier is None or earlier.restriction is None or location is None:
                    continue
                self.report(
                    location,
                    f"{query.zone} is already queried by {earlier.restriction.name} on "
                    f"{_asker_line(earlier)}",
                    fix=asker.fix(query, f"remove this {asker.what(query)}"),
                )


@register
class ContainedDnsbl(Rule):
    """
    ## What it finds
    A DNS list whose entries are already part of another list that smtpd queries too, such
    as sbl.spamhaus.org, xbl.spamhaus.org, pbl.spamhaus.org or cbl.abuseat.org next to
    zen.spamhaus.org: with the same kind of lookup, asked of every client the contained one
    is asked for (as for RBL003), and with a result filter that lets the contained list's
    answers through (`zen.spamhaus.org=127.0.0.[2..3]` holds the SBL, not the XBL).  In
    `postscreen_dnsbl_sites` a part next to its whole is a deliberate extra weight and is
    not reported.

    ## Why it matters
    The combined zone already answers for these addresses, so the extra query adds nothing;
    Spamhaus asks users not to query zen together with its parts.

    ## Postfix source
    - Which zones another zone already contains, and with which answers: `rules/dnsbl.toml`
      (`contained_in`, `filter`, `sources`).
    - The query and its filter: `src/smtpd/smtpd_check.c`, `find_dnsxl_addr()` with
      `src/util/ip_match.c`, `ip_match_execute()`; postscreen weighs each site on its own:
      `src/postscreen/postscreen_dnsbl.c`, `psc_dnsbl_receive()`.

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
        redundant = redundancies(ctx)
        for asker in askers(ctx):
            for query in asker.queries:
                container = redundant.get(query.place, Redundant()).contained_in
                location = asker.where(query)
                if container is None or location is None:
                    continue
                if (zone_info(query.zone) or {}).get("status") in ("dead", "superseded"):
                    # RBL001 reports this query already, naming the list that holds its
                    # data, with the same removal: one finding per cause
                    continue
                self.report(
                    location,
                    f"{query.zone} is part of {container.zone}, which is queried too "
                    f"({_asker_line(container)})",
                    fix=asker.fix(query, f"remove {asker.what(query)}"),
                )


@register
class WrongDnsblKind(Rule):
    """
    ## What it finds
    A DNS list used with the wrong kind of lookup: a domain list (dbl.spamhaus.org,
    dsn.rfc-ignorant.org) or a URI list (multi.uribl.com, multi.surbl.org) with
    `reject_rbl_client` or in `postscreen_dnsbl_sites`, which look up the client's IP
    address, or an IP address list with a `reject_rhsbl_*` restriction, which looks up a
    domain name.

    ## Why it matters
    The query asks the list a question it does not answer, so it never matches (or, for
    lists whose error answers look like listings, matches wrongly).  URI lists hold
    domains seen in message bodies and belong in a content filter such as SpamAssassin or
    rspamd.

    ## Postfix source
    - Which kind of list each zone is (IP, domain, URI): `rules/dnsbl.toml` (`kind`).
    - `reject_rbl_client`, `permit_dnswl_client` and postscreen look up the reversed client
      address: `src/smtpd/smtpd_check.c`, `find_dnsxl_addr()`;
      `src/postscreen/postscreen_dnsbl.c`, `psc_dnsbl_request()`.
    - `reject_rhsbl_*` look up a domain name: `src/smtpd/smtpd_check.c`,
      `find_dnsxl_domain()` and `reject_rbl_domain()`.

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
        for asker in askers(ctx):
            for query in asker.queries:
                info = zone_info(query.zone)
                location = asker.where(query)
                if not info or location is None:
                    continue
                kind = info.get("kind")
                lookup = query.restriction.name if query.restriction is not None else "postscreen"
                if query.by_address and kind in ("domain", "uri"):
                    what = (
                        "a domain list"
                        if kind == "domain"
                        else "a list of domains found in message bodies"
                    )
                    self.report(
                        location,
                        f"{query.zone} is {what}, but {lookup} looks up the client's IP "
                        "address: it never matches",
                    )
                elif not query.by_address and kind == "ip":
                    self.report(
                        location,
                        f"{query.zone} lists IP addresses, but {lookup} looks up a domain "
                        "name: it never matches",
                    )


_PERMITS = ("permit_mynetworks", "permit_sasl_authenticated")


@register
class DnsblBeforePermit(Rule):
    """
    ## What it finds
    An IP address blocklist in a restriction list that has no `permit_mynetworks` or
    `permit_sasl_authenticated` before it, while the same smtpd uses that permit for your
    own users in one of its lists (a default list counts: from compatibility level 1,
    `smtpd_relay_restrictions` starts with both).  `permit_sasl_authenticated` counts only
    where the server offers AUTH, and `permit_mynetworks` only where `mynetworks` can hold
    public addresses: blocklists do not list private, loopback or link-local ones, and
    `mynetworks_style = host` trusts the machine alone.  A permit ends only the list it is
    in (one reached through a restriction class ends the list that uses the class), and a
    reject in any list is final, so a permit in `smtpd_recipient_restrictions` does not
    protect your users from a blocklist in `smtpd_client_restrictions`.

    ## Why it matters
    Your own users connect from home and mobile networks, whose dynamic addresses are on
    many blocklists (Spamhaus PBL, SpamCop).  Checked first, the blocklist rejects them
    before the permit that was meant for them is reached, and they cannot send mail.

    ## Postfix source
    - A `permit` ends only the list it is in, a reject in any list is final, and the client,
      helo and sender lists run before the relay and recipient lists at RCPT TO:
      `src/smtpd/smtpd_check.c`, `generic_checks()` and `smtpd_check_rcpt()`.
    - `permit_sasl_authenticated` matches only a client that logged in:
      `src/smtpd/smtpd_sasl_proto.c`, `permit_sasl_auth()`; `permit_mynetworks` tests
      `mynetworks`, by default from `mynetworks_style`: `src/global/mynetworks.c`,
      `mynetworks_core()`.
    - The default relay list (`permit_mynetworks, permit_sasl_authenticated,
      defer_unauth_destination` from compatibility level 1): `proto/postconf.proto`
      (smtpd_relay_restrictions).

    ## Example
    ```
    smtpd_sasl_auth_enable = yes
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
        for server in smtp_servers(ctx):
            if _trusts_every_ipv4_client(server):
                # mynetworks = 0.0.0.0/0: every client is "your own", so moving a permit
                # first would switch the blocklists off; RLY003 reports the open relay
                continue
            permits = _own_permits(server)
            for list_name in LISTS:
                flat = server.restrictions[list_name].flattened()
                for index, item in enumerate(flat):
                    if item.lowered not in ("reject_rbl_client", "reject_rbl"):
                        continue
                    # A permit ends only the list it is in (smtpd_check.c, generic_checks():
                    # SMTPD_CHECK_OK returns from that list alone); a reject in any list is
                    # final.  Only a permit earlier in the same list lets your users past it.
                    earlier = {r.lowered for r in flat[:index]}
                    missing = [p for p in _PERMITS if p in permits and p not in earlier]
                    location = at.listed(item, service=server.key)
                    if not missing or location is None:
                        continue
                    zone, _ = split_zone(item.argument or "")
                    same = [r for r in flat[index + 1 :] if r.lowered in missing]
                    if same:
                        message = (
                            f"{zone} is checked before {same[0].name} ({place(same[0])}) in "
                            f"{list_name}: your own users on listed addresses are rejected"
                        )
                    else:
                        where, permit = permits[missing[0]]
                        message = (
                            f"{zone} rejects in {list_name}, where no {permit.name} comes "
                            f"before it; the one in {where} ({place(permit)}) cannot undo a "
                            "reject from another list: your own users on listed addresses are "
                            "rejected"
                        )
                    self.report(location, message)


def _trusts_every_ipv4_client(server: SmtpServer) -> bool:
    """Whether mynetworks holds 0.0.0.0/0, so that permit_mynetworks lets every IPv4
    client through."""
    networks = trusted_networks(server.config) or ()
    return any(n.whole_internet and n.network is not None and n.network.version == 4
               for n in networks)  # fmt: skip


def _own_permits(server: SmtpServer) -> dict[str, tuple[str, Restriction]]:
    """The permits meant for your own users that an smtpd uses, each the first one in its
    lists (with the list): permit_mynetworks where mynetworks can hold public addresses
    (blocklists do not list private, loopback or link-local ones, and ``host`` style trusts
    the machine alone), permit_sasl_authenticated where the server offers AUTH (without,
    it never matches).  A permit written in main.cf or master.cf is preferred to one of a
    default list, which the message would have to call "the default"."""
    counts = {
        "permit_mynetworks": own_networks_public(server.config),
        "permit_sasl_authenticated": server.auth.state != "none",
    }
    found: dict[str, tuple[str, Restriction]] = {}
    for list_name in LISTS:
        for item in server.restrictions[list_name].flattened():
            if not counts.get(item.lowered):
                continue
            known = found.get(item.lowered)
            if known is None or (known[1].origin is None and item.origin is not None):
                found[item.lowered] = (list_name, item)
    return found


@register
class UnfilteredDnsbl(Rule):
    """
    ## What it finds
    A query to a DNS list whose refusal answers look like listings, without a result
    filter: Spamhaus answers 127.255.255.254 to queries through public resolvers, URIBL
    answers 127.0.0.1 to refused queries.  smtpd's queries and postscreen's sites alike
    (postscreen counts any answer too); not a query that RBL003 or RBL004 removes.

    ## Why it matters
    Without a filter, `reject_rbl_client zone` rejects on any answer, so the day the server
    uses a public or shared resolver every client is "listed" and mail is refused.  Postfix
    2.8 and later accept a filter such as `zen.spamhaus.org=127.0.0.[2..11]` that matches
    only real listings.

    ## Postfix source
    - Which zones answer refused queries with listing-like codes: `rules/dnsbl.toml`
      (`error_codes`, with `sources`).
    - Without a filter any A record counts as a listing: `src/smtpd/smtpd_check.c`,
      `rbl_pagein()` and `find_dnsxl_addr()`; `src/postscreen/postscreen_dnsbl.c`,
      `psc_dnsbl_receive()`.
    - The filter syntax `zone=d.d.d.d` and `[lo..hi]` (Postfix 2.8 and later):
      `src/util/ip_match.c`, `ip_match_parse()`; postconf(5), `proto/postconf.proto`
      (postscreen_dnsbl_sites).

    ## Example
    ```
    reject_rbl_client zen.spamhaus.org
    ```

    ## Use instead
    ```
    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]
    ```

    ## Fix
    Add the filter given in the message (a postscreen site keeps its weight).
    """

    code = "RBL007"
    name = "unfiltered-dnsbl"
    severity = "warning"
    summary = "DNS list queried without a result filter"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 8):
            return
        redundant = redundancies(ctx)
        for asker in askers(ctx):
            for query in asker.queries:
                info = zone_info(query.zone)
                location = asker.where(query)
                if (
                    not info
                    or query.filter
                    or not info.get("error_codes")
                    or info.get("status") != "live"
                    or location is None
                ):
                    continue
                if not _kind_fits(query, info):
                    continue  # RBL005 says what is wrong
                if redundant.get(query.place):
                    continue  # RBL003 or RBL004 removes it
                new = f"{query.zone}={info['filter']}" if info.get("filter") else None
                use = f"; use {new}" if new else "; add a =127.0.0.x filter for real listings"
                self.report(
                    location,
                    f"{query.zone} answers {', '.join(info['error_codes'])} when it refuses a "
                    f"query, and without a filter that counts as listed{use}",
                    fix=asker.fix(query, f"filter the answers of {query.zone}", replacement=new)
                    if new
                    else Fix.display_only(f"filter the answers of {query.zone}"),
                )


@register
class BadDnsblSite(Rule):
    """
    ## What it finds
    A `postscreen_dnsbl_sites` entry that postscreen cannot read, where a postscreen runs:
    a weight after `*` that is not a whole number (`zen.spamhaus.org*2.5`, or a filter
    written after the weight), a result filter after `=` that is not four fields of numbers
    0..255 or `[...]` lists and ranges (`=127.0.0.300`, `=127.0.0`), or a zone that is not
    a valid host name (a URL, a trailing dot, a label that ends in `-`).

    ## Why it matters
    postscreen checks each site when it starts and stops at the first bad one, so the
    port it serves (normally 25) answers no client; master restarts it and it stops again.

    ## Postfix source
    - `src/postscreen/postscreen_dnsbl.c`, `psc_dnsbl_init()` (the list split at commas and
      blanks) and `psc_dnsbl_add_site()`: the weight (split at the first `*`, read with
      sscanf("%d%c"), "bad DNSBL weight factor"), then the filter (split at the first `=`,
      "bad DNSBL filter syntax"), then the zone ("bad DNSBL domain name"), each fatal.
    - The filter syntax: `src/util/ip_match.c`, `ip_match_parse()`; the zone:
      `src/util/valid_hostname.c`, `valid_hostname()` (no empty label, so no final dot).

    ## Example
    ```
    postscreen_dnsbl_sites = zen.spamhaus.org*2.5, bl.spamcop.net.
    ```

    ## Use instead
    ```
    postscreen_dnsbl_sites = zen.spamhaus.org*3, bl.spamcop.net
    ```

    ## Fix
    Write each site as `zone[=filter][*weight]`, the weight a whole number (negative for an
    allowlist), the zone without a final dot.
    """

    code = "RBL008"
    name = "bad-dnsbl-site"
    severity = "error"
    summary = "postscreen_dnsbl_sites entry that stops postscreen"

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 8):
            return
        for asker in askers(ctx):
            if asker.server is not None:
                continue
            for query in asker.queries:
                problem = site_problem(query.word)
                location = asker.where(query)
                if problem is None or location is None:
                    continue
                self.report(
                    location,
                    f"postscreen stops at start-up on the site {query.word!r} "
                    f"({problem[1]}), and the port it serves answers no client",
                )
