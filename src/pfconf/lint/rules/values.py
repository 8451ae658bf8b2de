"""Rules about what a parameter's value may be, as the programs that read it check it at
start-up: numbers and times within the limits of their configuration tables, required text,
host names, the compatibility level, ``$`` expressions, braces, match lists and sets of words.

The facts (limits, word lists, which program reads what) come from the knowledge base; the
values come from the model (pfconf.semantics), expanded as Postfix expands them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import attrs

from ...expand import LONG_MAX, Expansion, expand
from ...model import Override, Parameter
from ...semantics import Configuration, Daemon, reading
from ...semantics.addresses import transport_name
from ...values import (
    LIST_SEPARATORS,
    compatibility_level,
    find_references,
    hostname_problem,
    split_list,
    strip_braces,
)
from .. import location as at
from ..context import Context
from ..location import Location
from ..rule import Rule, register

#: Programs that run whatever master.cf says: master itself, what mail_params_init() stands
#: for ("all": every program), and the commands that users and scripts start.
_ALWAYS = frozenset(
    {"all", "master", "postfix", "sendmail", "postdrop", "postqueue", "postsuper", "postlog"}
)
#: The programs of _ALWAYS that a user or script starts, named as commands in messages.
_COMMANDS = frozenset({"postfix", "sendmail", "postdrop", "postqueue", "postsuper", "postlog"})
#: The programs that initialize the TLS library (tls_param_init, in tls_client.c and
#: tls_server.c), whose tables the knowledge base lists as program "tls".
_TLS_PROGRAMS = frozenset({"smtpd", "smtp", "lmtp", "tlsproxy", "tlsmgr"})


#: The delivery agents: the queue manager starts one only for mail routed to a transport
#: (a master.cf unix service) that runs it, so being in master.cf is not enough.
_AGENTS = frozenset({"local", "virtual", "pipe", "smtp", "lmtp", "error", "discard"})
#: The parameters that name a transport outside the address classes (postconf(5)).
_TRANSPORTS = ("content_filter", "mailbox_transport", "fallback_transport")
#: Tables that route mail to transports: their contents are not known here.
_TRANSPORT_TABLES = (
    "transport_maps",
    "sender_dependent_default_transport_maps",
    "sender_dependent_relayhost_maps",
    "mailbox_transport_maps",
    "fallback_transport_maps",
)


def _used_transports(ctx: Context) -> set[str] | None:
    """The transports mail can be routed to, from the model: each address class that has
    domains (the default class always) delivers with its transport, and content_filter,
    mailbox_transport and fallback_transport (in main.cf or a service's -o) name theirs;
    None when a transport table may name any transport."""
    conf = ctx.configuration
    if any((conf.value(name) or "").strip() for name in _TRANSPORT_TABLES):
        return None
    used = {
        transport_name(cls.transport)
        for cls in ctx.postfix.address_classes
        if cls.transport
        and (cls.domains_parameter is None or (cls.domains is not None and cls.domains.items))
    }
    used |= {t.transport for t in ctx.postfix.named_transports if t.parameter in _TRANSPORTS}
    for daemon, override in ctx.effective_overrides():
        if override.name in _TRANSPORTS and override.value.strip():
            used.add(transport_name(override.value))
    return used


def _agent_used(daemon: Daemon, used: set[str] | None) -> bool:
    """Whether the daemon runs: a delivery agent only when mail is routed to its service."""
    if daemon.program not in _AGENTS or used is None:
        return True
    return daemon.type == "unix" and daemon.name in used


def _running(ctx: Context) -> frozenset[str] | None:
    """The programs this configuration runs: master.cf's daemons, the delivery agents of
    the transports mail is routed to, and the ones that always run; None when that is not
    known (no master.cf, or Postfix's stock one standing in for a file not found)."""
    if ctx.master is None or ctx.master_is_stock:
        return None
    used = _used_transports(ctx)
    programs = {d.program for d in ctx.postfix.daemons if _agent_used(d, used)} | _ALWAYS
    if programs & _TLS_PROGRAMS:
        programs.add("tls")
    return frozenset(programs)


def _unused_agents(ctx: Context) -> frozenset[str]:
    """The delivery agents that no transport mail is routed to runs (with the stock
    master.cf too: its virtual service, say, is not used when virtual_transport names
    another)."""
    used = _used_transports(ctx)
    if used is None:
        return frozenset()
    daemons = ctx.postfix.daemons
    agents = {d.program for d in daemons} & _AGENTS
    return frozenset(agents - {d.program for d in daemons if _agent_used(d, used)})


def _daemon_programs(daemon: Daemon) -> frozenset[str]:
    """What reads an ``-o`` value of this daemon: its program and what every program reads."""
    program = daemon.program
    return frozenset({program, "all"} | ({"tls"} if program in _TLS_PROGRAMS else set()))


def _who(programs: list[str], verb: str = "stops") -> str:
    """The programs as the subject of ``verb`` ("stops" agrees with the number of them)."""
    names: list[str] = []
    for program in sorted(set(programs), key=lambda p: (p != "all", p)):
        if program == "all":
            return f"every Postfix program {verb}"
        if program == "tls":
            names.append("the programs that use TLS")
        elif program in _COMMANDS:
            names.append(f"the {program} command")
        else:
            names.append(program)
    if len(names) == 1 and not names[0].startswith("the programs"):
        return f"{names[0]} {verb}"
    first, _, rest = verb.partition(" ")
    plural = first.removesuffix("s") + (f" {rest}" if rest else "")
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + f"{names[-1]} {plural}"


def _every(setting: _Setting) -> list[str]:
    """What a value read by mail_params_init() stops: every program, or with an ``-o``
    value the program of that service."""
    return [setting.daemon.program] if setting.daemon else ["all"]


@attrs.frozen
class _Setting:
    """One place a value is set: a main.cf entry that takes effect (the last definition of
    its name), or an ``-o`` a daemon runs with.  ``readers`` limits the programs that see
    it (None: whatever reads the parameter)."""

    name: str
    text: str
    entry: Parameter | None
    daemon: Daemon | None = None
    override: Override | None = None

    @property
    def readers(self) -> frozenset[str] | None:
        return _daemon_programs(self.daemon) if self.daemon is not None else None

    def where(self) -> str:
        return f" in {self.daemon.key}'s -o" if self.daemon is not None else ""


def _settings(ctx: Context, names: Callable[[str], bool] | None = None) -> Iterator[_Setting]:
    """Every value that takes effect (the context's effective entries and overrides: the
    last main.cf definition of each name, and the -o each daemon reads with its getopt)."""
    for entry in ctx.effective_entries():
        if (names is None or names(entry.name)) and not _comment_stops(ctx, entry):
            yield _Setting(entry.name, entry.value, entry)
    for daemon, override in ctx.effective_overrides():
        if names is None or names(override.name):
            yield _Setting(override.name, override.value, None, daemon, override)


def _comment_stops(ctx: Context, entry: Parameter) -> bool:
    """Whether a ``#`` written after the value is what makes it one Postfix refuses, and
    SYN004 says so as an error (a value every program checks at start-up, a number, time,
    yes/no or choice): the value rules leave that value to it, not to report it twice."""
    if not re.search(r"(?<=[ \t\r])#", entry.value):
        return False
    config = ctx.configuration
    how = reading.reading(config, entry.name)
    return reading.checked_at_startup(config, entry.name) or how in (
        reading.NUMBER,
        reading.BOOLEAN,
        reading.TIME,
        reading.CHOICE,
    )


def _view(ctx: Context, setting: _Setting) -> Configuration:
    """The model's configuration as the program that reads ``setting`` sees it: main.cf,
    or for an ``-o`` value the daemon's view (its overrides in front of main.cf)."""
    return setting.daemon.config if setting.daemon is not None else ctx.configuration


def _expanded(ctx: Context, setting: _Setting) -> Expansion:
    """The value as the program expands it."""
    found = _view(ctx, setting).expansion(setting.name)
    return found if found is not None else Expansion(setting.text)


def _known_value(ctx: Context, setting: _Setting) -> str | None:
    """The expanded value, or None when it cannot be known here (a name it uses is
    undefined or computed at start-up, or the expression has an error: PAR025's case)."""
    found = _expanded(ctx, setting)
    if found.undefined or found.errors:
        return None
    return found.text


def _at(setting: _Setting) -> Location:
    """Where a finding about the value points: the ``-o`` or the main.cf entry's value."""
    if setting.daemon is not None:
        found = at.setting(setting.daemon.config, setting.name)  # the -o: it is in effect
        assert found is not None
        return found
    assert setting.entry is not None
    return at.value(setting.entry)


def _at_word(setting: _Setting, text: str) -> Location:
    """The main.cf item written as ``text`` (values without ``$`` split the same way), else
    the whole value or ``-o``."""
    if setting.entry is not None and "$" not in setting.entry.value:
        for item in setting.entry.items:
            if item.text == text:
                return at.item(setting.entry, item)
    return _at(setting)


def _readers_running(ctx: Context, setting: _Setting, programs: list[str]) -> list[str]:
    """Which of ``programs`` (the readers the knowledge base names) see this value and run."""
    daemon = setting.daemon
    if daemon is not None and not _agent_used(daemon, _used_transports(ctx)):
        return []  # an -o value of a delivery agent no mail is routed to
    running = _running(ctx)
    unused = _unused_agents(ctx)
    readers = setting.readers
    found = [
        p
        for p in programs
        if (readers is None or p in readers)
        and (running is None or p in running)
        and p not in unused
    ]
    if daemon is not None and found:
        return [daemon.program]  # an -o value reaches this service only
    if running is None and ctx.master is not None:
        # master.cf unknown: all readers count, but name those of the stock master.cf
        stock = {d.program for d in ctx.postfix.daemons} | _ALWAYS | {"tls"}
        return [p for p in found if p in stock] or found
    return found


# ------------------------------------------------------------------------ numbers and text

_NUMBER = re.compile(r"-?\d+")
_TIME = re.compile(r"(\d+)([smhdw]?)")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_INT_MAX = 2**31 - 1


def _seconds(text: str, unit: str) -> int | None:
    """conv_time() (global/conv_time.c): a time in seconds, the parameter's own unit when
    none is written; -1 when the number or the product does not fit a C int; None when the
    text is not a time (PAR009 reports that)."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    number = int(match.group(1))
    factor = _UNIT[match.group(2) or unit]
    if number > _INT_MAX or (factor > 1 and number >= _INT_MAX // factor):
        return -1
    return number * factor


@register
class NumberOutOfRange(Rule):
    """
    ## What it finds
    A number or time below the minimum or above the maximum that the program reading it
    accepts, an integer too large for a C `int`, or an empty number.  The limits are the
    `min` and `max` of each program's configuration table (`CONFIG_INT_TABLE`,
    `CONFIG_TIME_TABLE`, `CONFIG_LONG_TABLE`, `CONFIG_NINT_TABLE` in the program's source,
    or global/mail_params.c for what every program reads), for the target release.  Only
    programs that run (master.cf's commands, master, sendmail and the other commands) count;
    a master.cf `-o` value counts for its service's program.

    ## Why it matters
    global/mail_conf_int.c (check_mail_conf_int), mail_conf_time.c, mail_conf_long.c and
    mail_conf_nint.c stop the program with "invalid ... parameter value" (or "bad
    numerical configuration", "bad time value" for a value they cannot convert): with
    `smtpd_recipient_limit = 0` smtpd never starts, with `default_process_limit = 0` no
    Postfix program does.  postconf does not check values.

    ## Postfix source
    - A number or time outside its table's minimum and maximum stops the program:
      `src/global/mail_conf_int.c`, `check_mail_conf_int()`; `src/global/mail_conf_long.c`,
      `check_mail_conf_long()`; `src/global/mail_conf_time.c`, `check_mail_conf_time()`;
      `src/global/mail_conf_nint.c`, `check_mail_conf_nint()`.  The limits are the ones in each
      program's configuration table (rules/parameters.toml, generated from them).

    ## Example
    ```
    smtpd_recipient_limit = 0
    in_flow_delay = 30s
    ```

    ## Use instead
    ```
    smtpd_recipient_limit = 1000
    in_flow_delay = 1s
    ```

    ## Fix
    Use a value within the limits the message gives.
    """

    code = "PAR018"
    name = "number-out-of-range"
    severity = "error"
    summary = "number or time outside the range its program accepts"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx):
            info = ctx.kb.parameter(setting.name)
            if info is None or info.get("kind") not in ("integer", "size", "time"):
                continue
            if not ctx.kb.known(setting.name):
                continue
            value = _known_value(ctx, setting)
            if value is None:
                continue
            time = info["kind"] == "time"
            error = "bad time value" if time else "bad numerical configuration"

            def who(setting: _Setting = setting) -> str:
                # the readers the knowledge base knows of (those with limits), else all
                known = [str(limit["program"]) for limit in ctx.kb.limits(setting.name)]
                readers = _readers_running(ctx, setting, known) if known else []
                return _who(readers) if readers else "the programs that read it stop"

            if value == "":
                self.report(
                    _at(setting),
                    f"{setting.name}{setting.where()} is empty, which is not a "
                    f"{'time' if time else 'number'}: {who()} (\"{error}\")",
                )  # fmt: skip
                continue
            if time:
                number = _seconds(value, str(info.get("unit", "s")))
            else:
                number = int(value) if _NUMBER.fullmatch(value) else None
            if number is None:
                continue  # not a number at all: PAR009 and PAR010
            if (time and number < 0) or (
                info["kind"] == "integer" and not -_INT_MAX - 1 <= number <= _INT_MAX
            ):
                self.report(
                    _at(setting),
                    f"{setting.name} = {value}{setting.where()} is too large for Postfix: "
                    f"{who()} (\"{error}\")",
                )  # fmt: skip
                continue
            self._limits(ctx, setting, value, number, time)

    def _limits(self, ctx: Context, setting: _Setting, value: str, number: int, time: bool) -> None:
        below: dict[int, list[str]] = {}
        above: dict[int, list[str]] = {}
        for limit in ctx.kb.limits(setting.name):
            low, high = limit.get("min", 0), limit.get("max", 0)
            if low and number < low:
                below.setdefault(low, []).append(limit["program"])
            if high and number > high:
                above.setdefault(high, []).append(limit["program"])
        unit = "s" if time else ""
        shown = f"{value} ({number}s)" if time and not value.endswith("s") else value
        for bound, programs in sorted(below.items(), reverse=True)[:1]:
            who = _readers_running(ctx, setting, programs)
            if who:
                self.report(
                    _at(setting),
                    f"{setting.name} = {shown}{setting.where()} is below the minimum "
                    f"{bound}{unit}: {_who(who)} at start-up",
                )  # fmt: skip
                return
        for bound, programs in sorted(above.items())[:1]:
            who = _readers_running(ctx, setting, programs)
            if who:
                self.report(
                    _at(setting),
                    f"{setting.name} = {shown}{setting.where()} is above the maximum "
                    f"{bound}{unit}: {_who(who)} at start-up",
                )  # fmt: skip


@register
class RequiredTextEmpty(Rule):
    """
    ## What it finds
    A text parameter left empty (or shorter or longer than allowed) although the program
    that reads it requires a value: `mail_owner =`, `myhostname =`, `smtpd_banner =`,
    `queue_directory =`.  The length limits are the `min` and `max` of the program's
    `CONFIG_STR_TABLE`, `CONFIG_STR_FN_TABLE` or `CONFIG_RAW_TABLE` entry for the target
    release; the value counts after `$name` expansion (raw parameters before).  Also
    `virtual_mailbox_domains` routed to virtual(8) while `virtual_mailbox_base` is left at
    its empty default, which virtual(8) refuses.

    ## Why it matters
    global/mail_conf_str.c (check_mail_conf_str) and mail_conf_raw.c stop the program with
    "bad string length": an empty `mail_owner` or `myhostname` stops every Postfix program,
    an empty `smtpd_banner` stops smtpd.  postconf does not check values.

    ## Postfix source
    - A string shorter or longer than its table allows stops the program ("bad string
      length"): `src/global/mail_conf_str.c`, `check_mail_conf_str()`;
      `src/global/mail_conf_raw.c`, `check_mail_conf_raw()`.

    ## Example
    ```
    mail_owner =
    ```

    ## Use instead
    ```
    mail_owner = postfix
    ```
    (or delete the line to get the default)

    ## Fix
    Give the parameter a value, or delete the line.
    """

    code = "PAR019"
    name = "required-text-empty"
    severity = "error"
    summary = "text the reading program requires is empty (or has the wrong length)"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx):
            info = ctx.kb.parameter(setting.name)
            if info is None or info.get("kind") in ("integer", "size", "time", "boolean"):
                continue
            limits = ctx.kb.limits(setting.name)
            if not limits:
                continue
            value = setting.text if info.get("raw") else _known_value(ctx, setting)
            if value is None:
                continue
            length = len(value.encode("utf-8", "surrogateescape"))
            for limit in limits:
                low, high = limit.get("min", 0), limit.get("max", 0)
                if not (low and length < low) and not (high and length > high):
                    continue
                who = _readers_running(ctx, setting, [limit["program"]])
                if not who:
                    continue
                if length == 0:
                    problem = "is empty"
                elif low == high:
                    problem = f"must be exactly {low} characters long, not {length}"
                elif low and length < low:
                    problem = f"is shorter than {low} characters"
                else:
                    problem = f"is longer than {high} characters"
                self.report(
                    _at(setting),
                    f"{setting.name}{setting.where()} {problem}: {_who(who)} at start-up "
                    "(\"bad string length\")",
                )  # fmt: skip
                break
        self._required_by_hand(ctx)

    def _required_by_hand(self, ctx: Context) -> None:
        """virtual_mailbox_base has an empty default that virtual(8) refuses (virtual.c,
        min 1): left unset, virtual stops as soon as mail is routed to it, which the
        virtual_mailbox_domains entry does."""
        if ctx.main is None or ctx.main.get("virtual_mailbox_base") is not None:
            return
        domains = ctx.main.get("virtual_mailbox_domains")
        if domains is None or not (ctx.configuration.value("virtual_mailbox_domains") or ""):
            return
        if ctx.configuration.value("virtual_mailbox_base") or ctx.master is None:
            return
        # the domains' mail goes to virtual_transport (resolve.c); it must be virtual(8)
        transport = (ctx.configuration.value("virtual_transport") or "").partition(":")[0]
        daemon = ctx.postfix.daemon(transport.strip(), "unix")
        if daemon is None or daemon.program != "virtual":
            return
        self.report(
            attrs.evolve(at.name(domains), parameter="virtual_mailbox_base"),
            "virtual_mailbox_base is not set, and virtual(8) requires it: virtual stops "
            '("bad string length") when mail for these domains arrives; set '
            "virtual_mailbox_base, or route the domains to another transport",
        )


# ---------------------------------------------------------------------- hosts and identities


@register
class InvalidHostname(Rule):
    """
    ## What it finds
    A `myhostname` or `mydomain` (set, or as Postfix derives `mydomain` from
    `myhostname`) that util/valid_hostname.c does not accept: an empty label (`mail..example.com`,
    a leading or trailing dot), a label that starts or ends with `-`, a label over 63
    characters, a name over 255, an all-numeric name (`192.0.2.1`), or a character other
    than letters, digits, `-` and `_` (a blank, `*`, `/`, a non-ASCII letter).  The
    underscore is allowed.

    ## Why it matters
    mail_params_init() in global/mail_params.c stops every Postfix program with "bad
    parameter value" when either name is invalid (in a master.cf `-o`, that service's
    program).  postconf does not check it.

    ## Postfix source
    - `myhostname` and `mydomain` are checked with `valid_hostname()` when every program
      starts: `src/global/mail_params.c`, `mail_params_init()` (`check_myhostname()`,
      `check_mydomainname()`); `src/util/valid_hostname.c`, `valid_hostname()`.

    ## Example
    ```
    myhostname = mail.example.com.
    ```

    ## Use instead
    ```
    myhostname = mail.example.com
    ```

    ## Fix
    Write the host's fully qualified name: labels of letters, digits and inner hyphens,
    separated by single dots.
    """

    code = "PAR020"
    name = "invalid-hostname"
    severity = "error"
    summary = "myhostname or mydomain is not a valid host name"
    needs_main = True

    def check(self, ctx: Context) -> None:
        host_reported = False
        for setting in _settings(ctx, lambda n: n in ("myhostname", "mydomain")):
            value = _known_value(ctx, setting)
            # an empty name stops the program earlier, with "bad string length" (PAR019)
            problem = hostname_problem(value) if value else None
            if problem is None:
                continue
            host_reported = host_reported or (
                setting.name == "myhostname" and setting.daemon is None
            )
            who = _who(_every(setting))
            self.report(
                _at(setting),
                f"{setting.name} = {value!r}{setting.where()} is not a valid host name "
                f"({problem}): {who} at start-up",
            )  # fmt: skip
        # mydomain left to its default: what follows the first dot of myhostname
        if host_reported or ctx.main is None or ctx.main.get("mydomain") is not None:
            return
        host = ctx.main.get("myhostname")
        domain = ctx.configuration.value("mydomain")
        if (
            host is None
            or domain is None
            or "." not in (ctx.configuration.value("myhostname") or "")
        ):
            return
        problem = hostname_problem(domain)
        if problem is not None:
            self.report(
                at.value(host),
                f"mydomain, taken from myhostname, is {domain!r}, which is not a valid host "
                f"name ({problem}): every Postfix program stops at start-up; set mydomain",
            )


@register
class RelayhostIsMyhostname(Rule):
    """
    ## What it finds
    `relayhost` set to the same name as `myhostname` (compared without regard to case,
    after `$name` expansion), typically `relayhost = $myhostname`.

    ## Why it matters
    mail_params_init() in global/mail_params.c refuses it ("must not be identical") and
    every Postfix program stops at start-up: mail sent to the relay host would come back
    to this host.  postconf 3.7 accepts the file without a word.

    ## Postfix source
    - `src/global/mail_params.c`, `mail_params_init()`: "parameter settings must not be
      identical" for `relayhost` and `myhostname`.

    ## Example
    ```
    myhostname = mail.example.com
    relayhost = $myhostname
    ```

    ## Use instead
    ```
    myhostname = mail.example.com
    relayhost = [smtp.provider.example]:587
    ```

    ## Fix
    Name the provider's or smarthost's server, or leave relayhost empty to deliver directly.
    """

    code = "PAR021"
    name = "relayhost-is-myhostname"
    severity = "error"
    summary = "relayhost names this host itself"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx, lambda n: n == "relayhost"):
            relay = _expanded(ctx, setting)
            found = _view(ctx, setting).expansion("myhostname")
            host = found.text if found is not None and not found.errors else None
            literal = setting.text.strip() in ("$myhostname", "${myhostname}", "$(myhostname)")
            same = literal or (
                host is not None
                and not relay.errors
                and not relay.undefined
                and relay.text.lower() == host.lower()
            )
            if not same or not setting.text:
                continue
            who = _who(_every(setting))
            named = f" ({host})" if host else ""
            self.report(
                _at(setting),
                f"relayhost{setting.where()} is myhostname{named}: {who} at start-up "
                "(\"must not be identical\")",
            )  # fmt: skip


@register
class MyoriginMultipleValues(Rule):
    """
    ## What it finds
    A `myorigin` whose value (after `$name` expansion) holds more than one word: a comma or
    a blank, as in `myorigin = example.com, example.net` or a comment written after the
    value on the same line.

    ## Why it matters
    mail_params_init() in global/mail_params.c refuses it ("must not contain multiple
    values") and every Postfix program stops at start-up.  postconf 3.7 accepts it.  A
    value starting with `/` is left alone: Debian's Postfix reads the origin from that file.

    ## Postfix source
    - `src/global/mail_params.c`, `mail_params_init()`: "parameter setting must not
      contain multiple values" for `myorigin`.

    ## Example
    ```
    myorigin = example.com, example.net
    ```

    ## Use instead
    ```
    myorigin = example.com
    ```

    ## Fix
    Keep one domain: myorigin is the single domain appended to unqualified addresses.
    """

    code = "PAR022"
    name = "myorigin-multiple-values"
    severity = "error"
    summary = "myorigin holds more than one value"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx, lambda n: n == "myorigin"):
            value = _known_value(ctx, setting)
            if value is None or value.startswith("/"):
                continue
            if not any(ch in value for ch in LIST_SEPARATORS):  # strcspn(CHARS_COMMA_SP)
                continue
            who = _who(_every(setting))
            self.report(
                _at(setting),
                f"myorigin = {value!r}{setting.where()} holds more than one value: {who} "
                "at start-up (\"must not contain multiple values\")",
            )  # fmt: skip


@register
class MailOwnerIsDefaultPrivs(Rule):
    """
    ## What it finds
    `default_privs` naming the same user as `mail_owner` (defaults: `nobody` and
    `postfix`), for example `default_privs = postfix`.

    ## Why it matters
    check_overlap() in global/mail_params.c stops every Postfix program ("specify the same
    user"): local(8) would run commands and write files for aliases with the rights of the
    user that owns the queue.  postconf 3.7 accepts it.

    ## Postfix source
    - `src/global/mail_params.c`, `check_overlap()`: `mail_owner` and `default_privs`
      must not name the same user ("specify the same user").

    ## Example
    ```
    default_privs = postfix
    ```

    ## Use instead
    ```
    default_privs = nobody
    ```

    ## Fix
    Use an unprivileged account of its own for default_privs.
    """

    code = "PAR023"
    name = "mail-owner-is-default-privs"
    severity = "error"
    summary = "default_privs is the mail_owner user"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        conf = ctx.configuration
        owner, privs = conf.expansion("mail_owner"), conf.expansion("default_privs")
        if owner is None or privs is None or owner.errors or privs.errors:
            return
        if owner.undefined or privs.undefined or owner.text != privs.text:
            return
        entry = ctx.main.get("default_privs") or ctx.main.get("mail_owner")
        if entry is None:
            return
        self.report(
            at.value(entry),
            f"default_privs and mail_owner are both {owner.text!r}: every Postfix program "
            'stops at start-up ("specify the same user")',
        )


# ------------------------------------------------------------------------------ syntax


@register
class MalformedCompatibilityLevel(Rule):
    """
    ## What it finds
    A `compatibility_level` that the target release cannot read: from Postfix 3.6 on, not
    `N`, `N.N` or `N.N.N` with minor and patch numbers up to 1023 (`three`, `3.6.x`,
    `3.`); before 3.6, anything but a whole number (`3.6` on a 3.5 server).

    ## Why it matters
    mail_params_init() reads the level first, through compat_level_from_string() in
    global/compat_level.c (3.6+), or as a number before: with a value it cannot read,
    every Postfix program stops ("malformed compatibility level syntax", "bad numerical
    configuration"); so does postconf 3.7.

    ## Postfix source
    - `src/global/compat_level.c`, `compat_level_from_string()` (3.6 and later) reads the
      level in `src/global/mail_params.c`, `mail_params_init()`; before 3.6 it is read as a
      number (`src/global/mail_conf_int.c`, `convert_mail_conf_int()`).

    ## Example
    ```
    compatibility_level = three
    ```

    ## Use instead
    ```
    compatibility_level = 3.6
    ```

    ## Fix
    Write the level as digits, such as `3.6`, or `2` before Postfix 3.6.
    """

    code = "PAR024"
    name = "malformed-compatibility-level"
    severity = "error"
    summary = "compatibility_level that Postfix cannot read"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 0):
            return  # no such parameter yet: PAR007
        for setting in _settings(ctx, lambda n: n == "compatibility_level"):
            value = _known_value(ctx, setting)
            if value is None:
                continue
            if ctx.target[:2] >= (3, 6):
                if compatibility_level(value) is not None:
                    continue
                problem = "malformed compatibility level syntax"
                hint = "write N, N.N or N.N.N, such as 3.6"
            else:
                # an int parameter before 3.6 (mail_params.c, first_int_defaults)
                if _NUMBER.fullmatch(value) and abs(int(value)) <= _INT_MAX:
                    continue
                problem = "bad numerical configuration"
                hint = "before Postfix 3.6 the level is a whole number, such as 2"
            self.report(
                _at(setting),
                f"compatibility_level = {value!r}{setting.where()} cannot be read: "
                f"{_who(_every(setting))} (\"{problem}\"); {hint}",
            )  # fmt: skip


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expanded_names(ctx: Context) -> set[str]:
    """Names whose value some program expands: the parameters the target release knows and
    the names other values refer to."""
    names = set(ctx.kb.names())
    for setting in _settings(ctx):
        names.update(ref.name for ref in find_references(setting.text))
    return names


@register
class MacroSyntaxError(Rule):
    """
    ## What it finds
    A `$` expression that Postfix cannot parse, in a main.cf value or a master.cf `-o`
    value: an unbalanced `${` or `$(` (`${myhostname ESMTP`), an empty `${}`, a name with
    other characters than letters, digits and `_` (`${my-host}`), an unbalanced `{` in
    `${name?{...}}`, a comparison `${{a} op {b}?...}` with an unknown operator, an operand
    outside braces, or text where `?` or `:` belongs.  The checks are those of mac_parse()
    and mac_expand() in util/mac_parse.c and util/mac_expand.c, as pfconf.expand repeats
    them; a value nested too deeply is SYN005's.  Also (Postfix 3.2 and later) a
    comparison whose operands are both all digits where one of them is larger than a C
    long holds (9223372036854775807; leading zeros do not count):
    `${{99999999999999999999} > {1}?{big}}`.  Parameters Postfix reads without expansion
    (`mailbox_command`, `default_rbl_reply`...) and unknown names that nothing refers to
    are skipped.

    ## Why it matters
    Every program that reads the parameter stops with "macro processing error" after the
    warning (util/dict.c, dict_eval()).  For a parameter Postfix knows, postconf stops
    too (it expands them all), and `postfix start`, whose script runs postconf, fails:
    Postfix does not start at all.  A number too large stops the same programs at once,
    with "mac_exp_eval: bad conversion" (postconf 3.7 does, even for `postconf -n`).

    ## Postfix source
    - A value with a `$` syntax error stops the program that expands it:
      `src/util/dict.c`, `dict_eval()` ("macro processing error"), after
      `src/util/mac_expand.c`, `mac_expand()` reports the error.
    - A comparison compares numbers when both operands are all ASCII digits
      (`src/util/mac_expand.c`, `mac_exp_eval()`, with `alldig()`), converted by
      `atol_or_die()` in the same file: strtol() in base 10, and ERANGE is fatal ("bad
      conversion").  Postfix 3.0 and 3.1 used atol() there, without a check.

    ## Example
    ```
    smtpd_banner = ${myhostname ESMTP
    ```

    ## Use instead
    ```
    smtpd_banner = ${myhostname} ESMTP
    ```

    ## Fix
    Balance the braces, or write `$$` for a literal dollar sign; compare only numbers
    that fit a long (or put a non-digit in one operand to compare them as text).
    """

    code = "PAR025"
    name = "macro-syntax-error"
    severity = "error"
    summary = "$-expression that Postfix cannot parse"
    needs_main = True

    def check(self, ctx: Context) -> None:
        names = _expanded_names(ctx)
        for setting in _settings(ctx, lambda n: n in names):
            info = ctx.kb.parameter(setting.name) or {}
            if info.get("raw") or "$" not in setting.text:
                continue
            # the names a value uses are checked where they are set: no recursion here
            found = expand(setting.text, _view(ctx, setting).raw, recurse=False)
            errors = [
                e
                for e in found.errors
                if not e.startswith("unreasonable macro call nesting")  # SYN005
                and (e != found.fatal or ctx.target[:2] >= (3, 2))  # atol() before 3.2
            ]
            if not errors:
                continue
            # postconf expands the parameters it knows, and postfix-script runs it
            by_postconf = setting.daemon is None and ctx.kb.known(setting.name)
            if errors[0] == found.fatal:
                number = errors[0].rpartition(": ")[2]
                who = "postconf, postfix start and " if by_postconf else ""
                message = (
                    f"{setting.name}{setting.where()}: {_shorten(number, 40)} in a comparison "
                    f"does not fit a long (at most {LONG_MAX}): {who}the programs that read "
                    f'{setting.name} stop ("mac_exp_eval: bad conversion")'
                )
            else:
                if by_postconf:
                    effect = "postconf stops, and with it postfix start"
                else:
                    effect = f"the programs that read {setting.name} stop"
                message = (
                    f"{setting.name}{setting.where()}: {_shorten(errors[0])}: {effect} "
                    '("macro processing error")'
                )
            self.report(_at(setting), message)


@register
class UnbalancedBrace(Rule):
    """
    ## What it finds
    A `{` without its `}` (or text right after a `}`) in a list whose items Postfix
    takes out of braces: `import_environment` and `export_environment`
    (global/mail_parm_split.c), `smtpd_milters` and `non_smtpd_milters`
    (milter/milter.c, milter_create()).

    ## Why it matters
    extpar() reports "missing '}'" or "syntax error after '}'" and the program stops:
    every program for `import_environment`, smtpd or cleanup for the milter lists, the
    delivery agents that run commands for `export_environment`.  postconf 3.7 says nothing
    about main.cf.

    ## Postfix source
    - `src/util/extpar.c`, `extpar()`: a `{` without its `}` ("missing '}'") or text
      after the `}`; the callers stop on it (milter lists: `src/milter/milter.c`,
      `milter_new()`; environment lists: `src/global/mail_parm_split.c`,
      `mail_parm_split()`).

    ## Example
    ```
    smtpd_milters = { inet:127.0.0.1:8891, connect_timeout = 10s
    ```

    ## Use instead
    ```
    smtpd_milters = { inet:127.0.0.1:8891, connect_timeout = 10s }
    ```

    ## Fix
    Close the brace.
    """

    code = "PAR026"
    name = "unbalanced-brace"
    severity = "error"
    summary = "{ without } in a list whose items Postfix unwraps"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(
            ctx, lambda n: bool((ctx.kb.parameter(n) or {}).get("braced_items"))
        ):
            info = ctx.kb.parameter(setting.name) or {}
            value = _known_value(ctx, setting)
            if value is None or not _readers_running(
                ctx, setting, list(info.get("read_by", ["all"]))
            ):
                continue
            for token in split_list(value):
                if not token.text.startswith("{") or strip_braces(token.text) is not None:
                    continue
                level, end = 0, -1
                for index, ch in enumerate(token.text):
                    level += {"{": 1, "}": -1}.get(ch, 0)
                    if level == 0:
                        end = index
                        break
                problem = "missing '}'" if end < 0 else "syntax error after '}'"
                who = _who(_readers_running(ctx, setting, list(info.get("read_by", ["all"]))))
                self.report(
                    _at_word(setting, token.text),
                    f"{setting.name}{setting.where()}: {problem} in {token.text[:40]!r}: {who}",
                )
                break


@register
class NegationWithoutPattern(Rule):
    """
    ## What it finds
    A `!` with nothing after it in a match list (`mynetworks`, `relay_domains`,
    `smtpd_client_event_limit_exceptions`, `debug_peer_list`, the `*_networks` and
    `*_domains` lists...), usually a blank written between `!` and its pattern:
    `mynetworks = 127.0.0.0/8, ! 192.168.1.0/24`.

    ## Why it matters
    match_list_parse() in util/match_list.c stops the program that reads the list ("no
    pattern after '!'"); for `mynetworks` that is smtpd and every program that checks
    `permit_mynetworks`.  postconf 3.7 accepts it.

    ## Postfix source
    - `src/util/match_list.c`, `match_list_parse()`: "no pattern after '!'" stops the
      program that reads the list.

    ## Example
    ```
    mynetworks = 127.0.0.0/8, ! 192.168.1.0/24
    ```

    ## Use instead
    ```
    mynetworks = 127.0.0.0/8, !192.168.1.0/24
    ```

    ## Fix
    Write the `!` right before its pattern.
    """

    code = "PAR027"
    name = "negation-without-pattern"
    severity = "error"
    summary = "! without a pattern in a match list"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx, ctx.configuration.reads_as_match_list):
            value = _known_value(ctx, setting)
            if value is None:
                continue
            for token in split_list(value):
                if token.text.startswith("#"):
                    break  # the rest is dropped (SYN004)
                if token.text.strip("!"):
                    continue
                message = (
                    f"{setting.name}{setting.where()}: {token.text!r} has no pattern after "
                    "it: the programs that read the list stop (\"no pattern after '!'\"); "
                    "write the ! right before its pattern"
                )
                self.report(_at_word(setting, token.text), message)
                break


# ----------------------------------------------------------------------------- word sets

_HEX = re.compile(r"0[xX][0-9a-fA-F]+")


def _tls_in_use(ctx: Context, setting: _Setting) -> bool:
    """For a ``*_tls_loglevel``: whether the program starts TLS at all, which is when it
    reads the level (tls_server_init, tls_client_init); True for other parameters.  The
    model says it: an SMTP server whose TLS is not ``none``, an SMTP or LMTP client whose
    level is not ``none`` or that has a per-destination policy table."""
    prefix = setting.name.removesuffix("_tls_loglevel")
    if prefix == setting.name:
        return True
    key = setting.daemon.key if setting.daemon is not None else None
    if prefix == "smtpd":
        servers = ctx.postfix.smtp_servers
        return any(s.tls.state != "none" for s in servers if key is None or s.key == key)
    clients = [c for c in ctx.postfix.smtp_clients if c.protocol == prefix]
    return any(
        c.tls.level != "none" or c.tls.policy_maps for c in clients if key is None or c.key == key
    )


@register
class UnknownWordInSet(Rule):
    """
    ## What it finds
    A word that a set-valued parameter does not have, such as `notify_classes = resource,
    sofware` or `receive_override_options = no_address_mapping`.  The words are those of
    the name table the reading program hands to name_mask() (util/name_mask.c), for the
    target release (rules/parameter_tables.toml names each table: `mail_error_masks` in
    global/mail_error.c, `file_mask` in local/local.c...); most compare case-sensitively.
    `inet_protocols`, `allow_mail_to_commands`, `allow_mail_to_files`,
    `prepend_delivered_header`, `propagate_unmatched_extensions`, the canonical and
    masquerade classes, `mailbox_delivery_lock`, `smtpd_proxy_options`,
    `smtp_host_lookup` and others are checked.

    ## Why it matters
    For most of these name_mask() stops the program ("unknown ... value"): local(8) for
    `allow_mail_to_files`, cleanup for the canonical classes, every program for
    `inet_protocols`; postconf 3.7 accepts it.  A few parameters skip an unknown word
    (`*_discard_ehlo_keywords`, `smtp_pix_workarounds`) or skip it with a warning
    (`tls_ssl_options`, `tls_disable_workarounds`): the setting the word was meant to make
    is not made, a warning here; for `*_tls_loglevel` an unknown word makes the whole
    value count as no logging, with a warning.

    Also, as a warning, an `internal_mail_filter_classes` whose words are all known but
    none of them `bounce` or `notify` (Postfix 3.0 and later also know `sendmail`,
    `smtpd`, `qmqpd`, `forward` and `verify`, which select nothing): int_filt_flags()
    logs "bad input" each time bounce, smtpd, smtp or verify posts a message, and no
    internal mail is filtered, as if the value were empty.

    ## Postfix source
    - `src/util/name_mask.c`, `name_mask_delim_opt()`: an unknown word stops the program
      (NAME_MASK_FATAL, the default) or is skipped, with a warning for NAME_MASK_WARN and
      silently for NAME_MASK_IGNORE, as each caller asks.
    - `src/global/int_filt.c`, `int_filt_flags()`: only `notify` and `bounce` map to a
      class in its table, the other words to 0; a value that is not empty but gives 0
      logs "bad input" and no class is filtered.  It is called from
      `src/global/post_mail.c`, `post_mail_init()`, whenever bounce, smtpd, smtp or
      verify posts a message.

    ## Example
    ```
    notify_classes = resource, sofware
    ```

    ## Use instead
    ```
    notify_classes = resource, software
    ```

    ## Fix
    Use a word from the list the message gives (with its case).  For
    `internal_mail_filter_classes`, list `bounce` and/or `notify`, or leave it empty.
    """

    code = "PAR028"
    name = "unknown-word-in-set"
    severity = "error"
    summary = "word a set-valued parameter does not have"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for setting in _settings(ctx, lambda n: ctx.kb.words(n) is not None):
            info = ctx.kb.parameter(setting.name) or {}
            words = ctx.kb.words(setting.name) or []
            value = _known_value(ctx, setting)
            if value is None:
                continue
            exact = bool(info.get("exact_case"))
            known = set(words) if exact else {w.lower() for w in words}
            mode = str(info.get("unknown_words", "fatal"))
            who = _readers_running(ctx, setting, list(info.get("read_by", ["all"])))
            if not who or not _tls_in_use(ctx, setting):
                continue
            unknown = False  # a word outside the table (a hex mask counts too)
            for token in split_list(value, LIST_SEPARATORS, parens="\0\0"):
                word = token.text
                if (word if exact else word.lower()) in known:
                    continue
                unknown = True
                if info.get("numbers") and _HEX.fullmatch(word):
                    continue
                close = [w for w in words if w.lower() == word.lower()]
                hint = f"; write {close[0]} (case matters)" if close else ""
                choices = ", ".join(w for w in words if w)
                if mode == "fatal":
                    effect = f'{_who(who)} ("unknown ... value")'
                    severity = "error"
                elif mode == "return":
                    effect = _who(who, "ignores the whole value") + " with a warning"
                    severity = "warning"
                else:
                    effect = _who(who, "skips it") + (" with a warning" if mode == "warn" else "")
                    severity = "warning"
                message = (
                    f"{setting.name}{setting.where()}: {word!r} is not one of {choices}: "
                    f"{effect}{hint}"
                )
                self.report(_at_word(setting, word), message, severity=severity)
                if mode in ("fatal", "return"):
                    break  # the program stops, or gives up the value, at the first one
            if not unknown:
                self._none_set(ctx, setting, value, who)

    def _none_set(self, ctx: Context, setting: _Setting, value: str, who: list[str]) -> None:
        """A value whose words are all known but together set no bit, where the readers
        then do something of their own (``none_set``: int_filt_flags() warns)."""
        info = ctx.kb.parameter(setting.name) or {}
        effect = info.get("none_set")
        case = (lambda w: w) if info.get("exact_case") else str.lower
        inert = {case(w) for w in ctx.kb.inert_words(setting.name)}
        words = [t.text for t in split_list(value, LIST_SEPARATORS, parens="\0\0")]
        # int_filt_flags() looks at a value that is not empty (only separators count)
        if effect is None or not value or not {case(w) for w in words} <= inert:
            return
        useful = [w for w in ctx.kb.words(setting.name) or [] if case(w) not in inert]
        if not words:
            what = f"{value!r} names none of {', '.join(useful)}"
        else:
            verb = "selects" if len(words) == 1 else "select"
            what = f"{', '.join(words)} {verb} nothing (only {', '.join(useful)} do)"
        self.report(
            _at(setting),
            f"{setting.name}{setting.where()}: {what}: {_who(who, str(effect))}",
            severity="warning",
        )
