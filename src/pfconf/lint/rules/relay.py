"""Rules about smtpd restriction lists: renamed and removed restriction names, and
restrictions that can never be reached after an unconditional permit or reject.

Names, replacements and versions come from rules/restrictions.toml.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from ...kb import parse_version
from ...model import Parameter
from ...values import split_list
from .. import location as at
from ..context import Context, ServiceConfig
from ..restrictions import Restriction, configurations, item_fix
from ..rule import Rule, register

_UNCONDITIONAL = {"permit", "reject", "defer"}


def _restrictions(ctx: Context) -> Iterator[Restriction]:
    """Every restriction of every smtpd service's lists (main.cf's once per service: the
    engine reports each place once)."""
    for _, lists in configurations(ctx):
        for restrictions in lists.values():
            yield from restrictions


@register
class RenamedRestriction(Rule):
    """
    ## What it finds
    A restriction under an old name (`reject_invalid_hostname`, `reject_unknown_client`,
    `reject_non_fqdn_hostname`, `check_recipient_maps`...), a deprecated one
    (`permit_mx_backup` since 3.9), or one the target Postfix removed (`check_relay_domains`,
    `reject_maps_rbl`, `permit_naked_ip_address`, removed in 3.9).

    ## Why it matters
    Old names still work but say something else than the documentation uses (the `helo`
    in `reject_invalid_helo_hostname` tells what is checked).  A removed restriction makes
    smtpd answer every client with "451 4.3.5 Server configuration error": no mail is
    received at all.

    ## Example
    ```
    smtpd_helo_restrictions = reject_invalid_hostname
    ```

    ## Use instead
    ```
    smtpd_helo_restrictions = reject_invalid_helo_hostname
    ```

    ## Fix
    Replace the name with the one the message gives (safe for renamed restrictions).
    """

    code = "RLY001"
    name = "renamed-restriction"
    severity = "warning"
    summary = "restriction with an old, deprecated or removed name"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        for restriction in _restrictions(ctx):
            info = ctx.kb.restriction(restriction.name)
            if not info:
                continue
            replacement = info.get("replacement")
            removed = info.get("removed_in")
            where = at.restriction(restriction)
            if removed and ctx.target[:2] >= parse_version(removed)[:2]:
                self.report(
                    where,
                    f"{restriction.name} was removed in Postfix {removed}: smtpd answers every "
                    f"client with a server configuration error; use {replacement}",
                    severity="error",
                )
            elif info.get("renamed"):
                self.report(
                    where,
                    f"{restriction.name} is the old name of {replacement} (renamed in Postfix "
                    f"{info['renamed']})",
                    fix=item_fix(
                        restriction,
                        f"rename {restriction.name} to {replacement}",
                        replacement=replacement,
                        item=restriction.name,
                    ),
                )
            elif info.get("deprecated") and ctx.target[:2] >= parse_version(info["deprecated"])[:2]:
                self.report(
                    where,
                    f"{restriction.name} is deprecated since Postfix {info['deprecated']}; "
                    f"use {replacement}",
                )


@register
class UnreachableRestriction(Rule):
    """
    ## What it finds
    Restrictions that follow an unconditional `permit`, `reject` or `defer` in the same
    list.

    ## Why it matters
    smtpd stops at the first restriction that decides; everything after an unconditional
    one is never evaluated (smtpd logs "restriction ... is ignored").  A check placed there,
    typically a blocklist appended after a final `permit`, does nothing.

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
        for _, lists in configurations(ctx):
            for restrictions in lists.values():
                stop = None
                for restriction in restrictions:
                    if stop is not None:
                        self.report(
                            at.restriction(restriction),
                            f"{restriction.name} comes after '{stop.name}' on line "
                            f"{stop.span.line} and is never evaluated",
                        )
                    elif restriction.lowered in _UNCONDITIONAL:
                        stop = restriction


# The restrictions smtpd's start-up check accepts as "working" relay protection
# (src/smtpd/smtpd_check.c@v3.11.0: at least one, before any permit, in one of the lists).
_WORKING = {
    "reject_unauth_destination",
    "defer_unauth_destination",
    "reject",
    "defer",
    "defer_if_permit",
    "check_relay_domains",
}
_DEFAULT_RELAY_LIST = "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"


def _working(restrictions: list[Restriction]) -> bool:
    """smtpd's start-up check: a working relay restriction before any permit."""
    skip = False
    for r in restrictions:
        if skip:
            skip = False
            continue
        if r.lowered == "warn_if_reject":
            skip = True  # the restriction it modifies only warns
            continue
        if r.lowered == "permit":
            return False
        if r.lowered in _WORKING:
            return True
    return False


def _open_network(item: str) -> bool:
    """0.0.0.0/0, ::/0 or a public range of /8 or wider."""
    import ipaddress

    text = item.strip().strip("[]").replace("]/", "/").lstrip("[")
    if text in ("0/0", "0.0.0.0/0", "::/0", "0::/0"):
        return True
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    if network.version == 4:
        return network.prefixlen <= 8 and not (network.is_private or network.is_loopback)
    return network.prefixlen <= 16 and not (
        network.is_private or network.is_loopback or network.is_link_local
    )


@register
class OpenRelay(Rule):
    """
    ## What it finds
    An smtpd service that lets an anonymous client outside `mynetworks` send mail to any
    domain: `smtpd_relay_restrictions` and then `smtpd_recipient_restrictions` are
    evaluated for such a client, and the restriction that lets it through is reported: a
    bare `permit` reached before any check of the destination, `permit_mynetworks` with a
    `mynetworks` that contains 0.0.0.0/0, ::/0 or a huge public range, or
    `permit_mx_backup` without `permit_mx_backup_networks`.  A service whose lists contain
    no working `reject_unauth_destination` (or `defer_unauth_destination`, `reject`,
    `defer`) before a `permit` is reported too: smtpd refuses to start with it.

    ## Why it matters
    An open relay is found by spammers within hours; the server's address then lands on
    every blocklist and its own users' mail is refused everywhere.

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
    Remove the permit that opens the relay, narrow `mynetworks`, and keep
    `reject_unauth_destination` before any `permit` that is not limited to your own users.
    Lookups (`check_client_access ...`) whose results pflint cannot know are reported as
    info, not guessed.
    """

    code = "RLY003"
    name = "open-relay"
    severity = "error"
    summary = "anonymous clients can relay mail to any domain"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for config, lists in configurations(ctx):
            label = f" on {config.key}" if config else ""
            relay, default = _relay_list(ctx, config, lists)
            recipient = lists["smtpd_recipient_restrictions"]
            if any(r.name.startswith("$") for r in relay + recipient):
                continue  # a list built from $name references: its content is not known here
            if not default and not _working(relay) and not _working(recipient):
                self._refuses_to_start(config, recipient or relay, label)
                continue
            relayers = _who_may_relay(ctx, config)
            if default:
                if not relayers.open_networks:
                    continue  # the default list lets only mynetworks and SASL clients relay
                mynetworks = ctx.origin(config, "mynetworks")
                if isinstance(mynetworks, Parameter):
                    self._open_mynetworks(config, mynetworks, relayers, label)
                    continue
                # mynetworks set by an -o: what the recipient list does is reported instead
            opened, notes = _what_opens_the_relay((relay, recipient), relayers, label)
            service = config.key if config else None
            if opened is not None:
                restriction, message = opened
                self.report(at.restriction(restriction, service=service), message)
            for restriction, message, severity in notes:
                self.report(
                    at.restriction(restriction, service=service), message, severity=severity
                )

    def _refuses_to_start(
        self, config: ServiceConfig | None, lists: list[Restriction], label: str
    ) -> None:
        """No working relay restriction before a permit: reported on the first list."""
        if not lists:
            return
        origin = lists[0].origin
        message = (
            f"no working reject_unauth_destination before a permit in "
            f"smtpd_relay_restrictions or smtpd_recipient_restrictions{label}: "
            "smtpd refuses to start (and would otherwise relay for anyone)"
        )
        if isinstance(origin, Parameter):
            self.report(at.name(origin, service=config.key if config else None), message)
        elif config is not None:
            self.report(at.override(config, origin), message)

    def _open_mynetworks(
        self, config: ServiceConfig | None, entry: Parameter, relayers: _Relayers, label: str
    ) -> None:
        """The default relay list starts with permit_mynetworks: point at the network in
        mynetworks that opens the relay, not at the whole list."""
        network = relayers.open_networks[0]
        message = (
            f"mynetworks contains {network}, and the default smtpd_relay_restrictions begins "
            f"with permit_mynetworks{label}: the whole Internet can relay"
        )
        service = config.key if config else None
        item = next((i for i in entry.items if i.text == network), None)
        if item is not None:
            self.report(at.item(entry, item, service=service), message)
        else:
            self.report(at.value(entry, service=service), message)


def _relay_list(
    ctx: Context, config: ServiceConfig | None, lists: dict[str, list[Restriction]]
) -> tuple[list[Restriction], bool]:
    """The smtpd_relay_restrictions a service runs, and whether they are Postfix's default,
    which is safe from compatibility level 1 on (_DEFAULT_RELAY_LIST): then the list is
    empty here, since nothing in it is to be reported."""
    origin = config.origin("smtpd_relay_restrictions") if config else None
    if origin is None and (ctx.main is None or ctx.main.get("smtpd_relay_restrictions") is None):
        level = ctx.main.get("compatibility_level") if ctx.main else None
        if level is not None and level.value not in ("", "0"):
            return [], True
    return lists["smtpd_relay_restrictions"], False


@attrs.frozen
class _Relayers:
    """Who smtpd lets relay without looking at the destination (besides clients that
    authenticate): mynetworks as the service has it, the networks in it that take in the
    whole Internet, and permit_mx_backup_networks."""

    mynetworks: str | None
    open_networks: tuple[str, ...]
    mx_backup_networks: str | None


def _who_may_relay(ctx: Context, config: ServiceConfig | None) -> _Relayers:
    mynetworks = ctx.value(config, "mynetworks")
    networks = (mynetworks or "").replace(",", " ").split()
    return _Relayers(
        mynetworks,
        tuple(n for n in networks if _open_network(n)),
        config.value("permit_mx_backup_networks") if config else None,
    )


#: A restriction that can let a client relay, and why; a note: a restriction, what to know
#: about it, and its severity when not the rule's.
_Opening = tuple[Restriction, str]
_Note = tuple[Restriction, str, str | None]


@attrs.frozen
class _ListEnd:
    """How one restriction list ends for an anonymous client outside mynetworks that sends
    to a remote domain: at a permit that lets it through, at a restriction that refuses it,
    or not at all (the next list decides); with the notes on the way."""

    permit: _Opening | None = None
    refuses: bool = False
    notes: tuple[_Note, ...] = ()


def _where_the_list_ends(
    restrictions: list[Restriction], relayers: _Relayers, label: str
) -> _ListEnd:
    notes: list[_Note] = []
    lookups: list[Restriction] = []
    for r in restrictions:
        name = r.lowered
        if name == "permit":
            message = (
                f"'permit' is reached before any check of the destination{label}: "
                "anyone can relay mail through this server"
            )
            return _ListEnd(permit=(r, message), notes=tuple(notes))
        if name == "permit_mynetworks" and relayers.open_networks:
            message = (
                f"permit_mynetworks with mynetworks = {relayers.mynetworks}{label}: "
                f"{relayers.open_networks[0]} lets the whole Internet relay"
            )
            return _ListEnd(permit=(r, message), notes=tuple(notes))
        if name == "permit_mx_backup" and not relayers.mx_backup_networks:
            message = (
                "permit_mx_backup without permit_mx_backup_networks relays for any domain "
                "that names this host as a backup MX"
            )
            notes.append((r, message, None))
        if (name.startswith("check_") and name.endswith("_access")) or (
            name == "check_policy_service"
        ):
            lookups.append(r)
        if name in _WORKING:
            for lookup in lookups:
                message = (
                    f"{lookup.name} {lookup.argument or ''} comes before {r.name}{label}: "
                    "whether it lets clients relay depends on its contents, which pflint "
                    "cannot see"
                )
                notes.append((lookup, message, "info"))
            return _ListEnd(refuses=True, notes=tuple(notes))
    return _ListEnd(notes=tuple(notes))


def _what_opens_the_relay(
    lists: tuple[list[Restriction], ...], relayers: _Relayers, label: str
) -> tuple[_Opening | None, list[_Note]]:
    """Evaluate the lists in order, as smtpd does: a permit ends only its own list, and the
    first list that refuses makes the service safe.  Returns the first permit that lets the
    client through when no list refuses it (else None), and the notes on the way."""
    opened: _Opening | None = None
    notes: list[_Note] = []
    for restrictions in lists:
        end = _where_the_list_ends(restrictions, relayers, label)
        notes += end.notes
        if end.refuses:
            return None, notes
        opened = opened or end.permit
    return opened, notes


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
    nothing later stops it.

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
        for config, lists in configurations(ctx):
            delay = ctx.value(config, "smtpd_delay_reject")
            delayed = (delay or "yes").strip().lower() != "no"
            for list_name, restrictions in lists.items():
                stage = _LIST_STAGE[list_name]
                for restriction in restrictions:
                    message = None
                    severity = None
                    info = ctx.kb.restriction(restriction.name) or {}
                    if restriction.lowered == "reject_unauth_pipelining":
                        if list_name in _EARLY_LISTS:
                            severity = "info"  # it still catches some clients there
                            message = (
                                f"reject_unauth_pipelining in {list_name} runs before the client "
                                "sends DATA and misses clients that send it too early; move it "
                                "to smtpd_data_restrictions"
                            )
                    elif not delayed and info.get("lists") and stage not in info["lists"]:
                        needs = str(info.get("stage"))
                        message = (
                            f"{restriction.name} in {list_name} does nothing with "
                            f"smtpd_delay_reject = no: the {_WHAT.get(needs, needs)} is not known "
                            f"yet when this list runs"
                        )
                    if message is None:
                        continue
                    self.report(
                        at.restriction(restriction, service=config.key if config else None),
                        message,
                        severity=severity,
                    )


@register
class UnknownRestriction(Rule):
    """
    ## What it finds
    A word in an smtpd restriction list that is no restriction Postfix knows (for the
    target version), no lookup table (`type:name`), and no name from
    `smtpd_restriction_classes`: usually a typo such as `reject_unauth_destinaton` or
    `permit_sasl_authentificated`.

    ## Why it matters
    When smtpd reaches an unknown restriction it logs "unknown smtpd restriction" and
    answers the client "451 4.3.5 Server configuration error": every message that gets
    that far is deferred, and nothing is delivered until the name is fixed.

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
        classes: set[str] = set()
        for config in ctx.smtpd_configs:
            value = ctx.value(config, "smtpd_restriction_classes")
            classes |= {t.text for t in split_list(value or "")}
        for restriction in _restrictions(ctx):
            name = restriction.name
            if ":" in name or "$" in name or "{" in name or name in classes:
                continue
            info = ctx.kb.restriction(name)
            if info is not None:
                introduced = info.get("introduced")
                if introduced and ctx.target[:2] < parse_version(introduced)[:2]:
                    self.report(
                        at.restriction(restriction),
                        f"{name} is not available before Postfix {introduced}: smtpd answers "
                        "451 Server configuration error",
                    )
                continue
            close = ctx.kb.close_restriction(name)
            hint = f"; did you mean {close}?" if close else ""
            self.report(
                at.restriction(restriction),
                f"unknown restriction '{name}' in {restriction.list_name}: smtpd answers "
                f"451 Server configuration error{hint}",
                fix=item_fix(
                    restriction, f"rename {name} to {close}", replacement=close,
                    item=name, safe=False,
                ) if close else None,
            )  # fmt: skip
