"""Rules about main.cf parameter names: names Postfix does not know, restrictions written as
parameters, duplicates, deprecated, removed, too new and read-only parameters.

Every fact (which names exist in which version, what replaced what) comes from the
knowledge base in rules/.
"""

from __future__ import annotations

import re

from ....kb import parse_version, version_text
from ....model import Parameter
from ... import location as at
from ...context import Context
from ...finding import Fix, RemoveDefinition, RenameParameter, UnsetParameter
from ...names import NameSpace
from ...rule import Rule, register


def did_you_mean(match: str | None) -> str:
    return f"; did you mean {match}?" if match else ""


@register
class UnknownParameter(Rule):
    """
    ## What it finds
    A main.cf parameter name that the target Postfix version does not know, and that no
    other setting makes meaningful (a master.cf service, a lookup table's settings, a
    restriction class, a `$name` reference elsewhere).  A close known name is suggested.

    ## Why it matters
    Postfix ignores names it does not know; postconf only says "unused parameter" without
    a line number.  A misspelt name (`smtpd_tls_securty_level`) leaves the real parameter
    at its default, silently.

    ## Example
    ```
    smtpd_tls_securty_level = may
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```

    ## Fix
    Correct the name, or delete the line.  Not applied automatically: the intended name is
    a guess.
    """

    code = "PAR001"
    name = "unknown-parameter"
    severity = "warning"
    summary = "parameter name Postfix does not know"

    def check(self, ctx: Context) -> None:
        if not ctx.kb.parameters or ctx.main is None:
            return
        names = NameSpace(ctx)
        seen = set()  # a name is reported at its first definition only (PAR003: the others)
        for entry in ctx.entries():
            name = entry.name
            if name in seen or names.accepted(name) or ctx.kb.parameter(name) is not None:
                continue  # names the knowledge base knows in other versions: PAR006, PAR007
            if ctx.kb.restriction(name) is not None:
                continue  # PAR002 says it better
            seen.add(name)
            if name.startswith("\ufeff"):
                self.report(
                    at.name(entry),
                    f"the file starts with a byte-order mark, which Postfix reads as part of the "
                    f"name {name[1:]}: this line is ignored; save the file without the mark",
                )
                continue
            hint = did_you_mean(ctx.kb.close_parameter(name))
            self.report(at.name(entry), f"unknown parameter {name}{hint}")


@register
class RestrictionAsParameter(Rule):
    """
    ## What it finds
    A restriction name used as a parameter, such as `reject_unknown_recipient_domain = yes`.

    ## Why it matters
    Restrictions are items of a restriction list (`smtpd_recipient_restrictions = ...`); as
    a parameter the line does nothing at all, and the check it names is never made.

    ## Example
    ```
    reject_unknown_recipient_domain = yes
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions =
        permit_mynetworks,
        reject_unauth_destination,
        reject_unknown_recipient_domain
    ```

    ## Fix
    Delete the line and add the restriction to the restriction list where it belongs.
    """

    code = "PAR002"
    name = "restriction-as-parameter"
    severity = "error"
    summary = "restriction name used as a parameter does nothing"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            name = entry.name
            if ctx.kb.parameter(name) is None and ctx.kb.restriction(name) is not None:
                self.report(
                    at.name(entry),
                    f"{name} is a restriction, not a parameter: this line does nothing; "
                    f"add {name} to a restriction list such as smtpd_recipient_restrictions",
                )


@register
class DuplicateParameter(Rule):
    """
    ## What it finds
    A parameter defined more than once in main.cf.  An earlier definition with a different
    value is dead (the last one wins); a repeated identical value is redundant.

    ## Why it matters
    Editing the first definition changes nothing, which is how settings copied from two
    tutorials end up "not working".  Postfix only logs "overriding earlier entry".

    ## Example
    ```
    smtpd_tls_security_level = encrypt
    ...
    smtpd_tls_security_level = may
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```

    ## Fix
    Delete the definitions that do not take effect.  Safe when the values are identical.
    """

    code = "PAR003"
    name = "duplicate-parameter"
    severity = "warning"
    summary = "parameter defined more than once"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        by_name: dict[str, list[Parameter]] = {}
        for entry in ctx.main.entries:
            by_name.setdefault(entry.name, []).append(entry)
        for name, entries in by_name.items():
            last = entries[-1]
            for earlier in entries[:-1]:
                if earlier.value == last.value:
                    self.report(
                        at.name(earlier),
                        f"{name} is set again to the same value on line {last.line}: "
                        "this definition is redundant",
                        severity="info",
                        fix=Fix.safe(
                            f"delete this definition of {name}",
                            RemoveDefinition(name, earlier.line),
                        ),
                    )
                else:
                    self.report(
                        at.name(earlier),
                        f"{name} is overridden on line {last.line}: "
                        f'this value ("{earlier.value[:40]}") never takes effect',
                        fix=Fix.unsafe(
                            f"delete this definition of {name}",
                            RemoveDefinition(name, earlier.line),
                        ),
                    )


@register
class DeprecatedParameter(Rule):
    """
    ## What it finds
    A parameter that the target Postfix version still reads but that is deprecated,
    obsolete or renamed, with its replacement: `smtpd_use_tls`, `smtpd_enforce_tls`,
    `smtp_use_tls`, `smtpd_sasl_application_name`, `disable_dns_lookups` and the rest of the
    knowledge base's list.

    ## Why it matters
    Deprecated names stop working in a later release, and several interact badly with their
    replacements (a set `smtpd_tls_security_level` silently wins over `smtpd_use_tls`).
    Postfix 3.9 and later warn about them at every start.

    ## Example
    ```
    smtpd_use_tls = yes
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```

    ## Fix
    Replace the parameter with its successor.  Applied by `pflint --fix` where the
    knowledge base gives a one-to-one replacement.
    """

    code = "PAR005"
    name = "deprecated-parameter"
    severity = "warning"
    summary = "deprecated or renamed parameter"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info is None or not ctx.kb.known(entry.name):
                continue
            since = info.get("deprecated")
            if since is None or ctx.target[:2] < parse_version(since)[:2]:
                continue
            replacement = info.get("replacement")
            instead = f"; use {replacement} instead" if replacement else ""
            self.report(
                at.name(entry),
                f"{entry.name} is deprecated since Postfix {since}{instead}",
                fix=_deprecated_fix(ctx, entry, replacement),
            )


#: The obsolete TLS switches: what each value means as a security level (DEPRECATION_README).
_SWITCH_VALUES = {
    "smtpd_use_tls": {"yes": "may", "no": "none"},
    "smtp_use_tls": {"yes": "may", "no": "none"},
    "smtpd_enforce_tls": {"yes": "encrypt"},
    "smtp_enforce_tls": {"yes": "encrypt"},
}


def _deprecated_fix(ctx: Context, entry: Parameter, replacement: str | None) -> Fix | None:
    """Replace a deprecated parameter: safe where the meaning carries over exactly."""
    if not replacement or not re.fullmatch(r"[a-z0-9_]+", replacement):
        return None
    if ctx.main is not None and ctx.main.get(replacement) is not None:
        # the replacement is set and wins: the old name only misleads (TLS001 says how)
        if entry.name in _SWITCH_VALUES:
            return Fix.safe(f"delete {entry.name}", UnsetParameter(entry.name))
        return Fix.unsafe(f"delete {entry.name}", UnsetParameter(entry.name))
    values = _SWITCH_VALUES.get(entry.name)
    if values is not None:
        translated = values.get(entry.value.strip().lower())
        if translated is None:
            return None
        return Fix.safe(
            f"replace {entry.name} = {entry.value} with {replacement} = {translated}",
            RenameParameter(entry.name, replacement, translated),
        )
    return Fix.unsafe(
        f"replace {entry.name} with {replacement}", RenameParameter(entry.name, replacement)
    )


@register
class RemovedParameter(Rule):
    """
    ## What it finds
    A parameter that the target Postfix version no longer knows because it was removed or
    renamed in an earlier release (for example `virtual_maps`, replaced in Postfix 2.0 by
    `virtual_alias_maps`, or `smtpd_sasl_application_name`, renamed `smtpd_sasl_path`).

    ## Why it matters
    Postfix ignores the line: the setting it was meant to make is not made.

    ## Example
    ```
    smtpd_sasl_application_name = smtpd
    ```

    ## Use instead
    ```
    smtpd_sasl_path = smtpd
    ```

    ## Fix
    Use the replacement, or delete the line.
    """

    code = "PAR006"
    name = "removed-parameter"
    severity = "error"
    summary = "parameter removed from Postfix: the setting has no effect"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            removed = info.get("removed") if info else None
            if not removed or ctx.target[:2] < parse_version(removed)[:2]:
                continue
            replacement = info.get("replacement") if info else None
            instead = f"; use {replacement} instead" if replacement else ""
            self.report(
                at.name(entry),
                f"{entry.name} was removed in Postfix {removed} and is ignored{instead}",
            )


@register
class ParameterTooNew(Rule):
    """
    ## What it finds
    A parameter that the target Postfix version does not know yet (for example
    `smtpd_relay_restrictions`, added in Postfix 2.10, on a 2.9 server).

    ## Why it matters
    The older Postfix ignores the line, so a setting tested on a newer machine does not
    take effect on the one it is deployed to.

    ## Example
    ```
    smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
    ```
    with `--postfix-version 2.9`.

    ## Use instead
    Upgrade Postfix, or use what the older version offers (here, put the relay checks in
    `smtpd_recipient_restrictions`).

    ## Fix
    Not fixable automatically.
    """

    code = "PAR007"
    name = "parameter-too-new"
    severity = "error"
    summary = "parameter not available in the target Postfix version"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info is None:
                continue
            introduced = parse_version(info.get("introduced", "2.0"))
            if introduced > (2, 0) and ctx.target[:2] < introduced[:2]:
                self.report(
                    at.name(entry),
                    f"{entry.name} needs Postfix {version_text(introduced)}; "
                    f"Postfix {version_text(ctx.target)} ignores it",
                )


@register
class ReadOnlyParameter(Rule):
    """
    ## What it finds
    An assignment to a parameter that Postfix sets itself and does not let main.cf change,
    such as `process_id` or `process_name`.

    ## Why it matters
    The line has no effect; postconf warns "read-only parameter assignment".

    ## Example
    ```
    process_name = postfix
    ```

    ## Use instead
    Delete the line.

    ## Fix
    Delete the line.
    """

    code = "PAR017"
    name = "read-only-parameter"
    severity = "warning"
    summary = "read-only parameter cannot be set in main.cf"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info and info.get("read_only"):
                self.report(
                    at.name(entry),
                    f"{entry.name} is set by Postfix itself: this line has no effect",
                )
