"""TLS of the SMTP and LMTP clients, and TLS settings of any program that switch TLS off or
are ignored: wrapper mode below ``encrypt``, fingerprints, SNI names, unix-domain LMTP,
the OpenSSL configuration file, cipher exclusions, certificate settings smtpd ignores.

The clients, servers and routes are the model's (pfconf.semantics); the values are read
with the readers of pfconf.semantics.tls, which follow Postfix's TLS library.
"""

from __future__ import annotations

import attrs

from ...semantics import Configuration, Daemon, yes
from ...semantics.client import SmtpClient
from ...semantics.postscreen import postscreen_tls
from ...semantics.smtpd import SERVER_CERTIFICATES
from ...semantics.tls import (
    bad_exclusion,
    cipher_exclusions,
    config_file_problem,
    fingerprints,
    match_names,
)
from ...values import hostname_problem, split_list
from .. import location as at
from ..context import Context
from ..location import Location
from ..rule import Rule, register


def _uses_tls(client: SmtpClient) -> bool:
    """Whether the client may start TLS: a level above none, or a policy table that can
    raise it per destination."""
    tls = client.tls
    return tls.level != "none" or tls.policy_maps is not None


@register
class WrapperModeWithoutEncrypt(Rule):
    """
    ## What it finds
    `smtp_tls_wrappermode = yes` (or `lmtp_`, in main.cf or on a master.cf service) while
    the client's TLS level is `none` or `may`, and no TLS policy table could raise it.

    ## Why it matters
    In wrapper mode (SMTPS, port 465) the connection is TLS from its first byte, which
    smtp(8) does only at level `encrypt` or stronger: below that it logs
    "smtp_tls_wrappermode requires smtp_tls_security_level = encrypt (or stronger)" and
    skips each server (smtp_connect.c, smtp_connect_inet()).  Every message for that
    transport is deferred.

    ## Postfix source
    - In wrapper mode, a server whose effective TLS level is below `encrypt` is skipped with
      "... requires ... = encrypt (or stronger)": `src/smtp/smtp_connect.c`,
      `smtp_connect_inet()` (Postfix 3.0 and later).
    - The level may come from a policy table per destination: `src/smtp/smtp_tls_policy.c`,
      `policy_create()`.

    ## Example
    ```
    relayhost = [smtp.example.com]:465
    smtp_tls_wrappermode = yes
    smtp_tls_security_level = may
    ```

    ## Use instead
    ```
    relayhost = [smtp.example.com]:465
    smtp_tls_wrappermode = yes
    smtp_tls_security_level = encrypt
    ```

    ## Fix
    Set the level to `encrypt` (or `verify`/`secure`) where wrapper mode is on; keep wrapper
    mode on a separate transport when other mail should stay opportunistic.
    """

    code = "TLS007"
    name = "wrapper-mode-without-encrypt"
    severity = "error"
    summary = "TLS wrapper mode below level encrypt: the client skips every server"
    needs_main = True
    #: a shared setting, judged with each client's own level (in the message)
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for client in ctx.postfix.reached_clients:
            tls = client.tls
            if not tls.wrapper_mode or tls.level not in ("none", "may") or tls.policy_maps:
                continue
            wrapper = client.parameter("tls_wrappermode")
            message = (
                f"{wrapper} = yes needs {client.parameter('tls_security_level')} = encrypt or "
                f"stronger; at level {tls.level} ({tls.why}) {client.protocol}(8) skips every "
                "server and the mail is deferred"
            )
            where = at.setting_origin(client.config.origin(wrapper), daemon=client.daemon)
            if where is not None:
                self.report(where, message)


@register
class FingerprintsUnusable(Rule):
    """
    ## What it finds
    The `fingerprint` TLS level (`smtp_tls_security_level` or `lmtp_`) with no fingerprint
    to match in `smtp_tls_fingerprint_cert_match`, every one malformed (error), or some of
    them malformed (warning).  A fingerprint is hex digits in pairs, optionally separated
    by single colons (`AB:CD:...` or `abcd...`), at most 64 bytes.  Only judged without a
    TLS policy table, whose `match=` attributes may supply the fingerprints.

    ## Why it matters
    smtp(8) skips a malformed value with "malformed fingerprint value" (tls_dane.c,
    tls_dane_add_fpt_digests(), Postfix 3.6 and later); with none left it logs "configured
    at fingerprint security level, but with no fingerprints to match" and fails the
    destination (smtp_tls_policy.c, policy_create()): every message is deferred.

    ## Postfix source
    - Each value of `smtp_tls_fingerprint_cert_match` is decoded as hex, colons allowed
      between pairs, at most three characters per byte of the widest digest (192); others
      are skipped with "malformed fingerprint value": `src/tls/tls_dane.c`,
      `tls_dane_add_fpt_digests()` with `src/util/hex_code.c`, `hex_decode_opt()` (Postfix
      3.6 and later).
    - With no fingerprint left the destination fails ("configured at fingerprint security
      level, but with no fingerprints to match"): `src/smtp/smtp_tls_policy.c`,
      `policy_create()`.

    ## Example
    ```
    smtp_tls_security_level = fingerprint
    smtp_tls_fingerprint_cert_match = SHA256:3D:6B:...
    ```

    ## Use instead
    ```
    smtp_tls_security_level = fingerprint
    smtp_tls_fingerprint_cert_match =
        3D:6B:0A:9E:...:41
    ```

    ## Fix
    List the server's certificate or public-key digests, computed with
    `smtp_tls_fingerprint_digest`, as plain hex.
    """

    code = "TLS008"
    name = "fingerprints-unusable"
    severity = "error"
    summary = "fingerprint TLS level without a usable fingerprint: every delivery deferred"
    needs_main = True

    def check(self, ctx: Context) -> None:
        checks_form = ctx.target[:2] >= (3, 6)
        for client in ctx.postfix.reached_clients:
            tls = client.tls
            if tls.level != "fingerprint" or tls.policy_maps:
                continue
            name = client.parameter("tls_fingerprint_cert_match")
            found = fingerprints(client.value("tls_fingerprint_cert_match") or "")
            bad = [f for f in found if not f.usable] if checks_form else []
            origin = client.config.origin(name)
            if len(bad) == len(found):
                what = "is empty" if not found else "holds only malformed values"
                message = (
                    f"{client.parameter('tls_security_level')} = fingerprint, but {name} {what}:"
                    f" {client.protocol}(8) has no fingerprint to match and defers every "
                    "delivery"
                )
                level_origin = client.config.origin(client.parameter("tls_security_level"))
                where = at.setting_origin(origin or level_origin, daemon=client.daemon)
                if where is not None:
                    self.report(where, message)
                continue
            for value in bad:
                message = (
                    f"{value.text!r} in {name} is not a fingerprint (hex digits in pairs, "
                    f"single colons between): {client.protocol}(8) ignores it"
                )
                where = at.setting_origin(origin, word=value.text, daemon=client.daemon)
                if where is not None:
                    self.report(where, message, severity="warning")


@register
class InvalidServerName(Rule):
    """
    ## What it finds
    `smtp_tls_servername` (or `lmtp_`) set to something that is not a valid host name (nor
    `hostname` or `nexthop`, which are valid names too), on a client that uses TLS.

    ## Why it matters
    smtp(8) checks the name when it builds the TLS policy of a destination, logs
    "smtp_tls_servername = ... specifies an invalid hostname" and fails that destination
    (smtp_tls_policy.c, policy_create()): every TLS delivery is deferred, and with level
    `may` no TLS is tried either.

    ## Postfix source
    - A `smtp_tls_servername` that is not a valid host name (`hostname` and `nexthop` are valid
      names too) makes the destination's TLS policy invalid ("specifies an invalid hostname"), for
      every TLS level above `none`: `src/smtp/smtp_tls_policy.c`, `policy_create()`, with
      `src/util/valid_hostname.c`, `valid_hostname()` (Postfix 3.4 and later).

    ## Example
    ```
    smtp_tls_security_level = may
    smtp_tls_servername = smtp.example.com:587
    ```

    ## Use instead
    ```
    smtp_tls_security_level = may
    smtp_tls_servername = smtp.example.com
    ```

    ## Fix
    Give a plain host name, or `hostname`/`nexthop` to send the name smtp(8) connects to.
    """

    code = "TLS009"
    name = "invalid-server-name"
    severity = "error"
    summary = "smtp_tls_servername is not a valid host name: TLS deliveries fail"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 4):
            return  # smtp_tls_servername is new in Postfix 3.4
        for client in ctx.postfix.reached_clients:
            value = (client.value("tls_servername") or "").strip()
            if not value or not _uses_tls(client):
                continue
            problem = hostname_problem(value)
            if problem is None:
                continue
            name = client.parameter("tls_servername")
            message = (
                f"{name} = {value} is not a valid host name ({problem}): {client.protocol}(8) "
                "fails every destination it would talk TLS to, and that mail is deferred"
            )
            where = at.setting_origin(client.config.origin(name), daemon=client.daemon)
            if where is not None:
                self.report(where, message)


@register
class TlsOverUnixLmtp(Rule):
    """
    ## What it finds
    LMTP delivery to a unix-domain socket (`lmtp:unix:...` in a transport setting) by an
    lmtp service whose TLS level is `dane` or `dane-only` (error) or `may` (warning).

    ## Why it matters
    DANE needs a host name and TCP port to look TLSA records up for: over a unix socket
    lmtp(8) logs 'the "dane" security level is invalid for delivery via unix-domain
    sockets' and fails the delivery (smtp_tls_policy.c, dane_init()).  Opportunistic TLS
    is "not appropriate for unix-domain destinations": lmtp(8) logs that on each delivery
    and uses no TLS (smtp_connect.c, smtp_connect_local()).

    ## Postfix source
    - DANE over a unix-domain socket is an invalid policy ('the "dane" security level is
      invalid for delivery via unix-domain sockets'): `src/smtp/smtp_tls_policy.c`,
      `dane_init()`.
    - Level `may` over a unix-domain socket is lowered to `none` with "opportunistic TLS
      encryption is not appropriate for unix-domain destinations": `src/smtp/smtp_connect.c`,
      `smtp_connect_local()`.

    ## Example
    ```
    virtual_transport = lmtp:unix:private/dovecot-lmtp
    lmtp_tls_security_level = dane
    ```

    ## Use instead
    ```
    virtual_transport = lmtp:unix:private/dovecot-lmtp
    lmtp_tls_security_level = none
    ```

    ## Fix
    Leave TLS off for local sockets, or set `-o lmtp_tls_security_level=none` on the lmtp
    service that delivers to them.
    """

    code = "TLS010"
    name = "tls-over-unix-lmtp"
    severity = "error"
    summary = "DANE or opportunistic TLS for LMTP over a unix-domain socket"
    needs_main = True
    #: a shared setting, judged for each socket route (named in the message)
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for route in ctx.postfix.routes:
            config = route.client_config
            if config is None or not route.lmtp:
                continue
            if not any(d.unix is not None for d in route.destinations):
                continue
            client = SmtpClient(config, route.daemon, "lmtp")
            level = client.tls.level
            if level in ("dane", "dane-only"):
                severity = "error"
                effect = "the dane level is invalid there, and every delivery fails"
            elif level == "may":
                severity = "warning"
                effect = "lmtp(8) logs that opportunistic TLS is not appropriate and uses none"
            else:
                continue
            name = client.parameter("tls_security_level")
            message = (
                f"{route.parameter} delivers over the unix socket {route.nexthop} at TLS "
                f"level {level} ({client.tls.why}): {effect}"
            )
            where = at.setting_origin(config.origin(name) or route.origin, daemon=route.daemon)
            if where is not None:
                self.report(where, message, severity=severity)


def _tls_in_use(ctx: Context) -> bool:
    postfix = ctx.postfix
    if any(server.tls.state != "none" for server in postfix.smtp_servers):
        return True
    return any(_uses_tls(client) for client in postfix.reached_clients)


@register
class TlsConfigFileNotAbsolute(Rule):
    """
    ## What it finds
    `tls_config_file` that is neither `default`, `none` nor an absolute path (Postfix 3.9
    and later), where some program uses TLS.

    ## Why it matters
    Every Postfix program that initializes TLS logs "non-default tls_config_file = ... is
    not an absolute pathname, disabling TLS support" (tls_misc.c, tls_library_init()):
    smtpd offers no STARTTLS, smtp(8) sends in clear or, where TLS is required, defers.

    ## Postfix source
    - A `tls_config_file` other than `default`, `none` or an absolute path disables TLS in
      every program that initializes it ("... is not an absolute pathname, disabling TLS
      support"): `src/tls/tls_misc.c`, `tls_library_init()` (Postfix 3.9 and later).

    ## Example
    ```
    tls_config_file = openssl-postfix.cnf
    ```

    ## Use instead
    ```
    tls_config_file = /etc/postfix/openssl-postfix.cnf
    ```

    ## Fix
    Give the full path of the file, or `default`.
    """

    code = "TLS011"
    name = "tls-config-file-not-absolute"
    severity = "error"
    summary = "tls_config_file is not an absolute path: TLS is disabled everywhere"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 9):
            return
        config = ctx.configuration
        value = config.value("tls_config_file")
        if value is None or config_file_problem(value) is None or not _tls_in_use(ctx):
            return
        message = (
            f"tls_config_file = {value} is not default, none or an absolute path: every "
            "Postfix program disables TLS support"
        )
        where = at.setting_origin(config.origin("tls_config_file"))
        if where is not None:
            self.report(where, message)


#: The cipher exclusion lists and when each applies: (parameter suffix, TLS required).
_EXCLUSIONS = (("tls_exclude_ciphers", False), ("tls_mandatory_exclude_ciphers", True))
#: Client levels at which the mandatory lists apply (smtp_tls_policy.c, set_cipher_grade()).
_MANDATORY_CLIENT = ("encrypt", "fingerprint", "dane", "dane-only", "verify", "secure")


@register
class CipherExclusionWithOperator(Rule):
    """
    ## What it finds
    An entry of `smtpd_tls_exclude_ciphers`, `smtp_tls_exclude_ciphers`, `lmtp_...` or their
    `_mandatory_` variants that starts with `!`, `+`, `-` or `@`, where that list applies
    (the mandatory lists where TLS is required).

    ## Why it matters
    These lists name ciphers to exclude; Postfix adds the `!` itself.  An entry with an
    OpenSSL operator makes tls_set_ciphers() log "invalid unary '!+-@' in cipher
    exclusion" and fail (tls_misc.c): no TLS session can start.  smtpd then refuses
    STARTTLS, and smtp(8) cannot use TLS, deferring mail where TLS is required.

    ## Postfix source
    - An exclusion that starts with `!`, `+`, `-` or `@` fails the cipher setup ("invalid
      unary '!+-@' in cipher exclusion"): `src/tls/tls_misc.c`, `tls_set_ciphers()`, which
      every session calls: `src/tls/tls_server.c`, `tls_server_start()` and
      `src/tls/tls_client.c`, `tls_client_start()`.

    ## Example
    ```
    smtpd_tls_exclude_ciphers = !aNULL, !eNULL
    ```

    ## Use instead
    ```
    smtpd_tls_exclude_ciphers = aNULL, eNULL
    ```

    ## Fix
    Write the names without the operator.
    """

    code = "TLS012"
    name = "cipher-exclusion-with-operator"
    severity = "error"
    summary = "a cipher exclusion starts with !, +, - or @: TLS sessions fail"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            state = server.tls.state
            for suffix, mandatory in _EXCLUSIONS:
                if state == "none" or (mandatory and state != "required"):
                    continue
                name = f"smtpd_{suffix}"
                self._judge(server.config, name, "smtpd", server.daemon)
        for client in ctx.postfix.reached_clients:
            level = client.tls.level
            for suffix, mandatory in _EXCLUSIONS:
                if mandatory and level not in _MANDATORY_CLIENT and not client.tls.policy_maps:
                    continue
                if not _uses_tls(client):
                    continue
                name = client.parameter(suffix)
                self._judge(client.config, name, client.protocol, client.daemon)

    def _judge(self, config: Configuration, name: str, program: str, daemon: Daemon | None) -> None:
        for word in cipher_exclusions(config.value(name) or ""):
            if not bad_exclusion(word):
                continue
            message = (
                f"{word!r} in {name}: an exclusion list takes cipher names without "
                f"{word[0]!r}; {program}(8) fails every TLS session (\"invalid unary '!+-@' in "
                'cipher exclusion")'
            )
            where = at.setting_origin(config.origin(name), word=word, daemon=daemon)
            if where is not None:
                self.report(where, message)


_LEGACY_CERTIFICATES = tuple(n for n in SERVER_CERTIFICATES if n != "smtpd_tls_chain_files")


@register
class LegacyCertificatesIgnored(Rule):
    """
    ## What it finds
    An smtpd that offers TLS with `smtpd_tls_chain_files` set and also one of the legacy
    `smtpd_tls_cert_file`, `smtpd_tls_eccert_file` or `smtpd_tls_dcert_file` (Postfix 3.4
    and later); from Postfix 3.12, a postscreen whose TLS level is `may` or `encrypt` with
    `postscreen_tls_chain_files` and a legacy `postscreen_tls_cert_file`,
    `postscreen_tls_eccert_file` or `postscreen_tls_dcert_file` (by default the smtpd
    settings; a setting smtpd's finding already names is not named again).

    ## Why it matters
    smtpd uses the chain files and ignores the legacy settings with the warning "Both
    smtpd_tls_chain_files and one or more of the legacy ... are non-empty; the legacy
    parameters will be ignored" (smtpd.c, pre_jail_init()).  Whoever changes the legacy
    certificate later changes nothing.

    ## Postfix source
    - With `smtpd_tls_chain_files` set, smtpd ignores the legacy certificate settings and
      warns "Both smtpd_tls_chain_files and one or more of the legacy ... are non-empty":
      `src/smtpd/smtpd.c`, `pre_jail_init()` (Postfix 3.4 and later).
    - postscreen does the same with its own settings from Postfix 3.12:
      `src/postscreen/postscreen_tls_conf.c`, `psc_tls_pre_jail()`; their defaults
      (`$smtpd_tls_...`): `src/global/mail_params.h` (DEF_PSC_TLS_CHAIN_FILES and the rest).

    ## Example
    ```
    smtpd_tls_chain_files = /etc/ssl/private/mail.pem
    smtpd_tls_cert_file = /etc/ssl/certs/old.pem
    ```

    ## Use instead
    ```
    smtpd_tls_chain_files = /etc/ssl/private/mail.pem
    ```

    ## Fix
    Delete the legacy certificate and key settings (or empty them where a distribution
    sets them).
    """

    code = "TLS013"
    name = "legacy-certificates-ignored"
    severity = "warning"
    summary = "legacy certificate settings next to smtpd_tls_chain_files are ignored"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 4):
            return
        reported: set[Location] = set()
        for server in ctx.postfix.smtp_servers:
            config = server.config
            if (
                server.tls.state == "none"
                or not (config.value("smtpd_tls_chain_files") or "").strip()
            ):
                continue
            for name in _LEGACY_CERTIFICATES:
                value = (config.value(name) or "").strip()
                # smtpd.c: a cert_file of "none" counts as no certificate
                if not value or (name == "smtpd_tls_cert_file" and value.lower() == "none"):
                    continue
                message = f"{name} is ignored: smtpd uses smtpd_tls_chain_files when both are set"
                where = at.setting_origin(config.origin(name), daemon=server.daemon)
                if where is not None:
                    reported.add(attrs.evolve(where, service=None))
                    self.report(where, message)
        if ctx.target[:2] < (3, 12):
            return  # before, postscreen hands STARTTLS to tlsproxy
        for screen in ctx.postfix.postscreens:
            config = screen.config
            tls = postscreen_tls(screen, ctx.postfix.daemons)
            if tls.level not in ("may", "encrypt"):
                continue
            if not (config.value("postscreen_tls_chain_files") or "").strip():
                continue
            for suffix in ("cert_file", "eccert_file", "dcert_file"):
                name = f"postscreen_tls_{suffix}"
                value = (config.value(name) or "").strip()
                if not value or (suffix == "cert_file" and value.lower() == "none"):
                    continue
                origin = config.origin(name) or config.origin(f"smtpd_tls_{suffix}")
                where = at.setting_origin(origin, daemon=screen.daemon)
                if where is None or attrs.evolve(where, service=None) in reported:
                    continue  # the smtpd finding at the same setting says it
                reported.add(attrs.evolve(where, service=None))
                self.report(
                    where,
                    f"{name} is ignored: postscreen uses postscreen_tls_chain_files when both "
                    "are set",
                )


@register
class TlsrptDisabled(Rule):
    """
    ## What it finds
    `smtp_tlsrpt_enable = yes` (Postfix 3.10 and later) on a client that cannot report: an
    lmtp service (`lmtp_tlsrpt_enable`), DNS lookups turned off (`smtp_dns_support_level =
    disabled`, or `disable_dns_lookups = yes`), or no `smtp_tlsrpt_socket_name`.

    ## Why it matters
    smtp(8) checks this after start-up, logs "TLSRPT support is not implemented for LMTP",
    "Cannot enable TLSRPT support: DNS is disabled" or "parameter
    smtp_tlsrpt_socket_name has empty value -- TLSRPT support will be disabled", and sends
    no TLS reports (smtp.c, post_init(); smtp_tlsrpt.c, smtp_tlsrpt_post_jail()).

    ## Postfix source
    - lmtp turns TLSRPT off ("TLSRPT support is not implemented for LMTP"):
      `src/smtp/smtp.c`, `post_init()`.
    - smtp turns it off without DNS ("Cannot enable TLSRPT support: DNS is disabled") or
      without a socket name ("parameter smtp_tlsrpt_socket_name has empty value"):
      `src/smtp/smtp_tlsrpt.c`, `smtp_tlsrpt_post_jail()` (Postfix 3.10 and later).

    ## Example
    ```
    smtp_tlsrpt_enable = yes
    ```

    ## Use instead
    ```
    smtp_tlsrpt_enable = yes
    smtp_tlsrpt_socket_name = tlsrpt/tlsrpt.sock
    ```

    ## Fix
    Give the socket of the TLSRPT collector (tlsrpt-reporter), enable DNS, or remove the
    setting.
    """

    code = "TLS014"
    name = "tlsrpt-disabled"
    severity = "warning"
    summary = "TLSRPT enabled where smtp(8) disables it"
    needs_main = True
    #: a shared setting, judged with each client's own reason (in the message)
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 10):
            return
        for client in ctx.postfix.reached_clients:
            name = client.parameter("tlsrpt_enable")
            if not yes(client.value("tlsrpt_enable")):
                continue
            config = client.config
            level = (config.value("smtp_dns_support_level") or "").strip().lower()
            if client.protocol == "lmtp":
                why = "TLSRPT is not implemented for LMTP"
            elif level == "disabled" or (not level and yes(config.value("disable_dns_lookups"))):
                why = "DNS lookups are disabled"
            elif not (config.value("smtp_tlsrpt_socket_name") or "").strip():
                why = "smtp_tlsrpt_socket_name is empty"
            else:
                continue
            message = f"{name} = yes has no effect: {why}, so {client.protocol}(8) sends no reports"
            where = at.setting_origin(config.origin(name), daemon=client.daemon)
            if where is not None:
                self.report(where, message)


#: The certificate-name list each verifying level reads (smtp_tls_policy.c, policy_create()).
_MATCH_LISTS = {"verify": "tls_verify_cert_match", "secure": "tls_secure_cert_match"}


@register
class NoCertificateName(Rule):
    """
    ## What it finds
    At TLS level `verify` or `secure` (without a policy table), a `.` alone in
    `smtp_tls_verify_cert_match` or `smtp_tls_secure_cert_match` (or `lmtp_`): ignored
    (warning); when no other name is left, every delivery at that level fails (error).
    Postfix 3.6 and later, where OpenSSL checks the names.

    ## Why it matters
    A leading dot means "any subdomain of what follows"; with nothing after it smtp(8)
    logs 'ignoring invalid match name: "."' (tls_client.c, add_namechecks()).  With no
    name at all it logs "could not configure peer name checks" and fails verification
    rather than accept any name: the mail is deferred.

    ## Postfix source
    - A match name `.` is skipped with 'ignoring invalid match name: "."', and with no name
      added the session is marked to fail verification ("could not configure peer name
      checks"): `src/tls/tls_client.c`, `add_namechecks()` (Postfix 3.6 and later).

    ## Example
    ```
    smtp_tls_security_level = secure
    smtp_tls_secure_cert_match = .
    ```

    ## Use instead
    ```
    smtp_tls_security_level = secure
    smtp_tls_secure_cert_match = nexthop, dot-nexthop
    ```

    ## Fix
    Write the domain after the dot (`.example.com`), or use `nexthop`/`dot-nexthop`.
    """

    code = "TLS015"
    name = "no-certificate-name"
    severity = "error"
    summary = "a certificate match name of '.' is ignored; with no other name TLS fails"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 6):
            return
        for client in ctx.postfix.reached_clients:
            tls = client.tls
            suffix = _MATCH_LISTS.get(tls.level)
            if suffix is None or tls.policy_maps:
                continue
            name = client.parameter(suffix)
            words = match_names(client.value(suffix) or "")
            if "." not in words:
                continue
            if all(w == "." for w in words):
                severity, effect = (
                    "error",
                    (
                        f"no name is left to check, and {client.protocol}(8) fails every "
                        f"delivery at level {tls.level}"
                    ),
                )
            else:
                severity, effect = "warning", f"{client.protocol}(8) ignores it"
            message = f"'.' in {name} names no domain: {effect}"
            where = at.setting_origin(client.config.origin(name), daemon=client.daemon)
            if where is not None:
                self.report(where, message, severity=severity)


#: The actions of a REQUIRETLS policy (smtp/smtp_reqtls_policy.h, case ignored).
_REQTLS_ACTIONS = ("enforce", "opportunistic+starttls", "opportunistic", "disable", "error")


@register
class UnknownRequireTlsAction(Rule):
    """
    ## What it finds
    A word in `smtp_requiretls_policy` or `lmtp_requiretls_policy` (Postfix 3.11 and
    later) that is neither a policy action (`enforce`, `opportunistic+starttls`,
    `opportunistic`, `disable`, `error`) nor a `type:table`, where no action before it
    ends the policy and `requiretls_enable` is on (its default).  Only what is written in
    the value is judged, not the results of its tables.

    ## Why it matters
    The SMTP client reads the policy for each destination of a message that asks for
    REQUIRETLS; at the unknown word it logs "unknown policy action" and treats the
    destination as an error: the destination is skipped, and such mail to every next hop
    the policy reaches that word for is deferred.

    ## Postfix source
    - `src/smtp/smtp_reqtls_policy.c`, `smtp_reqtls_policy_parse()` (the words, split at
      commas and blanks with `{}` kept together; a word with `:` is a table) and
      `smtp_reqtls_policy_eval()` (the first action ends the policy; an unknown word is
      "unknown policy action ... ignoring the remainder of this policy", the error action).
    - The action names: `src/smtp/smtp_reqtls_policy.h`; the error action skips the
      destination: `src/smtp/smtp_connect.c`, `smtp_connect_inet()` (where the policy is
      read) and `smtp_get_effective_tls_level()` (the switch on `reqtls_level`).

    ## Example
    ```
    smtp_requiretls_policy = inline:{ {example.com = opportunistic} }, enforced
    ```

    ## Use instead
    ```
    smtp_requiretls_policy = inline:{ {example.com = opportunistic} }, enforce
    ```

    ## Fix
    Correct the word to one of the actions above, or make it a table (`type:name`).
    """

    code = "TLS017"
    name = "requiretls-policy-action"
    severity = "warning"
    summary = "word in a REQUIRETLS policy that is no action: such mail is deferred"

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 11):
            return
        seen: set[object] = set()
        for client in ctx.postfix.smtp_clients:
            config = client.config
            if not yes(config.value("requiretls_enable")):
                continue
            parameter = client.parameter("requiretls_policy")
            origin = config.origin(parameter)
            if origin is None or id(origin) in seen:
                continue  # the default is Postfix's own
            seen.add(id(origin))
            for token in split_list(config.value(parameter) or ""):
                word = token.text
                if ":" in word:
                    continue  # a table: its answer may end the policy, or not
                if word.lower() in _REQTLS_ACTIONS:
                    break  # the policy ends here
                where = at.setting_origin(origin, word=word, daemon=client.daemon)
                if where is not None:
                    self.report(
                        where,
                        f"{parameter}: {word!r} is not a REQUIRETLS policy action (enforce, "
                        "opportunistic+starttls, opportunistic, disable, error): the client "
                        "logs 'unknown policy action' and defers mail that asks for "
                        "REQUIRETLS to each next hop that reaches it",
                    )
                break
