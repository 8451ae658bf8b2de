"""SASL rules, judged per smtpd service: authentication offered where passwords can cross the
network in clear."""

from __future__ import annotations

from ...model import Parameter
from ...semantics import server_tls, yes
from ...values import split_list
from .. import location as at
from ..context import Context, ServiceConfig
from ..finding import Fix, SetParameter, UnsetParameter
from ..location import Location
from ..restrictions import configurations
from ..rule import Rule, register


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

    When smtpd offers no TLS at all (no `smtpd_tls_security_level`, or no certificate), the
    finding says so: `smtpd_tls_auth_only = yes` would then switch AUTH off altogether, since
    smtpd activates SASL on a connection without TLS only when it is `no` (smtpd.c,
    smtpd_proto()).

    ## Fix
    Where TLS is optional: set `smtpd_tls_auth_only = yes` (safe: clients can still
    authenticate, after STARTTLS), or require TLS on the service that offers AUTH.  Where
    there is no TLS, there is no automatic fix: give smtpd a certificate and
    `smtpd_tls_security_level = may` first.
    """

    code = "SASL001"
    name = "auth-in-clear"
    severity = "error"
    summary = "SASL authentication offered without TLS: passwords in clear"
    fix_safety = "safe"
    needs_main = True
    # the message names the service: the first one that inherits a main.cf setting stands
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for config in ctx.smtpd_services:
            value = config.value
            if not yes(value("smtpd_sasl_auth_enable")):
                continue
            tls = server_tls(value)
            if tls.state == "required" or yes(value("smtpd_tls_auth_only")):
                continue
            options = {
                t.text.lower()
                for t in split_list(value("smtpd_sasl_security_options") or "noanonymous")
            }
            if "noplaintext" in options:
                continue
            if tls.state == "none":
                # smtpd_tls_auth_only = yes would not protect anything here: with no TLS
                # session, smtpd never activates SASL when it is set (smtpd.c, smtpd_proto():
                # "SASL initialization for plaintext mode"), so clients that log in today
                # would be refused.  TLS has to come first.
                anchor = "smtpd_sasl_auth_enable"
                message = (
                    f"{config.key} offers AUTH and no TLS at all ({tls.why}): passwords cross "
                    "the network in clear; give smtpd a certificate and "
                    "smtpd_tls_security_level = may, then set smtpd_tls_auth_only = yes"
                )
                fix = None
            else:
                anchor = (
                    "smtpd_tls_auth_only"
                    if config.origin("smtpd_tls_auth_only")
                    else "smtpd_sasl_auth_enable"
                )
                message = (
                    f"{config.key} offers AUTH while TLS is optional ({tls.why}) and "
                    f"smtpd_tls_auth_only is {value('smtpd_tls_auth_only') or 'not set (no)'}: "
                    "passwords can cross the network in clear; set smtpd_tls_auth_only = yes"
                )
                fix = Fix.safe(
                    "set smtpd_tls_auth_only = yes", SetParameter("smtpd_tls_auth_only", "yes")
                )
            where = ctx.where_set(config, anchor)
            if where is not None:
                self.report(where, message, fix=fix)


def _enabled(ctx: Context, config: ServiceConfig | None, name: str) -> bool:
    return (ctx.value(config, name) or "no").lower() == "yes"


@register
class EmptyClientSaslOptions(Rule):
    """
    ## What it finds
    `smtp_sasl_security_options` set to nothing while the SMTP client authenticates
    (`smtp_sasl_auth_enable = yes`).

    ## Why it matters
    An empty list lifts every restriction: the client accepts anonymous mechanisms and
    uses PLAIN and LOGIN on connections without TLS, so the relay password can cross the
    network in clear.  Articles copy the empty value to make PLAIN work, when
    `noanonymous` is all that is needed.

    ## Example
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_security_options =
    ```

    ## Use instead
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_security_options = noanonymous
    smtp_tls_security_level = encrypt
    ```

    ## Fix
    Set `smtp_sasl_security_options = noanonymous` and require TLS to the server that
    receives the password.
    """

    code = "SASL002"
    name = "empty-client-sasl-options"
    severity = "warning"
    summary = "smtp_sasl_security_options is empty: anonymous and plaintext mechanisms allowed"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for config in ctx.client_configs:
            if not _enabled(ctx, config, "smtp_sasl_auth_enable"):
                continue
            origin = ctx.origin(config, "smtp_sasl_security_options")
            if origin is None or origin.value.strip(" \t,"):
                continue
            message = (
                "smtp_sasl_security_options is empty: the SMTP client may send the password "
                "with PLAIN or LOGIN without TLS and accepts anonymous mechanisms; use "
                "noanonymous"
            )
            if isinstance(origin, Parameter):  # an empty value has no span of its own
                where: Location | None = at.line(origin)
            else:
                where = ctx.where_set(config, "smtp_sasl_security_options")
            if where is not None:
                self.report(where, message)


@register
class ClientSaslWithoutPasswords(Rule):
    """
    ## What it finds
    `smtp_sasl_auth_enable = yes` where no SMTP client service has
    `smtp_sasl_password_maps`.

    ## Why it matters
    The client looks up the user name and password for each server in
    `smtp_sasl_password_maps`; without that table it never authenticates, and a relay host
    that requires AUTH refuses the mail.  The setting suggests SASL is working when it
    cannot be.  Often the setting was copied next to `smtpd_sasl_auth_enable` (the server
    side) by mistake.

    ## Example
    ```
    smtp_sasl_auth_enable = yes
    ```

    ## Use instead
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    ```
    or no `smtp_sasl_auth_enable` at all when this server does not log in to a relay.

    ## Fix
    Add `smtp_sasl_password_maps`, or remove `smtp_sasl_auth_enable`.
    """

    code = "SASL003"
    name = "client-sasl-without-passwords"
    severity = "warning"
    summary = "smtp_sasl_auth_enable without smtp_sasl_password_maps does nothing"
    needs_main = True

    def check(self, ctx: Context) -> None:
        # Group the client services by where their smtp_sasl_auth_enable = yes comes from:
        # a main.cf setting is fine as long as one service using it has passwords.
        groups: dict[int, tuple[list[ServiceConfig | None], bool]] = {}
        for config in ctx.client_configs:
            origin = ctx.origin(config, "smtp_sasl_auth_enable")
            if origin is None or origin.value.strip().lower() != "yes":
                continue
            configs, has_maps = groups.setdefault(id(origin), ([], False))
            configs.append(config)
            maps = bool(ctx.value(config, "smtp_sasl_password_maps"))
            groups[id(origin)] = (configs, has_maps or maps)
        for configs, has_maps in groups.values():
            if has_maps:
                continue
            where = ctx.where_set(configs[0], "smtp_sasl_auth_enable")
            if where is not None:
                self.report(
                    where,
                    "smtp_sasl_auth_enable = yes, but smtp_sasl_password_maps is not set: the "
                    "SMTP client has no password to send and never authenticates",
                )


@register
class BrokenSaslAuthClients(Rule):
    """
    ## What it finds
    `broken_sasl_auth_clients = yes`.

    ## Why it matters
    It makes smtpd announce AUTH a second time in the pre-standard `AUTH=` form, for
    clients that implement a draft of the AUTH command older than RFC 2554; Postfix's
    documentation names Outlook Express 4 and Exchange 5.0.  No
    client in use today needs it, and it is a sign that the surrounding SASL settings were
    copied from an old article and deserve a review.

    ## Example
    ```
    broken_sasl_auth_clients = yes
    ```

    ## Use instead
    ```
    # (no broken_sasl_auth_clients)
    ```

    ## Fix
    Remove the line.
    """

    code = "SASL004"
    name = "broken-sasl-auth-clients"
    severity = "info"
    summary = "broken_sasl_auth_clients only serves clients from the 1990s"
    fix_safety = "safe"

    def check(self, ctx: Context) -> None:
        message = (
            "broken_sasl_auth_clients = yes only helps clients that speak a draft form of AUTH "
            "older than RFC 2554 (Outlook Express 4, Exchange 5.0); remove it"
        )
        entry = ctx.main.get("broken_sasl_auth_clients") if ctx.main else None
        if entry is not None and entry.value.strip().lower() == "yes":
            fix = Fix.safe("remove broken_sasl_auth_clients", UnsetParameter(entry.name))
            self.report(at.line(entry), message, fix=fix)
        for config in ctx.smtpd_services:
            override = config.service.override("broken_sasl_auth_clients")
            if override is not None and override.value.strip().lower() == "yes":
                self.report(at.override(config, override), message)


@register
class SaslPermitWithoutSasl(Rule):
    """
    ## What it finds
    `permit_sasl_authenticated` in a restriction list while no smtpd service enables SASL
    (`smtpd_sasl_auth_enable = yes` in main.cf or in a master.cf `-o`).  Lists left at
    Postfix's own default value are not reported, and nothing is reported when no
    master.cf was found (its services may enable SASL).

    ## Why it matters
    No client can authenticate, so the restriction never matches: users who were meant to
    relay after logging in are rejected with "Relay access denied".  Either SASL was
    forgotten, or the restriction is dead weight that misleads the next reader.

    ## Example
    ```
    smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
        reject_unauth_destination
    ```

    ## Use instead
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
        reject_unauth_destination
    ```

    ## Fix
    Enable SASL where users log in (normally only on the submission services), or remove
    `permit_sasl_authenticated`.
    """

    code = "SASL005"
    name = "sasl-permit-without-sasl"
    severity = "warning"
    summary = "permit_sasl_authenticated where no service enables SASL"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.master_is_stock:
            return  # the real master.cf, not seen, may well enable SASL on submission
        configs = ctx.smtpd_configs
        if any(_enabled(ctx, config, "smtpd_sasl_auth_enable") for config in configs):
            return
        for _config, lists in configurations(ctx):
            for list_name, restrictions in lists.items():
                if not restrictions:
                    continue
                origin = restrictions[0].origin
                default = (ctx.kb.parameter(list_name) or {}).get("default")
                if (
                    isinstance(origin, Parameter)
                    and default is not None
                    and [t.text for t in split_list(origin.value)]
                    == [t.text for t in split_list(default)]
                ):
                    continue  # Postfix's default, written out (Debian does): not a choice
                for restriction in restrictions:
                    if restriction.lowered != "permit_sasl_authenticated":
                        continue
                    self.report(
                        at.restriction(restriction),
                        f"permit_sasl_authenticated in {list_name} never matches: no smtpd "
                        "service sets smtpd_sasl_auth_enable = yes",
                    )


def _socket_like(path: str) -> bool:
    return "/" in path or path.lower().startswith("inet:")


@register
class SaslTypePathMismatch(Rule):
    """
    ## What it finds
    An smtpd service with SASL enabled whose `smtpd_sasl_type` and `smtpd_sasl_path` do not
    fit together: `dovecot` with the path left at `smtpd` (the default, Cyrus's
    application name), or `cyrus` (the default type) with a socket path such as
    `private/auth` or `inet:host:port`.

    ## Why it matters
    For Dovecot the path names the authentication socket (relative to the queue directory,
    or `inet:host:port`); for Cyrus it names the application, whose settings Cyrus reads
    from `NAME.conf`.  With the two mixed up, smtpd cannot reach the authentication service
    and logs "SASL authentication failure" for every login.

    ## Example
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_sasl_path = private/auth
    ```

    ## Use instead
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_sasl_type = dovecot
    smtpd_sasl_path = private/auth
    ```

    ## Fix
    Set the type that matches the path: `dovecot` for a socket path, or for Cyrus a plain
    application name such as `smtpd`.
    """

    code = "SASL006"
    name = "sasl-type-path-mismatch"
    severity = "error"
    summary = "smtpd_sasl_type and smtpd_sasl_path do not fit together"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for config in ctx.smtpd_configs:
            if not _enabled(ctx, config, "smtpd_sasl_auth_enable"):
                continue
            kind = (ctx.value(config, "smtpd_sasl_type") or "cyrus").strip().lower()
            path = (ctx.value(config, "smtpd_sasl_path") or "smtpd").strip()
            if "$" in path:
                continue
            # A Dovecot socket may sit in the queue directory itself ("auth-dovecot"), so
            # only Cyrus's application name, the default, is certainly not one.
            if kind == "dovecot" and path == "smtpd":
                anchor = (
                    "smtpd_sasl_path"
                    if ctx.origin(config, "smtpd_sasl_path")
                    else "smtpd_sasl_type"
                )
                message = (
                    f"smtpd_sasl_type = dovecot needs the socket in smtpd_sasl_path (such as "
                    f"private/auth), not {path!r}"
                )
            elif kind == "cyrus" and _socket_like(path):
                anchor = "smtpd_sasl_path"
                message = (
                    f"smtpd_sasl_path = {path} is a socket path, but smtpd_sasl_type is cyrus, "
                    "which reads it as an application name; set smtpd_sasl_type = dovecot"
                )
            else:
                continue
            where = ctx.where_set(config, anchor)
            if where is not None:
                self.report(where, message)
