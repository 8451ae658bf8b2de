"""Where mail goes after the queue: next hops that are this host, transports without a name,
and next hops smtp(8) cannot parse.

The routes (a setting that names a next hop, and the master.cf service delivering there)
come from the model (pfconf.semantics.delivery); these rules judge them.
"""

from __future__ import annotations

import re

from ...expand import expand
from ...semantics.delivery import class_reachable, own_addresses, split_transport
from ...values import find_tables
from .. import location as at
from ..context import Context
from ..rule import Rule, register


@register
class NextHopLoopsBack(Rule):
    """
    ## What it finds
    A next hop that is this host itself on port 25: `relayhost`, the next hop of
    `default_transport`, `relay_transport`, `content_filter` or a fallback relay, written as
    an IP address that `inet_interfaces` or `proxy_interfaces` makes this host's own
    (`127.0.0.1` with the default `inet_interfaces = all` or with `loopback-only`, or an
    address listed there), delivered by smtp(8) on the SMTP port.

    ## Why it matters
    smtp(8) looks for its own addresses among those of the next hop (smtp_addr.c,
    smtp_find_self() in smtp_host_addr() and smtp_domain_addr()) and, on port 25, refuses to
    connect to itself: the mail is returned with "mail for [127.0.0.1] loops back to
    myself" (5.4.6), or, for `relayhost` and fallback relays, deferred as a "configuration
    problem" (smtp_connect.c, smtp_connect_inet()).  It does not matter whether another
    program listens there.  LMTP and ports other than 25 are not checked by Postfix.

    ## Postfix source
    - smtp(8) looks for loops only on the SMTP port, and only in SMTP (not LMTP) mode:
      `src/smtp/smtp_connect.c`, `smtp_connect_inet()` (`SMTP_MISC_FLAG_LOOP_DETECT`).
    - It compares the next hop's addresses with its own (`inet_interfaces`) and the proxy's
      (`proxy_interfaces`), and refuses them with 5.4.6 "mail for ... loops back to myself":
      `src/smtp/smtp_addr.c`, `smtp_find_self()`, called from `smtp_host_addr()` and
      `smtp_domain_addr()`.
    - For `relayhost` and fallback relays the error becomes a deferral ("... configuration
      problem", 4.3.5): `src/smtp/smtp_connect.c`, `smtp_connect_inet()`.

    ## Example
    ```
    relayhost = [127.0.0.1]
    ```

    ## Use instead
    ```
    relayhost = [127.0.0.1]:10025
    ```
    (a filter or relay listening on another port), or the real relay's name.

    ## Fix
    Point the next hop at the host or port that should receive the mail; to hand mail to a
    local program, give it its own port.
    """

    code = "XF003"
    name = "next-hop-loops-back"
    severity = "error"
    summary = "a next hop is this host on port 25: smtp(8) refuses it as a mail loop"
    needs_main = True
    #: each client delivering to the next hop judges it with its own inet_interfaces
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for route in ctx.postfix.routes:
            client = route.client_config
            if client is None or route.lmtp:
                continue  # loop detection is SMTP only (smtp_connect.c: smtp_mode)
            own = own_addresses(client)
            for destination in route.destinations:
                if destination.problem or destination.port != 25:
                    continue
                why = own.why(destination.address)
                if why is None:
                    continue
                if route.parameter == "relayhost" or route.fallback:
                    effect = "the mail is deferred"
                else:
                    effect = "the mail is returned to the sender"
                message = (
                    f"{route.parameter} sends mail to {destination.text}, this host's own "
                    f'address ({why}) on port 25: smtp(8) refuses it ("mail for '
                    f'{destination.host} loops back to myself") and {effect}'
                )
                where = at.setting_origin(route.origin, word=destination.text)
                if where is not None:
                    self.report(where, message, severity="warning" if route.fallback else None)


#: Transport settings trivial-rewrite reads, with the address class that uses each
#: (resolve.c, resolve_addr(): "null transport is not allowed").
_CLASS_TRANSPORTS = (
    ("local_transport", "local"),
    ("virtual_transport", "virtual mailbox"),
    ("relay_transport", "relay"),
    ("default_transport", "default"),
)
#: Transports local(8) hands mail to through deliver_pass() (mailbox.c, unknown.c).
_PASS_TRANSPORTS = ("mailbox_transport", "fallback_transport")


@register
class TransportWithoutName(Rule):
    """
    ## What it finds
    A transport setting whose value starts with `:`, so that it names a next hop but no
    transport: `local_transport`, `virtual_transport`, `relay_transport`,
    `default_transport` (for an address class mail can reach), `mailbox_transport` and
    `fallback_transport`.  An empty value is another matter: trivial-rewrite does not
    start then.

    ## Why it matters
    trivial-rewrite splits the value at the first `:` and finds no transport: it logs
    "null transport is not allowed" for every such address (resolve.c, resolve_addr()).
    The program that asked, smtpd at `RCPT TO` or the queue manager, logs "null transport
    result" and asks again every second without end (global/resolve_clnt.c): the SMTP
    client gets no answer, and a queue manager that meets such an address stops
    delivering.  local(8) stops with "missing transport name" on every message it should
    hand to `mailbox_transport` or `fallback_transport` (deliver_pass.c, deliver_pass()),
    and the mail waits in the queue.

    ## Postfix source
    - trivial-rewrite refuses a transport value with an empty transport part ("null transport
      is not allowed"): `src/trivial-rewrite/resolve.c`, `resolve_addr()`.
    - The asking program logs "null transport result" and asks again every second:
      `src/global/resolve_clnt.c`, `resolve_clnt()`.
    - An empty transport parameter stops trivial-rewrite at start-up (minimum length 1):
      `src/trivial-rewrite/trivial-rewrite.c`, `main()`.
    - local(8) hands mail to `mailbox_transport` and `fallback_transport` through
      `src/global/deliver_pass.c`, `deliver_pass()`, which stops on "missing transport
      name": called from `src/local/mailbox.c`, `deliver_mailbox()` and
      `src/local/unknown.c`, `deliver_unknown()`.

    ## Example
    ```
    relay_domains = example.net
    relay_transport = :[relay.example.com]
    ```

    ## Use instead
    ```
    relay_domains = example.net
    relay_transport = relay:[relay.example.com]
    ```

    ## Fix
    Write the master.cf service that should deliver before the `:`.
    """

    code = "XF004"
    name = "transport-without-name"
    severity = "error"
    summary = "a transport setting names a next hop but no transport"
    needs_main = True

    def check(self, ctx: Context) -> None:
        config = ctx.configuration
        for parameter, klass in _CLASS_TRANSPORTS:
            split = split_transport(config.value(parameter) or "")
            if split is None or split[0] or not class_reachable(config, klass):
                continue
            message = (
                f"{parameter} names no transport before the ':': trivial-rewrite refuses "
                f'every address of the {klass} class ("null transport is not allowed"), '
                "and smtpd or the queue manager asking for one retries without end"
            )
            where = at.setting_origin(config.origin(parameter))
            if where is not None:
                self.report(where, message)
        readers = ctx.postfix.running("local") or ()
        for view in [d.config for d in readers] or [config]:
            for parameter in _PASS_TRANSPORTS:
                split = split_transport(view.value(parameter) or "")
                if split is None or split[0]:
                    continue
                message = (
                    f"{parameter} names no transport before the ':': local(8) stops on "
                    'every message it hands on ("missing transport name"), and that mail '
                    "is deferred"
                )
                where = at.setting_origin(view.origin(parameter))
                if where is not None:
                    self.report(where, message)


@register
class MalformedNextHop(Rule):
    """
    ## What it finds
    A next hop smtp(8) or lmtp(8) cannot parse: a `[` without `]`, text after the `]`
    other than `:port`, a host that is neither a valid host name nor a numeric address
    (`-relay.example.com`, `[]`, `192.0.2.1.5`), a port of 0 or above 65535, a number
    followed by letters, in `relayhost`, a fallback relay, or the next hop of a transport
    setting that an smtp or lmtp service delivers.

    ## Why it matters
    The client parses the next hop when it delivers, and stops with "... in server
    description" or "bad network port" (smtp_connect.c, smtp_parse_destination() and
    util/host_port.c): every message for that next hop stays in the queue, and the
    transport is throttled after each attempt.

    ## Postfix source
    - The client parses the next hop at delivery time and stops on a bad one ("... in server
      description", "bad network port", "unknown service"): `src/smtp/smtp_connect.c`,
      `smtp_parse_destination()` with `src/util/host_port.c`, `host_port()`, whose host
      check is `src/util/valid_utf8_hostname.c`, `valid_utf8_hostname()` or
      `src/util/valid_hostname.c`, `valid_hostaddr()`.

    ## Example
    ```
    relayhost = [smtp.example.com]:99999
    ```

    ## Use instead
    ```
    relayhost = [smtp.example.com]:587
    ```

    ## Fix
    Write the next hop as `host`, `[host]`, `host:port` or `[host]:port` with a port from
    1 to 65535.
    """

    code = "XF005"
    name = "malformed-next-hop"
    severity = "error"
    summary = "a next hop smtp(8) cannot parse: every delivery to it fails"
    needs_main = True
    #: relayhost is parsed by each client it is used by (smtp or lmtp, in the message)
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for route in ctx.postfix.routes:
            if route.client_config is None:
                continue
            for destination in route.destinations:
                if destination.problem is None:
                    continue
                message = (
                    f"{route.parameter}: {route.program}(8) cannot parse the next hop "
                    f'{destination.text} ("{destination.problem}") and stops on every '
                    "delivery to it"
                )
                where = at.setting_origin(route.origin, word=destination.text)
                if where is not None:
                    self.report(where, message)


@register
class FallbackRelayForUnixLmtp(Rule):
    """
    ## What it finds
    `lmtp_fallback_relay` set on an lmtp service that delivers to a unix-domain socket
    (`lmtp:unix:...` in a transport setting).

    ## Why it matters
    A fallback relay is a TCP destination; for a socket lmtp(8) logs "ignoring
    lmtp_fallback_relay = ... setting for non-TCP connections" on every delivery and does
    without it (smtp_connect.c, smtp_connect_local()): mail that the socket refuses is
    deferred, not sent to the fallback.

    ## Postfix source
    - For a unix-domain destination lmtp(8) warns "ignoring ... setting for non-TCP
      connections" and never uses the fallback relay: `src/smtp/smtp_connect.c`,
      `smtp_connect_local()` (Postfix 3.1 and later).

    ## Example
    ```
    virtual_transport = lmtp:unix:private/dovecot-lmtp
    lmtp_fallback_relay = [backup.example.com]:24
    ```

    ## Use instead
    ```
    virtual_transport = lmtp:unix:private/dovecot-lmtp
    ```

    ## Fix
    Remove the setting, or deliver over TCP (`lmtp:inet:host:port`) where a fallback is
    wanted.
    """

    code = "XF006"
    name = "fallback-relay-for-unix-lmtp"
    severity = "warning"
    summary = "lmtp_fallback_relay on LMTP over a unix socket is ignored"
    needs_main = True
    #: one setting, judged for each socket route (named in the message) of its service
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 1):
            return  # lmtp_fallback_relay is new in 3.1
        for route in ctx.postfix.routes:
            config = route.client_config
            if config is None or not route.lmtp or route.fallback:
                continue
            if not any(d.unix is not None for d in route.destinations):
                continue
            value = (config.value("lmtp_fallback_relay") or "").strip()
            if not value:
                continue
            message = (
                f"lmtp_fallback_relay = {value} is ignored for {route.parameter}, which "
                f"delivers over the unix socket {route.nexthop}: lmtp(8) logs so on each "
                "delivery"
            )
            origin = config.origin("lmtp_fallback_relay")
            where = at.setting_origin(origin, daemon=route.daemon)
            if where is not None:
                self.report(where, message)


#: sizeof(struct sockaddr_un.sun_path): 108 bytes on Linux, 104 on the BSDs and macOS; a
#: name must leave room for its terminating null byte.
_SUN_PATH = 108


@register
class LmtpSocketPathTooLong(Rule):
    """
    ## What it finds
    An LMTP destination `unix:path` whose path is 108 bytes or longer: no system's socket
    address holds it (Linux has room for 107 bytes, the BSDs and macOS for 103).

    ## Why it matters
    lmtp(8) checks the length before it connects, logs "unix-domain name too long" and
    defers the mail with "4.3.5 Server configuration error" (smtp_connect.c,
    smtp_connect_unix()).

    ## Postfix source
    - lmtp(8) refuses a path that does not fit the socket address ("unix-domain name too
      long") and defers with 4.3.5 "Server configuration error": `src/smtp/smtp_connect.c`,
      `smtp_connect_unix()`.

    ## Example
    ```
    mailbox_transport = lmtp:unix:/var/spool/postfix/private/a-very-long-directory-name/...
    ```

    ## Use instead
    ```
    mailbox_transport = lmtp:unix:private/dovecot-lmtp
    ```

    ## Fix
    Use a shorter path: a relative one is taken below the queue directory.
    """

    code = "XF007"
    name = "lmtp-socket-path-too-long"
    severity = "error"
    summary = "an LMTP socket path longer than a socket address holds"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for route in ctx.postfix.routes:
            if route.client_config is None or not route.lmtp:
                continue
            for destination in route.destinations:
                path = destination.unix
                if path is None or len(path.encode("utf-8", "surrogateescape")) < _SUN_PATH:
                    continue
                message = (
                    f"{route.parameter}: the socket path {path} has {len(path)} bytes; a "
                    "unix-domain socket name holds at most 107, so lmtp(8) defers every "
                    'delivery ("unix-domain name too long")'
                )
                where = at.setting_origin(route.origin, word=destination.text)
                if where is not None:
                    self.report(where, message)


def _uid_problem(text: str, minimum: int) -> str | None:
    """Why virtual(8) refuses ``text`` as a uid (mailbox.c, deliver_mailbox(): strtoul()
    base 10 with nothing after the number, no overflow, not (uid_t) -1, not below
    virtual_minimum_uid), or None."""
    match = re.fullmatch(r"\s*([+-]?)([0-9]+)", text)
    if match is None:
        return "not a number"
    number = int(match.group(2))
    if match.group(1) == "-" and number:
        return "negative"
    if number >= _UID_LIMIT - 1:
        return "too large"
    if number < minimum:
        return f"below virtual_minimum_uid ({minimum})"
    return None


#: uid_t is 32 bits on the systems Postfix runs on; (uid_t) -1 is refused too.
_UID_LIMIT = 2**32


@register
class BadVirtualUid(Rule):
    """
    ## What it finds
    `virtual_uid_maps` whose first table is `static:` with a value virtual(8) does not
    take as a mailbox owner: not a decimal number (`static:vmail`), negative, or below
    `virtual_minimum_uid` (default 100; `static:8`, Debian's mail user), where virtual(8)
    runs and `virtual_mailbox_domains` is not empty.  A static table answers every
    lookup, so the one value is every recipient's uid.  The values of other table types
    are read on the host and are not judged.

    ## Why it matters
    virtual(8) logs "bad uid" and defers each message with "4.3.5 mail system
    configuration error": no virtual mailbox receives mail, and the queue fills until the
    messages bounce at maximal_queue_lifetime.

    ## Postfix source
    - `src/virtual/mailbox.c`, `deliver_mailbox()`: the uid is read with sane_strtoul()
      (`src/util/sane_strtol.c`) and refused when text follows the number, it overflows,
      it is (uid_t) -1, or it is below `virtual_minimum_uid`; the message is deferred.
    - A static table answers every key with its value (braces and blanks stripped):
      `src/util/dict_static.c`, `dict_static_open()`.
    - `virtual_minimum_uid` and its default: `proto/postconf.proto` (virtual_minimum_uid).

    ## Example
    ```
    virtual_mailbox_domains = example.com
    virtual_uid_maps = static:vmail
    ```

    ## Use instead
    ```
    virtual_uid_maps = static:5000
    ```

    ## Fix
    Give the numeric uid of the mailbox owner (`id -u vmail`), at least
    `virtual_minimum_uid`.
    """

    code = "XF008"
    name = "bad-virtual-uid"
    severity = "error"
    summary = "virtual_uid_maps = static: with a uid virtual(8) refuses: every delivery deferred"
    needs_main = True

    def check(self, ctx: Context) -> None:
        domains = ctx.postfix.config.match_list("virtual_mailbox_domains")
        if domains is None or not domains.items:
            return
        seen: set[object] = set()
        for daemon in ctx.postfix.daemons:
            if daemon.program != "virtual" or not daemon.started:
                continue
            config = daemon.config
            tables = find_tables(config.value("virtual_uid_maps") or "")
            if not tables or tables[0].type != "static":
                continue
            table = tables[0]
            # dict_static_open(): the name itself, or the text inside its braces
            value = table.entries[0] if table.entries else table.name
            if table.name.startswith("{") and not table.entries:
                continue  # bad braces: the table fails on every lookup (another message)
            minimum = _number(config.value("virtual_minimum_uid"))
            if minimum is None:
                continue  # virtual(8) stops on it first (PAR010)
            problem = _uid_problem(value, minimum)
            origin = config.origin("virtual_uid_maps")
            if problem is None or origin is None or id(origin) in seen:
                continue
            seen.add(id(origin))
            where = at.setting_origin(origin, word=f"static:{table.name}", daemon=daemon)
            if where is None:
                continue
            self.report(
                where,
                f"virtual(8) on {daemon.key} takes {value.strip()!r} as every recipient's uid, "
                f"but it is {problem}: each virtual delivery is deferred with 'bad uid' "
                "(4.3.5 mail system configuration error)",
            )


def _number(text: str | None) -> int | None:
    match = re.fullmatch(r"\s*([0-9]+)\s*", text or "")
    return int(match.group(1)) if match else None


@register
class CommandDirectorySyntax(Rule):
    """
    ## What it finds
    A `command_execution_directory` with a `$` syntax error (an unbalanced `${` or `$(`,
    an empty `${}`, a bad `${name?...}`), where local(8) runs; also a comparison whose
    operands are both all digits with one too large for a C long (Postfix 3.2 and later).

    ## Why it matters
    local(8) expands the value for each delivery to a command (`mailbox_command`,
    `mailbox_command_maps`, a `|command` in aliases or .forward); when the expansion fails
    it logs "bad parameter value syntax" and defers the message with "4.3.5 mail system
    configuration error", so no delivery to a command ever happens.  A number too large
    for a long stops local(8) instead ("mac_exp_eval: bad conversion"), and the delivery
    is deferred all the same.

    ## Postfix source
    - `src/local/command.c`, `deliver_command()`: the directory is expanded with
      `local_expand()` (`src/local/local_expand.c`, mac_expand()) and a parse error defers
      the delivery.
    - The value is read without expansion at start-up (a raw parameter):
      `src/local/local.c`, `main()` (its CONFIG_RAW_TABLE).
    - The `$` syntax: `src/util/mac_parse.c`, `mac_parse()`; `src/util/mac_expand.c`,
      `mac_expand()`; an all-digit operand that strtol() cannot hold is fatal:
      `src/util/mac_expand.c`, `atol_or_die()`.

    ## Example
    ```
    command_execution_directory = ${home
    ```

    ## Use instead
    ```
    command_execution_directory = $home
    ```

    ## Fix
    Balance the braces, or leave the parameter empty (the default).
    """

    code = "XF009"
    name = "command-directory-syntax"
    severity = "warning"
    summary = "command_execution_directory local(8) cannot expand: command deliveries deferred"
    needs_main = True

    def check(self, ctx: Context) -> None:
        seen: set[int] = set()
        for daemon in ctx.postfix.daemons:
            if daemon.program != "local" or not daemon.started:
                continue
            config = daemon.config
            origin = config.origin("command_execution_directory")
            raw = config.raw("command_execution_directory")
            if origin is None or raw is None or id(origin) in seen:
                continue
            seen.add(id(origin))
            errors: list[str] = []
            fatal: str | None = None
            for value in ("x", ""):  # a name's value decides which branch of ${name?...} runs

                def lookup(name: str, value: str = value) -> str | None:
                    return value

                found = expand(raw, lookup, recurse=False)
                errors += [e for e in found.errors if e != found.fatal]
                fatal = fatal or found.fatal
            if fatal is not None and ctx.target[:2] >= (3, 2):
                effect = "stops (and the delivery is deferred) at each delivery to a command"
                errors.insert(0, fatal)
            elif errors:
                effect = "logs 'bad parameter value syntax' and defers each delivery to a command"
            else:
                continue
            where = at.setting_origin(origin, daemon=daemon)
            if where is not None:
                self.report(
                    where,
                    f"command_execution_directory: {errors[0]}: local(8) on {daemon.key} "
                    f"{effect} (mailbox_command, |command in aliases or .forward)",
                )
