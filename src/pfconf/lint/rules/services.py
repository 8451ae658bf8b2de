"""master.cf rules: duplicate services, unused -o parameters, submission ports without the
TLS they need or open to anonymous clients, chroot where a daemon cannot work, and -o values
that Postfix splits at a blank.

Each rule asks the model (pfconf.semantics): the daemons master runs, their ports, the
overrides each daemon reads, and what each SMTP server offers.  Field values that Postfix
refuses outright (an unknown service type, a bad chroot or wakeup field) are syntax errors,
SYN001.  These rules report nothing about the stock master.cf that pflint assumes when none
was found.
"""

from __future__ import annotations

from typing import Any

from ...expand import Expansion
from ...kb import version_text
from ...model import Override, split_nameval
from ...semantics import Daemon, SmtpServer, readers, yes
from ...semantics.programs import Option
from ...semantics.restrictions import LISTS, Restriction
from ...values import split_list
from .. import location as at
from ..context import Context
from ..location import Location
from ..names import NameSpace
from ..rule import Rule, register

#: The ports the model resolves for submission (RFC 6409), implicit-TLS submission (RFC
#: 8314: submissions, formerly smtps) and SMTP.
SUBMISSION = 587
SUBMISSIONS = 465
SMTP = 25


def _real(ctx: Context) -> bool:
    return ctx.master is not None and not ctx.master_is_stock


def _servers(ctx: Context) -> list[tuple[SmtpServer, Daemon]]:
    """The smtpd services master runs, each with its daemon."""
    if not _real(ctx):
        return []
    return [
        (server, server.daemon)
        for server in ctx.postfix.smtp_servers
        if server.daemon is not None and server.daemon.started
    ]


def _own_setting(daemon: Daemon, name: str) -> Location | None:
    """The service's own ``-o`` of ``name``, when it has one."""
    origin = daemon.config.origin(name)
    return at.option(daemon, origin) if isinstance(origin, Override) else None


@register
class DuplicateService(Rule):
    """
    ## What it finds
    Two master.cf entries with the same service name and type.

    ## Why it matters
    master(8) runs the service as the last entry says and drops the earlier one, settings
    and all: with two `submission inet` entries, usually one copied from an article below
    the stock one, the `-o` lines of the first (its TLS requirement, say) silently stop
    applying.  Postfix 3.4 and later log "duplicate master.cf entry for service ... --
    using the last entry"; earlier releases say nothing.

    ## Postfix source
    - master(8) keeps one entry per service name and type and lets each later entry replace
      the settings of the one read before: `src/master/master_conf.c`, `master_config()`.
    - The warning "duplicate master.cf entry for service ... -- using the last entry":
      `src/master/master_conf.c`, `master_config()` (Postfix 3.4 and later).

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
    submission inet n - y - - smtpd
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Fix
    Merge the two entries into one.
    """

    code = "MST001"
    name = "duplicate-service"
    severity = "warning"
    summary = "service defined twice: the last entry replaces the earlier one"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        first: dict[str, int] = {}
        said = (
            "logs 'duplicate master.cf entry' and uses"
            if ctx.target[:2] >= (3, 4)
            else "silently uses"
        )
        for daemon in ctx.postfix.daemons:
            if daemon.key in first:
                self.report(
                    at.field(daemon, "service"),
                    f"{daemon.key} is already defined on line {first[daemon.key]}: master "
                    f"{said} this last entry, and the earlier one's settings are lost",
                )
            else:
                first[daemon.key] = daemon.service.line


def _set_valued(kb_parameters: dict[str, dict[str, Any]], word: str) -> list[str]:
    """The set-valued parameters (rules/parameters.toml: ``multiple``) that take ``word`` as
    one of their values."""
    lowered = word.lower()
    return sorted(
        name
        for name, info in kb_parameters.items()
        if info.get("multiple") and lowered in (str(v).lower() for v in info.get("values", ()))
    )


@register
class UnknownOverrideParameter(Rule):
    """
    ## What it finds
    An `-o name=value` whose name the target Postfix does not use: not one of its
    parameters, and not made meaningful by another setting (a `$name` reference, a
    restriction class, a `<service>_...` name of a master.cf service, a main.cf
    definition).  postconf calls these "unused parameter".  When the name is one of the
    values of a set-valued parameter (`-o no_address_mappings=yes`: a value of
    `receive_override_options`), the finding says which parameter takes it; else it
    suggests a parameter with a close spelling.

    The overrides are those the daemon reads (its getopt, which may differ from postconf's
    reading: see MST007).

    ## Why it matters
    The daemon stores the setting and never reads it: a typo such as
    `-o smtpd_tls_securty_level=encrypt` leaves the service at the default, without the
    protection the line promises, and `-o no_address_mappings=yes` leaves address mapping
    on.

    ## Postfix source
    - An `-o name=value` becomes a setting of that daemon like a main.cf line, whether or not
      the daemon reads the name: `src/master/single_server.c`, `single_server_main()` and
      `src/master/multi_server.c`, `multi_server_main()` (`mail_conf_update()`).
    - postconf's "unused parameter" warning: `src/postconf/postconf_unused.c`,
      `pcf_flag_unused_master_parameters()`; the names another setting makes meaningful:
      `src/postconf/postconf_user.c`, `pcf_register_user_parameters()`.
    - The words of `receive_override_options`: `src/global/input_transp.c`,
      `input_transp_mask()` (the list, with its source, in `rules/parameter_overrides.toml`).

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_securty_level=encrypt
    127.0.0.1:10025 inet n - n - - smtpd
      -o no_address_mappings=yes
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
    127.0.0.1:10025 inet n - n - - smtpd
      -o receive_override_options=no_address_mappings
    ```

    ## Fix
    Correct the name, or remove the line.
    """

    code = "MST002"
    name = "unknown-override-parameter"
    severity = "warning"
    summary = "-o override of a parameter Postfix does not use"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        names = NameSpace(ctx)
        main = ctx.postfix.config
        for daemon in ctx.postfix.daemons:
            for override in daemon.overrides:
                name = override.name
                if names.accepted(name) or main.is_set(name):
                    continue
                self.report(
                    at.option(daemon, override),
                    f"-o {name} on {daemon.key}: unused parameter ({self._why(ctx, name)}), "
                    f"so the setting does nothing{self._suggestion(ctx, daemon, override)}",
                )

    @staticmethod
    def _why(ctx: Context, name: str) -> str:
        info = ctx.kb.parameter(name)
        removed = info.get("removed") if info is not None else None
        if removed:
            return f"removed in Postfix {removed}"
        if info is not None:
            return f"only from Postfix {info.get('introduced', '?')}"
        return f"Postfix {version_text(ctx.target[:2])} has no parameter of that name"

    @staticmethod
    def _suggestion(ctx: Context, daemon: Daemon, override: Override) -> str:
        name = override.name
        owners = [p for p in _set_valued(ctx.kb.parameters, name) if ctx.kb.known(p)]
        if owners:
            owner = owners[0]
            if not yes(override.value):
                return f"; {name} is a value of {owner}, not a parameter"
            current = [t.text for t in split_list(daemon.config.value(owner) or "")]
            if name in current:
                return f"; {name} is a value of {owner}, which already has it"
            wanted = ",".join([*current, name])
            return f"; {name} is a value of {owner}: write -o {owner}={wanted}"
        close = ctx.kb.close_parameter(name)
        return f"; did you mean {close}?" if close else ""


def _programs(names: list[str]) -> str:
    """``cleanup``, ``cleanup and smtpd``, ``cleanup, smtpd and trivial-rewrite``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


@register
class OverrideNotRead(Rule):
    """
    ## What it finds
    An `-o name=value` on a master.cf service whose program never reads `name` in the
    target release: `-o header_checks=...` on an smtpd service, say, where cleanup(8) is the
    program that reads `header_checks`.  Which program reads which parameter comes from
    the Postfix source (`rules/readers.toml`).

    Not reported: a name the data does not know (a name of your own, a `<service>_...`
    name, an unknown one: MST002 looks at those); a name every program reads
    (`myhostname`, `syslog_name`...); a service whose program pfconf does not know; a
    name that another value the program reads expands as `$name` (in that service's
    view, restriction classes included), since the program then uses it; and a name
    that starts like the settings of a database table named in the configuration
    (`ldap:prefix` makes `prefix_...` names its settings).

    ## Why it matters
    An `-o` changes the settings of that service's processes only.  A program that does
    not read the name goes on as before, and the program that does read it (cleanup, for
    header_checks) runs as its own service with main.cf's value.  The line looks like it
    does something, say turning off header checks for mail from a content filter, while
    it does nothing.

    ## Postfix source
    - An `-o name=value` goes into the daemon's own copy of the configuration:
      `src/master/single_server.c`, `single_server_main()` (`mail_conf_update()`), and
      the other skeletons in `src/master/`.
    - A daemon reads the parameters of the configuration tables its code reaches, and
      every daemon those of `src/global/mail_params.c`, `mail_params_init()`; per program
      and release in `rules/readers.toml` (made by tools/gen_readers.py).
    - header_checks, for one, is in cleanup's table: `src/cleanup/cleanup_init.c`,
      `cleanup_pre_jail()` opens it; smtpd's tables do not name it
      (`src/smtpd/smtpd.c`, `main()`).
    - A `$name` in a value is expanded from the program's own settings, -o overrides
      included: `src/global/mail_conf.c`, `mail_conf_eval()`.
    - A database table's client reads `<prefix>_<setting>` from the settings of the
      program that opens it: `src/global/cfg_parser.c`, `cfg_parser_alloc()`.

    ## Example
    ```
    127.0.0.1:10025 inet n - n - - smtpd
      -o content_filter=
      -o header_checks=
    ```

    ## Use instead
    ```
    127.0.0.1:10025 inet n - n - - smtpd
      -o content_filter=
      -o receive_override_options=no_header_body_checks
    ```
    (smtpd reads receive_override_options and tells cleanup to skip the checks for that
    mail), or set the parameter on the service of the program that reads it, or in
    main.cf.

    ## Fix
    Remove the line, or move the setting where its program reads it.
    """

    code = "MST014"
    name = "override-not-read"
    severity = "warning"
    summary = "-o override of a parameter the service's program does not read"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        version = ctx.target
        # a database table's settings are <prefix>_<setting> names (ldap:prefix), which its
        # client reads whatever program opens the table (global/cfg_parser.c)
        prefixes = NameSpace(ctx).dbms_prefixes
        for daemon in ctx.postfix.daemons:
            if readers.kind(daemon.program) != "daemon" or not daemon.started:
                continue
            for override in daemon.overrides:
                name = override.name
                if not ctx.kb.known(name, version) or daemon.affected_by(name) is not False:
                    continue
                if any(name.startswith(prefix) for prefix in prefixes):
                    continue
                who = readers.who(name, version)
                if not who:
                    continue
                # proxymap reads alias_maps, local_recipient_maps... only to expand the
                # default of proxy_read_maps (proxymap.c, main()): no place to set them
                who = [p for p in who if p != "proxymap"] or who
                where = f"the {who[0]} service" if len(who) == 1 else "their services"
                verb = "reads" if len(who) == 1 else "read"
                self.report(
                    at.option(daemon, override),
                    f"{name} has no effect on {daemon.program}: {_programs(who)} {verb} it; "
                    f"set it on {where} or in main.cf",
                )


@register
class SubmissionWithoutTls(Rule):
    """
    ## What it finds
    A submission service (port 587: `submission`, `587`, `host:submission`) that offers
    SMTP AUTH before TLS: TLS is optional or absent there (`smtpd_tls_security_level` is
    not `encrypt` for that service, and it is not in wrapper mode) while
    `smtpd_tls_auth_only` is not `yes`.

    With `smtpd_tls_auth_only = yes` and TLS optional, passwords only ever cross inside
    TLS, so that is not reported.

    ## Why it matters
    Port 587 is where users send their password.  With AUTH offered before STARTTLS, a
    client (or an attacker who removes STARTTLS from the server's answer) authenticates
    in clear.  A warning, not an error: mail flows; the risk is that passwords are read.

    ## Postfix source
    - Without TLS, smtpd turns SASL on at the greeting unless `smtpd_tls_auth_only = yes`:
      `src/smtpd/smtpd.c`, `smtpd_proto()`.
    - Required TLS (level `encrypt`, or wrapper mode) implies AUTH only after STARTTLS:
      `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - What each port is for: `conf/master.cf` (the stock `submission` entry, with
      `smtpd_tls_security_level=encrypt`); RFC 8314, section 3.3.

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=may
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Fix
    Add `-o smtpd_tls_security_level=encrypt` to the service (with no server certificate,
    give smtpd one first).
    """

    code = "MST003"
    name = "submission-without-tls"
    severity = "warning"
    summary = "submission service (587) offers AUTH before TLS"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server, daemon in _servers(ctx):
            if daemon.port != SUBMISSION or server.auth.state != "always":
                continue
            tls = server.tls
            if tls.state == "none":
                problem = f"offers AUTH and no TLS at all ({tls.why})"
                fix = "give smtpd a certificate and add -o smtpd_tls_security_level=encrypt"
            else:
                problem = f"offers AUTH before STARTTLS (TLS optional: {tls.why}; {server.auth.why})"
                fix = "add -o smtpd_tls_security_level=encrypt"
            self.report(
                _own_setting(daemon, "smtpd_tls_security_level") or at.daemon(daemon),
                f"{daemon.key} {problem}: on the submission port passwords can cross the "
                f"network in clear; {fix}",
            )


@register
class SubmissionsWithoutWrapperMode(Rule):
    """
    ## What it finds
    A port-465 service (`submissions`, `smtps`, `465`) without `smtpd_tls_wrappermode=yes`
    (error); wrapper mode on port 25 (error) or 587 (warning).

    ## Why it matters
    Clients of port 465 start TLS with the first byte ("implicit TLS"); without wrapper
    mode smtpd answers them in plain SMTP and no client can connect.  The other way round,
    every MTA delivers on port 25 in plain SMTP, and wrapper mode there refuses all
    incoming mail; mail clients on 587 expect STARTTLS, and wrapper mode locks out the ones
    not set up for it.

    ## Postfix source
    - In wrapper mode smtpd starts TLS on the connection before its greeting:
      `src/smtpd/smtpd.c`, `smtpd_proto()`.
    - Wrapper mode belongs to port 465, STARTTLS to 587: `conf/master.cf` (the stock
      `submissions` entry with `smtpd_tls_wrappermode=yes`, and `submission`);
      `proto/postconf.proto` (smtpd_tls_wrappermode); RFC 8314, section 3.

    ## Example
    ```
    submissions inet n - y - - smtpd
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Use instead
    ```
    submissions inet n - y - - smtpd
      -o smtpd_tls_wrappermode=yes
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Fix
    Add `-o smtpd_tls_wrappermode=yes` to the port-465 service; remove it from 587 and 25.
    """

    code = "MST004"
    name = "submissions-without-wrappermode"
    severity = "error"
    summary = "port 465 without TLS wrapper mode, or wrapper mode on 587 or 25"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server, daemon in _servers(ctx):
            port = daemon.port
            wrapper = yes(server.config.value("smtpd_tls_wrappermode"))
            if port == SUBMISSIONS and not wrapper:
                origin = server.config.origin("smtpd_tls_wrappermode")
                said = "no (default)" if origin is None else repr(origin.value)
                self.report(
                    _own_setting(daemon, "smtpd_tls_wrappermode") or at.daemon(daemon),
                    f"{daemon.key} is the implicit-TLS port 465 but smtpd_tls_wrappermode is "
                    f"{said}: clients that start with TLS cannot connect",
                )
            elif port in (SUBMISSION, SMTP) and wrapper:
                who = "no MTA can deliver mail" if port == SMTP else "mail clients that use STARTTLS cannot connect"
                self.report(
                    at.setting(server.config, "smtpd_tls_wrappermode") or at.daemon(daemon),
                    f"smtpd_tls_wrappermode = yes on {daemon.key} (port {port}): its clients "
                    f"speak plain SMTP with STARTTLS, not TLS from the first byte, so {who}",
                    severity="error" if port == SMTP else "warning",
                )


#: What lets a client through a list that ends in reject without it being anonymous: SASL,
#: a trusted network, a trusted client certificate (smtpd/smtpd_check.c).
_AUTHENTICATED = {
    "permit_sasl_authenticated",
    "permit_mynetworks",
    "permit_tls_clientcerts",
    "permit_tls_all_clientcerts",
}


def _confines(items: tuple[Restriction, ...]) -> bool:
    """Whether a list (classes expanded) ends in ``reject`` or ``defer`` after
    permit_sasl_authenticated, with no permit on the way that an anonymous client meets."""
    if not items or items[-1].lowered not in ("reject", "defer"):
        return False
    names = [item.lowered for item in items[:-1]]
    if "permit_sasl_authenticated" not in names:
        return False
    permits = {n for n in names if n == "permit" or n.startswith("permit_")}
    return permits <= _AUTHENTICATED


_NONE = Expansion()


@register
class SaslServiceNotConfined(Rule):
    """
    ## What it finds
    A submission service (587 or 465) that offers SMTP AUTH, where none of smtpd's
    restriction lists (client, helo, sender, relay, recipient, data, end-of-data; classes
    of `smtpd_restriction_classes` and `$name` lists expanded) ends in
    `permit_sasl_authenticated, reject` with no other permit than `permit_mynetworks` or a
    client certificate before it.  A service whose lists refer to a `$name` that main.cf
    does not define is left to PAR004.

    ## Why it matters
    A submission port is for your users.  Without such a list it falls back to main.cf's
    restrictions, written for port 25, so anonymous clients can submit mail for your own
    domains on it, bypassing whatever port 25 checks that the submission port does not
    (postscreen, for one).

    ## Postfix source
    - A service without its own `-o` restriction lists uses main.cf's: the `-o` options only
      replace the values they name (`src/master/multi_server.c`, `multi_server_main()`,
      `mail_conf_update()`), and smtpd reads its lists in `src/smtpd/smtpd_check.c`,
      `smtpd_check_init()`.
    - Confining submission to authenticated clients: `conf/master.cf` (the stock
      `submission` and `submissions` entries end `smtpd_recipient_restrictions` in
      `permit_sasl_authenticated,reject`).

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
      -o smtpd_sasl_auth_enable=yes
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
      -o smtpd_sasl_auth_enable=yes
      -o smtpd_client_restrictions=permit_sasl_authenticated,reject
    ```

    ## Fix
    Add `-o smtpd_client_restrictions=permit_sasl_authenticated,reject` (or the relay
    restrictions) to the service.
    """

    code = "MST005"
    name = "sasl-service-not-confined"
    severity = "warning"
    summary = "submission service not confined to authenticated clients"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server, daemon in _servers(ctx):
            if daemon.port not in (SUBMISSION, SUBMISSIONS) or server.auth.state == "none":
                continue
            if any(_confines(server.restrictions[name].flattened()) for name in LISTS):
                continue
            if any((server.config.expansion(name) or _NONE).undefined for name in LISTS):
                continue  # a $list main.cf does not define (PAR004): judged by what it holds
            self.report(
                at.daemon(daemon),
                f"{daemon.key} offers AUTH but no restriction list ends in "
                "permit_sasl_authenticated, reject: anonymous clients can use it too",
            )


#: Daemons that cannot run chrooted: those that deliver locally or run other programs
#: (BASIC_CONFIGURATION_README, "Running Postfix daemon processes chrooted"), and proxymap,
#: which could then open only tables inside the jail (proxymap(8)).
_NO_CHROOT = {"local", "virtual", "pipe", "spawn", "proxymap"}


@register
class ChrootUnsupported(Rule):
    """
    ## What it finds
    `y` in the chroot column for a daemon that does not work chrooted: local, virtual,
    pipe, spawn (they deliver into mailboxes or run other programs) and proxymap (which
    then reaches only tables inside the queue directory).  A `-` counts as `y` below
    compatibility level 1, which is every release before 3.0 and a main.cf without
    `compatibility_level`.

    ## Why it matters
    Chrooted, these daemons cannot see home directories, mailbox paths, the programs they
    run or the tables they serve; deliveries fail with "file not found" in ways that are
    hard to trace back to master.cf.

    ## Postfix source
    - A `-` in the chroot column means `y` below compatibility level 1:
      `src/master/master_ent.c`, `get_master_ent()` (the default is `n` from Postfix 3.0).
    - Which daemons must not be chrooted (local, pipe, spawn, virtual; proxymap defeats its
      purpose): master(5), `proto/master` (the Chroot column); BASIC_CONFIGURATION_README
      ("Running Postfix daemon processes chrooted").

    ## Example
    ```
    local     unix  -       n       y       -       -       local
    ```

    ## Use instead
    ```
    local     unix  -       n       n       -       -       local
    ```

    ## Fix
    Set the chroot column to `n`.
    """

    code = "MST006"
    name = "chroot-unsupported"
    severity = "info"
    summary = "daemon that cannot work chrooted is chrooted"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        for daemon in ctx.postfix.daemons:
            if daemon.program not in _NO_CHROOT or not daemon.chroot or daemon.disabled:
                continue
            column = daemon.service.chroot
            if column == "-" and ctx.main is None:
                continue  # "-" depends on main.cf's compatibility_level
            shown = "'-' (chrooted below compatibility level 1)" if column == "-" else "y"
            self.report(
                at.field(daemon, "chroot"),
                f"{daemon.key} runs {daemon.program} chrooted ({shown}): it cannot reach "
                "files outside the queue directory; use n",
            )


_ARGUMENT_PROGRAMS = {"pipe", "spawn", "local"}


@register
class OverrideSplitAtBlank(Rule):
    """
    ## What it finds
    An `-o name=value` written with blanks, such as
    `-o smtpd_client_restrictions=permit_sasl_authenticated, reject` or
    `-o smtpd_sasl_type = dovecot`: Postfix splits the line at blanks, so the value ends at
    the blank and the rest become plain arguments; and the `-o` options after such a plain
    argument, which are then not read as options at all (getopt stops at the first plain
    argument).  pipe, spawn and local, whose plain arguments are meant, are not checked.

    The line is read as the daemon's getopt reads it, not as postconf does: in
    `smtpd -n name -o x=y`, `-n` takes `name` and smtpd reads `x=y`, although postconf -P
    does not show it; after a lone `-` smtpd reads no more options, although postconf -P
    shows the `-o` after it.

    ## Why it matters
    The service runs with `smtpd_client_restrictions=permit_sasl_authenticated,` (no
    `reject`: everyone gets through), and every `-o` after it is silently ignored.

    ## Postfix source
    - master(8) splits the command field at blanks (`{ }` keeps a value with blanks together,
      Postfix 3.0 and later): `src/master/master_ent.c`, `get_master_ent()`.
    - The daemon reads `-o` with getopt, which stops at the first plain argument (Postfix asks
      for that with `+` where the C library would permute): `src/master/single_server.c`,
      `single_server_main()`, and the other `*_server_main()` functions, with `GETOPT()` in
      `src/util/sys_defs.h`; the option letters per daemon and release are in
      `rules/daemons.toml`.

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_client_restrictions=permit_sasl_authenticated, reject
      -o smtpd_tls_security_level=encrypt
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_client_restrictions=permit_sasl_authenticated,reject
      -o smtpd_tls_security_level=encrypt
    ```
    (or `-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }`, Postfix 3.0
    and later).

    ## Fix
    Remove the blanks after the commas, or put the setting in `{ }`.
    """

    code = "MST007"
    name = "override-split-at-blank"
    severity = "error"
    summary = "-o value split at a blank: the rest is not part of it"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        for daemon in ctx.postfix.daemons:
            line = daemon.command_line
            if line is None or daemon.disabled or daemon.program in _ARGUMENT_PROGRAMS:
                continue  # pipe, spawn, local: their plain arguments (argv=...) are meant
            if line.end >= len(line.words):
                continue
            words = daemon.service.arguments
            dashes = line.ends_at_dashes
            cut = split_value(daemon)
            if cut is not None:
                option, plain = cut
                error, ns, ne, vs, ve = split_nameval(option.value or "")
                text = option.value or ""
                name = text[ns:ne] if ns < ne else text
                value = repr(text[vs:ve]) if error is None else "missing"
                self.report(
                    at.word(daemon, plain, parameter=name),
                    f"{words[plain].text!r} is not part of -o {name}: Postfix splits the line "
                    f"at blanks, so the value is {value}; write it without blanks or as "
                    f"-o {{ {name} = ... }}",
                )
            ignored = [i for i in line.plain[0 if dashes else 1 :] if words[i].text.startswith("-o")]
            if ignored:
                more = f" and the {len(ignored) - 1} after it" if len(ignored) > 1 else ""
                first = words[line.end]
                after = (
                    f"'--' (line {first.span.line}), which ends the options"
                    if dashes
                    else f"the plain argument {first.text!r} (line {first.span.line})"
                )
                self.report(
                    at.word(daemon, ignored[0]),
                    f"this -o{more} come{'' if more else 's'} after {after}: "
                    f"{daemon.program} does not read "
                    + ("them as options, so the settings are" if more else "it as an option, so the setting is")
                    + " ignored",
                )  # fmt: skip


def split_value(daemon: Daemon) -> tuple[Option, int] | None:
    """The ``-o`` whose value Postfix cut at a blank, and the index (in Service.arguments)
    of the word cut off: the first plain word, right after an ``-o`` value (the daemon's
    reading).  None when the options end otherwise."""
    line = daemon.command_line
    if line is None or not line.plain or line.ends_at_dashes:
        return None
    first = line.plain[0]
    last = line.options[-1] if line.options else None
    if last is not None and last.letter == "o" and last.value_word == first - 1:
        return last, first
    return None
