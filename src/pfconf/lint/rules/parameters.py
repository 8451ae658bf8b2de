"""Rules about main.cf parameters: names Postfix does not know, dead and duplicate settings,
references to nothing, values of the wrong kind, and settings that contradict each other.

Every fact (which names exist in which version, what replaced what, which values a
parameter takes) comes from the knowledge base in rules/.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from ...kb import parse_version, version_text
from ...model import Item, Override, Parameter, Span
from ...values import LookupTable, Reference, Token, find_references, parse_table, split_list
from ..context import Context, ServiceConfig
from ..finding import Finding, Fix
from ..names import NameSpace
from ..rule import Rule, register


def _did_you_mean(match: str | None) -> str:
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

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.kb.parameters or ctx.main is None:
            return
        names = NameSpace(ctx)
        seen = set()
        for entry in ctx.entries():
            name = entry.name
            if name in seen or names.accepted(name) or ctx.kb.parameter(name) is not None:
                continue  # names the knowledge base knows in other versions: PAR006, PAR007
            if ctx.kb.restriction(name) is not None:
                continue  # PAR002 says it better
            seen.add(name)
            if name.startswith("\ufeff"):
                yield ctx.at_name(
                    type(self),
                    entry,
                    f"the file starts with a byte-order mark, which Postfix reads as part of the "
                    f"name {name[1:]}: this line is ignored; save the file without the mark",
                )
                continue
            hint = _did_you_mean(ctx.kb.close_parameter(name))
            yield ctx.at_name(type(self), entry, f"unknown parameter {name}{hint}")


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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for entry in ctx.entries():
            name = entry.name
            if ctx.kb.parameter(name) is None and ctx.kb.restriction(name) is not None:
                yield ctx.at_name(
                    type(self),
                    entry,
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

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.main is None:
            return
        by_name: dict[str, list[Parameter]] = {}
        for entry in ctx.main.entries:
            by_name.setdefault(entry.name, []).append(entry)
        for name, entries in by_name.items():
            last = entries[-1]
            for earlier in entries[:-1]:
                if earlier.value == last.value:
                    yield ctx.at_name(
                        type(self),
                        earlier,
                        f"{name} is set again to the same value on line {last.line}: "
                        "this definition is redundant",
                        severity="info",
                        fix=Fix(
                            f"delete this definition of {name}",
                            safe=True,
                            parameter=name,
                            action="remove_definition",
                            line=earlier.line,
                        ),
                    )
                else:
                    yield ctx.at_name(
                        type(self),
                        earlier,
                        f"{name} is overridden on line {last.line}: "
                        f'this value ("{earlier.value[:40]}") never takes effect',
                        fix=Fix(
                            f"delete this definition of {name}",
                            safe=False,
                            parameter=name,
                            action="remove_definition",
                            line=earlier.line,
                        ),
                    )


@register
class UndefinedReference(Rule):
    """
    ## What it finds
    A `$name` or `${name}` reference, in a main.cf value or a master.cf `-o` value, to a
    parameter that is defined nowhere: not in main.cf, not by the service's own `-o`
    options, and not a Postfix parameter with a default.

    ## Why it matters
    Postfix expands an undefined reference to nothing, so `$mua_client_restrictions` in
    the stock master.cf's submission service gives an empty restriction list when main.cf
    does not define it.  postconf warns "undefined parameter" without saying where.

    ## Example
    ```
    smtpd_banner = $myhostnmae ESMTP
    ```

    ## Use instead
    ```
    smtpd_banner = $myhostname ESMTP
    ```

    ## Fix
    Correct the name, or define the parameter in main.cf.  Conditional forms
    (`${name?value}`, `${name:value}`) are meant for names that may be undefined and are
    not reported; nor are values Postfix does not expand (`mailbox_command`, where
    `$EXTENSION` is for the command).
    """

    code = "PAR004"
    name = "undefined-reference"
    severity = "warning"
    summary = "reference to a parameter that is defined nowhere"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not ctx.kb.parameters:
            return
        names = NameSpace(ctx)
        for entry in ctx.entries():
            if _raw(ctx, entry.name):
                continue
            for ref in _plain_references(entry.value):
                if names.defined(ref.name):
                    continue
                span = entry.item_span(_token(ref.start, ref.end, entry.value))
                hint = _did_you_mean(names.close_defined(ref.name))
                yield ctx.at_span(
                    type(self),
                    ctx.main_path,
                    span,
                    f"${ref.name} is not defined anywhere and expands to nothing{hint}",
                    parameter=entry.name,
                )
        if ctx.master_is_stock or ctx.main is None:
            return  # without main.cf every reference would look undefined
        for config in ctx.services:
            local = set(config.service.overrides)
            for override in config.service.override_list:
                if _raw(ctx, override.name):
                    continue
                for ref in _plain_references(override.value):
                    if ref.name in local or names.defined(ref.name):
                        continue
                    hint = _did_you_mean(names.close_defined(ref.name))
                    message = (
                        f"${ref.name} in {config.key}'s -o {override.name} is not defined "
                        f"in main.cf and expands to nothing{hint}"
                    )
                    written = override.value[ref.start : ref.end]
                    where = override.argument
                    at = override.text.find(written)
                    if at >= 0 and where.line == where.end_line:
                        span = Span(
                            where.line,
                            where.column + at,
                            where.line,
                            where.column + at + len(written),
                        )
                        yield ctx.at_span(
                            type(self), ctx.master_path, span, message,
                            parameter=override.name, service=config.key,
                        )  # fmt: skip
                    else:
                        yield ctx.at_override(type(self), config, override, message)


def _plain_references(value: str) -> Iterator[Reference]:
    """Unconditional references: not ``${x?...}``/``${x:...}`` themselves, and not inside the
    branch of a conditional that tests the same name (``${x?{$x}}`` only expands when x is set).
    """
    refs = find_references(value)
    conditionals = [r for r in refs if r.form in ("${name?value}", "${name:value}")]
    for ref in refs:
        if ref.form not in ("$name", "${name}", "$(name)"):
            continue
        if any(
            c.start < ref.start and ref.end <= c.end and c.name == ref.name for c in conditionals
        ):
            continue
        yield ref


def _raw(ctx: Context, name: str) -> bool:
    """Raw parameters (mailbox_command, ...) are not $-expanded: "$EXTENSION" is for the command."""
    info = ctx.kb.parameter(name)
    return bool(info and info.get("raw"))


def _token(start: int, end: int, text: str) -> Token:
    return Token(text[start:end], start, end)


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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info is None or not ctx.kb.known(entry.name):
                continue
            since = info.get("deprecated")
            if since is None or ctx.target[:2] < parse_version(since)[:2]:
                continue
            replacement = info.get("replacement")
            instead = f"; use {replacement} instead" if replacement else ""
            yield ctx.at_name(
                type(self),
                entry,
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
            return Fix(f"delete {entry.name}", parameter=entry.name, action="unset")
        return Fix(f"delete {entry.name}", safe=False, parameter=entry.name, action="unset")
    values = _SWITCH_VALUES.get(entry.name)
    if values is not None:
        translated = values.get(entry.value.strip().lower())
        if translated is None:
            return None
        return Fix(
            f"replace {entry.name} = {entry.value} with {replacement} = {translated}",
            parameter=entry.name, value=replacement, item=translated, action="rename",
        )  # fmt: skip
    return Fix(
        f"replace {entry.name} with {replacement}", safe=False,
        parameter=entry.name, value=replacement, action="rename",
    )  # fmt: skip


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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            removed = info.get("removed") if info else None
            if not removed or ctx.target[:2] < parse_version(removed)[:2]:
                continue
            replacement = info.get("replacement") if info else None
            instead = f"; use {replacement} instead" if replacement else ""
            yield ctx.at_name(
                type(self),
                entry,
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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info is None:
                continue
            introduced = parse_version(info.get("introduced", "2.0"))
            if introduced > (2, 0) and ctx.target[:2] < introduced[:2]:
                yield ctx.at_name(
                    type(self),
                    entry,
                    f"{entry.name} needs Postfix {version_text(introduced)}; "
                    f"Postfix {version_text(ctx.target)} ignores it",
                )


# --------------------------------------------------------------------------- value checks

_TIME = re.compile(r"^(\d+)([smhdw]?)$")
_NUMBER = re.compile(r"^-?\d+$")


def _checkable(value: str) -> bool:
    """Values with ``$name`` are expanded at run time: their final form is unknown here."""
    return "$" not in value


Where = Parameter | tuple[ServiceConfig, Override]


def _value_targets(ctx: Context) -> Iterator[tuple[str, str, Where]]:
    """Every place a value is set: main.cf entries and master.cf -o overrides."""
    for entry in ctx.entries():
        yield entry.name, entry.value, entry
    if not ctx.master_is_stock:
        for config in ctx.services:
            for override in config.service.override_list:
                yield override.name, override.value, (config, override)


def _report(rule: type, ctx: Context, where: Where, message: str, **kw: Any) -> Finding:
    if isinstance(where, Parameter):
        return ctx.at_value(rule, where, message, **kw)
    config, override = where
    return ctx.at_override(rule, config, override, message, **kw)


class _ValueRule(Rule):
    kind: str = ""

    def bad(self, info: dict[str, Any], value: str) -> str | None:
        raise NotImplementedError

    def check(self, ctx: Context) -> Iterator[Finding]:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") != self.kind or not _checkable(value):
                continue
            if value == "" and self.kind != "boolean":
                continue
            problem = self.bad(info, value)
            if problem:
                yield _report(type(self), ctx, where, f"{name} = {value!r}: {problem}")


@register
class InvalidBoolean(_ValueRule):
    """
    ## What it finds
    A yes/no parameter whose value is neither `yes` nor `no` (`true`, `1`, `on`, `maybe`).

    ## Why it matters
    Postfix accepts only `yes` and `no` (in any case); any other value stops the daemon
    that reads it with "bad boolean configuration".  postconf does not check values.

    ## Example
    ```
    smtpd_tls_auth_only = true
    ```

    ## Use instead
    ```
    smtpd_tls_auth_only = yes
    ```

    ## Fix
    Write `yes` or `no`.
    """

    code = "PAR008"
    name = "invalid-boolean"
    severity = "error"
    summary = "yes/no parameter with another value"
    kind = "boolean"

    def bad(self, info: dict[str, Any], value: str) -> str | None:
        if value.lower() in ("yes", "no"):
            return None
        return "Postfix accepts only yes or no here"


@register
class InvalidTime(_ValueRule):
    """
    ## What it finds
    A time parameter whose value is not a number with at most one unit letter: `s`
    (seconds), `m` (minutes), `h` (hours), `d` (days) or `w` (weeks).

    ## Why it matters
    Postfix refuses values like `1 h`, `2hours` or `1h30m` with "bad time value" and the
    daemon that reads the parameter does not start.

    ## Example
    ```
    maximal_queue_lifetime = 5days
    ```

    ## Use instead
    ```
    maximal_queue_lifetime = 5d
    ```

    ## Fix
    Write a number followed by one of s, m, h, d or w (without a space).
    """

    code = "PAR009"
    name = "invalid-time"
    severity = "error"
    summary = "time value Postfix cannot read"
    kind = "time"

    def bad(self, info: dict[str, Any], value: str) -> str | None:
        if _TIME.match(value):
            return None
        return "a time is a number with an optional unit s, m, h, d or w, like 3600s or 1h"


@register
class InvalidNumber(_ValueRule):
    """
    ## What it finds
    A size or count parameter whose value is not a plain number: `10MB`, `50M`, `1,000`.

    ## Why it matters
    Postfix sizes are in bytes and take no suffix; a value such as `message_size_limit =
    50M` stops the daemons that read it with "bad numerical configuration".

    ## Example
    ```
    message_size_limit = 50M
    ```

    ## Use instead
    ```
    message_size_limit = 52428800
    ```

    ## Fix
    Write the number of bytes (or items) without units or separators.
    """

    code = "PAR010"
    name = "invalid-number"
    severity = "error"
    summary = "size or count that is not a plain number"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") not in ("size", "integer"):
                continue
            if not _checkable(value) or value == "" or _NUMBER.match(value):
                continue
            what = "a size in bytes" if info.get("kind") == "size" else "a whole number"
            yield _report(
                type(self), ctx, where, f"{name} = {value!r}: Postfix expects {what}, without units"
            )


@register
class InvalidChoice(_ValueRule):
    """
    ## What it finds
    A parameter that takes one of a fixed set of words (such as `smtpd_tls_security_level`:
    `none`, `may`, `encrypt`, or `postscreen_dnsbl_action`: `ignore`, `enforce`, `drop`) set
    to another word.  The words are those of the name table the reading program looks the
    value up in, for the target release (rules/parameter_tables.toml names each table, such
    as `tempfail_actions` in src/smtpd/smtpd_check.c or `actions` in
    src/postscreen/postscreen.c).  A client-side TLS level given to the server
    (`smtpd_tls_security_level = verify`) is a warning: smtpd.c's pre_jail_init() and
    postscreen accept it with the warning "unsupported TLS level" and run at `encrypt`.

    ## Why it matters
    The program that reads the parameter stops at start-up ("bad configuration", "bad ...
    value", "Invalid TLS level"), or, for the TLS levels above, quietly runs at another
    level than the one written.

    ## Example
    ```
    smtpd_tls_security_level = yes
    postscreen_dnsbl_action = reject
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    postscreen_dnsbl_action = enforce
    ```

    ## Fix
    Use one of the values the message lists.
    """

    code = "PAR011"
    name = "invalid-choice"
    severity = "error"
    summary = "value is not one of the parameter's choices"
    kind = "enum"

    def bad(self, info: dict[str, Any], value: str) -> str | None:
        return _not_a_choice(info, [str(v) for v in info.get("values", [])], value)

    def check(self, ctx: Context) -> Iterator[Finding]:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") != self.kind or not _checkable(value):
                continue
            choices = ctx.kb.choices(name)
            if value == "" or not choices or _unread(ctx, info, where):
                continue
            treated = info.get("treated_as", {}).get(value.lower())
            if treated is not None:
                yield _report(
                    type(self), ctx, where,
                    f'{name} = {value!r}: the server takes it as {treated}, with the warning '
                    f'"unsupported TLS level"; write {treated}',
                    severity="warning",
                )  # fmt: skip
                continue
            problem = _not_a_choice(info, choices, value)
            if problem:
                yield _report(type(self), ctx, where, f"{name} = {value!r}: {problem}")


def _unread(ctx: Context, info: dict[str, Any], where: Where) -> bool:
    """Whether no program reads the parameter because the one whose default it computes
    is set (``used_only_without``: mynetworks_style without mynetworks)."""
    other = info.get("used_only_without")
    if not other:
        return False
    if not isinstance(where, Parameter) and where[0].origin(other) is not None:
        return True
    return ctx.main is not None and ctx.main.get(other) is not None


def _not_a_choice(info: dict[str, Any], choices: list[str], value: str) -> str | None:
    """What is wrong with ``value`` for an enumerated parameter, or None.  name_code()
    ignores case; the tables compared with strcmp() (``exact_case``) do not."""
    if not choices:
        return None
    words = [w.text for w in split_list(value)] if info.get("multiple") else [value]
    if info.get("exact_case"):
        wrong = [w for w in words if w not in choices]
    else:
        lowered = {c.lower() for c in choices}
        wrong = [w for w in words if w.lower() not in lowered]
    if not wrong:
        return None
    return f"{wrong[0]!r} is not one of {', '.join(c for c in choices if c)}"


@register
class UnknownTableType(Rule):
    """
    ## What it finds
    A lookup table of a type Postfix does not have (`hahs:/etc/postfix/virtual`), or a
    lookup-table parameter given a plain file name without a type (`alias_maps =
    /etc/aliases`).

    ## Why it matters
    Postfix cannot open the table: the daemon that needs it logs a fatal error or treats
    every lookup as failed, and mail is deferred.

    ## Example
    ```
    virtual_alias_maps = hahs:/etc/postfix/virtual
    ```

    ## Use instead
    ```
    virtual_alias_maps = hash:/etc/postfix/virtual
    ```

    ## Fix
    Correct the type; run `postconf -m` to list the types this Postfix supports.
    """

    code = "PAR012"
    name = "unknown-table-type"
    severity = "error"
    summary = "lookup table of an unknown type, or without a type"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from ...kb import load_table

        types = {t.lower() for t in load_table("tables").get("types", {})}
        if not types:
            return
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info is None or info.get("kind") != "table_list" or not _checkable(entry.value):
                continue
            for item in entry.items:
                table = parse_table(item.text)
                if table is None:
                    if item.text.startswith("/"):
                        message = (
                            f"{item.text} has no table type; write it as type:name, "
                            f"for example hash:{item.text}"
                        )
                        yield ctx.at_item(type(self), entry, item, message)
                    continue
                for inner in _tables(table):
                    if inner.type not in types:
                        close = difflib.get_close_matches(inner.type, list(types), n=1, cutoff=0.88)
                        hint = _did_you_mean(close[0] if close else None)
                        yield ctx.at_item(
                            type(self),
                            entry,
                            item,
                            f"unknown lookup table type {inner.type!r} in {item.text}{hint}",
                        )


def _tables(table: LookupTable) -> Iterator[LookupTable]:
    yield table
    for inner in table.tables:
        yield from _tables(inner)


@register
class CompatibilityLevel(Rule):
    """
    ## What it finds
    A main.cf without `compatibility_level`, or with a level older than the one the target
    Postfix version recommends.

    ## Why it matters
    Below the current level Postfix keeps old defaults for safety (for example no
    `smtpd_relay_restrictions` default before level 1, `smtputf8_enable = no`, MD5
    fingerprints before 3.6) and logs "using backwards-compatible default setting" at every
    start.  Raising the level after reviewing the changes makes the defaults current.

    ## Example
    ```
    myhostname = mail.example.com
    ```
    (no compatibility_level)

    ## Use instead
    ```
    compatibility_level = 3.6
    myhostname = mail.example.com
    ```

    ## Fix
    Read Postfix's COMPATIBILITY_README for the defaults that change, then set the level.
    """

    code = "PAR013"
    name = "compatibility-level"
    severity = "info"
    summary = "compatibility_level missing or older than the target version's"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from ...kb import load_table

        if ctx.main is None or not ctx.main.entries:
            return
        levels = load_table("parameters").get("compatibility", {}).get("levels", {})
        current = None
        for version, level in sorted(levels.items(), key=lambda kv: parse_version(kv[0])):
            if parse_version(version)[:2] <= ctx.target[:2]:
                current = str(level)
        if current is None:
            return
        entry = ctx.main.get("compatibility_level")
        if entry is None:
            first = ctx.main.entries[0]
            yield ctx.at_name(
                type(self),
                first,
                f"compatibility_level is not set: Postfix {version_text(ctx.target)} uses "
                f"backwards-compatible defaults; review them and set compatibility_level = {current}",
                parameter="compatibility_level",
            )
            return
        value = entry.value
        if "$" in value or not re.fullmatch(r"\d+(\.\d+){0,2}", value):
            return
        if _compat(value) < _compat(current):
            yield ctx.at_value(
                type(self),
                entry,
                f"compatibility_level {value} is older than {current}, the level of Postfix "
                f"{version_text(ctx.target)}",
            )


def _compat(text: str) -> tuple[int, ...]:
    return parse_version(text) + (0,) * (3 - len(text.split(".")))


# ------------------------------------------------------------------------ contradictions


@register
class HomeMailboxShadowed(Rule):
    """
    ## What it finds
    `home_mailbox` set together with `mailbox_command`, `mailbox_command_maps`,
    `mailbox_transport` or `mailbox_transport_maps`.

    ## Why it matters
    local(8) hands mail to the first of these it finds, and `home_mailbox` comes after all
    of them: with a mailbox command (procmail, maildrop, dovecot-lda) or transport set,
    `home_mailbox` is never used, and whoever edits it expects a change that does not
    happen.

    ## Example
    ```
    home_mailbox = Maildir/
    mailbox_command = procmail -a "$EXTENSION"
    ```

    ## Use instead
    ```
    mailbox_command = procmail -a "$EXTENSION"
    ```
    (and set the Maildir location in procmail's configuration)

    ## Fix
    Delete `home_mailbox`, or the command or transport if local(8) should deliver itself.
    """

    code = "PAR014"
    name = "home-mailbox-shadowed"
    severity = "warning"
    summary = "home_mailbox is never used next to a mailbox command or transport"

    SHADOWS = (
        "mailbox_transport_maps",
        "mailbox_transport",
        "mailbox_command_maps",
        "mailbox_command",
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.main is None:
            return
        home = ctx.main.get("home_mailbox")
        if home is None or not home.value:
            return
        for name in self.SHADOWS:
            other = ctx.main.get(name)
            if other is not None and other.value:
                yield ctx.at_name(
                    type(self),
                    home,
                    f"home_mailbox is never used: {name} on line {other.line} takes precedence",
                )
                return


def _number(ctx: Context, name: str) -> int | None:
    entry = ctx.main.get(name) if ctx.main else None
    if entry is not None:
        value = entry.value
    else:
        info = ctx.kb.parameter(name)
        value = str(info.get("default", "")) if info else ""
    return int(value) if _NUMBER.match(value or "x") else None


@register
class MailboxSmallerThanMessage(Rule):
    """
    ## What it finds
    `mailbox_size_limit` (or `virtual_mailbox_limit`) smaller than `message_size_limit`,
    counting the defaults of the ones not set.

    ## Why it matters
    local(8) and virtual(8) refuse to start with "mailbox_size_limit is smaller than
    message_size_limit": local delivery stops entirely.  Raising `message_size_limit`
    alone, as many guides suggest, is the usual way to get there.

    ## Example
    ```
    message_size_limit = 104857600
    ```
    (mailbox_size_limit left at its default of 51200000)

    ## Use instead
    ```
    message_size_limit = 104857600
    mailbox_size_limit = 0
    ```

    ## Fix
    Raise the mailbox limit (0 means unlimited) or lower the message limit.
    """

    code = "PAR015"
    name = "mailbox-smaller-than-message"
    severity = "error"
    summary = "mailbox size limit below the message size limit"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.main is None:
            return
        message = _number(ctx, "message_size_limit")
        if message is None:
            return
        for limit_name in ("mailbox_size_limit", "virtual_mailbox_limit"):
            # The check is made by the delivery agent, so it matters only where local(8) or
            # virtual(8) delivers: not for a null client (local_transport = error:...) nor
            # when virtual mailboxes go to Dovecot (virtual_transport = lmtp:...).
            if limit_name == "virtual_mailbox_limit" and not (
                _set(ctx, "virtual_mailbox_domains")
                and _transport(ctx, "virtual_transport", "virtual")
            ):
                continue
            if limit_name == "mailbox_size_limit" and not _transport(
                ctx, "local_transport", "local"
            ):
                continue
            limit = _number(ctx, limit_name)
            if limit is None or limit == 0:
                continue
            problem = None
            if message == 0:
                problem = f"{limit_name} is {limit} but message_size_limit is 0 (unlimited)"
            elif limit < message:
                problem = f"{limit_name} ({limit}) is smaller than message_size_limit ({message})"
            if problem is None:
                continue
            anchor = ctx.main.get(limit_name) or ctx.main.get("message_size_limit")
            if anchor is None:
                continue
            yield ctx.at_value(
                type(self),
                anchor,
                f"{problem}: {'local' if limit_name == 'mailbox_size_limit' else 'virtual'}(8) "
                "will refuse to start",
            )


def _transport(ctx: Context, name: str, agent: str) -> bool:
    """Whether the transport parameter ``name`` (default: ``agent``) still names ``agent``."""
    entry = ctx.main.get(name) if ctx.main else None
    if entry is None:
        return True
    value = entry.value
    if "$" in value:
        return True  # unknown until expanded: keep checking
    return value.split(":", 1)[0] == agent


def _set(ctx: Context, name: str) -> bool:
    entry = ctx.main.get(name) if ctx.main else None
    return entry is not None and bool(entry.value)


def _domains(ctx: Context, entry: Parameter, depth: int = 0) -> Iterator[tuple[str, Item]]:
    """The literal domains of a domain list, following simple $name references in main.cf.

    These are match lists: a word that starts with "#" ends the list, and the domains after
    it are in no class at all (util/match_list.c, match_list_parse())."""
    for item in entry.items:
        text = item.text
        if text.startswith("#"):
            return
        if text.startswith("$") and depth < 5:
            ref = find_references(text)
            if ref and ref[0].start == 0 and ref[0].end == len(text) and ctx.main is not None:
                target = ctx.main.get(ref[0].name)
                if target is not None:
                    for domain, _ in _domains(ctx, target, depth + 1):
                        yield domain, item
            continue
        if ":" in text or "$" in text or "/" in text:
            continue
        yield text.lower().rstrip("."), item


@register
class DomainInTwoClasses(Rule):
    """
    ## What it finds
    A domain listed in two address classes that exclude each other: `mydestination` and
    `virtual_alias_domains` or `virtual_mailbox_domains`, the two virtual classes, or a
    virtual class and `relay_domains`.

    ## Why it matters
    Each domain belongs to exactly one address class, which decides how its mail is
    delivered.  Postfix picks one class and logs "do not list domain ... in BOTH"; the
    other setting is silently ignored, so aliases or mailboxes that look configured do not
    work.

    ## Example
    ```
    mydestination = example.org, localhost
    virtual_alias_domains = example.org
    ```

    ## Use instead
    ```
    mydestination = localhost
    virtual_alias_domains = example.org
    ```

    ## Fix
    Keep the domain in the one class that matches how its mail should be delivered.
    """

    code = "PAR016"
    name = "domain-in-two-classes"
    severity = "error"
    summary = "domain listed in two address classes"

    # The pairs trivial-rewrite(8) warns about (src/trivial-rewrite/resolve.c@v3.11.0).
    # mydestination and relay_domains may overlap: relay_domains = $mydestination was the
    # default before compatibility level 2.
    PAIRS = (
        ("mydestination", "virtual_alias_domains"),
        ("mydestination", "virtual_mailbox_domains"),
        ("virtual_alias_domains", "virtual_mailbox_domains"),
        ("virtual_alias_domains", "relay_domains"),
        ("virtual_mailbox_domains", "relay_domains"),
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.main is None:
            return
        domains: dict[str, dict[str, Item]] = {}
        for pair in self.PAIRS:
            for name in pair:
                entry = ctx.main.get(name)
                if name not in domains and entry is not None:
                    found: dict[str, Item] = {}
                    for domain, item in _domains(ctx, entry):
                        found.setdefault(domain, item)
                    domains[name] = found
        reported = set()
        for first, second in self.PAIRS:
            if first not in domains or second not in domains:
                continue
            entry = ctx.main.get(second)
            assert entry is not None
            for domain, item in domains[second].items():
                if domain in domains[first] and (second, domain) not in reported:
                    reported.add((second, domain))
                    yield ctx.at_item(
                        type(self),
                        entry,
                        item,
                        f"{domain} is listed in both {first} and {second}: "
                        "Postfix uses only one of them",
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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for entry in ctx.entries():
            info = ctx.kb.parameter(entry.name)
            if info and info.get("read_only"):
                yield ctx.at_name(
                    type(self),
                    entry,
                    f"{entry.name} is set by Postfix itself: this line has no effect",
                )
