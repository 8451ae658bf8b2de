"""Rules about smtpd restriction lists: renamed and removed restriction names, restrictions
that are never reached, open relays, restrictions in the wrong list, and unknown names.

The lists are read by the model (pfconf.semantics: each smtpd's ``restrictions``, classes
followed with ``flattened()``; who may relay in pfconf.semantics.relay).  Names,
replacements and versions come from rules/restrictions.toml.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...kb import parse_version
from ...model import Override, Parameter
from ...semantics import LISTS, Restriction, RestrictionList, SmtpServer, yes
from ...semantics.relay import (
    RECIPIENT_LIST,
    RELAY_LIST,
    REQUIRED,
    Opening,
    class_definitions,
    reachable_by_strangers,
    startup_check,
    stranger_relay,
)
from .. import location as at
from ..context import Context
from ..location import Location
from ..restrictions import item_fix
from ..rule import Rule, register

_UNCONDITIONAL = {"permit", "reject", "defer"}


def smtp_servers(ctx: Context) -> tuple[SmtpServer, ...]:
    """The smtpd processes whose lists matter: each smtpd service of master.cf (main.cf
    alone when master.cf is not known); none when a known master.cf runs no smtpd."""
    servers = ctx.postfix.smtp_servers
    known_master = ctx.master is not None and not ctx.master_is_stock
    if known_master and all(s.daemon is None for s in servers):
        return ()
    return servers


def every_list(server: SmtpServer) -> Iterator[RestrictionList]:
    """smtpd's lists (LISTS) and the restriction classes it defines."""
    yield from (server.restrictions[name] for name in LISTS)
    yield from class_definitions(server).values()


def _restrictions(ctx: Context) -> Iterator[tuple[SmtpServer, Restriction]]:
    """Every restriction written in a list or class of every smtpd (main.cf's once per
    server: the engine reports each place once)."""
    for server in smtp_servers(ctx):
        for listed in every_list(server):
            for restriction in listed.items:
                yield server, restriction


def where(restriction: Restriction, server: SmtpServer) -> Location | None:
    """Where a restriction is written; for one of a default list, the server's service
    line (None for main.cf alone)."""
    return at.listed(restriction, service=server.key) or at.server(server)


def place(restriction: Restriction) -> str:
    """Where a restriction is, for a message: ``line N`` (of master.cf for an ``-o``), or
    ``the default`` for one nothing writes."""
    span = restriction.written.span
    if span is not None:
        where = " of master.cf" if isinstance(restriction.origin, Override) else ""
        return f"line {span.line}{where}"
    if restriction.written.origin is not None:
        return f"the value of {restriction.written.origin.name}"
    return "the default"


def _label(server: SmtpServer) -> str:
    return f" on {server.key}" if server.key else ""


@register
class RenamedRestriction(Rule):
    """
    ## What it finds
    A restriction under an old name (`reject_invalid_hostname`, `reject_unknown_client`,
    `reject_non_fqdn_hostname`, `check_recipient_maps`...), a deprecated one
    (`permit_mx_backup` since 3.9), or one the target Postfix removed (`check_relay_domains`,
    `reject_maps_rbl`, `permit_naked_ip_address`, removed in 3.9), in any of smtpd's lists
    or restriction classes.

    ## Why it matters
    Old names still work, with no warning from Postfix (info), but say something else than
    the documentation uses (the `helo` in `reject_invalid_helo_hostname` tells what is
    checked).  A deprecated one makes smtpd log a warning.  A removed restriction makes
    smtpd answer every client with "451 4.3.5 Server configuration error": no mail is
    received at all.

    ## Postfix source
    - The old names still work, compared next to the new ones (`reject_invalid_hostname` with
      `reject_invalid_helo_hostname`, `reject_unknown_client` with
      `reject_unknown_client_hostname`, ...): `src/smtpd/smtpd_check.c`, `generic_checks()`;
      the renames ("with Postfix < 2.3: reject_invalid_hostname", ...): postconf(5), in
      `proto/postconf.proto`.
    - `permit_mx_backup` logs "support for restriction ... will be removed" (Postfix 3.9 and
      later): `src/smtpd/smtpd_check.c`, `permit_mx_backup()`; RELEASE_NOTES-3.9.
    - `check_relay_domains`, `reject_maps_rbl` and `permit_naked_ip_address` log "support
      for restriction ... has been removed in Postfix 3.9" and answer 451 4.3.5:
      `src/smtpd/smtpd_check.c`, `check_relay_domains()`, `reject_maps_rbl()` and
      `generic_checks()`, each calling `reject_server_error()`; RELEASE_NOTES-3.9
      ("[Incompat 20240218]").

    ## Example
    ```
    smtpd_helo_restrictions = reject_invalid_hostname
    ```

    ## Use instead
    ```
    smtpd_helo_restrictions = reject_invalid_helo_hostname
    ```

    ## Fix
    Replace the name with the one the message gives (safe for renamed restrictions, where
    the name is written in main.cf; described only for a master.cf `-o`).
    """

    code = "RLY001"
    name = "renamed-restriction"
    severity = "warning"
    summary = "restriction with an old, deprecated or removed name"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        for server, restriction in _restrictions(ctx):
            info = ctx.kb.restriction(restriction.name)
            if not info:
                continue
            replacement = info.get("replacement")
            removed = info.get("removed_in")
            location = where(restriction, server)
            if location is None:
                continue
            if removed and ctx.target[:2] >= parse_version(removed)[:2]:
                self.report(
                    location,
                    f"{restriction.name} was removed in Postfix {removed}: smtpd answers every "
                    f"client with a server configuration error; use {replacement}",
                    severity="error",
                )
            elif info.get("renamed"):
                # the old name still works and Postfix logs nothing: advice, not a risk
                self.report(
                    location,
                    f"{restriction.name} is the old name of {replacement} (renamed in Postfix "
                    f"{info['renamed']}; the old name still works)",
                    severity="info",
                    fix=item_fix(
                        restriction,
                        f"rename {restriction.name} to {replacement}",
                        replacement=replacement,
                        name_only=True,
                    ),
                )
            elif info.get("deprecated") and ctx.target[:2] >= parse_version(info["deprecated"])[:2]:
                self.report(
                    location,
                    f"{restriction.name} is deprecated since Postfix {info['deprecated']}; "
                    f"use {replacement}",
                )


@register
class UnreachableRestriction(Rule):
    """
    ## What it finds
    Restrictions that follow an unconditional `permit`, `reject` or `defer` in the same
    list, restriction classes followed where they are used (a class's answer is the answer
    of the list that uses it).  A `reject` or `defer` after `warn_if_reject` only logs a
    warning and does not end the list.

    ## Why it matters
    smtpd stops at the first restriction that decides; everything after an unconditional
    one is never evaluated (smtpd logs "restriction ... is ignored").  A check placed there,
    typically a blocklist appended after a final `permit`, does nothing.

    ## Postfix source
    - `permit` ends the list when it permits, `reject` and `defer` always (unless after
      `warn_if_reject`, which turns the reject into a logged warning), and smtpd logs
      "restriction ... after ... is ignored": `src/smtpd/smtpd_check.c`, `generic_checks()`,
      with `smtpd_check_reject()` for `warn_if_reject`.
    - A restriction class is evaluated in place and its answer is the answer of the item
      that names it: `src/smtpd/smtpd_check.c`, `generic_checks()`.

    ## Example
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
        permit, reject_rbl_client zen.spamhaus.org
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
        reject_rbl_client zen.spamhaus.org, permit
    ```

    ## Fix
    Move the restrictions before the unconditional one, or delete them.
    """

    code = "RLY002"
    name = "unreachable-restriction"
    severity = "warning"
    summary = "restriction after an unconditional permit or reject is never used"

    def check(self, ctx: Context) -> None:
        for server in smtp_servers(ctx):
            for listed in every_list(server):
                stop: Restriction | None = None
                warn_only = False
                for restriction in listed.flattened():
                    if stop is not None:
                        location = where(restriction, server)
                        if location is not None:
                            self.report(
                                location,
                                f"{restriction.name} comes after '{stop.name}' on {place(stop)}"
                                f"{_through(stop)} and is never evaluated",
                            )
                    elif restriction.lowered == "permit" or (
                        restriction.lowered in _UNCONDITIONAL and not warn_only
                    ):
                        stop = restriction
                    # warn_if_reject turns the next restriction's reject into a warning
                    warn_only = restriction.lowered == "warn_if_reject"


def _through(restriction: Restriction) -> str:
    """The `` (class NAME)`` a message adds for a restriction reached through a class."""
    return f" (class {restriction.classes[-1]})" if restriction.classes else ""


@register
class OpenRelay(Rule):
    """
    ## What it finds
    Two faults of an smtpd's relay protection, each at the place that causes it:
    - **smtpd refuses to start**: neither `smtpd_relay_restrictions` nor
      `smtpd_recipient_restrictions` holds a working `reject_unauth_destination` (or
      `defer_unauth_destination`, `reject`, `defer`, `defer_if_permit`,
      `check_relay_domains`) before a `permit`, as smtpd looks for one when it starts
      (restriction classes are searched, and a `permit` inside a class ends only the
      class's search).  smtpd then stops with "specify at least one working instance of"
      each time master starts it, and no mail is received.  Reported at the list whose
      search a `permit` ends, else at the list that is written; when neither is written
      (below compatibility level 1 both default to empty), at `compatibility_level` or
      the smtpd service.
    - **relays for anyone**: smtpd starts, but evaluating its lists for a client outside
      your networks that is not authenticated and sends to a domain that is not yours,
      neither the relay list nor the recipient list refuses it (nor does the client, helo
      or sender list): a permit that matches any client comes before the check of the
      list that has one, and the other list has none.  That is a `permit`, a class whose
      list permits, `permit_naked_ip_address` (before Postfix 3.9), or
      `permit_mynetworks` with a `mynetworks` that holds 0.0.0.0/0, ::/0 or a public /8
      (or IPv6 /16) or wider.  Reported at that `permit`, or at the network in
      `mynetworks` (in main.cf or a master.cf `-o`).  A service that listens on a loopback
      address only, or `inet_interfaces` with loopback addresses only, is not judged.

    Access-table or policy lookups (`check_client_access ...`) met before the check are
    reported as info: their contents, which pflint cannot see, decide whether they let a
    client relay.  `permit_mx_backup` without `permit_mx_backup_networks` is a warning: it
    relays for any domain whose MX records name this host.

    ## Why it matters
    An smtpd that refuses to start receives no mail.  An open relay is found by spammers
    within hours; the server's address then lands on every blocklist and its own users'
    mail is refused everywhere.

    ## Postfix source
    - At start-up smtpd searches `smtpd_relay_restrictions` and `smtpd_recipient_restrictions`
      (and the classes they name) for `reject_unauth_destination`, `defer_unauth_destination`,
      `reject`, `defer`, `defer_if_permit` or `check_relay_domains`; a `permit` ends the
      search of its list, a `warn_if_reject` skips the next word, and with none found it
      stops ("specify at least one working instance of"): `src/smtpd/smtpd_check.c`,
      `smtpd_check_init()`, `has_required()` and `fail_required()` (the relay list from
      Postfix 2.10).
    - Below compatibility level 1 both lists default to empty: `proto/postconf.proto`
      (smtpd_relay_restrictions), COMPATIBILITY_README.
    - At RCPT TO smtpd evaluates both lists (the relay list first from Postfix 3.6,
      `smtpd_relay_before_recipient_restrictions`); a `permit` ends only the list it is in,
      and a reject in either list is final: `src/smtpd/smtpd_check.c`, `smtpd_check_rcpt()`
      and `generic_checks()`; `proto/postconf.proto`
      (smtpd_relay_before_recipient_restrictions).
    - `mynetworks` as Postfix computes it (from `mynetworks_style` when unset):
      `src/global/mynetworks.c`, `mynetworks_core()`.
    - `permit_mx_backup` without `permit_mx_backup_networks` relays for any domain whose MX
      records name this host: `src/smtpd/smtpd_check.c`, `permit_mx_backup()`.

    ## Example
    ```
    mynetworks = 0.0.0.0/0
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
    ```

    ## Use instead
    ```
    mynetworks = 127.0.0.0/8, [::1]/128
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
    ```

    ## Fix
    Put `reject_unauth_destination` after the permits meant for your own users (and before
    any bare `permit`), remove the permit that opens the relay, or narrow `mynetworks`.
    """

    code = "RLY003"
    name = "open-relay"
    severity = "error"
    summary = "smtpd refuses to start without relay protection, or relays for anyone"
    needs_main = True
    # services that share main.cf's lists: the first one's words stand for all
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for server in smtp_servers(ctx):
            if not startup_check(server).starts:
                self._refuses_to_start(server)
                continue
            if not reachable_by_strangers(server):
                continue
            self._relays_for_anyone(server)

    def _refuses_to_start(self, server: SmtpServer) -> None:
        """At the list whose search a permit ends, else the written one (the relay list
        first); when both are defaults, at compatibility_level or the service line."""
        check = startup_check(server)
        lists = [server.restrictions[RELAY_LIST], server.restrictions[RECIPIENT_LIST]]
        chosen = next((x for x in lists if x.name in check.stopped_at), None)
        chosen = chosen or next((x for x in lists if not x.is_default and x.items), None)
        chosen = chosen or next((x for x in lists if not x.is_default), None)
        location = at.setting(server.config, chosen.name) if chosen is not None else None
        if chosen is not None and isinstance(chosen.origin, Parameter):
            location = at.name(chosen.origin, service=server.key)
        if location is None:
            # nothing written: the defaults of compatibility_level below 1 leave both lists
            # empty; point at compatibility_level when it is written, else the service line
            level = server.config.origin("compatibility_level")
            location = at.setting(server.config, "compatibility_level") if level else None
            if isinstance(level, Parameter):
                location = at.name(level, service=server.key)
        location = location or at.server(server)
        if location is None:
            return
        message = (
            f"smtpd refuses to start{_label(server)}: no working reject_unauth_destination "
            f"(nor {', '.join(REQUIRED[1:])}) in smtpd_relay_restrictions or "
            "smtpd_recipient_restrictions"
        )
        stops = [
            f"'{r.name}' on {place(r)}{_through(r)} ends the search of {name}"
            for name, r in check.stopped_at.items()
        ]
        if stops:
            message += " (" + "; ".join(stops) + ")"
        self.report(location, message)

    def _relays_for_anyone(self, server: SmtpServer) -> None:
        verdict = stranger_relay(server)
        label = _label(server)
        for restriction in verdict.mx_backup:
            location = where(restriction, server)
            if location is not None:
                self.report(
                    location,
                    "permit_mx_backup without permit_mx_backup_networks relays for any domain "
                    f"whose MX records name this host{label}",
                    severity="warning",
                )
        if verdict.refused_by is not None:
            for lookup, check in verdict.lookups:
                location = where(lookup, server)
                if location is not None:
                    self.report(
                        location,
                        f"{lookup.text} comes before {check.name}{label}: "
                        "whether it lets clients relay depends on its contents, which pflint "
                        "cannot see",
                        severity="info",
                    )
            return
        for opening in verdict.openings:
            self._opening(server, opening)

    def _opening(self, server: SmtpServer, opening: Opening) -> None:
        permit, label = opening.restriction, _label(server)
        default = " (default)" if server.restrictions[opening.list_name].is_default else ""
        skips = f" before {opening.skips.name}" if opening.skips is not None else ""
        network = opening.network
        if network is not None:
            location = at.written(network.written, service=server.key)
            whom, who = "every client", "anyone"
            if not network.whole_internet and network.network is not None:
                whom = f"{network.network.num_addresses:,} addresses of the Internet"
                who = "any client in that range"
            message = (
                f"mynetworks holds {network.text}{label}, which trusts {whom}: permit_mynetworks "
                f"in {opening.list_name}{default}{_through(permit)}{skips} lets {who} relay mail "
                "through this server"
            )
        else:
            location = where(permit, server)
            what = (
                "any client that greets with a bare IP address"
                if permit.lowered == "permit_naked_ip_address"
                else "anyone"
            )
            ends = (
                f"comes before {opening.skips.name}"
                if opening.skips is not None
                else "lets every client through"
            )
            message = (
                f"'{permit.name}' in {opening.list_name}{default}{_through(permit)} {ends}"
                f"{label}, and the other list does not refuse: {what} can relay mail through "
                "this server"
            )
        if location is not None:
            self.report(location, message)


#: The stage each list runs at when smtpd_delay_reject = no (smtpd_check.c).
_LIST_STAGE = {
    "smtpd_client_restrictions": "client",
    "smtpd_helo_restrictions": "helo",
    "smtpd_sender_restrictions": "sender",
    "smtpd_relay_restrictions": "relay",
    "smtpd_recipient_restrictions": "recipient",
    "smtpd_data_restrictions": "data",
    "smtpd_end_of_data_restrictions": "end_of_data",
}
_EARLY_LISTS = {
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
}
_WHAT = {"helo": "HELO name", "sender": "sender address", "recipient": "recipient address"}


@register
class MisplacedRestriction(Rule):
    """
    ## What it finds
    A restriction in a list where it does nothing or does less than its reader thinks:
    - with `smtpd_delay_reject = no`, a restriction that needs information the client has
      not sent yet when the list runs: a HELO check in `smtpd_client_restrictions`, a
      sender check before MAIL FROM, a recipient check (`reject_unauth_destination`,
      `check_recipient_access`...) before RCPT TO.  smtpd skips such a restriction
      silently;
    - `reject_unauth_pipelining` outside `smtpd_data_restrictions`, where it runs before
      the client has sent DATA and so misses clients that send DATA too early (info: it
      still catches clients that pipelined earlier commands).

    ## Why it matters
    The restriction looks like protection but never fires: with `smtpd_delay_reject = no`
    a `reject_unauth_destination` in `smtpd_client_restrictions` relays for anyone if
    nothing later stops it.  A restriction reached through a restriction class is judged
    in the list that uses the class.

    ## Postfix source
    - With `smtpd_delay_reject = no` each list runs at its own command, and a restriction
      whose information has not arrived is skipped without a word (for example
      `reject_unauth_destination` only acts `if (state->recipient)`):
      `src/smtpd/smtpd_check.c`, `generic_checks()`; `smtpd_check_rcpt()` evaluates the
      earlier lists at RCPT TO only with `smtpd_delay_reject = yes`; `proto/postconf.proto`
      (smtpd_delay_reject).
    - `reject_unauth_pipelining` tests a flag set when smtpd saw commands sent too early, so
      it cannot see a DATA that has not been sent yet: `src/smtpd/smtpd_check.c`,
      `reject_unauth_pipelining()`; `proto/postconf.proto` (smtpd_recipient_restrictions,
      its `reject_unauth_pipelining` entry).

    ## Example
    ```
    smtpd_delay_reject = no
    smtpd_client_restrictions = permit_mynetworks, reject_unauth_destination
    ```

    ## Use instead
    ```
    smtpd_delay_reject = no
    smtpd_client_restrictions = permit_mynetworks
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
    ```

    ## Fix
    Move the restriction to the list of its stage (or leave `smtpd_delay_reject` at its
    default, `yes`, which runs every list at RCPT TO or later).
    """

    code = "RLY004"
    name = "misplaced-restriction"
    severity = "warning"
    summary = "restriction in a list where it does nothing"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server in smtp_servers(ctx):
            delayed = yes(server.config.value("smtpd_delay_reject"))
            for list_name in LISTS:
                stage = _LIST_STAGE[list_name]
                for restriction in server.restrictions[list_name].flattened():
                    message = None
                    severity = None
                    info = ctx.kb.restriction(restriction.name) or {}
                    used = f"{list_name}{_through(restriction)}"
                    if restriction.lowered == "reject_unauth_pipelining":
                        if list_name in _EARLY_LISTS:
                            severity = "info"  # it still catches some clients there
                            message = (
                                f"reject_unauth_pipelining in {used} runs before the client "
                                "sends DATA and misses clients that send it too early; move it "
                                "to smtpd_data_restrictions"
                            )
                    elif not delayed and info.get("lists") and stage not in info["lists"]:
                        needs = str(info.get("stage"))
                        message = (
                            f"{restriction.name} in {used} does nothing with "
                            f"smtpd_delay_reject = no: the {_WHAT.get(needs, needs)} is not known "
                            f"yet when this list runs"
                        )
                    location = where(restriction, server) if message else None
                    if message is None or location is None:
                        continue
                    self.report(location, message, severity=severity)


@register
class UnknownRestriction(Rule):
    """
    ## What it finds
    A word in an smtpd restriction list or restriction class that is no restriction
    Postfix knows (for the target version), no lookup table (`type:name`), and no name
    from `smtpd_restriction_classes` (looked up case-sensitively, as smtpd does): usually a
    typo such as `reject_unauth_destinaton` or `permit_sasl_authentificated`.

    ## Why it matters
    When smtpd reaches an unknown restriction it logs "unknown smtpd restriction" and
    answers the client "451 4.3.5 Server configuration error": every message that gets
    that far is deferred, and nothing is delivered until the name is fixed.

    ## Postfix source
    - An unknown name makes smtpd log "unknown smtpd restriction" and answer "451 4.3.5
      Server configuration error": `src/smtpd/smtpd_check.c`, `generic_checks()` and
      `reject_server_error()`.
    - Restriction classes are looked up by exact name: `src/smtpd/smtpd_check.c`,
      `generic_checks()` (`htable_find()` on `smtpd_rest_classes`).

    ## Example
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destinaton
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
    ```

    ## Fix
    Correct the spelling (the message suggests the closest known name), or define the
    name in `smtpd_restriction_classes`.
    """

    code = "RLY005"
    name = "unknown-restriction"
    severity = "error"
    summary = "restriction name Postfix does not know: the server answers 451 to everyone"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server, restriction in _restrictions(ctx):
            name = restriction.name
            if ":" in name or "$" in name or "{" in name or name in server.restriction_classes:
                continue
            location = where(restriction, server)
            if location is None:
                continue
            info = ctx.kb.restriction(name)
            if info is not None:
                introduced = info.get("introduced")
                if introduced and ctx.target[:2] < parse_version(introduced)[:2]:
                    self.report(
                        location,
                        f"{name} is not available before Postfix {introduced}: smtpd answers "
                        "451 Server configuration error",
                    )
                continue
            close = ctx.kb.close_restriction(name)
            hint = f"; did you mean {close}?" if close else ""
            self.report(
                location,
                f"unknown restriction '{name}' in {restriction.list_name}: smtpd answers "
                f"451 Server configuration error{hint}",
                fix=item_fix(
                    restriction, f"rename {name} to {close}", replacement=close,
                    name_only=True, safe=False,
                ) if close else None,
            )  # fmt: skip
