"""Rules about main.cf parameter names: names Postfix does not use, restrictions written as
parameters, duplicates, deprecated, removed or ignored, too new and read-only parameters.

Every fact (which names exist in which version, what replaced what, what Postfix does now
in place of a retired parameter) comes from the knowledge base in rules/; what a name's
value is in this configuration comes from the model (ctx.configuration).
"""

from __future__ import annotations

from ....kb import load_table, version_text
from ....model import Parameter
from ....semantics.reading import boolean
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
    A main.cf parameter that nothing uses: a name the target Postfix version does not know
    and that no other setting makes meaningful (a master.cf service, a lookup table's
    settings, a restriction class, a `$name` reference in another value).  postconf calls
    it an "unused parameter".  A close known name is suggested, and a name made of a
    service and one of its settings (`dovecot_destination_recipient_limit`) says which
    master.cf service is missing.

    ## Why it matters
    Postfix ignores such a line; postconf only says "unused parameter", without a line
    number.  A misspelt name (`smtpd_tls_securty_level`) leaves the real parameter at its
    default, silently, and a list such as `mua_client_restrictions` that no master.cf
    service refers to restricts nothing.

    ## Example
    ```
    smtpd_tls_securty_level = may
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```

    ## Fix
    Correct the name, refer to it where it is meant to be used, or delete the line.  Not
    applied automatically: the intended name is a guess.
    """

    code = "PAR001"
    name = "unknown-parameter"
    severity = "warning"
    summary = "unused parameter: a name Postfix does not know and nothing refers to"

    def check(self, ctx: Context) -> None:
        if not ctx.kb.parameters or ctx.main is None:
            return
        names = NameSpace(ctx)
        for entry in ctx.effective_entries():
            name = entry.name
            if names.accepted(name) or ctx.kb.parameter(name) is not None:
                continue  # names the knowledge base knows in other versions: PAR006, PAR007
            if ctx.kb.restriction(name) is not None:
                continue  # PAR002 says it better
            if name.startswith("\ufeff"):
                self.report(
                    at.name(entry),
                    f"the file starts with a byte-order mark, which Postfix reads as part of the "
                    f"name {name[1:]}: this line is ignored; save the file without the mark",
                )
                continue
            self.report(at.name(entry), f"unused parameter {name}: {_why_unused(ctx, name)}")


def _why_unused(ctx: Context, name: str) -> str:
    """Why postconf calls ``name`` unused, in words that point at the fix."""
    hint = did_you_mean(ctx.kb.close_parameter(name))
    service = service_setting(name)
    if service is not None and not ctx.master_is_stock:
        service_name, suffix = service
        running = [d.program for d in ctx.postfix.daemons if d.name == service_name]
        if not running:
            return (
                f"it would set {suffix.lstrip('_')} for a master.cf service {service_name}, "
                f"and master.cf has none{hint}"
            )
        return (
            f"master.cf's service {service_name} runs {running[-1]}, which has no setting "
            f"{name}{hint}"
        )
    return (
        f"Postfix {version_text(ctx.target)} does not know it, and no other setting refers "
        f"to ${name}{hint}"
    )


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
        for entry in ctx.effective_entries():
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
    A parameter that the target Postfix version still reads but whose support will be
    removed: `smtpd_use_tls`, `smtpd_enforce_tls`, `smtp_use_tls`, `smtp_tls_per_site`,
    `disable_dns_lookups` and the rest of postconf's own deprecation table
    (src/postconf/postconf_unused.c, Postfix 3.9 and later), with its replacement.  A
    parameter Postfix no longer reads at all is PAR006's.

    ## Why it matters
    Deprecated names stop working in a later release, and several interact badly with their
    replacements (a set `smtpd_tls_security_level` silently wins over `smtpd_use_tls`).
    Postfix 3.9 and later warn about them at every start ("support for parameter ... will
    be removed").

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
    summary = "deprecated parameter: still read, to be removed"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        for entry in ctx.effective_entries():
            if ctx.kb.status(entry.name) != "deprecated":
                continue
            info = ctx.kb.parameter(entry.name) or {}
            replacement = _replacement(ctx, info)
            instead = (
                f"; use {replacement} instead"
                if replacement
                else "; delete it and leave the setting to Postfix"
            )
            self.report(
                at.name(entry),
                f"{entry.name} is deprecated since Postfix {info['deprecated']} (still read, "
                f"to be removed){instead}",
                fix=_deprecated_fix(ctx, entry, replacement),
            )


def _replacement(ctx: Context, info: dict[str, object]) -> str | None:
    """The parameter that replaces a retired one, when the target release knows one (the
    knowledge base also holds hints such as "leave it at its default")."""
    replacement = info.get("replacement")
    if isinstance(replacement, str) and ctx.kb.known(replacement):
        return replacement
    return None


#: The obsolete TLS switches: what each value means as a security level (DEPRECATION_README).
_SWITCH_VALUES = {
    "smtpd_use_tls": {"yes": "may", "no": "none"},
    "smtp_use_tls": {"yes": "may", "no": "none"},
    "smtpd_enforce_tls": {"yes": "encrypt"},
    "smtp_enforce_tls": {"yes": "encrypt"},
}


def _deprecated_fix(ctx: Context, entry: Parameter, replacement: str | None) -> Fix | None:
    """Replace a deprecated parameter: safe where the meaning carries over exactly."""
    if not replacement:
        return None
    if ctx.configuration.is_set(replacement):
        # the replacement is set and wins: the old name only misleads (TLS001 says how)
        if entry.name in _SWITCH_VALUES:
            return Fix.safe(f"delete {entry.name}", UnsetParameter(entry.name))
        return Fix.unsafe(f"delete {entry.name}", UnsetParameter(entry.name))
    values = _SWITCH_VALUES.get(entry.name)
    if values is not None:
        switch = boolean(ctx.configuration.value(entry.name))
        translated = None if switch is None else values.get("yes" if switch else "no")
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
    A parameter that the target Postfix version no longer acts on: removed in an earlier
    release (`smtp_skip_4xx_greeting` in 2.1, `smtpd_sasl_application_name`, renamed
    `smtpd_sasl_path` in 2.3), or still known to postconf but ignored (`smtpd_tls_eecdh_grade`
    since 3.6, `tls_low_cipherlist` since 3.8).  What Postfix does instead comes from the
    knowledge base (rules/parameter_overrides.toml, from the release notes and
    proto/postconf.proto).

    ## Why it matters
    Postfix ignores the line.  Where its value is what Postfix now does anyway (a switch
    that became permanent, a name whose replacement has the same value), the line only
    misleads: a warning.  Where the value asked for something Postfix no longer does
    (`enable_errors_to = yes`, a SASL application name other than `smtpd`, legacy
    fingerprints), the setting the configuration relied on is gone: an error, which says
    what Postfix does now.  A name that another value uses as `$name` is an ordinary
    user-defined parameter and is left alone.

    ## Example
    ```
    smtpd_sasl_application_name = postfix
    ```

    ## Use instead
    ```
    smtpd_sasl_path = postfix
    ```

    ## Fix
    Delete the line where it has no effect (applied by `pflint --fix`); move a renamed
    setting to its new name.
    """

    code = "PAR006"
    name = "removed-parameter"
    severity = "warning"
    summary = "removed or ignored parameter: the line has no effect"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        names = NameSpace(ctx)
        config = ctx.configuration
        for entry in ctx.effective_entries():
            status = ctx.kb.status(entry.name)
            if status not in ("removed", "ignored") or entry.name in names.referenced:
                continue
            info = ctx.kb.parameter(entry.name) or {}
            name = entry.name
            since = info[status]
            gone = (
                f"{name} was removed in Postfix {since}"
                if status == "removed"
                else f"Postfix ignores {name} since {since}"
            )
            now = info.get("now")
            replacement = _replacement(ctx, info)
            value = config.value(name) or ""
            delete = Fix.safe(f"delete {name}", UnsetParameter(name))
            if info.get("renamed") and replacement:
                current = config.value(replacement) or ""
                where = config.origin(replacement)
                if _same(ctx, replacement, value, current) or isinstance(where, Parameter):
                    said = (
                        f"{replacement} is set on line {where.line}, and Postfix reads that"
                        if isinstance(where, Parameter)
                        else f"{replacement} has the same value"
                    )
                    self.report(
                        at.name(entry),
                        f"{gone}, and this line has no effect: {said}; delete it",
                        fix=delete,
                    )
                    continue
                self.report(
                    at.name(entry),
                    f"{gone}: Postfix reads {replacement} instead, which is {current!r} "
                    f"(its default), not {value!r}; set {replacement} = {value}",
                    severity="error",
                    fix=Fix.unsafe(
                        f"rename {name} to {replacement}", RenameParameter(name, replacement)
                    ),
                )
                continue
            instead = f"; see {replacement}" if replacement else ""
            hardwired = info.get("hardwired")
            if hardwired is not None and not _same(ctx, name, value, str(hardwired)):
                self.report(
                    at.name(entry),
                    f"{gone}, so {name} = {value} no longer takes effect: {now}{instead}",
                    severity="error",
                )
                continue
            self.report(
                at.name(entry),
                f"{gone}, and this line has no effect: {now}{instead}; delete it",
                fix=delete,
            )


def _same(ctx: Context, name: str, value: str, other: str) -> bool:
    """Whether two values of ``name`` mean the same to Postfix (yes/no in any case)."""
    if (ctx.kb.parameter(name) or {}).get("kind") == "boolean":
        return boolean(value) is not None and boolean(value) == boolean(other)
    return value.strip().lower() == other.strip().lower()


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
        for entry in ctx.effective_entries():
            if ctx.kb.status(entry.name) != "future":
                continue
            introduced = (ctx.kb.parameter(entry.name) or {}).get("introduced", "2.0")
            self.report(
                at.name(entry),
                f"{entry.name} needs Postfix {introduced}; "
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
        for entry in ctx.effective_entries():
            info = ctx.kb.parameter(entry.name)
            if info and info.get("read_only"):
                self.report(
                    at.name(entry),
                    f"{entry.name} is set by Postfix itself: this line has no effect",
                )


def service_setting(name: str) -> tuple[str, str] | None:
    """``name`` as ``<service><suffix>``, a setting postconf accepts for a master.cf service
    that runs a program with that suffix (``dovecot`` and ``_destination_recipient_limit``);
    None when no suffix fits (the suffixes come from postconf_service.c, in
    rules/parameters.toml)."""
    suffixes = load_table("parameters").get("services", {}).get("suffixes", {})
    fits = [s for values in suffixes.values() for s in values if name.endswith(s)]
    if not fits:
        return None
    suffix = max(fits, key=len)
    service = name[: -len(suffix)]
    return (service, suffix) if service else None
