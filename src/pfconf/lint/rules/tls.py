"""TLS rules, judged per smtpd service: obsolete switches that contradict the security level,
mandatory TLS on the public port 25, TLS offered without a certificate, and protocol lists
that allow broken protocols.
"""

from __future__ import annotations

import functools
import re

from ...model import Override, Parameter
from ...semantics import server_tls
from ...values import enabled_protocols
from .. import location as at
from ..context import Context, ServiceConfig
from ..rule import Rule, register

# The obsolete switches and what they mean as a security level (DEPRECATION_README@v3.9.0).
_SWITCH_LEVELS = {
    "smtpd": ("smtpd_use_tls", "smtpd_enforce_tls", "smtpd_tls_security_level"),
    "smtp": ("smtp_use_tls", "smtp_enforce_tls", "smtp_tls_security_level"),
}


def _switch_level(use: str | None, enforce: str | None) -> str | None:
    """The security level the obsolete switches ask for, or None when neither is set."""
    if enforce is not None and enforce.lower() == "yes":
        return "encrypt"
    if use is not None and use.lower() == "yes":
        return "may"
    if use is not None:
        return "none"
    # "smtpd_enforce_tls = no" alone only says "not required": it asks for no level
    return None


@register
class TlsSwitchConflict(Rule):
    """
    ## What it finds
    An obsolete TLS switch (`smtpd_use_tls`, `smtpd_enforce_tls`, `smtp_use_tls`,
    `smtp_enforce_tls`) set together with the `*_tls_security_level` that replaced it, to a
    different meaning: `smtpd_use_tls = yes` means level `may`, `smtpd_enforce_tls = yes`
    means `encrypt`, `no` means `none`.

    ## Why it matters
    A non-empty security level silently wins; the switch is ignored.  Whoever reads only
    the switch believes TLS is required (or off) when it is not.

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
        for config in ctx.smtpd_configs:
            for use_name, enforce_name, level_name in _SWITCH_LEVELS.values():
                level = ctx.value(config, level_name)
                wanted = _switch_level(ctx.value(config, use_name), ctx.value(config, enforce_name))
                if not level or wanted is None or level.lower() == wanted:
                    continue
                enforce = ctx.value(config, enforce_name)
                switch = (
                    enforce_name if enforce is not None and enforce.lower() == "yes" else use_name
                )
                message = (
                    f"{switch} asks for TLS level {wanted!r}, but {level_name} = {level} "
                    f"overrides it: the switch is ignored"
                )
                where = ctx.where_set(config, switch)
                if where is not None:
                    self.report(where, message)


@register
class EncryptOnPort25(Rule):
    """
    ## What it finds
    Mandatory TLS (`smtpd_tls_security_level = encrypt`, or `smtpd_enforce_tls = yes`) on
    the public SMTP service, port 25.

    ## Why it matters
    RFC 3207 forbids a publicly referenced mail server to require TLS: servers that cannot
    or do not use it get "530 Must issue a STARTTLS command first" and their mail to you is
    lost or bounced.  Mandatory TLS belongs on the submission ports (587, 465).

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
        for config in ctx.smtpd_services:
            if config.port not in ("smtp", "25"):
                continue
            level = config.value("smtpd_tls_security_level")
            if level and level.lower() == "encrypt":
                name = "smtpd_tls_security_level"
                message = (
                    f"smtpd_tls_security_level = encrypt on {config.key} (port 25): servers "
                    "without TLS cannot deliver mail to you; use may"
                )
            elif not level and (config.value("smtpd_enforce_tls") or "").lower() == "yes":
                name = "smtpd_enforce_tls"
                message = (
                    f"smtpd_enforce_tls = yes on {config.key} (port 25): servers without TLS "
                    "cannot deliver mail to you"
                )
            else:
                continue
            where = ctx.where_set(config, name)
            if where is not None:
                self.report(where, message)


_CERT = ("smtpd_tls_cert_file", "smtpd_tls_eccert_file", "smtpd_tls_dcert_file")
_KEY = ("smtpd_tls_key_file", "smtpd_tls_eckey_file", "smtpd_tls_dkey_file")


@register
class TlsWithoutCertificate(Rule):
    """
    ## What it finds
    An smtpd service that offers TLS (`smtpd_tls_security_level` `may` or `encrypt`, or the
    obsolete `smtpd_use_tls = yes`) with no certificate and key (`smtpd_tls_chain_files`, or
    `smtpd_tls_cert_file` with `smtpd_tls_key_file`), or with a certificate but no key.

    ## Why it matters
    Without a certificate smtpd logs "No server certs available. TLS won't be enabled" and
    silently offers no STARTTLS: mail arrives in clear, and with `encrypt` no client can
    send at all.

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
    summary = "TLS offered without a certificate and key"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for config in ctx.smtpd_configs:
            level = (ctx.value(config, "smtpd_tls_security_level") or "").lower()
            use = (ctx.value(config, "smtpd_use_tls") or "").lower()
            wrapper = (ctx.value(config, "smtpd_tls_wrappermode") or "").lower() == "yes"
            offers = level in ("may", "encrypt") or (not level and use == "yes") or wrapper
            if not offers:
                continue
            if ctx.value(config, "smtpd_tls_chain_files"):
                continue
            certs = [n for n in _CERT if ctx.value(config, n)]
            keys = [n for n in _KEY if ctx.value(config, n)]
            name = (
                "smtpd_tls_security_level"
                if level
                else ("smtpd_use_tls" if use else "smtpd_tls_wrappermode")
            )
            if not certs and not keys:
                message = (
                    f"TLS is offered ({name}) but no certificate and key are configured: "
                    "smtpd will not offer STARTTLS"
                )
            elif certs and not keys and not any(n.replace("cert", "key") in keys for n in certs):
                # A key inside the certificate file is allowed when both name the same file.
                name, message = certs[0], f"{certs[0]} is set but its key file is not"
                message += "; set smtpd_tls_key_file (it may name the same file)"
            elif keys and not certs:
                name, message = keys[0], f"{keys[0]} is set but no certificate file is"
            else:
                continue
            where = ctx.where_set(config, name)
            if where is not None:
                self.report(where, message)


_PROTOCOL_PARAMS = (
    "smtpd_tls_protocols",
    "smtpd_tls_mandatory_protocols",
    "smtp_tls_protocols",
    "smtp_tls_mandatory_protocols",
    "lmtp_tls_protocols",
    "lmtp_tls_mandatory_protocols",
)
_BROKEN = {"SSLv2", "SSLv3"}
_WEAK = {"TLSv1", "TLSv1.1"}


@register
class BrokenTlsProtocols(Rule):
    """
    ## What it finds
    A `*_tls_protocols` or `*_tls_mandatory_protocols` value that leaves SSLv2 or SSLv3
    enabled (error), or that leaves TLSv1 or TLSv1.1 enabled for mandatory TLS (warning).
    Both syntaxes are read: exclusions (`!SSLv2, !SSLv3`) and ranges (`>=TLSv1.2`, Postfix
    3.6 and later), including the trap that a list of plain names (`SSLv3, TLSv1`) enables
    only those names.  The range syntax on a target older than 3.6 is an error too: those
    versions reject the list and disable TLS.

    ## Why it matters
    SSLv2 and SSLv3 are broken (DROWN, POODLE).  TLSv1 and 1.1 are deprecated (RFC 8996);
    opportunistic TLS may keep them (better than plaintext), but where TLS is mandatory,
    such as submission, only TLSv1.2 and later should be accepted.

    ## Example
    ```
    smtpd_tls_mandatory_protocols = SSLv3, TLSv1
    ```

    ## Use instead
    ```
    smtpd_tls_mandatory_protocols = >=TLSv1.2
    ```
    (or `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1` before Postfix 3.6)

    Only lists that take effect are reported: a `*_mandatory_protocols` list where some
    service requires TLS (an smtpd at `encrypt` or in wrapper mode; an SMTP or LMTP client
    above `may`, or with a TLS policy table), the other lists where TLS is offered or tried
    at all.  A value equal to the target release's default is never reported.

    ## Fix
    Use the value the message suggests for the target version.
    """

    code = "TLS004"
    name = "broken-tls-protocols"
    severity = "error"
    summary = "TLS protocol list allows broken or deprecated protocols"

    def check(self, ctx: Context) -> None:
        suggestion = ">=TLSv1.2" if ctx.target[:2] >= (3, 6) else "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
        for entry in ctx.entries():
            if entry.name not in _PROTOCOL_PARAMS or not entry.value or "$" in entry.value:
                continue
            default = ctx.kb.compiled_default(entry.name) or ""
            if entry.value.split() == default.split():
                continue  # the release's own default: nothing the administrator chose
            if not _protocols_take_effect(ctx, entry.name):
                continue
            if (">=" in entry.value or "<=" in entry.value) and ctx.target[:2] < (3, 6):
                self.report(
                    at.value(entry),
                    f"{entry.name} uses the >=/<= syntax of Postfix 3.6, but Postfix "
                    f"{'.'.join(map(str, ctx.target))} rejects the list and disables TLS; "
                    f"use {suggestion}",
                )
                continue
            enabled = enabled_protocols(entry.value)
            if enabled is None:
                continue
            broken = sorted(enabled & _BROKEN)
            weak = sorted(enabled & _WEAK) if "mandatory" in entry.name else []
            if broken:
                self.report(
                    at.value(entry),
                    f"{entry.name} = {entry.value} leaves {', '.join(broken)} enabled; use {suggestion}",
                )
            elif weak:
                self.report(
                    at.value(entry),
                    f"{entry.name} = {entry.value} leaves {', '.join(weak)} enabled for mandatory "
                    f"TLS; use {suggestion}",
                    severity="warning",
                )


#: Security levels at which the SMTP client refuses to continue without TLS.
_MANDATORY_CLIENT_LEVELS = {"encrypt", "dane-only", "fingerprint", "verify", "secure"}


def _protocols_take_effect(ctx: Context, name: str) -> bool:
    """Whether the protocol list ``name`` is used by any service of this configuration.

    A ``*_mandatory_protocols`` list applies only to sessions where TLS is required: an
    smtpd at level encrypt (or in wrapper mode), a client at a level above ``may``
    (tls/tls_client.c and tls_server.c pick the mandatory list then), and for the client
    also any destination a policy table may require TLS for.  The other list applies to
    opportunistic TLS, so only where TLS is offered or tried at all."""
    mandatory = "_mandatory_" in name
    if name.startswith("smtpd_"):
        states = {
            server_tls(functools.partial(ctx.value, config)).state
            for config in ctx.smtpd_configs
        }
        return "required" in states if mandatory else bool(states - {"none"})
    prefix = name.split("_", 1)[0]
    for config in ctx.client_configs:
        if (ctx.value(config, f"{prefix}_tls_policy_maps") or "").strip():
            return True  # a policy table may ask for any level, per destination
        if prefix == "smtp":
            level, _ = client_tls_level(ctx, config)
        else:
            level = (ctx.value(config, f"{prefix}_tls_security_level") or "none").lower()
        if level in _MANDATORY_CLIENT_LEVELS or (not mandatory and level not in ("", "none")):
            return True
    return False


def client_tls_level(ctx: Context, config: ServiceConfig | None) -> tuple[str, str]:
    """The SMTP client's effective TLS level and the parameter that decides it."""
    level = (ctx.value(config, "smtp_tls_security_level") or "").lower()
    if level:
        return level, "smtp_tls_security_level"
    # An empty level falls back to the obsolete switches (DEPRECATION_README@v3.9.0).
    if (ctx.value(config, "smtp_enforce_tls") or "").lower() == "yes":
        return "encrypt", "smtp_enforce_tls"
    if (ctx.value(config, "smtp_use_tls") or "").lower() == "yes":
        return "may", "smtp_use_tls"
    return "none", "smtp_tls_security_level"


def _options(value: str | None, default: str) -> set[str]:
    text = default if value is None else value
    return {item.lower() for item in re.split(r"[\s,]+", text) if item}


@register
class SaslToRelayWithoutTls(Rule):
    """
    ## What it finds
    The SMTP client configured to send SASL credentials (`smtp_sasl_auth_enable = yes`
    with `smtp_sasl_password_maps`) and allowed to use plaintext mechanisms
    (`smtp_sasl_security_options` without `noplaintext`), while TLS to the server is
    optional: `smtp_tls_security_level` is `may`, `none` or unset, and no
    `smtp_tls_policy_maps` could require more.

    ## Why it matters
    With opportunistic TLS, an attacker between you and the relay host removes STARTTLS
    from the server's EHLO answer; Postfix then sends AUTH PLAIN or LOGIN in clear, and the
    relay account's password is read off the wire.

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
    severity = "error"
    summary = "SMTP client sends SASL passwords without mandatory TLS"
    needs_main = True
    # the message names the service: the first one that inherits a main.cf setting stands
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for config in ctx.client_configs:
            if (ctx.value(config, "smtp_sasl_auth_enable") or "no").lower() != "yes":
                continue
            if not ctx.value(config, "smtp_sasl_password_maps"):
                continue
            if "noplaintext" in _options(
                ctx.value(config, "smtp_sasl_security_options"), "noplaintext, noanonymous"
            ):
                continue
            if ctx.value(config, "smtp_tls_policy_maps"):
                continue  # a per-destination policy may well require TLS to the relay
            if (ctx.value(config, "smtp_tls_wrappermode") or "").lower() == "yes":
                continue
            level, decided_by = client_tls_level(ctx, config)
            if level in _MANDATORY_CLIENT_LEVELS:
                continue
            relayhost = ctx.value(config, "relayhost")
            to = f"to {relayhost}" if relayhost else "to the servers it authenticates to"
            where = f" ({config.key})" if config is not None else ""
            message = (
                f"SASL passwords are sent {to} with TLS level {level!r}{where}: an attacker "
                "who strips STARTTLS reads them; set smtp_tls_security_level = encrypt"
            )
            name = decided_by if ctx.origin(config, decided_by) else "smtp_sasl_password_maps"
            place = ctx.where_set(config, name)
            if place is not None:
                self.report(place, message)


_CIPHER_PARAMS = (
    "smtpd_tls_ciphers",
    "smtpd_tls_mandatory_ciphers",
    "smtp_tls_ciphers",
    "smtp_tls_mandatory_ciphers",
    "lmtp_tls_ciphers",
    "lmtp_tls_mandatory_ciphers",
    "tlsproxy_tls_ciphers",
    "tlsproxy_tls_mandatory_ciphers",
)


@register
class WeakCipherGrade(Rule):
    """
    ## What it finds
    A `*_tls_ciphers` or `*_tls_mandatory_ciphers` setting (main.cf or a master.cf `-o`)
    that selects the `export` or `low` cipher grade, or `null` (no encryption at all) for
    the SMTP server.  Postfix 3.8 and later treat `export` and `low` as `medium`; for them
    the setting is reported as obsolete, not as weak.

    ## Why it matters
    Before Postfix 3.8, `export` allows 40- and 56-bit ciphers that can be broken in hours
    (FREAK, Logjam) and `low` allows single DES; with `null` smtpd encrypts nothing, while
    clients and logs say "TLS".

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
    severity = "error"
    summary = "TLS cipher grade export, low or null"

    def check(self, ctx: Context) -> None:
        modern = ctx.target[:2] >= (3, 8)
        places: list[tuple[str, str, object, ServiceConfig | None]] = []
        for entry in ctx.entries():
            places.append((entry.name, entry.value, entry, None))
        for config in ctx.services:
            for override in config.service.override_list:
                places.append((override.name, override.value, override, config))
        for name, value, origin, where in places:
            if name not in _CIPHER_PARAMS:
                continue
            grade = value.strip().lower()
            if grade == "null" and name.startswith(("smtpd_", "tlsproxy_")):
                message, severity = (
                    f"{name} = null: TLS sessions are not encrypted at all; use medium", "error"
                )  # fmt: skip
            elif grade in ("export", "low") and modern:
                message, severity = (
                    (f"{name} = {grade} is an obsolete grade that Postfix 3.8 and later treat "
                    "as medium; say medium"), "info",
                )  # fmt: skip
            elif grade in ("export", "low"):
                message, severity = (
                    (f"{name} = {grade} allows ciphers that can be broken (before Postfix 3.8); "
                    "use medium"), "error" if grade == "export" else "warning",
                )  # fmt: skip
            else:
                continue
            if isinstance(origin, Override) and where is not None:
                self.report(at.override(where, origin), message, severity=severity)
            elif isinstance(origin, Parameter):
                self.report(at.value(origin), message, severity=severity)
