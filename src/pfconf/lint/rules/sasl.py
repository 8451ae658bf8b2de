"""SASL rules, judged per smtpd service: authentication offered where passwords can cross the
network in clear."""

from __future__ import annotations

from typing import Iterator

from ...values import split_list
from ..context import Context
from ..finding import Finding, Fix
from ..rule import Rule, register
from .tls import _at


@register
class AuthInClear(Rule):
    """
    ## What it finds
    An smtpd service with `smtpd_sasl_auth_enable = yes` where TLS is not mandatory
    (`smtpd_tls_security_level` is not `encrypt`, no wrapper mode) while
    `smtpd_tls_auth_only` is `no` or unset, and plaintext mechanisms are allowed
    (`smtpd_sasl_security_options` without `noplaintext`): port 25 with SASL enabled in
    main.cf, a submission service without `encrypt`, a port-465 service without wrapper
    mode.

    ## Why it matters
    smtpd then announces AUTH PLAIN and LOGIN before STARTTLS, and clients (and attackers
    who strip STARTTLS from the greeting) send user names and passwords base64-encoded in
    clear text.

    ## Example
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_tls_security_level = may
    smtpd_tls_auth_only = no
    ```

    ## Use instead
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_tls_security_level = may
    smtpd_tls_auth_only = yes
    ```

    ## Fix
    Set `smtpd_tls_auth_only = yes` (safe: clients that authenticate already use TLS),
    or require TLS on the service that offers AUTH.
    """

    code = "SASL001"
    name = "auth-in-clear"
    severity = "error"
    summary = "SASL authentication offered without TLS: passwords in clear"
    fix_safety = "safe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        seen = set()
        for config in ctx.smtpd_services:
            value = config.value
            if (value("smtpd_sasl_auth_enable") or "no").lower() != "yes":
                continue
            if (value("smtpd_tls_wrappermode") or "").lower() == "yes":
                continue
            level = (value("smtpd_tls_security_level") or "").lower()
            if level == "encrypt" or (
                not level and (value("smtpd_enforce_tls") or "").lower() == "yes"
            ):
                continue
            if (value("smtpd_tls_auth_only") or "no").lower() == "yes":
                continue
            options = {
                t.text.lower()
                for t in split_list(value("smtpd_sasl_security_options") or "noanonymous")
            }
            if "noplaintext" in options:
                continue
            anchor = (
                "smtpd_tls_auth_only"
                if config.origin("smtpd_tls_auth_only")
                else "smtpd_sasl_auth_enable"
            )
            message = (
                f"{config.key} offers AUTH while TLS is optional and smtpd_tls_auth_only is "
                f"{value('smtpd_tls_auth_only') or 'not set (no)'}: passwords can cross the network "
                "in clear; set smtpd_tls_auth_only = yes"
            )
            finding = _at(ctx, type(self), config, anchor, message)
            if finding is None:
                continue
            key = (finding.path, finding.line, finding.column)
            if key in seen:
                continue
            seen.add(key)
            yield Finding(
                finding.code, finding.severity, finding.message, finding.path, finding.line,
                finding.column, finding.end_line, finding.end_column, finding.parameter,
                finding.service, Fix("set smtpd_tls_auth_only = yes", parameter="smtpd_tls_auth_only", value="yes"),
            )  # fmt: skip
