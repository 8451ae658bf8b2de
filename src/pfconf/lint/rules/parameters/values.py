"""Rules about main.cf and ``-o`` values Postfix cannot read: yes/no, times, sizes and
counts, fixed choices, lookup-table types (PAR008 to PAR012).

The kind of each parameter and its choices come from the knowledge base in rules/.  The
settings judged are the ones in effect, and their values as the program reads them, from
the model: main.cf's last definition of each name, each service's last ``-o`` of it, with
``$name`` expanded (a value whose expansion depends on what the model cannot know, such as
the host's name, is left alone).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from ....kb import Version
from ....model import Override, Parameter
from ....semantics import Configuration, Daemon
from ....semantics.endpoints import conv_time
from ....semantics.reading import boolean
from ....values import LookupTable, parse_table, split_list
from ... import location as at
from ...context import Context
from ...location import Location
from ...rule import Rule, register
from .names import did_you_mean

_TIME = re.compile(r"^(\d+)([smhdw]?)$")
NUMBER = re.compile(r"^-?\d+$")


def _checkable(value: str) -> bool:
    """A value the model could not expand fully is left alone (see _value_targets)."""
    return "$" not in value


Where = Parameter | tuple[Daemon, Override]


def _value_targets(ctx: Context) -> Iterator[tuple[str, str, Where]]:
    """Every setting in effect, with its value as the reading program sees it: main.cf's
    last definition of each name, and each service's last ``-o`` of a name, ``$name``
    expanded by the model (or, where the expansion is not certain, as written: such a value
    still holds ``$`` and is left alone)."""
    config = ctx.configuration
    for entry in ctx.effective_entries():
        yield entry.name, _expanded(config, entry.name, entry.value), entry
    for daemon, override in ctx.effective_overrides():
        value = _expanded(daemon.config, override.name, override.value)
        yield override.name, value, (daemon, override)


def _expanded(config: Configuration, name: str, written: str) -> str:
    """``written`` as the program reads it: expanded, when that needs nothing the model
    lacks (an undefined or computed name, a syntax error); else as written."""
    if "$" not in written:
        return written
    found = config.expansion(name)
    if found is None or found.undefined or found.errors:
        return written
    return found.text


def _at(where: Where) -> Location:
    if isinstance(where, Parameter):
        return at.value(where)
    daemon, override = where
    found = at.setting(daemon.config, override.name)  # the override: it is the one in effect
    assert found is not None
    return found


class _ValueRule(Rule):
    kind: str = ""

    def bad(self, info: dict[str, Any], value: str, target: Version) -> str | None:
        raise NotImplementedError

    def check(self, ctx: Context) -> None:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") != self.kind or not _checkable(value):
                continue
            if value == "" and self.kind != "boolean":
                continue
            problem = self.bad(info, value, ctx.target)
            if problem:
                self.report(_at(where), f"{name} = {value!r}: {problem}")


@register
class InvalidBoolean(_ValueRule):
    """
    ## What it finds
    A yes/no parameter whose value is neither `yes` nor `no` (`true`, `1`, `on`, `maybe`).

    ## Why it matters
    Postfix accepts only `yes` and `no` (in any case); any other value stops the daemon
    that reads it with "bad boolean configuration".  postconf does not check values.

    ## Postfix source
    - Only `yes` and `no`, in any case; anything else stops the program ("bad boolean
      configuration"): `src/global/mail_conf_bool.c`, `convert_mail_conf_bool()`;
      `src/global/mail_conf_nbool.c`, `convert_mail_conf_nbool()`.

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

    def bad(self, info: dict[str, Any], value: str, target: Version) -> str | None:
        if boolean(value) is not None:
            return None
        return "Postfix accepts only yes or no here"


@register
class InvalidTime(_ValueRule):
    """
    ## What it finds
    A time parameter whose value Postfix cannot read: not a number, a blank before the
    unit, or a unit other than `s` (seconds), `m` (minutes), `h` (hours), `d` (days) or `w`
    (weeks).  From Postfix 3.1 only the first letter after the number counts, so `5days`
    (read as 5d) is fine there; before 3.1 anything after the unit letter is refused too.

    ## Why it matters
    Postfix refuses values like `1 h` or `5 days` with "bad time value" and the daemon that
    reads the parameter does not start.

    ## Postfix source
    - A time is read by `src/global/conv_time.c`, `conv_time()`: a number, then one unit
      letter `s`, `m`, `h`, `d` or `w` (or none); a value it refuses stops the program ("bad
      time value or unit"): `src/global/mail_conf_time.c`, `convert_mail_conf_time()`.
    - From Postfix 3.1 `src/global/conv_time.c`, `conv_time()` looks only at the first
      character after the number (the check of what follows is commented out): `5days`
      reads as 5d and `1h30m` as 1h; `1 h` is refused (seen with Postfix 3.7's postmap on
      `ipc_timeout`).

    ## Example
    ```
    maximal_queue_lifetime = 5 days
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

    def bad(self, info: dict[str, Any], value: str, target: Version) -> str | None:
        if _TIME.match(value):
            return None
        if target[:2] >= (3, 1) and conv_time(value) is not None:
            # read by its number and first unit letter; the rest is ignored (5days is 5d):
            # only a second number ("1h30m") reads as something else than it says
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

    ## Postfix source
    - A size or count must be all digits ("bad numerical configuration" otherwise):
      `src/global/mail_conf_int.c`, `convert_mail_conf_int()`; `src/global/mail_conf_long.c`,
      `convert_mail_conf_long()`.

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

    def check(self, ctx: Context) -> None:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") not in ("size", "integer"):
                continue
            if not _checkable(value) or value == "" or NUMBER.match(value):
                continue
            what = "a size in bytes" if info.get("kind") == "size" else "a whole number"
            self.report(_at(where), f"{name} = {value!r}: Postfix expects {what}, without units")


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

    ## Postfix source
    - The words each parameter takes: `rules/parameters.toml` and
      `rules/parameter_overrides.toml` (each with its source).
    - For example the TLS levels: an unknown level stops smtpd ("Invalid TLS level"), and
      `verify`, `secure` or `fingerprint` become `encrypt` with a warning: `src/smtpd/smtpd.c`,
      `pre_jail_init()`; the client stops on an unknown one: `src/smtp/smtp_tls_policy.c`,
      `global_tls_level()`.

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

    def bad(self, info: dict[str, Any], value: str, target: Version) -> str | None:
        return _not_a_choice(info, [str(v) for v in info.get("values", [])], value)

    def check(self, ctx: Context) -> None:
        for name, value, where in _value_targets(ctx):
            info = ctx.kb.parameter(name)
            if info is None or info.get("kind") != self.kind or not _checkable(value):
                continue
            choices = ctx.kb.choices(name)
            if value == "" or not choices or _unread(ctx, info, where):
                continue
            treated = info.get("treated_as", {}).get(value.lower())
            if treated is not None:
                self.report(
                    _at(where),
                    f"{name} = {value!r}: the server takes it as {treated}, with the warning "
                    f'"unsupported TLS level"; write {treated}',
                    severity="warning",
                )
                continue
            problem = _not_a_choice(info, choices, value)
            if problem:
                self.report(_at(where), f"{name} = {value!r}: {problem}")


def _unread(ctx: Context, info: dict[str, Any], where: Where) -> bool:
    """Whether no program reads the parameter because the one whose default it computes
    is set (``used_only_without``: mynetworks_style without mynetworks)."""
    other = info.get("used_only_without")
    if not other:
        return False
    if not isinstance(where, Parameter) and where[0].config.origin(other) is not None:
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

    ## Postfix source
    - A word without `type:` stops the program up to Postfix 3.11 ("expecting "type:name"
      form"), and in the 3.12 snapshot gives a table whose lookups fail:
      `src/util/dict_open.c`, `dict_open()`.
    - An unknown type gives a table whose every lookup fails ("unsupported dictionary
      type", then "... is unavailable"): `src/util/dict_open.c`, `dict_open3()` and
      `src/util/dict_surrogate.c`, `dict_surrogate()`; outside the daemons that is fatal
      (`dict_allow_surrogate`).
    - The table types: `rules/tables.toml`.

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

    def check(self, ctx: Context) -> None:
        from ....kb import load_table

        types = {t.lower() for t in load_table("tables").get("types", {})}
        if not types:
            return
        for entry in ctx.effective_entries():
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
                        self.report(at.item(entry, item), message)
                    continue
                for inner in _tables(table):
                    if inner.type not in types:
                        close = difflib.get_close_matches(inner.type, list(types), n=1, cutoff=0.88)
                        hint = did_you_mean(close[0] if close else None)
                        self.report(
                            at.item(entry, item),
                            f"unknown lookup table type {inner.type!r} in {item.text}{hint}",
                        )


def _tables(table: LookupTable) -> Iterator[LookupTable]:
    yield table
    for inner in table.tables:
        yield from _tables(inner)
