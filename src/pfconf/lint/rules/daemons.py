"""master.cf entries that master(8) or the daemon it starts refuses, and settings that need a
service master.cf lacks.

Every rule asks the model (pfconf.semantics): the daemons master runs, with their columns as
master reads them, the command line as each daemon's getopt reads it and what each program
demands (semantics.programs, from rules/daemons.toml), and the configuration each daemon
sees.  Like the other master.cf rules, nothing here judges the stock master.cf pflint
assumes when none was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ...kb import parse_version
from ...model import split_nameval
from ...semantics import Configuration, Daemon, yes
from ...semantics.client import SmtpClient
from ...semantics.delivery import ip_address
from ...semantics.restrictions import LISTS, Restriction
from ...values import LookupTable, find_tables, host_port, strip_braces
from .. import location as at
from ..context import Context
from ..location import Location
from ..rule import Rule, register
from .services import split_value


def _real(ctx: Context) -> bool:
    return ctx.master is not None and not ctx.master_is_stock


def _since(ctx: Context, version: str | None) -> bool:
    """Whether the target release has a fact that holds since ``version`` (None: never)."""
    return version is not None and ctx.target[:2] >= parse_version(version)[:2]


def _running(ctx: Context) -> Iterator[Daemon]:
    """The services of a real master.cf that master runs (master_service_disable aside)."""
    if not _real(ctx):
        return
    for daemon in ctx.postfix.daemons:
        if not daemon.disabled:
            yield daemon


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

    postconf 3.7 accepts every such entry without a word.

    ## Why it matters
    The daemon stops as soon as master starts it; master logs "bad command startup --
    throttling" and tries again later.  Without qmgr no mail leaves the queue; without
    cleanup no mail enters it; without bounce nothing is deferred or bounced.

    ## Postfix source
    - master(8) passes `-l` for a process limit of 1 and `-z` for 0 (a `-` is
      `default_process_limit`): `src/master/master_ent.c`, `get_master_ent()`.
    - The daemon stops with "service ... requires a process limit of 1" (or "of 0"):
      `src/master/single_server.c`, `single_server_main()`; `src/master/multi_server.c`,
      `multi_server_main()`; `src/master/trigger_server.c`, `trigger_server_main()`;
      `src/master/event_server.c`, `event_server_main()`; `src/master/dgram_server.c`,
      `dgram_server_main()` (Postfix 3.4 and later for dgram_server).
    - Which daemon asks for which (`CA_MAIL_SERVER_SOLITARY` or `CA_MAIL_SERVER_UNLIMITED`
      in its `main()`): for example `src/qmgr/qmgr.c`, `main()` and `src/cleanup/cleanup.c`,
      `main()`; every daemon with the release it starts in is in `rules/daemons.toml`.
    - master throttles a daemon that stops at start-up: `src/master/master_spawn.c`,
      `master_reap_child()` ("bad command startup -- throttling").

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

    def check(self, ctx: Context) -> None:
        for daemon in _running(ctx):
            facts = daemon.facts
            if facts is None or facts.process_limit is None or not daemon.started:
                continue
            need = facts.process_limit
            column = daemon.service.process_limit
            if column == "-" and ctx.main is None:
                continue  # default_process_limit is not known
            limit = daemon.process_limit
            if limit is None or limit == need:
                continue
            shown = f"- (default_process_limit = {limit})" if column == "-" else column
            line = daemon.command_line
            # the skeleton tests the flag master passes (-l, -z); written in the command
            # they count too, and -S (a stream on stdin) skips the test
            if line is not None and line.has(("l" if need == 1 else "z") + "S"):
                continue
            program = daemon.program
            what = "exactly one process" if need == 1 else "no process limit"
            self.report(
                at.field(daemon, "process_limit"),
                f"{program} needs {what} (process limit {need}), but {daemon.key} has "
                f"{shown}: {program} stops as soon as master starts it (\"service "
                f"{daemon.name} requires a process limit of {need}\"); set it to {need}",
            )


# -- A2: the unprivileged column -----------------------------------------------------------


@register
class PrivilegeColumn(Rule):
    """
    ## What it finds
    - local, virtual, pipe and spawn with `y` or `-` in the unprivileged column (`-` means
      `y`): they must run as root to act as the recipient or the configured user.
    - smtpd with `n` in the unprivileged column on an `inet` or `pass` service: it then runs
      as root, which it refuses on a network connection.

    postconf 3.7 accepts both without a word.

    ## Why it matters
    The delivery agent stops at start-up and every delivery through it is deferred; smtpd
    exits on each connection, so no client can deliver mail.

    ## Postfix source
    - The unprivileged column defaults to `y`, and `y` makes master pass `-u`:
      `src/master/master_ent.c`, `get_master_ent()`.
    - local, virtual, pipe and spawn declare `CA_MAIL_SERVER_PRIVILEGED` in their `main()`
      (`src/local/local.c`, `src/virtual/virtual.c`, `src/pipe/pipe.c`, `src/spawn/spawn.c`),
      and with `-u` the server skeleton stops with "service ... requires privileged
      operation": `src/master/single_server.c`, `single_server_main()`, and the other
      `*_server_main()` functions.
    - smtpd running as root stops on each network connection ("the Postfix SMTP server must
      run with $mail_owner privileges"): `src/smtpd/smtpd_peer.c`,
      `smtpd_peer_sockaddr_to_hostaddr()` (Postfix 2.3 and later).
    - master(5), `proto/master` (the Unprivileged column: local, pipe, spawn and virtual
      require privileges).

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

    def check(self, ctx: Context) -> None:
        for daemon in _running(ctx):
            program = daemon.program
            facts = daemon.facts
            column = daemon.service.unprivileged
            where = at.field(daemon, "unprivileged")
            if facts is not None and facts.privileged:
                if daemon.unprivileged:
                    shown = "'-' (which means 'y')" if column == "-" else "'y'"
                    self.report(
                        where,
                        f"{program} must run as root, but {daemon.key} has {shown} in the "
                        f"unprivileged column: {program} stops as soon as master starts it "
                        f"(\"service {daemon.name} requires privileged operation\"); use n",
                    )
            elif (
                program == "smtpd"
                and not daemon.unprivileged
                and daemon.type in ("inet", "pass")
                and _since(ctx, "2.3")
            ):
                line = daemon.command_line
                if line is not None and line.has("u"):
                    continue  # an explicit -u drops the privileges after all
                self.report(
                    where,
                    f"{daemon.key} runs smtpd as root ('n' in the unprivileged column): "
                    "smtpd exits on every network connection (\"the Postfix SMTP server "
                    "must run with $mail_owner privileges\"); use -",
                )


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

    postconf 3.7 accepts all of these.

    ## Why it matters
    The daemon stops when master starts it or at its first request: an smtpd service with
    such a line accepts no mail at all, a delivery agent defers everything sent through it.

    ## Postfix source
    - Option letters and `-o` values: the getopt loop of `src/master/single_server.c`,
      `single_server_main()` (and `multi_server_main()` in `src/master/multi_server.c`,
      `trigger_server_main()` in `src/master/trigger_server.c`, `event_server_main()` in
      `src/master/event_server.c`, `dgram_server_main()` in `src/master/dgram_server.c`)
      stops with "invalid option" or, when `src/util/split_nameval.c`, `split_nameval()`
      fails, 'invalid "-o ..." option value'; the letters by release are in
      `rules/daemons.toml`.
    - A plain argument: each daemon's service function stops with "unexpected
      command-line argument", for example `src/smtpd/smtpd.c`, `smtpd_service()`;
      `src/local/local.c`, `local_service()`; `src/cleanup/cleanup.c`, `cleanup_service()`.
    - smtp and lmtp take only `flags=` with `D`, `O`, `R` and `X`: `src/smtp/smtp.c`,
      `get_cli_attr()`, called from `post_init()` ("unknown attribute name"), with
      `src/util/byte_mask.c`, `byte_mask()` for an unknown flag (Postfix 3.5 and later).

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

    def check(self, ctx: Context) -> None:
        for daemon in _running(ctx):
            line = daemon.command_line
            if line is None or not line.known or not daemon.started:
                continue
            # the daemon stops at the first bad option, before it sees its arguments; and
            # after an unknown letter the next word may be that option's value
            if not self._options(daemon):
                self._plain(daemon)

    def _options(self, daemon: Daemon) -> bool:
        """Report the options the daemon refuses; whether there is one."""
        line = daemon.command_line
        assert line is not None
        program = daemon.program
        refused = False
        for bad in line.refused:
            if bad.why == "unknown":
                problem = f"-{bad.letter} is not an option of {program}"
            else:
                problem = f"-{bad.letter} needs a value and has none"
            self.report(
                at.word(daemon, bad.word),
                f"{problem}: {program} stops at start-up (\"invalid option: {bad.letter}\")",
            )
            refused = True
        split = split_value(daemon)
        for option in line.options:
            if option.letter != "o" or option.value is None or option.value_word is None:
                continue
            error = split_nameval(option.value)[0]
            if error is None:
                continue
            if split is not None and split[0] == option:
                continue  # "-o name = value": MST007 reports the "=" cut off
            self.report(
                at.word(daemon, option.value_word),
                f"-o {option.value!r} is not name=value ({error}): {program} stops at "
                "start-up (\"invalid -o option value\")",
            )
            refused = True
        return refused

    def _plain(self, daemon: Daemon) -> None:
        line = daemon.command_line
        facts = daemon.facts
        assert line is not None and facts is not None
        program = daemon.program
        split = split_value(daemon)
        cut = split[1] if split is not None else None
        for index in line.plain:
            text = line.words[index]
            if facts.arguments == "flags" and text[:6].lower() == "flags=":
                known = facts.flag_letters
                unknown = "".join(dict.fromkeys(f for f in text[6:] if f not in known))
                if unknown:
                    self.report(
                        at.word(daemon, index),
                        f"{program} has no flag {', '.join(unknown)} (only {known}): "
                        f"it stops at start-up (\"unknown {text} value\")",
                    )
                    return
                continue
            if facts.arguments == "flags" and index != cut:
                self.report(
                    at.word(daemon, index),
                    f"{program} takes only flags=... after its options: {text!r} stops it "
                    "at start-up (\"unknown attribute name\")",
                )
            elif facts.arguments == "none" and index != cut:
                self.report(
                    at.word(daemon, index),
                    f"{program} takes no arguments after its options: {text!r} stops it "
                    "(\"unexpected command-line argument\")",
                )
            return  # the first such word stops it


# -- A9: entries master refuses ------------------------------------------------------------


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
      `127.0.0.1:`, `host:25x`, `bad_host!:25`), or whose host has a `:` but is no IPv6
      address (`[ipv6:1:2:3]:10025`: Postfix's syntax check lets it through, the address
      lookup does not);
    - a `{` in the command's arguments without its `}`, or with text after it (Postfix 3.0
      and later).

    postconf 3.7 accepts a private inet service, a `-` command and a bad name, and only
    warns about the brace.

    ## Why it matters
    master stops while it reads master.cf: Postfix does not start at all (or, on `postfix
    reload`, the running master exits).

    ## Postfix source
    - A private `inet` service ("inet service cannot be private"), a bad `host:port`
      (checked with `src/util/host_port.c`, `host_port()`, whose host check is
      `src/util/valid_hostname.c`, `valid_hostname()` and `valid_hostaddr()`; then "bad
      hostname or network address" from `src/util/inet_addr_host.c`, `inet_addr_host()`)
      and an unbalanced `{` (checked with `src/util/extpar.c`, `extpar()`, Postfix 3.0 and
      later) stop master:
      `src/master/master_ent.c`, `get_master_ent()`.
    - The command field has no default: `src/master/master_ent.c`, `get_str_ent()` ("field
      ... has no default value").

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

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        # master reads every line, disabled services included (master_ent.c skips a
        # disabled entry only after its name and type)
        for daemon in ctx.postfix.daemons:
            if not daemon.disabled:
                self._entry(ctx, daemon)

    def _entry(self, ctx: Context, daemon: Daemon) -> None:
        key = daemon.key
        if daemon.type == "inet":
            parsed = host_port(daemon.name, "", None) if _since(ctx, "2.2") else None
            if isinstance(parsed, str):
                self.report(
                    at.field(daemon, "service"),
                    f"master cannot read the inet service name {daemon.name!r} ({parsed}): "
                    "Postfix does not start; write port or host:port",
                )
                return  # master stops here
            # valid_hostaddr()'s loose IPv6 check lets "1:2:3" through; inet_addr_host()
            # then finds no address for it.  Whether a host name resolves is DNS's business.
            if parsed is not None and ":" in parsed.host and ip_address(parsed.host) is None:
                self.report(
                    at.field(daemon, "service"),
                    f"{parsed.host!r} in the inet service name {daemon.name!r} is no IPv6 "
                    'address ("bad hostname or network address"): master stops and Postfix '
                    "does not start",
                )
                return
            if daemon.private:
                column = daemon.service.private
                shown = "'-' (which means 'y')" if column == "-" else "'y'"
                self.report(
                    at.field(daemon, "private"),
                    f"{key} has {shown} in the private column, but an inet service cannot "
                    "be private: master stops and Postfix does not start; use n",
                )
                return
        if daemon.service.command == "-":
            self.report(
                at.field(daemon, "command"),
                f"{key} has '-' as its command, which has no default: master stops and "
                "Postfix does not start; name the program",
            )
            return
        if ctx.target[:2] >= (3, 0):
            for index, argument in enumerate(daemon.service.arguments):
                if index < 8 or not argument.text.startswith("{"):
                    continue
                if strip_braces(argument.text) is None:
                    self.report(
                        at.word(daemon, index),
                        f"{_shorten(argument.text)!r} has no matching '}}', or text after "
                        "it: master stops and Postfix does not start",
                    )
                    return


# -- B1: services that settings need -------------------------------------------------------


def _has_service(ctx: Context, name: str, type_: str, private: bool) -> Daemon | None:
    """The running service master makes at private/NAME (or public/NAME) with this type:
    ``-`` in the private column means ``y`` (master_ent.c, get_master_ent)."""
    for daemon in _running(ctx):
        if (daemon.name, daemon.type) == (name, type_) and daemon.private == private:
            return daemon
    return None


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
    - `cleanup_service_name` (main.cf or an `-o`) naming no public `unix` service;
    - smtpd with a non-empty `fast_flush_domains` (by default `$relay_domains`) without the
      public `flush unix` service (`flush_service_name`), unless `smtpd_etrn_restrictions`
      starts with `reject`.

    The private services must not have `n` in the private column, and cleanup must have
    it: clients connect to private/NAME or public/NAME.  A service disabled with
    `master_service_disable` counts as absent.  A master.cf without a queue manager (qmgr
    or oqmgr) is taken for a fragment meant to be merged into a whole one, and is not
    judged.

    postconf 3.7 says nothing about any of these.

    ## Why it matters
    postscreen without its smtpd turns away every client that passes its tests; without
    verify every checked address gets a 450; a daemon that opens a proxy: table without
    proxymap hangs at start-up (smtpd with the default local_recipient_maps never answers);
    without the cleanup service smtpd drops each client at MAIL FROM.  Without dnsblog
    the DNS blocklists are never asked, and without tlsproxy STARTTLS fails.  Without
    flush each ETRN gets a 458.

    ## Postfix source
    - postscreen hands a client to its smtpd through the `smtpd_service_name` service, and
      answers "421 4.3.2 No system resources" when it cannot connect:
      `src/postscreen/postscreen_send.c`, `psc_send_socket()`.
    - postscreen's DNS queries go through dnsblog: `src/postscreen/postscreen_dnsbl.c`,
      `psc_dnsbl_request()`.
    - postscreen's STARTTLS goes through tlsproxy ("454 4.7.0 TLS not available due to local
      problem" without it): `src/postscreen/postscreen_starttls.c`, `psc_starttls_open()`.
    - smtp(8) with TLS connection reuse talks TLS through tlsproxy, with no fallback:
      `src/smtp/smtp_proto.c`, `smtp_start_tls()` and `src/tls/tls_proxy_clnt.c`,
      `tls_proxy_open()`.
    - Address verification asks the verify service ("... service failure", then "450 ...
      address verification problem"): `src/smtpd/smtpd_check.c`,
      `reject_unverified_address()` with `src/global/verify_clnt.c`, `verify_clnt_query()`.
    - A `proxy:` table is opened through proxymap (read) or proxywrite (update), and the
      open is retried every second while the service cannot be reached:
      `src/global/dict_proxy.c`, `dict_proxy_open()`.
    - smtpd connects to `cleanup_service_name` in the public class and stops when it cannot
      ("unable to connect to the public ... service"): `src/smtpd/smtpd.c`,
      `mail_open_stream()`; the other services are reached in the private class (the
      `MAIL_CLASS_PRIVATE` connections of the functions above).
    - ETRN asks the public flush service only for a domain of `fast_flush_domains` (else
      "459 service unavailable"), and answers "458 Unable to queue messages" with the
      warning "unable to talk to fast flush service" when it cannot reach it:
      `src/smtpd/smtpd.c`, `etrn_cmd()`; `src/global/flush_clnt.c`, `flush_send_site()`.
    - The services and their names: `conf/master.cf`; `proto/postconf.proto`
      (smtpd_service_name), `proto/postconf.proto` (dnsblog_service_name),
      `proto/postconf.proto` (tlsproxy_service_name), `proto/postconf.proto`
      (address_verify_service_name), `proto/postconf.proto` (proxymap_service_name),
      `proto/postconf.proto` (proxywrite_service_name), `proto/postconf.proto`
      (cleanup_service_name).

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

    def check(self, ctx: Context) -> None:
        if not any(d.program in ("qmgr", "oqmgr") for d in _running(ctx)):
            return  # not a whole master.cf (or none): a fragment meant to go into one
        for daemon in _running(ctx):
            program = daemon.program
            if program == "postscreen" and _since(ctx, "2.8"):
                self._postscreen(ctx, daemon)
            if program == "smtpd" and _since(ctx, "2.1"):
                self._verify(ctx, daemon)
            if program == "smtpd":
                self._flush(ctx, daemon)
            if program in _QUEUEING:
                self._cleanup(ctx, daemon)
        if _since(ctx, "3.4"):
            self._tls_reuse(ctx)
        self._proxy(ctx)

    def _lack(
        self,
        ctx: Context,
        need: tuple[str, str, bool],
        users: str,
        effect: str,
        severity: str | None = None,
    ) -> str | None:
        """Why master.cf lacks the service ``need`` (name, type, private), or None when it has
        it.  When a service of that name is in the other class, whose private column is then
        the one thing to change, that column is reported here and None returned."""
        name, type_, private = need
        if _has_service(ctx, name, type_, private):
            return None
        where = f"{'private' if private else 'public'}/{name}"
        other = _has_service(ctx, name, type_, not private)
        if other is None:
            return f"master.cf has no '{name} {type_}' service ({where})"
        column = other.service.private
        shown = "'-' (which means 'y')" if column == "-" else f"'{column}'"
        made = f"{'public' if private else 'private'}/{name}"
        self.report(
            at.field(other, "private"),
            f"{other.key} has {shown} in the private column, so master makes {made}, but "
            f"{users} connect to {where}: {effect}; use {'-' if private else 'n'}",
            severity=severity,
        )
        return None

    @staticmethod
    def _name(view: Configuration, param: str, default: str) -> str:
        return (view.value(param) or "").strip() or default

    @staticmethod
    def _at_setting(daemon: Daemon, name: str) -> Location:
        """The -o or main.cf line that sets ``name`` for ``daemon``, else its service line."""
        return at.setting(daemon.config, name) or at.daemon(daemon)

    def _postscreen(self, ctx: Context, daemon: Daemon) -> None:
        key = daemon.key
        value = daemon.config.value
        smtpd = self._name(daemon.config, "smtpd_service_name", "smtpd")
        why = self._lack(
            ctx, (smtpd, "pass", True), "postscreen",
            "every client that passes postscreen gets a 421 instead of the SMTP server",
        )  # fmt: skip
        if why is not None:
            self.report(
                at.daemon(daemon),
                f"{key} runs postscreen, which hands each client that passes to "
                f"private/{smtpd}, but {why}: those clients get '421 4.3.2' instead of the "
                "real SMTP server",
            )
        if (value("postscreen_dnsbl_sites") or "").strip():
            dnsblog = self._name(daemon.config, "dnsblog_service_name", "dnsblog")
            why = self._lack(
                ctx, (dnsblog, "unix", True), "postscreen's DNSBL queries",
                "no blocklist is ever asked", severity="warning",
            )  # fmt: skip
            if why is not None:
                self.report(
                    self._at_setting(daemon, "postscreen_dnsbl_sites"),
                    f"postscreen_dnsbl_sites for {key} needs the dnsblog service, but {why}: "
                    "no blocklist is ever asked, and every client passes the DNSBL test",
                    severity="warning",
                )
        level = (value("postscreen_tls_security_level") or "").strip()
        if level.lower() in ("may", "encrypt") and any(yes(value(t)) for t in _DEEP_TESTS):
            tlsproxy = self._name(daemon.config, "tlsproxy_service_name", "tlsproxy")
            why = self._lack(
                ctx, (tlsproxy, "unix", True), "postscreen's STARTTLS", "STARTTLS fails",
                severity="warning",
            )  # fmt: skip
            if why is not None:
                self.report(
                    self._at_setting(daemon, "postscreen_tls_security_level"),
                    f"postscreen on {key} offers STARTTLS (postscreen_tls_security_level = "
                    f"{level}) through the tlsproxy service, but {why}: each STARTTLS gets "
                    "'454 4.7.0 TLS not available due to local problem'",
                    severity="warning",
                )

    @staticmethod
    def _reuse_level(client: SmtpClient) -> str | None:
        """The TLS level a client service uses with connection reuse on, "" when TLS is
        only in per-destination policies; None when reuse is off or TLS is not used."""
        if not yes(client.value("tls_connection_reuse")):
            return None
        tls = client.tls
        if tls.level == "none":
            return "" if tls.policy_maps else None
        return tls.level

    def _tls_reuse(self, ctx: Context) -> None:
        """One finding per place that turns connection reuse on, naming the client services
        it affects; an error when one of them requires TLS."""
        by_place: dict[object, list[tuple[SmtpClient, Daemon, str, str]]] = {}
        for client in ctx.postfix.smtp_clients:
            daemon = client.daemon
            if daemon is None or daemon.disabled:
                continue
            level = self._reuse_level(client)
            if level is None:
                continue
            setting = client.parameter("tls_connection_reuse")
            place = client.config.origin(setting) or daemon.key  # the -o or main.cf line
            by_place.setdefault(place, []).append((client, daemon, setting, level))
        for group in by_place.values():
            client, daemon, setting, _ = group[0]
            keys = ", ".join(d.key for _, d, _, _ in group)
            mandatory = any(level in _MANDATORY_TLS for _, _, _, level in group)
            severity = "error" if mandatory else "warning"
            effect = (
                "mail that requires TLS is deferred ('Cannot start TLS: handshake failure'), "
                "other mail goes out in plain text"
                if mandatory
                else "TLS fails, and mail goes out in plain text"
            )
            tlsproxy = self._name(client.config, "tlsproxy_service_name", "tlsproxy")
            why = self._lack(
                ctx, (tlsproxy, "unix", True), "SMTP clients with connection reuse",
                "their TLS fails", severity=severity,
            )  # fmt: skip
            if why is not None:
                self.report(
                    self._at_setting(daemon, setting),
                    f"{setting} = yes makes {keys} run TLS through the tlsproxy service, "
                    f"but {why}: {effect}",
                    severity=severity,
                )

    def _verify(self, ctx: Context, daemon: Daemon) -> None:
        found: list[Restriction] = []
        for server in ctx.postfix.smtp_servers:
            if server.daemon is daemon:
                for name in LISTS:
                    found += [
                        r for r in server.restrictions[name].flattened()
                        if r.lowered in _UNVERIFIED
                    ]  # fmt: skip
        if not found:
            return
        verify = self._name(daemon.config, "address_verify_service_name", "verify")
        why = self._lack(
            ctx, (verify, "unix", True),
            "reject_unverified_sender and reject_unverified_recipient",
            "every address they check gets a 450",
        )  # fmt: skip
        if why is None:
            return
        for r in found:
            where = at.written(r.written, parameter=r.list_name, service=daemon.key)
            where = where or at.daemon(daemon)
            self.report(
                where,
                f"{r.name} asks the verify service, but {why}: every address it checks "
                "gets '450 4.1.1 ... address verification problem'",
            )

    def _flush(self, ctx: Context, daemon: Daemon) -> None:
        """ETRN for a domain of fast_flush_domains goes to the public flush service."""
        domains = daemon.config.match_list("fast_flush_domains")
        if domains is None or not domains.items:
            return  # flush_send_site() answers 'denied' without asking the service
        for server in ctx.postfix.smtp_servers:
            if server.daemon is daemon:
                items = server.etrn_restrictions.flattened()
                if items and items[0].lowered == "reject":
                    return  # every ETRN is refused before the service is asked
        flush = self._name(daemon.config, "flush_service_name", "flush")
        why = self._lack(
            ctx, (flush, "unix", False), "smtpd's ETRN", "every ETRN gets a 458",
            severity="warning",
        )  # fmt: skip
        if why is None:
            return
        where = self._at_setting(daemon, "fast_flush_domains")
        if at.setting(daemon.config, "fast_flush_domains") is None:
            where = self._at_setting(daemon, "relay_domains")
        self.report(
            where,
            f"smtpd on {daemon.key} hands ETRN for the domains of fast_flush_domains to the "
            f"{flush} service, but {why}: each such ETRN gets '458 Unable to queue messages' "
            "and smtpd logs 'unable to talk to fast flush service'",
            severity="warning",
        )

    def _cleanup(self, ctx: Context, daemon: Daemon) -> None:
        cleanup = self._name(daemon.config, "cleanup_service_name", "cleanup")
        why = self._lack(
            ctx, (cleanup, "unix", False), "smtpd, pickup, local and bounce",
            "no mail can enter the queue",
        )  # fmt: skip
        if why is not None:
            program = daemon.program
            self.report(
                self._at_setting(daemon, "cleanup_service_name"),
                f"{program} on {daemon.key} passes mail to the {cleanup} service, but "
                f"{why}: {program} cannot hand over any message",
            )

    def _proxy(self, ctx: Context) -> None:
        """proxy: tables where they are written (main.cf, -o), and smtpd's default
        local_recipient_maps."""
        main = ctx.postfix.config
        names = {
            False: self._name(main, "proxymap_service_name", "proxymap"),
            True: self._name(main, "proxywrite_service_name", "proxywrite"),
        }
        users, effect = "programs with proxy: tables", "each program that opens one waits forever"
        lacks = {
            written: self._lack(ctx, (name, "unix", True), users, effect)
            for written, name in names.items()
        }
        programs = {daemon.program for daemon in _running(ctx)}

        def why(name: str) -> tuple[str, str] | None:
            """The proxy service ``name``'s tables go through, and why it is missing; None
            when it is there, or when the one program that writes the table does not run."""
            written = name in _WRITTEN_TABLES
            reason = lacks[written]
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
            if main.origin(entry.name) is not entry:
                continue
            missing = why(entry.name)
            if missing and _holds_tables(ctx, entry.name) and uses_proxy(entry.value):
                self.report(at.value(entry), message(entry.name, *missing))
        for daemon in _running(ctx):
            for override in daemon.overrides:
                name = override.name
                if daemon.config.origin(name) is not override:
                    continue
                missing = why(name)
                if missing and _holds_tables(ctx, name) and uses_proxy(override.value):
                    self.report(at.option(daemon, override), message(name, *missing))
        missing = why("local_recipient_maps")
        if missing is None:
            return
        default = main.raw("local_recipient_maps")
        for daemon in _running(ctx):
            if daemon.program != "smtpd" or daemon.config.origin("local_recipient_maps"):
                continue
            if uses_proxy(daemon.config.value("local_recipient_maps") or ""):
                self.report(
                    at.daemon(daemon),
                    f"smtpd on {daemon.key} opens local_recipient_maps (default: {default}) "
                    f"through the {missing[0]} service, but {missing[1]}: smtpd waits for "
                    "it forever and answers no client; add the service or set "
                    "local_recipient_maps",
                )


# -- B7: smtp/lmtp flags D and O -----------------------------------------------------------


@register
class SingleRecipientFlags(Rule):
    """
    ## What it finds
    An smtp or lmtp service with `flags=` holding `D` (a Delivered-To: header) or `O` (an
    X-Original-To: header) while `<service>_destination_recipient_limit` (else
    `default_destination_recipient_limit`, 50 by default) is not 1.  Postfix 3.5 and
    later.

    postconf 3.7 says nothing.

    ## Why it matters
    Such a header names one recipient, so the client refuses a delivery with several: every
    message with more than one recipient at the same destination is deferred again and
    again, and finally bounced.

    ## Postfix source
    - The `D` and `O` flags of `flags=`: `src/smtp/smtp.c`, `get_cli_attr()` (Postfix 3.5
      and later).
    - A delivery with more than one recipient is deferred ("flag `D' requires
      ..._destination_recipient_limit = 1", 4.3.5 "mail system configuration error"):
      `src/smtp/smtp.c`, `deliver_message()`.
    - The recipient limit per transport (`<transport>_destination_recipient_limit`, else
      `default_destination_recipient_limit`): `src/qmgr/qmgr_transport.c`,
      `qmgr_transport_create()`.

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

    def check(self, ctx: Context) -> None:
        if not _since(ctx, "3.5"):
            return
        # qmgr reads the limits per transport (qmgr_transport.c, qmgr_transport_create)
        managers = [d for d in _running(ctx) if d.program in ("qmgr", "oqmgr")]
        view = managers[-1].config if managers else ctx.postfix.config
        for daemon in _running(ctx):
            line = daemon.command_line
            if daemon.program not in ("smtp", "lmtp") or line is None or not line.known:
                continue
            last = None
            for index in line.plain:
                if line.words[index][:6].lower() == "flags=":
                    last = index
            if last is None:
                continue
            letters = "".join(f for f in "DO" if f in line.words[last][6:])
            if not letters:
                continue
            name = f"{daemon.name}_destination_recipient_limit"
            setting = name if view.is_set(name) else "default_destination_recipient_limit"
            limit = _integer(view.value(setting))
            if limit is None or limit == 1:
                continue
            flags = f"flag {letters}" if len(letters) == 1 else "flags D and O"
            self.report(
                at.word(daemon, last),
                f"{flags} on {daemon.key} need{'s' if len(letters) == 1 else ''} {name} = 1, "
                f"but {setting} is {limit}: each message with several recipients at one "
                "destination is deferred (\"mail system configuration error\")",
            )


def _integer(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None
