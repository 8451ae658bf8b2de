"""TLS rules, put as questions to the model (pfconf.semantics): obsolete switches that a
security level overrides, mandatory TLS on the public port 25, TLS asked for without a usable
certificate, protocol and cipher lists where they take effect, and SASL passwords a client
may send without TLS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from ...model import Override
from ...semantics import Configuration
from ...semantics.client import SmtpClient, client_level
from ...semantics.configuration import default_value
from ...semantics.postscreen import postscreen_tls, server_ports, talks_smtp
from ...semantics.smtpd import ServerTls, server_level
from ...values import enabled_protocols, split_list
from .. import location as at
from ..context import Context
from ..location import File, Location
from ..rule import Rule, register


def _first_setting(config: Configuration, *names: str | None) -> Location | None:
    """Where the first of ``names`` that ``config`` sets is written (None: all defaults)."""
    for name in names:
        if name is not None:
            where = at.setting_line(config, name)
            if where is not None:
                return where
    return None


def _without(config: Configuration, name: str) -> Callable[[str], str | None]:
    """``config``'s values with ``name`` left empty: what the legacy switches alone say."""
    return lambda other: None if other == name else config.value(other)


@register
class TlsSwitchConflict(Rule):
    """
    ## What it finds
    An obsolete TLS switch (`smtpd_use_tls`, `smtpd_enforce_tls`, `smtp_use_tls`,
    `smtp_enforce_tls`, and the `lmtp_` ones) set, for a server or client that also has a
    `*_tls_security_level`, to a different meaning: `smtpd_use_tls = yes` means level `may`,
    `smtpd_enforce_tls = yes` means `encrypt`, `no` means `none`; for the client
    `smtp_enforce_tls = yes` means `verify` (or `encrypt` with
    `smtp_tls_enforce_peername = no`, where DEPRECATION_README simplifies it to
    `encrypt`).  Each smtpd, smtp and lmtp service is judged with its own `-o` overrides;
    a switch left at its default asks for nothing, and a switch in main.cf is not judged
    on a service whose own `-o` sets the level (that override replaces main.cf's level and
    switches alike).

    ## Why it matters
    A non-empty security level silently wins: smtpd and the client read the switches only
    when the level is empty.  Whoever reads only the switch believes TLS is required (or
    off) when it is not.

    ## Postfix source
    - smtpd reads `smtpd_use_tls` and `smtpd_enforce_tls` only when
      `smtpd_tls_security_level` is empty (and wrapper mode is off); a level overrides both:
      `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - The client reads `smtp_enforce_tls` (`verify`, or `encrypt` with
      `smtp_tls_enforce_peername = no`) and `smtp_use_tls` (`may`) only when
      `smtp_tls_security_level` is empty: `src/smtp/smtp_tls_policy.c`, `global_tls_level()`.
    - A master.cf `-o` replaces main.cf's value for that service, so a service's own level
      overrides main.cf's switches as well as its level: `src/master/multi_server.c`,
      `multi_server_main()` and `src/master/single_server.c`, `single_server_main()`
      (`mail_conf_update()`).
    - The replacements: DEPRECATION_README (its `smtpd_use_tls`, `smtpd_enforce_tls`,
      `smtp_use_tls` and `smtp_enforce_tls` entries).

    ## Example
    ```
    smtpd_enforce_tls = yes
    smtpd_tls_security_level = may
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```

    ## Fix
    Delete the switch and keep the security level that says what you want.
    """

    code = "TLS001"
    name = "tls-switch-conflict"
    severity = "warning"
    summary = "obsolete TLS switch contradicts the security level that overrides it"
    needs_main = True
    # services may override the level differently: the first one's words stand
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            if server.tls.wrapper:
                continue  # wrapper mode overrides the level and the switches alike
            self._judge(server.config, "smtpd")
        for client in ctx.postfix.smtp_clients:
            self._judge(client.config, client.protocol)

    def _judge(self, config: Configuration, prefix: str) -> None:
        level_name = f"{prefix}_tls_security_level"
        written = (config.value(level_name) or "").strip().lower()
        enforce, use = f"{prefix}_enforce_tls", f"{prefix}_use_tls"
        if not written or not (config.is_set(enforce) or config.is_set(use)):
            return
        alone = _without(config, level_name)
        if prefix == "smtpd":
            level = server_level(config.value)[0]
            wanted, switch, _ = server_level(alone)
        else:
            level = written
            wanted, switch, _ = client_level(alone, prefix)
        if switch is None:
            if not config.is_set(use):
                return  # "enforce_tls = no" alone only says "not required"
            switch = use  # "use_tls = no": no TLS
        if not config.is_set(switch) or wanted == level:
            return
        if isinstance(config.origin(level_name), Override) and not isinstance(
            config.origin(switch), Override
        ):
            # a service's own -o level overrides everything main.cf says about TLS, its
            # level and switches alike: main.cf's switch is judged against main.cf's level
            return
        where = at.setting(config, switch)
        if where is not None:
            self.report(
                where,
                f"{switch} asks for TLS level {wanted!r}, but {level_name} = {written} "
                "overrides it: the switch is ignored",
            )


@register
class EncryptOnPort25(Rule):
    """
    ## What it finds
    Mandatory TLS (`smtpd_tls_security_level = encrypt`, `smtpd_enforce_tls = yes`, or
    wrapper mode) for an smtpd that clients reach on the public SMTP port 25: the `smtp`
    inet service, or the smtpd that postscreen on port 25 hands its clients to.

    ## Why it matters
    RFC 3207 forbids a publicly referenced mail server to require TLS: servers that cannot
    or do not use it get "530 5.7.0 Must issue a STARTTLS command first" and their mail to
    you is refused.  Mandatory TLS belongs on the submission
    ports (587, 465).

    ## Postfix source
    - With TLS required, smtpd answers every command but a few with "530 5.7.0 Must issue a
      STARTTLS command first": `src/smtpd/smtpd.c`, `smtpd_proto()`; wrapper mode and
      `smtpd_enforce_tls` imply required TLS: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - Required TLS must not be used on a publicly referenced server: `proto/postconf.proto`
      (smtpd_tls_security_level), after RFC 2487 (now RFC 3207, section 4).
    - postscreen on port 25 hands its clients to the smtpd of `smtpd_service_name`:
      `src/postscreen/postscreen_send.c`, `psc_send_socket()`.

    ## Example
    ```
    smtpd_tls_security_level = encrypt
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    ```
    and `-o smtpd_tls_security_level=encrypt` on the submission service in master.cf.

    ## Fix
    Use `may` for port 25.
    """

    code = "TLS002"
    name = "encrypt-on-port-25"
    severity = "error"
    summary = "TLS required on the public port 25 service"
    needs_main = True

    def check(self, ctx: Context) -> None:
        screens = ctx.postfix.postscreens
        for server in ctx.postfix.smtp_servers:
            tls = server.tls
            # without a certificate no client can send at all: TLS003 says so
            if tls.state != "required" or 25 not in server_ports(server, screens):
                continue
            where = _first_setting(server.config, tls.parameter)
            if where is None:
                continue
            through = (
                " through postscreen" if server.daemon and server.daemon.type == "pass" else ""
            )
            if tls.wrapper:
                message = (
                    f"smtpd_tls_wrappermode = yes on {server.key} (port 25{through}): servers "
                    "that speak SMTP first cannot deliver mail to you"
                )
            else:
                message = (
                    f"{tls.why} on {server.key} (port 25{through}): servers without TLS get "
                    "530 and cannot deliver mail to you; use may"
                )
            self.report(where, message)


#: Postfix's replies when TLS cannot start (smtpd.c starttls_cmd(), smtpd_proto()).
_REPLY_454 = '"454 4.7.0 TLS not available due to local problem"'
_REPLY_530 = '"530 5.7.0 Must issue a STARTTLS command first"'


@register
class TlsWithoutCertificate(Rule):
    """
    ## What it finds
    An smtpd service whose TLS level asks for TLS (`smtpd_tls_security_level` `may` or
    `encrypt`, the obsolete `smtpd_use_tls` / `smtpd_enforce_tls`, or wrapper mode) while
    its TLS engine has nothing to start with: no certificate (`smtpd_tls_chain_files`,
    `smtpd_tls_cert_file`, `smtpd_tls_eccert_file`, `smtpd_tls_dcert_file`), or a
    certificate whose key file is set to nothing.  Up to Postfix 3.11 also postscreen,
    when its own SMTP engine talks to clients (deep protocol tests, or a test whose action
    is `enforce`) and the tlsproxy service it hands STARTTLS to cannot start TLS.

    A key file left at its default (`$smtpd_tls_cert_file`) is not reported: Postfix then
    reads certificate and key from the same file.

    ## Why it matters
    smtpd logs "No server certs available. TLS won't be enabled" but still announces
    STARTTLS, and answers the command with "454 4.7.0 TLS not available due to local
    problem":

    - at level `may` mail still arrives, in plain text; clients that require TLS to you
      cannot deliver (warning);
    - at level `encrypt` every MAIL gets "530 5.7.0 Must issue a STARTTLS command first"
      and STARTTLS gets 454: no client can send mail at all (error);
    - in wrapper mode smtpd drops every connection before its greeting ("Wrapper-mode
      request dropped ... TLS context initialization failed"): no client can send mail
      (error).

    postscreen up to 3.11 announces STARTTLS by its level and hands the command to
    tlsproxy(8), which answers 454 when it has no TLS engine of its own (it reads
    `tlsproxy_tls_*`, by default the `smtpd_tls_*` values).  From
    3.12 postscreen loads its own certificate and announces STARTTLS only when it has one;
    without one it logs "No server certs available" and offers none (info at `may`, a
    warning at `encrypt`, where clients in its deep protocol tests are asked for STARTTLS
    it does not offer).  A postscreen whose TLS setting is also smtpd's finding is not
    named again.

    ## Postfix source
    - Without a certificate smtpd logs "No server certs available. TLS won't be enabled"
      and sets up no TLS engine: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - It still announces STARTTLS by its level (`src/smtpd/smtpd.c`, `ehlo_cmd()`), answers
      the command with "454 4.7.0 TLS not available due to local problem" (`starttls_cmd()`),
      and in wrapper mode drops each connection ("Wrapper-mode request dropped"):
      `src/smtpd/smtpd.c`, `smtpd_proto()`.
    - postscreen up to 3.11 announces STARTTLS by its level (`src/postscreen/postscreen_smtpd.c`,
      `psc_smtpd_format_ehlo_reply()`) and hands the command to tlsproxy
      (`src/postscreen/postscreen_starttls.c`, `psc_starttls_open()`), which has no TLS
      without a certificate ("No server certs available. TLS can't be enabled":
      `src/tlsproxy/tlsproxy.c`, `pre_jail_init_server()` in 3.11).
    - From 3.12 postscreen loads its own certificate (`src/postscreen/postscreen_tls_conf.c`,
      `psc_tls_pre_jail()`) and leaves STARTTLS out of EHLO without one
      (`src/postscreen/postscreen_smtpd.c`, `psc_smtpd_init()`).

    ## Example
    ```
    smtpd_tls_security_level = may
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    smtpd_tls_chain_files = /etc/ssl/private/mail.key, /etc/ssl/certs/mail.fullchain.pem
    ```

    ## Fix
    Configure the certificate and key, or set the level to `none`.
    """

    code = "TLS003"
    name = "tls-without-certificate"
    severity = "error"
    summary = "TLS asked for, but smtpd has no certificate to start it with"
    needs_main = True

    def check(self, ctx: Context) -> None:
        reported: set[Location] = set()
        for server in ctx.postfix.smtp_servers:
            where = self._judge(server.config, server.tls)
            if where is not None:
                reported.add(attrs.evolve(where, service=None))
        for screen in ctx.postfix.postscreens:
            if not talks_smtp(screen):
                continue
            tls = postscreen_tls(screen, ctx.postfix.daemons)
            if tls.level not in ("may", "encrypt") or tls.certificate is None:
                continue
            if tls.certificate.usable:
                continue
            where = _first_setting(
                screen.config, tls.parameter, "smtpd_tls_security_level", "smtpd_use_tls",
                "smtpd_enforce_tls",
            ) or at.daemon(screen.daemon)  # fmt: skip
            if attrs.evolve(where, service=None) in reported:
                continue  # the smtpd finding at the same setting says it
            if ctx.target[:2] >= (3, 12):
                # postscreen announces STARTTLS only when it has a certificate
                self.report(
                    where,
                    f"postscreen ({screen.daemon.key}) asks for TLS ({tls.why}): it logs "
                    "\"No server certs available. TLS won't be enabled\" and offers no "
                    "STARTTLS in its deep protocol tests",
                    severity="info" if tls.level == "may" else "warning",
                )
                continue
            self.report(
                where,
                f"postscreen ({screen.daemon.key}) announces STARTTLS ({tls.why}) and answers "
                f"it with {_REPLY_454}: clients in its deep protocol tests or rejected by it "
                "that require TLS cannot go on",
                severity="warning",
            )

    def _judge(self, config: Configuration, tls: ServerTls) -> Location | None:
        certificate = tls.certificate
        if tls.level not in ("may", "encrypt") or certificate is None or certificate.usable:
            return None
        problem = certificate.problem
        where = _first_setting(config, certificate.empty_key, tls.parameter)
        if where is None:
            return None
        if tls.wrapper:
            message = (
                f"smtpd runs in wrapper mode but {problem}: it drops every connection "
                'before its greeting ("Wrapper-mode request dropped"), so no client can '
                "send mail"
            )
            severity = None
        elif tls.level == "encrypt":
            message = (
                f"{tls.why}: smtpd announces STARTTLS but answers it with {_REPLY_454}, "
                f"and refuses MAIL with {_REPLY_530}: no client can send mail"
            )
            severity = None
        else:
            message = (
                f"{tls.why}: smtpd announces STARTTLS but answers it with {_REPLY_454}; "
                "mail arrives in plain text, and clients that require TLS cannot deliver"
            )
            severity = "warning"
        self.report(where, message, severity=severity)
        return where


# -- protocol and cipher lists, where they take effect ----------------------------------------


@attrs.frozen
class _Use:
    """One service reading one TLS list: the list's name and the service's configuration."""

    config: Configuration
    name: str
    #: the list applies where TLS is mandatory
    mandatory: bool


def _list_uses(ctx: Context, kind: str) -> Iterator[_Use]:
    """Every service that uses a ``*_tls_{kind}`` or ``*_tls_mandatory_{kind}`` list
    (``kind`` ``protocols`` or ``ciphers``).

    smtpd uses the mandatory list at level encrypt (or in wrapper mode) and the other one at
    may (smtpd.c pre_jail_init and tls_server_start: ``enforce_tls ? mandatory : other``).
    The client uses the other one at ``may``, the mandatory one above it (``dane`` falls
    back to ``may`` for destinations without TLSA records), and a policy table may ask
    for any level per destination (smtp_tls_policy.c).  tlsproxy serves postscreen's
    STARTTLS up to 3.11, with its own level (tlsproxy.c)."""
    for server in ctx.postfix.smtp_servers:
        state = server.tls.state
        if state == "optional":
            yield _Use(server.config, f"smtpd_tls_{kind}", False)
        elif state == "required":
            yield _Use(server.config, f"smtpd_tls_mandatory_{kind}", True)
    for client in ctx.postfix.smtp_clients:
        yield from _client_uses(client, kind)
    if ctx.target[:2] >= (3, 12):
        return
    screens = [s for s in ctx.postfix.postscreens if talks_smtp(s)]
    if not any(postscreen_tls(s, ctx.postfix.daemons).announced for s in screens):
        return
    for daemon in ctx.postfix.running("tlsproxy"):
        level = server_level(daemon.config.value, "tlsproxy")[0]
        if level == "may":
            yield _Use(daemon.config, f"tlsproxy_tls_{kind}", False)
        elif level == "encrypt":
            yield _Use(daemon.config, f"tlsproxy_tls_mandatory_{kind}", True)


def _client_uses(client: SmtpClient, kind: str) -> Iterator[_Use]:
    tls = client.tls
    other = client.parameter(f"tls_{kind}")
    mandatory = client.parameter(f"tls_mandatory_{kind}")
    if tls.policy_maps is not None or tls.level == "dane":
        yield _Use(client.config, other, False)
        yield _Use(client.config, mandatory, True)
    elif tls.level == "may":
        yield _Use(client.config, other, False)
    elif tls.required:
        yield _Use(client.config, mandatory, True)


def _is_default(use: _Use, value: str) -> bool:
    default = default_value(use.config, use.name)
    if default is None:
        return False
    words = [t.text.lower() for t in split_list(value)]
    return words == [t.text.lower() for t in split_list(default)]


_BROKEN = {"SSLv2", "SSLv3"}
_WEAK = {"TLSv1", "TLSv1.1"}


@register
class BrokenTlsProtocols(Rule):
    """
    ## What it finds
    A `*_tls_protocols` or `*_tls_mandatory_protocols` value (main.cf or a master.cf `-o`)
    that leaves SSLv2 or SSLv3 enabled (warning), or that leaves TLSv1 or TLSv1.1 enabled
    for mandatory TLS (info).  Both syntaxes are read: exclusions (`!SSLv2, !SSLv3`) and
    ranges (`>=TLSv1.2`, Postfix 3.6 and later), including the trap that a list of plain
    names (`SSLv3, TLSv1`) enables only those names.  The range syntax on a target older
    than 3.6 is refused by Postfix's TLS library ("Invalid TLS protocol list"), and TLS
    sessions that use the list fail: an error for a mandatory list, where the mail then
    does not pass, a warning for the other one.

    Only lists that take effect are reported: a `*_mandatory_protocols` list where a
    service requires TLS (an smtpd at `encrypt` or in wrapper mode; an SMTP or LMTP client
    above `may`, or with a TLS policy table), the other list where TLS is optional (an
    smtpd at `may` with a certificate; a client at `may` or `dane`, or with a policy
    table); smtpd picks one of the two, the client one per destination.  A value equal to
    the target release's default is never reported.

    ## Why it matters
    SSLv2 and SSLv3 are broken (DROWN, POODLE), where the TLS library still offers them.
    TLSv1 and 1.1 are deprecated (RFC 8996); opportunistic TLS may keep them (better than
    plain text), but where TLS is mandatory, such as submission, TLSv1.2 and later suffice.

    ## Postfix source
    - smtpd uses `smtpd_tls_mandatory_protocols` where TLS is required and
      `smtpd_tls_protocols` otherwise: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - The client uses `smtp_tls_protocols` at level `may` and the mandatory list above it,
      unless a policy table says otherwise: `src/smtp/smtp_tls_policy.c`, `policy_create()`.
    - The syntax: exclusions, a list of names that enables only those, and `>=`/`<=` ranges
      (Postfix 3.6 and later): `src/tls/tls_misc.c`, `tls_proto_mask_lims()` (before 3.6
      `tls_protocol_mask()`, without ranges); a list it cannot read disables TLS in the
      server (`src/tls/tls_server.c`, `tls_server_init()`) and aborts the client's session
      (`src/tls/tls_client.c`, `tls_client_start()`) with "Invalid TLS protocol list".
    - The defaults by release: `proto/postconf.proto` (smtpd_tls_protocols),
      `proto/postconf.proto` (smtpd_tls_mandatory_protocols).

    ## Example
    ```
    smtpd_tls_mandatory_protocols = SSLv3, TLSv1
    ```

    ## Use instead
    ```
    smtpd_tls_mandatory_protocols = >=TLSv1.2
    ```
    (or `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1` before Postfix 3.6)

    ## Fix
    Use the value the message suggests for the target version.
    """

    code = "TLS004"
    name = "broken-tls-protocols"
    severity = "warning"
    summary = "TLS protocol list allows broken or deprecated protocols"

    def check(self, ctx: Context) -> None:
        ranges = ctx.target[:2] >= (3, 6)
        suggestion = ">=TLSv1.2" if ranges else "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
        for use in _list_uses(ctx, "protocols"):
            value = use.config.value(use.name)
            where = at.setting_line(use.config, use.name)
            if where is None or value is None or _is_default(use, value):
                continue
            shown = " ".join(value.split()) or "(empty: every protocol)"
            if (">=" in value or "<=" in value) and not ranges:
                version = ".".join(map(str, ctx.target))
                self.report(
                    where,
                    f"{use.name} uses the >=/<= syntax of Postfix 3.6, but Postfix {version} "
                    'refuses the list ("Invalid TLS protocol list") and TLS sessions that use '
                    f"it fail; use {suggestion}",
                    severity="error" if use.mandatory else "warning",
                )
                continue
            enabled = enabled_protocols(value)
            if enabled is None:
                continue
            broken = sorted(enabled & _BROKEN)
            weak = sorted(enabled & _WEAK) if use.mandatory else []
            if broken:
                self.report(
                    where,
                    f"{use.name} = {shown} leaves {', '.join(broken)} enabled; use {suggestion}",
                )
            elif weak:
                self.report(
                    where,
                    f"{use.name} = {shown} leaves {', '.join(weak)} enabled for mandatory "
                    f"TLS; use {suggestion}",
                    severity="info",
                )


@register
class SaslToRelayWithoutTls(Rule):
    """
    ## What it finds
    An SMTP or LMTP client that sends SASL credentials (`smtp_sasl_auth_enable = yes` with
    `smtp_sasl_password_maps`, or the `lmtp_` ones for lmtp) and may use a plaintext
    mechanism on a session without TLS (`smtp_sasl_security_options` without
    `noplaintext`, and `smtp_sasl_mechanism_filter` keeping PLAIN or LOGIN), while its TLS
    level lets it talk without TLS: `none`, `may` or `dane`, not in wrapper mode.  Each
    smtp and lmtp service is judged with its own `-o` overrides.

    When `smtp_tls_policy_maps` is set, a per-destination policy may raise the level for
    the relay: pflint does not read the table, so the finding is an info that says so.

    ## Why it matters
    At `may`, an attacker between you and the relay host removes STARTTLS from the server's
    EHLO answer; Postfix then goes on in plain text and sends AUTH PLAIN or LOGIN with the
    password the relay account uses (`smtp_sasl_security_options` governs sessions without
    TLS).  At `none` it never even tries.  A warning, not an error: mail flows; the risk is
    that the password is read.

    ## Postfix source
    - At level `may` a server that does not offer STARTTLS gets the mail in plain text; only
      a required level defers ("TLS is required, but was not offered"): `src/smtp/smtp_proto.c`,
      `smtp_helo()`.
    - On a session without TLS the SASL client gets `smtp_sasl_security_options`:
      `src/smtp/smtp_sasl_proto.c`, `smtp_sasl_helo_login()` with
      `src/smtp/smtp_sasl_glue.c`, `smtp_sasl_start()`.
    - `smtp_sasl_mechanism_filter` keeps only the mechanisms it lists:
      `src/smtp/smtp_sasl_proto.c`, `smtp_sasl_helo_auth()`.

    ## Example
    ```
    relayhost = [smtp.example.net]:587
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    smtp_sasl_security_options = noanonymous
    smtp_tls_security_level = may
    ```

    ## Use instead
    ```
    relayhost = [smtp.example.net]:587
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    smtp_sasl_security_options = noanonymous
    smtp_tls_security_level = encrypt
    ```

    ## Fix
    Require TLS to the relay: `smtp_tls_security_level = encrypt` when all mail goes to
    the relay host, or an `encrypt` entry for it in `smtp_tls_policy_maps`.
    """

    code = "TLS005"
    name = "sasl-to-relay-without-tls"
    severity = "warning"
    summary = "SMTP client sends SASL passwords without mandatory TLS"
    needs_main = True
    # the message names the service: the first one that inherits a main.cf setting stands
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for client in ctx.postfix.smtp_clients:
            sasl, tls = client.sasl, client.tls
            if not sasl.authenticates or sasl.plaintext_in_clear is False:
                continue
            if not tls.plaintext_possible:
                continue
            maps = client.parameter("sasl_password_maps")
            where = _first_setting(client.config, tls.parameter, maps)
            if where is None:
                continue
            relayhost = client.config.value("relayhost") if client.protocol == "smtp" else None
            to = f"to {relayhost}" if relayhost else f"to the servers in {maps}"
            level = tls.level + ("" if tls.parameter else " (default)")
            in_master = where.file is File.MASTER and client.key is not None
            service = f" ({client.key})" if in_master else ""
            if tls.level == "none":
                risk = "never uses TLS: they cross the network in clear"
            else:
                risk = (
                    "goes on without TLS when STARTTLS is missing: an attacker who strips it "
                    "reads them"
                )
            message = (
                f"the {client.protocol} client{service} sends SASL passwords {to} at TLS "
                f"level {level}, which {risk}"
            )
            policy = client.parameter("tls_policy_maps")
            if tls.policy_maps is not None:
                self.report(
                    where,
                    f"{message}, unless {policy} ({tls.policy_maps}) requires TLS for that "
                    "destination (pflint does not read the table)",
                    severity="info",
                )
                continue
            self.report(
                where,
                f"{message}; set {client.parameter('tls_security_level')} = encrypt, or an "
                f"encrypt entry for that server in {policy}",
            )


_CIPHER_GRADES_OBSOLETE = (3, 8)


@register
class WeakCipherGrade(Rule):
    """
    ## What it finds
    A `*_tls_ciphers` or `*_tls_mandatory_ciphers` setting (main.cf or a master.cf `-o`)
    that selects the `export` or `low` cipher grade, or `null` for the SMTP server, where
    the list takes effect (as for TLS004: the mandatory list where a service requires
    TLS, the other where TLS is optional).  Postfix 3.8 and later treat `export` and `low`
    as `medium`; for them the setting is reported as obsolete (info), not as weak.

    ## Why it matters
    Before Postfix 3.8, `export` allows 40- and 56-bit ciphers and `low` single DES, where
    the TLS library still has them (FREAK, Logjam).  `null` makes smtpd offer, for TLS 1.2
    and older, only cipher suites that do not encrypt (the grade sets OpenSSL's cipher
    list, which does not cover the TLS 1.3 suites): a client
    without TLS 1.3 fails the handshake ("no shared cipher"), or sends mail unencrypted if
    it accepts such suites; TLS 1.3 sessions are encrypted as usual.  (Seen on Postfix 3.7
    with OpenSSL 3.0 at level encrypt: a TLS 1.3 client got TLS_AES_256_GCM_SHA384, a
    client limited to TLS 1.2 "no shared cipher".)  Where the list is mandatory, mail
    from such clients is refused (error).

    ## Postfix source
    - The grades: `export` and `low` are their own grades up to Postfix 3.7 and the same as
      `medium` from 3.8: `src/tls/tls_misc.c`, the `tls_cipher_grade_table` that
      `tls_set_ciphers()` reads (compare the tags v3.7.0 and v3.8.0).
    - smtpd uses the mandatory grade where TLS is required: `src/smtpd/smtpd.c`,
      `smtpd_start_tls()`.
    - The lists behind each grade: `proto/postconf.proto` (tls_export_cipherlist),
      `proto/postconf.proto` (tls_low_cipherlist), `proto/postconf.proto`
      (tls_null_cipherlist); the grade in effect where TLS is required and where it is
      optional: `proto/postconf.proto` (smtpd_tls_mandatory_ciphers), `proto/postconf.proto`
      (smtpd_tls_ciphers).

    ## Example
    ```
    smtpd_tls_mandatory_ciphers = export
    ```

    ## Use instead
    ```
    smtpd_tls_mandatory_ciphers = medium
    ```

    ## Fix
    Remove the setting (the default, `medium`, is right for almost everyone) or use
    `high`.
    """

    code = "TLS006"
    name = "weak-cipher-grade"
    severity = "warning"
    summary = "TLS cipher grade export, low or null"

    def check(self, ctx: Context) -> None:
        modern = ctx.target[:2] >= _CIPHER_GRADES_OBSOLETE
        for use in _list_uses(ctx, "ciphers"):
            where = at.setting(use.config, use.name)
            grade = (use.config.value(use.name) or "").strip().lower()
            if where is None or _is_default(use, grade):
                continue
            severity = None
            if grade == "null" and use.name.startswith(("smtpd_", "tlsproxy_")):
                message = (
                    f"{use.name} = null leaves TLS 1.2 and older only cipher suites that do "
                    "not encrypt (TLS 1.3 is not limited by it): a client without TLS 1.3 "
                    "fails the handshake, or sends mail unencrypted if it accepts them; use "
                    "medium"
                )
                severity = "error" if use.mandatory else None
            elif grade in ("export", "low") and modern:
                message = (
                    f"{use.name} = {grade} is an obsolete grade that Postfix 3.8 and later "
                    "treat as medium; say medium"
                )
                severity = "info"
            elif grade in ("export", "low"):
                message = (
                    f"{use.name} = {grade} allows ciphers that can be broken (before Postfix "
                    "3.8); use medium"
                )
            else:
                continue
            self.report(where, message, severity=severity)


#: The separators between group names (tls/tls_dh.c, setup_auto_groups(): GROUPS_SEP).
_GROUP_SEPARATORS = ", \t\r\n:"


@register
class NoKeyExchangeGroup(Rule):
    """
    ## What it finds
    `tls_eecdh_auto_curves` and `tls_ffdhe_auto_groups` that together name no group: made
    of separators only (commas, blanks, colons), `tls_eecdh_auto_curves` not empty, where
    TLS is used (Postfix 3.8 and later).  Both empty is fine: OpenSSL then uses its own
    defaults, silently.  Whether this OpenSSL supports a named group is the host's
    business and is not judged.

    ## Why it matters
    Each program that sets up TLS logs "no configured key exchange group - OpenSSL
    requires at least one" and "using Postfix default key exchange groups instead": the
    setting has no effect, and the logs fill with the warning.

    ## Postfix source
    - `src/tls/tls_dh.c`, `tls_auto_groups()` (both empty: OpenSSL's defaults; a failure
      falls back to Postfix's defaults) and `setup_auto_groups()` (the two values joined
      and split at commas, blanks and colons; no word: "no %s key exchange group").
    - Called when a TLS server or client context is made: `src/tls/tls_server.c`,
      `tls_server_init()`; `src/tls/tls_client.c`, `tls_client_init()`.

    ## Example
    ```
    tls_eecdh_auto_curves = ,
    tls_ffdhe_auto_groups =
    ```

    ## Use instead
    ```
    tls_eecdh_auto_curves = X25519 X448 prime256v1 secp384r1
    ```

    ## Fix
    Name at least one group, or leave both parameters at their defaults.
    """

    code = "TLS018"
    name = "no-key-exchange-group"
    severity = "warning"
    summary = "tls_eecdh_auto_curves and tls_ffdhe_auto_groups name no group: ignored"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 8):
            return
        config = ctx.postfix.config
        eecdh = config.value("tls_eecdh_auto_curves") or ""
        ffdhe = config.value("tls_ffdhe_auto_groups") or ""
        # eecdh empty with ffdhe of separators warns only with OpenSSL 3 (before, ffdhe is
        # ignored and both count as empty): the host's business
        named = split_list(eecdh, _GROUP_SEPARATORS) or split_list(ffdhe, _GROUP_SEPARATORS)
        if not eecdh or named:
            return
        uses_tls = any(s.tls.state != "none" for s in ctx.postfix.smtp_servers) or any(
            c.tls.level != "none" or c.tls.policy_maps for c in ctx.postfix.smtp_clients
        )
        where = at.setting_line(config, "tls_eecdh_auto_curves")
        if not uses_tls or where is None:
            return
        self.report(
            where,
            f"tls_eecdh_auto_curves = {eecdh.strip()} and tls_ffdhe_auto_groups = "
            f"{ffdhe.strip() or '(empty)'} name no key exchange group: each TLS program logs "
            "'no configured key exchange group' and uses Postfix's default groups instead",
        )
