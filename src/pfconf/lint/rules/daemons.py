"""master.cf entries that master(8) or the daemon it starts refuses, and settings that need a
service master.cf lacks.

The facts about each daemon (its server skeleton, option letters, process limit, privilege)
are in rules/daemons.toml; this module reads a service's command line the way that daemon's
getopt does, which differs from postconf's reading (pfconf.model) for options with values.
Like the other master.cf rules, nothing here judges the stock master.cf pflint assumes when
none was found.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from ...expand import expand
from ...kb import load_table, parse_version
from ...model import Override, Parameter, Service, split_nameval
from ...semantics import yes
from ...values import LookupTable, find_tables, split_list, strip_braces
from ..context import Context, ServiceConfig
from ..finding import Finding
from ..restrictions import LISTS, Restriction, parse_list
from ..rule import Rule, register


def _real(ctx: Context) -> bool:
    return ctx.master is not None and not ctx.master_is_stock


def _program(service: Service) -> str:
    return os.path.basename(service.command)


def _daemon(service: Service) -> dict[str, Any] | None:
    """What rules/daemons.toml says of the program a service runs, or None."""
    daemons: dict[str, dict[str, Any]] = load_table("daemons").get("daemons", {})
    return daemons.get(_program(service))


def _since(ctx: Context, version: str | None) -> bool:
    """Whether the target release has a fact that holds since ``version`` (None: never)."""
    return version is not None and ctx.target[:2] >= parse_version(version)[:2]


def _disabled(ctx: Context, service: Service) -> bool:
    """Whether master_service_disable keeps master from running the service
    (global/match_service.c, match_service_match: ``name/type`` or a bare type, case
    ignored, ``!`` negates, the first match decides; ``name.type`` is the old form)."""
    if ctx.main is None or ctx.main.get("master_service_disable") is None:
        return False
    value = ctx.configuration.value("master_service_disable") or ""
    for token in split_list(value):
        pattern = token.text
        if "/" not in pattern and "." in pattern:
            head, _, tail = pattern.rpartition(".")
            pattern = f"{head}/{tail}"
        match = True
        while pattern.startswith("!"):
            match, pattern = not match, pattern[1:]
        subject = service.key if "/" in pattern else service.type
        if subject.lower() == pattern.lower():
            return match
    return False


def _running(ctx: Context) -> Iterator[ServiceConfig]:
    """The services of a real master.cf that master runs."""
    if not _real(ctx):
        return
    for config in ctx.services:
        if not _disabled(ctx, config.service):
            yield config


def _started(ctx: Context, service: Service) -> bool:
    """Whether master ever starts the daemon: postlogd runs only when programs log through
    it, which they do only with maillog_file set (global/maillog_client.c,
    maillog_client_init); the other daemons are asked for in normal operation."""
    if _program(service) != "postlogd":
        return True
    return ctx.main is not None and bool((ctx.configuration.value("maillog_file") or "").strip())


def _service_value(ctx: Context, config: ServiceConfig | None, name: str) -> str | None:
    """The value of ``name`` a daemon of ``config`` works with: its ``-o`` override expanded
    (other overrides of the same service first, then main.cf and the defaults), or the
    model's value; None when it has none."""
    override = config.service.override(name) if config is not None else None
    if override is None or config is None:
        return ctx.configuration.value(name)
    overrides = config.service.overrides

    def lookup(other: str) -> str | None:
        if other in overrides:
            return overrides[other]
        return ctx.configuration.raw(other)

    return expand(override.value, lookup).text


def _integer(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


# -- the daemon's reading of its command line ---------------------------------------------


@attrs.frozen
class _Word:
    """One command argument as the daemon receives it: ``text`` after master stripped its
    braces, ``index`` the word's position in Service.arguments."""

    text: str
    index: int


@attrs.frozen
class _Option:
    letter: str
    word: _Word  # the word that holds the letter
    value: _Word | None  # the word that holds its value (the same word for "-ovalue")
    value_text: str | None


@attrs.frozen
class _Reading:
    """A command line as the daemon's getopt reads it: the options, the letters it refuses
    (``errors``: (letter, word, why)), and the plain arguments after the options."""

    options: tuple[_Option, ...]
    errors: tuple[tuple[str, _Word, str], ...]
    plain: tuple[_Word, ...]

    def has(self, letters: str) -> bool:
        return any(option.letter in letters for option in self.options)


def _words(ctx: Context, service: Service) -> list[_Word] | None:
    """The command's arguments as master passes them (master_ent.c, get_master_ent: a word
    in ``{ }`` loses its braces from Postfix 3.0); None when master refuses one."""
    words = []
    for index, argument in enumerate(service.arguments):
        if index < 8:
            continue
        text = argument.text
        if text.startswith("{") and ctx.target[:2] >= (3, 0):
            inside = strip_braces(text)
            if inside is None:
                return None
            text = inside
        words.append(_Word(text, index))
    return words


def _getopt_letters(ctx: Context, skeleton: str) -> str | None:
    """The option string of ``skeleton``'s getopt in the target release."""
    info = load_table("daemons").get("skeletons", {}).get(skeleton, {})
    letters = None
    for step in info.get("getopt", ()):
        if _since(ctx, step["since"]):
            letters = step["options"]
    return str(letters) if letters is not None else None


def _getopt(words: list[_Word], letters: str) -> _Reading:
    """POSIX getopt with the "+" Postfix prepends (util/sys_defs.h GETOPT): options end at
    ``--`` (consumed) or at the first word that does not start with ``-`` or is ``-``; an
    unknown letter, or a letter that takes a value and has none, is an error."""
    options: list[_Option] = []
    errors: list[tuple[str, _Word, str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        text = word.text
        if text == "--":
            i += 1
            break
        if not text.startswith("-") or text == "-":
            break
        j = 1
        while j < len(text):
            letter = text[j]
            at = letters.find(letter)
            if letter == ":" or at < 0:
                errors.append((letter, word, "unknown"))
                j += 1
                continue
            if at + 1 < len(letters) and letters[at + 1] == ":":
                if j + 1 < len(text):
                    options.append(_Option(letter, word, word, text[j + 1 :]))
                elif i + 1 < len(words):
                    i += 1
                    options.append(_Option(letter, word, words[i], words[i].text))
                else:
                    errors.append((letter, word, "no value"))
                break
            options.append(_Option(letter, word, None, None))
            j += 1
        i += 1
    return _Reading(tuple(options), tuple(errors), tuple(words[i:]))


def _reading(ctx: Context, service: Service) -> _Reading | None:
    """How the daemon of ``service`` reads its arguments; None for a program
    rules/daemons.toml does not know, or arguments master refuses."""
    daemon = _daemon(service)
    if daemon is None:
        return None
    letters = _getopt_letters(ctx, daemon["skeleton"])
    words = _words(ctx, service)
    if letters is None or words is None:
        return None
    return _getopt(words, letters)


def _mst007_word(service: Service) -> int | None:
    """The index of the word MST007 reports as the rest of an -o value cut at a blank
    (its condition, from postconf's reading of the line), or None."""
    words = service.arguments
    reading = service.daemon_arguments
    end = reading.options_end
    if end >= len(words) or words[end].text == "--":
        return None
    last = reading.args[max(reading.getopt_count - 2, 0) : reading.getopt_count]
    if len(last) == 2 and last[0] == "-o":
        return end
    return None


# -- A1: process limits --------------------------------------------------------------------


@register
class ProcessLimit(Rule):
    """
    ## What it finds
    A master.cf service whose process limit the daemon it runs does not accept.  qmgr,
    oqmgr, pickup, anvil, scache, tlsmgr, verify, postscreen and postlogd must run as one
    process (limit `1`); cleanup, bounce (also as `defer` and `trace`), flush, tlsproxy and
    dnsblog must have no limit (`0`).  A `-` stands for `default_process_limit` (100 unless
    main.cf says otherwise).  The program in the command field decides, not the service's
    name.

    Source: master/master_ent.c, get_master_ent (master passes `-l` for a limit of 1 and
    `-z` for 0); master/single_server.c, multi_server.c, trigger_server.c, event_server.c
    and dgram_server.c, *_server_main (`MAIL_SERVER_SOLITARY`: "service %s requires a process
    limit of 1"; `MAIL_SERVER_UNLIMITED`: "... of 0"); each daemon's main() names the one it
    needs (qmgr/qmgr.c, cleanup/cleanup.c, ...; the list with the release of each is in
    rules/daemons.toml).  postconf 3.7 accepts every such entry without a word.

    ## Why it matters
    The daemon stops as soon as master starts it; master logs "bad command startup --
    throttling" and tries again later.  Without qmgr no mail leaves the queue; without
    cleanup no mail enters it; without bounce nothing is deferred or bounced.

    ## Example
    ```
    qmgr      unix  n       -       n       300     4       qmgr
    cleanup   unix  n       -       n       -       -       cleanup
    ```

    ## Use instead
    ```
    qmgr      unix  n       -       n       300     1       qmgr
    cleanup   unix  n       -       n       -       0       cleanup
    ```

    ## Fix
    Set the process limit column to the value the daemon needs.
    """

    code = "MST008"
    name = "daemon-process-limit"
    severity = "error"
    summary = "process limit a single-instance or unlimited daemon refuses"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for config in _running(ctx):
            service = config.service
            daemon = _daemon(service)
            if daemon is None or not _since(ctx, daemon.get("process_limit_since")):
                continue
            if not _started(ctx, service):
                continue
            need = int(daemon["process_limit"])
            field = service.process_limit
            if field == "-":
                if ctx.main is None:
                    continue  # default_process_limit is not known
                limit = _integer(ctx.configuration.value("default_process_limit"))
                shown = f"- (default_process_limit = {limit})"
            else:
                limit = _integer(field)
                shown = field
            if limit is None or limit == need:
                continue
            reading = _reading(ctx, service)
            # the skeleton tests the flag master passes (-l, -z); written in the command
            # they count too, and -S (a stream on stdin) skips the test
            if reading is not None and reading.has(("l" if need == 1 else "z") + "S"):
                continue
            program = _program(service)
            what = "exactly one process" if need == 1 else "no process limit"
            yield ctx.at_span(
                type(self), ctx.master_path, service.field_span("process_limit"),
                f"{program} needs {what} (process limit {need}), but {service.key} has "
                f"{shown}: {program} stops as soon as master starts it (\"service "
                f"{service.name} requires a process limit of {need}\"); set it to {need}",
                service=service.key,
            )  # fmt: skip


# -- A2: the unprivileged column -----------------------------------------------------------


@register
class PrivilegeColumn(Rule):
    """
    ## What it finds
    - local, virtual, pipe and spawn with `y` or `-` in the unprivileged column (`-` means
      `y`): they must run as root to act as the recipient or the configured user.
    - smtpd with `n` in the unprivileged column on an `inet` or `pass` service: it then runs
      as root, which it refuses on a network connection.

    Source: master/master_ent.c, get_master_ent (the unprivileged column defaults to `y`;
    `y` makes master pass `-u`); master/*_server.c, *_server_main
    (`MAIL_SERVER_PRIVILEGED` with `-u`: "service %s requires privileged operation");
    local/local.c, virtual/virtual.c, pipe/pipe.c, spawn/spawn.c, main; smtpd/smtpd_peer.c,
    smtpd_peer_sockaddr_to_hostaddr ("the Postfix SMTP server must run with $mail_owner
    privileges", on every IPv4 or IPv6 connection, from Postfix 2.3).  postconf 3.7 accepts
    both without a word.

    ## Why it matters
    The delivery agent stops at start-up and every delivery through it is deferred; smtpd
    exits on each connection, so no client can deliver mail.

    ## Example
    ```
    local     unix  -       -       n       -       -       local
    smtp      inet  n       n       y       -       -       smtpd
    ```

    ## Use instead
    ```
    local     unix  -       n       n       -       -       local
    smtp      inet  n       -       y       -       -       smtpd
    ```

    ## Fix
    Put `n` in the unprivileged column of local, virtual, pipe and spawn, and `-` (or `y`)
    in smtpd's.
    """

    code = "MST009"
    name = "daemon-privilege"
    severity = "error"
    summary = "delivery agent marked unprivileged, or smtpd running as root"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for config in _running(ctx):
            service = config.service
            program = _program(service)
            daemon = _daemon(service)
            span = service.field_span("unprivileged")
            column = service.unprivileged
            if daemon is not None and _since(ctx, daemon.get("privileged_since")):
                if column in ("y", "-"):
                    shown = "'-' (which means 'y')" if column == "-" else "'y'"
                    yield ctx.at_span(
                        type(self), ctx.master_path, span,
                        f"{program} must run as root, but {service.key} has {shown} in the "
                        f"unprivileged column: {program} stops as soon as master starts it "
                        f"(\"service {service.name} requires privileged operation\"); use n",
                        service=service.key,
                    )  # fmt: skip
            elif (
                program == "smtpd"
                and column == "n"
                and service.type in ("inet", "pass")
                and _since(ctx, "2.3")
            ):
                reading = _reading(ctx, service)
                if reading is not None and reading.has("u"):
                    continue  # an explicit -u drops the privileges after all
                yield ctx.at_span(
                    type(self), ctx.master_path, span,
                    f"{service.key} runs smtpd as root ('n' in the unprivileged column): "
                    "smtpd exits on every network connection (\"the Postfix SMTP server "
                    "must run with $mail_owner privileges\"); use -",
                    service=service.key,
                )  # fmt: skip


# -- A9: the command's arguments -----------------------------------------------------------


@register
class DaemonArguments(Rule):
    """
    ## What it finds
    A master.cf command line its daemon refuses:
    - an option letter the daemon's getopt does not have (`smtpd -x`, `-O` for `-o`), or
      one that takes a value and has none (a last `-o`);
    - an `-o` whose value is not `name=value` (`-o smtpd_tls_security_level`, `-o =yes`);
    - a plain argument to a daemon that takes none (`smtpd foo`, `cleanup -o x=y z`), or
      to smtp and lmtp a word that is not `flags=...`, or a flag they do not have (only
      `D`, `O`, `R` and `X`; Postfix 3.5 and later).

    Words that MST007 reports (the rest of an `-o` value cut at a blank) are left to it;
    pipe, spawn and postscreen, whose plain arguments are not checked this way, and
    programs pflint does not know are skipped.

    Source: master/single_server.c, multi_server.c, trigger_server.c, event_server.c,
    dgram_server.c, *_server_main (the getopt strings, by release, are in
    rules/daemons.toml; `invalid option: %c` and `invalid "-o %s" option value: %s`,
    with util/split_nameval.c); each daemon's service function ("unexpected command-line
    argument: %s": smtpd/smtpd.c smtpd_service, local/local.c local_service,
    cleanup/cleanup.c cleanup_service, ...); smtp/smtp.c, get_cli_attr from post_init
    ("unknown attribute name: %s", and util/byte_mask.c for the flags).  postconf 3.7
    accepts all of these.

    ## Why it matters
    The daemon stops when master starts it or at its first request: an smtpd service with
    such a line accepts no mail at all, a delivery agent defers everything sent through it.

    ## Example
    ```
    submission inet n - y - - smtpd -o smtpd_tls_security_level
    relay      unix - - y - - smtp stray
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt
    relay      unix - - y - - smtp
    ```

    ## Fix
    Write each override as `-o name=value`, and remove words the daemon does not take.
    """

    code = "MST010"
    name = "daemon-arguments"
    severity = "error"
    summary = "command-line option or argument the daemon refuses"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for config in _running(ctx):
            service = config.service
            reading = _reading(ctx, service)
            if reading is None or not _started(ctx, service):
                continue
            refused = list(self._options(ctx, service, reading))
            yield from refused
            if not refused:
                # the daemon stops at the first bad option, before it sees its arguments;
                # and after an unknown letter the next word may be that option's value
                yield from self._plain(ctx, service, reading)

    def _at(self, ctx: Context, service: Service, word: _Word, message: str) -> Finding:
        span = service.arguments[word.index].span
        return ctx.at_span(type(self), ctx.master_path, span, message, service=service.key)

    def _options(self, ctx: Context, service: Service, reading: _Reading) -> Iterator[Finding]:
        program = _program(service)
        for letter, word, why in reading.errors:
            if why == "unknown":
                problem = f"-{letter} is not an option of {program}"
            else:
                problem = f"-{letter} needs a value and has none"
            yield self._at(
                ctx, service, word,
                f"{problem}: {program} stops at start-up (\"invalid option: {letter}\")",
            )  # fmt: skip
        split = _mst007_word(service)
        for option in reading.options:
            if option.letter != "o" or option.value is None or option.value_text is None:
                continue
            error = split_nameval(option.value_text)[0]
            if error is None:
                continue
            if split is not None and option.value.index == split - 1:
                continue  # "-o name = value": MST007 reports the "=" cut off
            yield self._at(
                ctx, service, option.value,
                f"-o {option.value_text!r} is not name=value ({error}): {program} stops at "
                "start-up (\"invalid -o option value\")",
            )  # fmt: skip

    def _plain(self, ctx: Context, service: Service, reading: _Reading) -> Iterator[Finding]:
        daemon = _daemon(service) or {}
        program = _program(service)
        split = _mst007_word(service)
        if _since(ctx, daemon.get("flags_since")):
            for word in reading.plain:
                if word.text[:6].lower() == "flags=":
                    known = daemon.get("flag_letters", "")
                    unknown = "".join(dict.fromkeys(f for f in word.text[6:] if f not in known))
                    if unknown:
                        yield self._at(
                            ctx, service, word,
                            f"{program} has no flag {', '.join(unknown)} (only {known}): "
                            f"it stops at start-up (\"unknown {word.text} value\")",
                        )  # fmt: skip
                        return
                    continue
                if word.index != split:
                    yield self._at(
                        ctx, service, word,
                        f"{program} takes only flags=... after its options: {word.text!r} "
                        f"stops it at start-up (\"unknown attribute name\")",
                    )  # fmt: skip
                return  # the first such word stops it
        elif _since(ctx, daemon.get("no_arguments_since")) and reading.plain:
            word = reading.plain[0]
            if word.index != split:
                yield self._at(
                    ctx, service, word,
                    f"{program} takes no arguments after its options: {word.text!r} stops "
                    "it (\"unexpected command-line argument\")",
                )  # fmt: skip


# -- A9: entries master refuses ------------------------------------------------------------


def _valid_hostname(name: str) -> bool:
    """util/valid_hostname.c, valid_hostname: letters, digits, ``_`` and inner ``-`` in
    labels of at most 63, dots between labels, not all digits, at most 255 in all."""
    if not name or len(name) > 255:
        return False
    numeric = True
    for label in name.split("."):
        if not label or len(label) > 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in label):
            return False
        if not label.isdigit():
            numeric = False
    return not numeric


def _valid_hostaddr(text: str) -> bool:
    """util/valid_hostname.c, valid_hostaddr: an IPv4 address, or with ``:`` an IPv6 one."""
    if ":" in text:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            return False
        return True
    return _valid_ipv4(text)


def _valid_ipv4(text: str) -> bool:
    """util/valid_hostname.c, valid_ipv4_hostaddr: four decimal octets up to 255 each
    (leading zeros allowed), and no first octet 0 but in 0.0.0.0."""
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts):
        return False
    if any(int(p) > 255 for p in parts):
        return False
    return not (int(parts[0]) == 0 and text.strip("0.") != "")


def _host_port_error(name: str) -> str | None:
    """util/host_port.c, host_port() as master calls it (default host "", no default port):
    Postfix's message for an inet service name it cannot split, else None.  Host names
    with other than ASCII letters are left alone (SMTPUTF8 may accept them)."""
    if name.startswith("["):
        rest = name[1:]
        ipv6 = rest[:5].lower() == "ipv6:"
        if ipv6:
            rest = rest[5:]
        close = rest.find("]")
        if close < 0:
            return 'missing "]"'
        host, after = rest[:close], rest[close + 1 :]
        if after and not after.startswith(":"):
            return 'garbage after "]"'
        if ipv6 and (":" not in host or not _valid_hostaddr(host)):
            return "malformed IPv6 address"
        port = after[1:]
        if not port:
            return "missing service information"
        checked_host: str | None = host
    else:
        colon = name.rfind(":")
        if colon >= 0:
            checked_host = name[:colon] or None  # "" is the default host: not checked
            port = name[colon + 1 :]
            if not port:
                return "missing service information"
        else:
            checked_host, port = None, name
    if (
        checked_host is not None
        and checked_host.isascii()
        and not _valid_hostname(checked_host)
        and not _valid_hostaddr(checked_host)
    ):
        return "valid hostname or network address required"
    if port[0].isdigit() and not port.isdigit():
        return "garbage after numerical service"
    return None


def _shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@register
class MasterRefusesEntry(Rule):
    """
    ## What it finds
    A master.cf entry that master(8) itself refuses:
    - an `inet` service that is private: `y` or `-` in the private column (`-` means `y`);
    - `-` as the command (the command has no default);
    - an `inet` service name that is not `port` or `host:port` (`[::1:10025`,
      `127.0.0.1:`, `host:25x`, `bad_host!:25`);
    - a `{` in the command's arguments without its `}`, or with text after it (Postfix 3.0
      and later).

    Source: master/master_ent.c, get_master_ent (`inet service cannot be private`, `%s in "%s"`
    after util/host_port.c host_port, `%s` after util/extpar.c extpar) and get_str_ent
    (`field "%s" has no default value`).  postconf 3.7 accepts a private
    inet service, a `-` command and a bad name, and only warns about the brace.

    ## Why it matters
    master stops while it reads master.cf: Postfix does not start at all (or, on `postfix
    reload`, the running master exits).

    ## Example
    ```
    10025      inet  -       -       n       -       -       smtpd
    127.0.0.1: inet  n       -       n       -       -       smtpd
    ```

    ## Use instead
    ```
    127.0.0.1:10025 inet  n       -       n       -       -       smtpd
    ```

    ## Fix
    Put `n` in the private column of inet services, name a program, write inet services as
    `port` or `host:port`, and close each `{`.
    """

    code = "MST011"
    name = "master-refuses-entry"
    severity = "error"
    summary = "master.cf entry master refuses: Postfix does not start"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not _real(ctx):
            return
        assert ctx.master is not None
        # master reads every line, disabled services included (master_ent.c skips a
        # disabled entry only after its name and type)
        for service in ctx.master.services:
            yield from self._entry(ctx, service)

    def _entry(self, ctx: Context, service: Service) -> Iterator[Finding]:
        rule = type(self)
        path = ctx.master_path
        key = service.key
        if _disabled(ctx, service):
            return  # master skips the rest of a disabled entry's line
        if service.type == "inet":
            error = _host_port_error(service.name) if _since(ctx, "2.2") else None
            if error is not None:
                yield ctx.at_span(
                    rule, path, service.field_span("service"),
                    f"master cannot read the inet service name {service.name!r} ({error}): "
                    "Postfix does not start; write port or host:port",
                    service=key,
                )  # fmt: skip
                return  # master stops here
            if service.private in ("y", "-"):
                shown = "'-' (which means 'y')" if service.private == "-" else "'y'"
                yield ctx.at_span(
                    rule, path, service.field_span("private"),
                    f"{key} has {shown} in the private column, but an inet service cannot "
                    "be private: master stops and Postfix does not start; use n",
                    service=key,
                )  # fmt: skip
                return
        if service.command == "-":
            yield ctx.at_span(
                rule, path, service.field_span("command"),
                f"{key} has '-' as its command, which has no default: master stops and "
                "Postfix does not start; name the program",
                service=key,
            )  # fmt: skip
            return
        if ctx.target[:2] >= (3, 0):
            for argument in service.arguments[8:]:
                if argument.text.startswith("{") and strip_braces(argument.text) is None:
                    yield ctx.at_span(
                        rule, path, argument.span,
                        f"{_shorten(argument.text)!r} has no matching '}}', or text after "
                        "it: "
                        "master stops and Postfix does not start",
                        service=key,
                    )  # fmt: skip
                    return


# -- B1: services that settings need -------------------------------------------------------


def _has_service(ctx: Context, name: str, type_: str, private: bool) -> Service | None:
    """The running service master makes at private/NAME (or public/NAME) with this type:
    ``-`` in the private column means ``y`` (master_ent.c, get_master_ent)."""
    for config in _running(ctx):
        service = config.service
        if (service.name, service.type) == (name, type_) and (service.private != "n") == private:
            return service
    return None


def _value_origin(
    ctx: Context, config: ServiceConfig | None, name: str
) -> Override | Parameter | None:
    if config is not None:
        override = config.service.override(name)
        if override is not None:
            return override
    return ctx.main.get(name) if ctx.main is not None else None


def _table_list(tables: Iterable[LookupTable]) -> Iterator[LookupTable]:
    for table in tables:
        yield table
        yield from _table_list(table.tables)


#: Tables Postfix opens for writing (O_RDWR), so a proxy: one goes to proxywrite, with the
#: program that opens each: verify/verify.c (address_verify_map), postscreen/postscreen.c
#: (postscreen_cache_map), smtp/smtp_sasl_auth_cache.c (the SASL authentication caches);
#: the same names as the default of proxy_write_maps.
_WRITTEN_TABLES = {
    "address_verify_map": "verify",
    "postscreen_cache_map": "postscreen",
    "smtp_sasl_auth_cache_name": "smtp",
    "lmtp_sasl_auth_cache_name": "lmtp",
}


def _holds_tables(ctx: Context, name: str) -> bool:
    """Whether a program opens the tables in ``name``'s value: a table or restriction list,
    a cache written through a table, or a name Postfix does not know (a restriction class or
    a value other settings use through ``$name``).  proxy_read_maps and proxy_write_maps
    list tables proxymap may open; it drops their ``proxy:`` (proxymap/proxymap.c)."""
    if name in _WRITTEN_TABLES:
        return True
    info = ctx.kb.parameter(name)
    if info is None:
        return True
    return name not in ("proxy_read_maps", "proxy_write_maps") and info.get("kind") in (
        "table_list",
        "restriction_list",
    )


_UNVERIFIED = ("reject_unverified_sender", "reject_unverified_recipient")

#: postscreen's tests after the greeting: with one of them on, postscreen talks SMTP itself
#: to clients that may pass (postscreen/postscreen_tests.c, psc_new_tests) and so offers
#: them STARTTLS (postscreen/postscreen_smtpd.c); without, it talks SMTP only to clients
#: that already failed a test with the "enforce" action
_DEEP_TESTS = (
    "postscreen_pipelining_enable",
    "postscreen_non_smtp_command_enable",
    "postscreen_bare_newline_enable",
)

#: Programs that hand mail to the cleanup service at public/$cleanup_service_name:
#: smtpd/smtpd.c and qmqpd/qmqpd.c (mail_stream_service), pickup/pickup.c (pickup_service),
#: local/forward.c (forward_open) and bounce's notices (global/post_mail.c).
_QUEUEING = ("smtpd", "pickup", "qmqpd", "local", "bounce")

_MANDATORY_TLS = ("encrypt", "dane-only", "fingerprint", "verify", "secure")


@register
class MissingService(Rule):
    """
    ## What it finds
    A setting that works through a service that a real master.cf lacks (each is in
    Postfix's stock master.cf, which pflint does not judge):
    - postscreen without the `pass` service it hands clients to: `smtpd pass` (private,
      named by `smtpd_service_name`);
    - `postscreen_dnsbl_sites` without `dnsblog unix` (`dnsblog_service_name`);
    - postscreen's STARTTLS (its TLS level `may` or `encrypt`, with a test after the
      greeting enabled), or `smtp_tls_connection_reuse = yes` with TLS, without
      `tlsproxy unix` (`tlsproxy_service_name`);
    - `reject_unverified_sender` or `reject_unverified_recipient` without `verify unix`
      (`address_verify_service_name`);
    - a `proxy:` table without `proxymap unix`, or one Postfix writes (the verify,
      postscreen and SASL caches) without `proxywrite unix` (`proxymap_service_name`,
      `proxywrite_service_name`); smtpd's default `local_recipient_maps` is a `proxy:`
      table too;
    - `cleanup_service_name` (main.cf or an `-o`) naming no public `unix` service.

    The private services must not have `n` in the private column, and cleanup must have
    it: clients connect to private/NAME or public/NAME.  A service disabled with
    `master_service_disable` counts as absent.  A master.cf without a queue manager (qmgr
    or oqmgr) is taken for a fragment meant to be merged into a whole one, and is not
    judged.

    Source: postscreen/postscreen_send.c, psc_send_socket ("cannot connect to service
    %s", then "421 4.3.2 No system resources"); postscreen/postscreen_dnsbl.c,
    psc_dnsbl_request; postscreen/postscreen_starttls.c, psc_starttls_open ("454 4.7.0 TLS
    not available due to local problem"); tls/tls_proxy_clnt.c, tls_proxy_open with
    smtp/smtp_proto.c, smtp_start_tls (no fallback to the built-in TLS; mandatory TLS
    defers with 4.7.5); smtpd/smtpd_check.c, reject_unverified_address ("%s service
    failure", "450 4.1.1 ... address verification problem") with global/verify_clnt.c;
    global/dict_proxy.c, dict_proxy_open (retries every second, without a word when the
    socket does not exist); smtpd/smtpd.c, mail_open_stream ("unable to connect to the %s
    %s service").  postconf 3.7 says nothing about any of these.

    ## Why it matters
    postscreen without its smtpd turns away every client that passes its tests; without
    verify every checked address gets a 450; a daemon that opens a proxy: table without
    proxymap hangs at start-up (smtpd with the default local_recipient_maps never answers);
    without the cleanup service smtpd drops each client at MAIL FROM.  Without dnsblog
    the DNS blocklists are never asked, and without tlsproxy STARTTLS fails.

    ## Example
    ```
    smtp      inet  n       -       y       -       1       postscreen
    # and no "smtpd pass - - y - - smtpd" line
    ```

    ## Use instead
    ```
    smtp      inet  n       -       y       -       1       postscreen
    smtpd     pass  -       -       y       -       -       smtpd
    ```

    ## Fix
    Add the service from Postfix's stock master.cf (or correct the name the setting uses).
    """

    code = "MST012"
    name = "missing-service"
    severity = "error"
    summary = "a setting needs a service master.cf lacks"
    needs_main = True

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not any(_program(c.service) in ("qmgr", "oqmgr") for c in _running(ctx)):
            return  # not a whole master.cf (or none): a fragment meant to go into one
        seen: set[tuple[str | None, int, int, str]] = set()
        for finding in self._all(ctx):
            key = (finding.path, finding.line, finding.column, finding.message)
            if key not in seen:
                seen.add(key)
                yield finding

    def _all(self, ctx: Context) -> Iterator[Finding]:
        reuse: list[tuple[ServiceConfig, str]] = []
        for config in _running(ctx):
            program = _program(config.service)
            if program == "postscreen" and _since(ctx, "2.8"):
                yield from self._postscreen(ctx, config)
            if program in ("smtp", "lmtp") and _since(ctx, "3.4"):
                reuse.append((config, program))
            if program == "smtpd" and _since(ctx, "2.1"):
                yield from self._verify(ctx, config)
            if program in _QUEUEING:
                yield from self._cleanup(ctx, config, program)
        yield from self._tls_reuse(ctx, reuse)
        yield from self._proxy(ctx)

    def _lack(
        self,
        ctx: Context,
        need: tuple[str, str, bool],
        users: str,
        effect: str,
        severity: str | None = None,
    ) -> tuple[str | None, Finding | None]:
        """Whether master.cf has the service ``need`` (name, type, private): (None, None)
        when it has; (why, None) when it lacks it, for a finding where the setting is; and
        (None, finding) when a service of that name is in the other class, whose private
        column is then the one thing to change."""
        name, type_, private = need
        if _has_service(ctx, name, type_, private):
            return None, None
        where = f"{'private' if private else 'public'}/{name}"
        other = _has_service(ctx, name, type_, not private)
        if other is None:
            return f"master.cf has no '{name} {type_}' service ({where})", None
        shown = "'-' (which means 'y')" if other.private == "-" else f"'{other.private}'"
        made = f"{'public' if private else 'private'}/{name}"
        return None, ctx.at_span(
            type(self), ctx.master_path, other.field_span("private"),
            f"{other.key} has {shown} in the private column, so master makes {made}, but "
            f"{users} connect to {where}: {effect}; use {'-' if private else 'n'}",
            service=other.key, severity=severity,
        )  # fmt: skip

    def _name(self, ctx: Context, config: ServiceConfig | None, param: str, default: str) -> str:
        value = _service_value(ctx, config, param)
        return (value or "").strip() or default

    def _at_setting(
        self, ctx: Context, config: ServiceConfig, name: str, message: str, **kw: Any
    ) -> Finding:
        """At the -o or main.cf line that sets ``name`` for ``config``, else at the service."""
        found = ctx.at_origin(type(self), config, name, message, **kw)
        if found is not None:
            return found
        return ctx.at_service(type(self), config.service, message, **kw)

    def _postscreen(self, ctx: Context, config: ServiceConfig) -> Iterator[Finding]:
        key = config.key
        smtpd = self._name(ctx, config, "smtpd_service_name", "smtpd")
        why, elsewhere = self._lack(
            ctx, (smtpd, "pass", True), "postscreen",
            "every client that passes postscreen gets a 421 instead of the SMTP server",
        )  # fmt: skip
        if elsewhere is not None:
            yield elsewhere
        elif why is not None:
            yield ctx.at_service(
                type(self), config.service,
                f"{key} runs postscreen, which hands each client that passes to "
                f"private/{smtpd}, but {why}: those clients get '421 4.3.2' instead of the "
                "real SMTP server",
            )  # fmt: skip
        if (_service_value(ctx, config, "postscreen_dnsbl_sites") or "").strip():
            dnsblog = self._name(ctx, config, "dnsblog_service_name", "dnsblog")
            why, elsewhere = self._lack(
                ctx, (dnsblog, "unix", True), "postscreen's DNSBL queries",
                "no blocklist is ever asked", severity="warning",
            )  # fmt: skip
            if elsewhere is not None:
                yield elsewhere
            elif why is not None:
                yield self._at_setting(
                    ctx, config, "postscreen_dnsbl_sites",
                    f"postscreen_dnsbl_sites for {key} needs the dnsblog service, but {why}: "
                    "no blocklist is ever asked, and every client passes the DNSBL test",
                    severity="warning",
                )  # fmt: skip
        level = (_service_value(ctx, config, "postscreen_tls_security_level") or "").strip()
        if level.lower() in ("may", "encrypt") and any(
            yes(_service_value(ctx, config, test)) for test in _DEEP_TESTS
        ):
            tlsproxy = self._name(ctx, config, "tlsproxy_service_name", "tlsproxy")
            why, elsewhere = self._lack(
                ctx, (tlsproxy, "unix", True), "postscreen's STARTTLS", "STARTTLS fails",
                severity="warning",
            )  # fmt: skip
            if elsewhere is not None:
                yield elsewhere
            elif why is not None:
                yield self._at_setting(
                    ctx, config, "postscreen_tls_security_level",
                    f"postscreen on {key} offers STARTTLS (postscreen_tls_security_level = "
                    f"{level}) through the tlsproxy service, but {why}: each STARTTLS gets "
                    "'454 4.7.0 TLS not available due to local problem'",
                    severity="warning",
                )  # fmt: skip

    def _tls_level(self, ctx: Context, config: ServiceConfig, prefix: str) -> str | None:
        """The TLS level a client service uses with connection reuse on, "" when TLS is
        only in per-destination policies; None when reuse is off or TLS is not used."""
        if not yes(_service_value(ctx, config, f"{prefix}_tls_connection_reuse")):
            return None
        level = (_service_value(ctx, config, f"{prefix}_tls_security_level") or "").strip()
        level = level.lower()
        if not level:
            if yes(_service_value(ctx, config, f"{prefix}_enforce_tls")):
                level = "encrypt"
            elif yes(_service_value(ctx, config, f"{prefix}_use_tls")):
                level = "may"
        if level in ("", "none"):
            policies = (_service_value(ctx, config, f"{prefix}_tls_policy_maps") or "").strip()
            return "" if policies else None
        return level

    def _tls_reuse(
        self, ctx: Context, clients: list[tuple[ServiceConfig, str]]
    ) -> Iterator[Finding]:
        """One finding per place that turns connection reuse on, naming the client services
        it affects; an error when one of them requires TLS."""
        by_place: dict[object, list[tuple[ServiceConfig, str, str]]] = {}
        for config, program in clients:
            prefix = "lmtp" if program == "lmtp" else "smtp"
            level = self._tls_level(ctx, config, prefix)
            if level is None:
                continue
            setting = f"{prefix}_tls_connection_reuse"
            place = ctx.origin(config, setting) or config.key  # the -o or main.cf line
            by_place.setdefault(place, []).append((config, setting, level))
        for group in by_place.values():
            config, setting, _ = group[0]
            keys = ", ".join(c.key for c, _, _ in group)
            mandatory = any(level in _MANDATORY_TLS for _, _, level in group)
            severity = "error" if mandatory else "warning"
            effect = (
                "mail that requires TLS is deferred ('Cannot start TLS: handshake failure'), "
                "other mail goes out in plain text"
                if mandatory
                else "TLS fails, and mail goes out in plain text"
            )
            tlsproxy = self._name(ctx, config, "tlsproxy_service_name", "tlsproxy")
            why, elsewhere = self._lack(
                ctx, (tlsproxy, "unix", True), "SMTP clients with connection reuse",
                "their TLS fails", severity=severity,
            )  # fmt: skip
            if elsewhere is not None:
                yield elsewhere
            elif why is not None:
                yield self._at_setting(
                    ctx, config, setting,
                    f"{setting} = yes makes {keys} run TLS through the tlsproxy service, "
                    f"but {why}: {effect}",
                    severity=severity,
                )  # fmt: skip

    def _lists(self, ctx: Context, config: ServiceConfig) -> Iterator[Restriction]:
        """The restrictions of a smtpd service's lists, with the restriction classes they
        name (smtpd_restriction_classes), each class once."""
        value = _service_value(ctx, config, "smtpd_restriction_classes") or ""
        class_names = {token.text for token in split_list(value)}
        pending = list(LISTS)
        done: set[str] = set()
        while pending:
            list_name = pending.pop(0)
            if list_name in done:
                continue
            done.add(list_name)
            origin = config.origin(list_name)
            if origin is None:
                continue
            for restriction in parse_list(ctx, origin, list_name):
                yield restriction
                if restriction.name in class_names:
                    pending.append(restriction.name)

    def _verify(self, ctx: Context, config: ServiceConfig) -> Iterator[Finding]:
        found = [r for r in self._lists(ctx, config) if r.lowered in _UNVERIFIED]
        if not found:
            return
        verify = self._name(ctx, config, "address_verify_service_name", "verify")
        why, elsewhere = self._lack(
            ctx, (verify, "unix", True),
            "reject_unverified_sender and reject_unverified_recipient",
            "every address they check gets a 450",
        )  # fmt: skip
        if elsewhere is not None:
            yield elsewhere
        elif why is not None:
            for r in found:
                yield ctx.at_span(
                    type(self), r.path, r.span,
                    f"{r.name} asks the verify service, but {why}: every address it checks "
                    "gets '450 4.1.1 ... address verification problem'",
                    service=config.key, parameter=r.list_name,
                )  # fmt: skip

    def _cleanup(self, ctx: Context, config: ServiceConfig, program: str) -> Iterator[Finding]:
        cleanup = self._name(ctx, config, "cleanup_service_name", "cleanup")
        why, elsewhere = self._lack(
            ctx, (cleanup, "unix", False), "smtpd, pickup, local and bounce",
            "no mail can enter the queue",
        )  # fmt: skip
        if elsewhere is not None:
            yield elsewhere
        elif why is not None:
            yield self._at_setting(
                ctx, config, "cleanup_service_name",
                f"{program} on {config.key} passes mail to the {cleanup} service, but "
                f"{why}: {program} cannot hand over any message",
            )  # fmt: skip

    def _proxy(self, ctx: Context) -> Iterator[Finding]:
        """proxy: tables where they are written (main.cf, -o), and smtpd's default
        local_recipient_maps."""
        names = {
            False: self._name(ctx, None, "proxymap_service_name", "proxymap"),
            True: self._name(ctx, None, "proxywrite_service_name", "proxywrite"),
        }
        users, effect = "programs with proxy: tables", "each program that opens one waits forever"
        lacks = {
            written: self._lack(ctx, (name, "unix", True), users, effect)
            for written, name in names.items()
        }
        for _, elsewhere in lacks.values():
            if elsewhere is not None:
                yield elsewhere

        programs = {_program(config.service) for config in _running(ctx)}

        def why(name: str) -> tuple[str, str] | None:
            """The proxy service ``name``'s tables go through, and why it is missing; None
            when it is there, or when the one program that writes the table does not run."""
            written = name in _WRITTEN_TABLES
            reason = lacks[written][0]
            if reason is None or (written and _WRITTEN_TABLES[name] not in programs):
                return None
            return names[written], reason

        def uses_proxy(value: str) -> bool:
            return any(t.type == "proxy" for t in _table_list(find_tables(value)))

        def message(name: str, service: str, reason: str) -> str:
            return (
                f"{name} uses a proxy: table, which goes through the {service} service, but "
                f"{reason}: each program that opens it waits for {service} forever"
            )

        for entry in ctx.entries():
            if ctx.main is not None and ctx.main.get(entry.name) is not entry:
                continue
            missing = why(entry.name)
            if missing and _holds_tables(ctx, entry.name) and uses_proxy(entry.value):
                yield ctx.at_value(type(self), entry, message(entry.name, *missing))
        for config in _running(ctx):
            for override in config.service.override_list:
                name = override.name
                if config.service.override(name) is not override:
                    continue
                missing = why(name)
                if missing and _holds_tables(ctx, name) and uses_proxy(override.value):
                    yield ctx.at_override(type(self), config, override, message(name, *missing))
        missing = why("local_recipient_maps")
        if missing is None:
            return
        default = ctx.configuration.raw("local_recipient_maps")
        for config in ctx.smtpd_services:
            if _disabled(ctx, config.service) or _value_origin(ctx, config, "local_recipient_maps"):
                continue
            if uses_proxy(_service_value(ctx, config, "local_recipient_maps") or ""):
                yield ctx.at_service(
                    type(self), config.service,
                    f"smtpd on {config.key} opens local_recipient_maps (default: {default}) "
                    f"through the {missing[0]} service, but {missing[1]}: smtpd waits for "
                    "it forever and answers no client; add the service or set "
                    "local_recipient_maps",
                )  # fmt: skip


# -- B7: smtp/lmtp flags D and O -----------------------------------------------------------


@register
class SingleRecipientFlags(Rule):
    """
    ## What it finds
    An smtp or lmtp service with `flags=` holding `D` (a Delivered-To: header) or `O` (an
    X-Original-To: header) while `<service>_destination_recipient_limit` (else
    `default_destination_recipient_limit`, 50 by default) is not 1.  Postfix 3.5 and
    later.

    Source: smtp/smtp.c, get_cli_attr (the flags) and deliver_message ("flag `D' requires
    %s_destination_recipient_limit = 1", then the delivery is deferred with 4.3.5 "mail
    system configuration error"); qmgr/qmgr_transport.c, qmgr_transport_create (the limit
    per transport).  postconf 3.7 says nothing.

    ## Why it matters
    Such a header names one recipient, so the client refuses a delivery with several: every
    message with more than one recipient at the same destination is deferred again and
    again, and finally bounced.

    ## Example
    ```
    relay     unix  -       -       y       -       -       smtp flags=DO
    ```

    ## Use instead
    ```
    relay     unix  -       -       y       -       -       smtp flags=DO
    # and in main.cf
    relay_destination_recipient_limit = 1
    ```

    ## Fix
    Set `<service>_destination_recipient_limit = 1` in main.cf, or remove the flags.
    """

    code = "MST013"
    name = "single-recipient-flags"
    severity = "error"
    summary = "smtp/lmtp flags D or O without a destination recipient limit of 1"
    needs_main = True

    def check(self, ctx: Context) -> Iterator[Finding]:
        if not _since(ctx, "3.5"):
            return
        for config in _running(ctx):
            service = config.service
            if _program(service) not in ("smtp", "lmtp"):
                continue
            reading = _reading(ctx, service)
            if reading is None:
                continue
            last = None
            for word in reading.plain:
                if word.text[:6].lower() == "flags=":
                    last = word
            if last is None:
                continue
            letters = "".join(f for f in "DO" if f in last.text[6:])
            if not letters:
                continue
            name = f"{service.name}_destination_recipient_limit"
            raw = ctx.main.get(name) if ctx.main is not None else None
            setting = name if raw is not None else "default_destination_recipient_limit"
            limit = _integer(ctx.configuration.value(setting))
            if limit is None or limit == 1:
                continue
            flags = f"flag {letters}" if len(letters) == 1 else "flags D and O"
            yield ctx.at_span(
                type(self), ctx.master_path, service.arguments[last.index].span,
                f"{flags} on {service.key} need{'s' if len(letters) == 1 else ''} {name} = 1, "
                f"but {setting} is {limit}: each message with several recipients at one "
                "destination is deferred (\"mail system configuration error\")",
                service=service.key,
            )  # fmt: skip
