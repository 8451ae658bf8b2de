"""Rules about smtpd restriction lists: renamed and removed restriction names, and
restrictions that can never be reached after an unconditional permit or reject.

Names, replacements and versions come from rules/restrictions.toml.
"""

from __future__ import annotations

from typing import Iterator

from ...kb import parse_version
from ..context import Context
from ..finding import Finding, Fix
from ..restrictions import configurations
from ..rule import Rule, register

_UNCONDITIONAL = {"permit", "reject", "defer"}


def _unique(ctx: Context):  # type: ignore[no-untyped-def]
    """Each restriction once per place in the files, with its list."""
    seen = set()
    for config, lists in configurations(ctx):
        for restrictions in lists.values():
            for restriction in restrictions:
                key = (restriction.path, restriction.span)
                if key not in seen:
                    seen.add(key)
                    yield config, restriction


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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for _, restriction in _unique(ctx):
            info = ctx.kb.restriction(restriction.name)
            if not info:
                continue
            replacement = info.get("replacement")
            removed = info.get("removed_in")
            span = restriction.span
            if removed and ctx.target[:2] >= parse_version(removed)[:2]:
                yield ctx.at_span(
                    type(self),
                    restriction.path,
                    span,
                    f"{restriction.name} was removed in Postfix {removed}: smtpd answers every "
                    f"client with a server configuration error; use {replacement}",
                    parameter=restriction.list_name,
                    severity="error",
                )
            elif info.get("renamed"):
                yield ctx.at_span(
                    type(self),
                    restriction.path,
                    span,
                    f"{restriction.name} is the old name of {replacement} (renamed in Postfix "
                    f"{info['renamed']})",
                    parameter=restriction.list_name,
                    fix=Fix(f"rename {restriction.name} to {replacement}", value=replacement),
                )
            elif info.get("deprecated") and ctx.target[:2] >= parse_version(info["deprecated"])[:2]:
                yield ctx.at_span(
                    type(self),
                    restriction.path,
                    span,
                    f"{restriction.name} is deprecated since Postfix {info['deprecated']}; "
                    f"use {replacement}",
                    parameter=restriction.list_name,
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

    def check(self, ctx: Context) -> Iterator[Finding]:
        seen = set()
        for _, lists in configurations(ctx):
            for restrictions in lists.values():
                stop = None
                for restriction in restrictions:
                    if stop is not None:
                        key = (restriction.path, restriction.span)
                        if key in seen:
                            continue
                        seen.add(key)
                        yield ctx.at_span(
                            type(self),
                            restriction.path,
                            restriction.span,
                            f"{restriction.name} comes after '{stop.name}' on line "
                            f"{stop.span.line} and is never evaluated",
                            parameter=restriction.list_name,
                        )
                    elif restriction.lowered in _UNCONDITIONAL:
                        stop = restriction
