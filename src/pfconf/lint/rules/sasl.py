"""SASL rules, put as questions to the model (pfconf.semantics): AUTH offered where passwords
can cross the network in clear, client settings that do nothing or too much, and SASL
settings that do not fit together."""

from __future__ import annotations

import attrs

from ...model import Override, Parameter
from ...semantics import Configuration, SmtpServer, yes
from ...semantics.client import SmtpClient, client_reached
from ...semantics.compatibility import with_level
from ...semantics.configuration import default_value
from ...semantics.sasl import server_sasl
from ...values import split_list
from .. import location as at
from ..context import Context
from ..finding import Fix, SetParameter, UnsetParameter
from ..location import Location
from ..rule import Rule, register


@register
class AuthInClear(Rule):
    """
    ## What it finds
    An smtpd service that offers AUTH before STARTTLS: `smtpd_sasl_auth_enable = yes` where
    TLS is not mandatory (`smtpd_tls_security_level` is not `encrypt`, no wrapper mode)
    while `smtpd_tls_auth_only` is `no` or unset, and plaintext mechanisms are allowed
    (`smtpd_sasl_security_options` without `noplaintext`, and `smtpd_sasl_mechanism_filter`,
    from Postfix 3.6, keeping PLAIN or LOGIN): port 25 with SASL enabled in main.cf, a
    submission service without `encrypt`, a port-465 service without wrapper mode.  Each
    smtpd service is judged with its own `-o` overrides; the services that share the
    setting a finding points at are named together.

    ## Why it matters
    smtpd then announces AUTH PLAIN and LOGIN before STARTTLS, and clients (and attackers
    who strip STARTTLS from the greeting) send user names and passwords base64-encoded in
    clear text.  A warning, not an error: mail flows and logins work; the risk is that
    someone on the path reads the passwords.

    ## Postfix source
    - Without TLS, smtpd turns SASL on at the greeting unless `smtpd_tls_auth_only = yes`:
      `src/smtpd/smtpd.c`, `smtpd_proto()`; required TLS (level `encrypt`, wrapper mode)
      implies `smtpd_tls_auth_only`: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - EHLO then offers AUTH with the mechanisms the SASL plug-in allows under
      `smtpd_sasl_security_options` (`noplaintext` removes PLAIN and LOGIN:
      `src/xsasl/xsasl_dovecot_server.c`, `xsasl_dovecot_server_mech_filter()`;
      `src/xsasl/xsasl_cyrus_security.c`, `xsasl_cyrus_security_parse_opts()`), filtered by
      `smtpd_sasl_mechanism_filter` (Postfix 3.6 and later): `src/smtpd/smtpd_sasl_glue.c`,
      `smtpd_sasl_activate()`; `src/smtpd/smtpd.c`, `ehlo_cmd()`.

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
    smtpd activates SASL on a connection without TLS only when it is `no`.

    ## Fix
    Where TLS is optional: set `smtpd_tls_auth_only = yes` (safe: clients can still
    authenticate, after STARTTLS), or require TLS on the service that offers AUTH.  The fix
    edits main.cf, so it is offered as unsafe when another smtpd that reads main.cf's value
    offers AUTH without any TLS (it would lose AUTH), and not at all when the service has
    its own `-o smtpd_tls_auth_only`.  Where there is no TLS, there is no automatic fix:
    give smtpd a certificate and `smtpd_tls_security_level = may` first.
    """

    code = "SASL001"
    name = "auth-in-clear"
    severity = "warning"
    summary = "SASL authentication offered without TLS: passwords in clear"
    fix_safety = "safe"
    needs_main = True

    def check(self, ctx: Context) -> None:
        # services that share the setting a finding points at, in the same situation, get
        # one finding that names them all
        groups: dict[tuple[Location, str, str], list[SmtpServer]] = {}
        for server in ctx.postfix.smtp_servers:
            if server.auth.state != "always":
                continue  # no AUTH, or AUTH only inside TLS
            if server_sasl(server.config).plaintext_in_clear is False:
                continue
            config, tls = server.config, server.tls
            # with no TLS at all the finding is about TLS, so it points where AUTH is enabled
            anchor = (
                "smtpd_tls_auth_only"
                if tls.state != "none" and config.is_set("smtpd_tls_auth_only")
                else "smtpd_sasl_auth_enable"
            )
            where = at.setting(config, anchor)
            if where is not None:
                key = (attrs.evolve(where, service=None), tls.state, tls.why)
                groups.setdefault(key, []).append(server)
        for (place, state, why), servers in groups.items():
            # the first service stands for the finding in baselines and SARIF, as before
            where = attrs.evolve(place, service=servers[0].key)
            names = ", ".join(s.key or "smtpd" for s in servers)
            offer = "offers" if len(servers) == 1 else "offer"
            if state == "none":
                # smtpd_tls_auth_only = yes would not protect anything here: with no TLS
                # session, smtpd never activates SASL when it is set (smtpd.c, smtpd_proto():
                # "SASL initialization for plaintext mode"), so clients that log in today
                # would be refused.  TLS has to come first.
                self.report(
                    where,
                    f"{names} {offer} AUTH and no TLS at all ({why}): passwords cross the "
                    "network in clear; give smtpd a certificate and smtpd_tls_security_level "
                    "= may, then set smtpd_tls_auth_only = yes",
                )
                continue
            config = servers[0].config
            shown = (config.value("smtpd_tls_auth_only") or "").strip() or "no"
            if not config.is_set("smtpd_tls_auth_only"):
                shown += " (default)"
            self.report(
                where,
                f"{names} {offer} AUTH while TLS is optional ({why}) and smtpd_tls_auth_only "
                f"is {shown}: passwords can cross the network in clear; set "
                "smtpd_tls_auth_only = yes",
                fix=_auth_only_fix(ctx, servers),
            )


def _auth_only_fix(ctx: Context, servers: list[SmtpServer]) -> Fix | None:
    """``smtpd_tls_auth_only = yes`` in main.cf, safe when it breaks no login that works: it
    must reach ``servers`` (none has a ``-o`` of its own), and no smtpd that reads main.cf's
    value may offer AUTH without any TLS (there the setting would switch AUTH off)."""
    name = "smtpd_tls_auth_only"
    if any(isinstance(s.config.origin(name), Override) for s in servers):
        return None  # a service's own -o stands: main.cf cannot change it
    edit = SetParameter(name, "yes")
    for other in ctx.postfix.smtp_servers:
        if isinstance(other.config.origin(name), Override):
            continue
        if other.auth.state == "always" and other.tls.state == "none":
            where = other.key or "smtpd"
            return Fix.unsafe(
                f"set {name} = yes (this switches AUTH off on {where}, which has no TLS)", edit
            )
    return Fix.safe(f"set {name} = yes", edit)


@register
class EmptyClientSaslOptions(Rule):
    """
    ## What it finds
    `smtp_sasl_security_options` (or `lmtp_sasl_security_options` for lmtp) set to nothing
    for a client that logs in (`smtp_sasl_auth_enable = yes` with
    `smtp_sasl_password_maps`), where the empty value lets it pick the ANONYMOUS
    mechanism: `smtp_sasl_mechanism_filter` does not exclude it, and the sessions the
    empty value governs happen (sessions without TLS; TLS sessions too while
    `smtp_sasl_tls_security_options` keeps its default, `$smtp_sasl_security_options`).

    ## Why it matters
    The security options tell the SASL library which of the mechanisms the server offers the
    client may choose (the plain-text session's options, or the TLS session's).  An empty
    list lifts every restriction: a server that offers ANONYMOUS may get an anonymous login
    instead of the account's, and on a session without TLS the client may send the password
    with PLAIN or LOGIN (TLS005 reports that part).  `smtp_sasl_mechanism_filter` is a third
    list: the client uses only the mechanisms that both the server offers and the filter
    keeps, so a filter such as `plain, login` keeps ANONYMOUS out, and the finding is not
    made.  Articles copy the empty value to make PLAIN work, when `noanonymous` is all that
    is needed: the default `noplaintext, noanonymous` forbids PLAIN and LOGIN even inside
    TLS.

    ## Postfix source
    - The client hands the SASL library `smtp_sasl_security_options` on a session without
      TLS, `smtp_sasl_tls_security_options` with TLS (`smtp_sasl_tls_verified_security_options`
      with a verified certificate): `src/smtp/smtp_sasl_proto.c`, `smtp_sasl_helo_login()`
      with `src/smtp/smtp_sasl_glue.c`, `smtp_sasl_start()`.
    - `smtp_sasl_mechanism_filter` keeps only the server's mechanisms it lists:
      `src/smtp/smtp_sasl_proto.c`, `smtp_sasl_helo_auth()` with
      `src/global/sasl_mech_filter.c`, `sasl_mech_filter()`.
    - The defaults (`noplaintext, noanonymous`, and `$smtp_sasl_security_options` for TLS
      sessions): `proto/postconf.proto` (smtp_sasl_security_options), `proto/postconf.proto`
      (smtp_sasl_tls_security_options).

    ## Example
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    smtp_sasl_security_options =
    ```

    ## Use instead
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
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
    summary = "smtp_sasl_security_options is empty: the client may log in anonymously"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for client in ctx.postfix.smtp_clients:
            sasl, tls, config = client.sasl, client.tls, client.config
            name = client.parameter("sasl_security_options")
            if not sasl.authenticates or not config.is_set(name) or sasl.options:
                continue
            anonymous = sasl.allows("ANONYMOUS")
            if anonymous is False:
                continue
            # the empty value governs sessions without TLS, and TLS sessions while the TLS
            # options follow it (their default is $smtp_sasl_security_options)
            in_clear = tls.plaintext_possible or tls.policy_maps is not None
            in_tls = "noanonymous" not in sasl.tls_options
            if not (in_clear or in_tls):
                continue
            filtered = client.parameter("sasl_mechanism_filter")
            message = (
                f"{name} is empty: the {client.protocol} client may log in with the "
                "ANONYMOUS mechanism when a server offers it"
            )
            if anonymous is None:
                message += f" (unless the table in {filtered} leaves it out)"
            if in_clear and sasl.plaintext_in_clear is not False:
                message += ", and may send its password with PLAIN or LOGIN without TLS"
            where = at.setting_line(config, name)
            if where is not None:
                self.report(where, f"{message}; use noanonymous")


@register
class ClientSaslWithoutPasswords(Rule):
    """
    ## What it finds
    `smtp_sasl_auth_enable = yes` (`lmtp_sasl_auth_enable` for the LMTP client) for an
    smtp or lmtp service that mail reaches, while its `smtp_sasl_password_maps`
    (`lmtp_sasl_password_maps`) is empty.  Each service is judged with its own `-o`
    overrides; the services that share the setting are named together.

    ## Why it matters
    The delivery agent stops as soon as it starts: it refuses an empty password table with
    "fatal: specify a password table via the `smtp_sasl_password_maps' configuration
    parameter".  master(8) starts it again for the next message and it stops again, so
    mail for that transport stays in the queue until it bounces.  Often the setting was
    copied next to `smtpd_sasl_auth_enable` (the server side) by mistake, or the table was
    given to one service only (`-o smtp_sasl_password_maps=...` on relay) while the setting
    in main.cf reaches the others too.

    ## Postfix source
    - With SASL enabled, smtp(8) initializes it at start-up (`src/smtp/smtp.c`,
      `pre_init()`) and stops without a password table ("specify a password table via the
      `smtp_sasl_password_maps' configuration parameter"): `src/smtp/smtp_sasl_glue.c`,
      `smtp_sasl_initialize()`.

    ## Example
    ```
    smtp_sasl_auth_enable = yes
    ```

    ## Use instead
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    ```
    or no `smtp_sasl_auth_enable` at all when this server does not log in to a relay (or
    `-o smtp_sasl_auth_enable=yes` only on the service that has the table).

    ## Fix
    Add `smtp_sasl_password_maps`, or remove `smtp_sasl_auth_enable`.
    """

    code = "SASL003"
    name = "client-sasl-without-passwords"
    severity = "error"
    summary = "smtp_sasl_auth_enable without smtp_sasl_password_maps stops the smtp client"
    needs_main = True

    def check(self, ctx: Context) -> None:
        groups: dict[Location, list[SmtpClient]] = {}
        for client in ctx.postfix.smtp_clients:
            sasl = client.sasl
            if not sasl.enabled or sasl.password_maps is not None:
                continue
            if not client_reached(client, ctx.postfix):
                continue  # master never starts it
            where = at.setting(client.config, client.parameter("sasl_auth_enable"))
            if where is not None:
                groups.setdefault(attrs.evolve(where, service=None), []).append(client)
        for place, clients in groups.items():
            first = clients[0]
            protocol = first.protocol
            names = ", ".join(c.key for c in clients if c.key is not None)
            maps = f"{protocol}_sasl_password_maps"
            self.report(
                attrs.evolve(place, service=first.key),
                f"{protocol}_sasl_auth_enable = yes, but {maps} is empty: the {protocol} "
                f"delivery agent{f' ({names})' if names else ''} stops when it starts "
                f"(\"fatal: specify a password table via the `{maps}' configuration "
                "parameter\"), and mail for it stays in the queue",
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

    ## Postfix source
    - The setting adds a second AUTH line in the `AUTH=` form: `src/smtpd/smtpd.c`,
      `ehlo_cmd()`.
    - The clients it serves (Outlook Express 4, Exchange 5.0): `proto/postconf.proto`
      (broken_sasl_auth_clients).

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
        for server in ctx.postfix.smtp_servers:
            config = server.config
            if not yes(config.value("broken_sasl_auth_clients")):
                continue
            origin = config.origin("broken_sasl_auth_clients")
            if isinstance(origin, Parameter):
                fix = Fix.safe("remove broken_sasl_auth_clients", UnsetParameter(origin.name))
                self.report(at.line(origin), message, fix=fix)
                continue
            where = at.setting(config, "broken_sasl_auth_clients")
            if where is not None:
                self.report(where, message)


@register
class SaslPermitWithoutSasl(Rule):
    """
    ## What it finds
    `permit_sasl_authenticated` in a restriction list that no smtpd offering AUTH reads:
    every smtpd service that uses the list (main.cf's, or its own `-o`) either does not
    enable SASL (`smtpd_sasl_auth_enable`), or never offers AUTH although it does
    (`smtpd_tls_auth_only = yes` with no TLS, or TLS required and no certificate, so no
    session ever has TLS).  Lists written with the words of Postfix's default (at the
    configuration's compatibility level or the current one, as Debian's main.cf writes out
    the relay list) are not reported, and nothing is reported when no master.cf was found
    (its services may enable SASL).

    ## Why it matters
    permit_sasl_authenticated matches only a client that has logged in; where no client can
    authenticate, the restriction never matches: users who were meant to relay after logging
    in are rejected with "Relay access denied".  Either SASL was forgotten, or the
    restriction is dead weight that misleads the next reader.

    ## Postfix source
    - `permit_sasl_authenticated` matches only a client that logged in with AUTH:
      `src/smtpd/smtpd_sasl_proto.c`, `permit_sasl_auth()`; up to Postfix 3.9
      `src/smtpd/smtpd_check.c`, `generic_checks()` also skipped it where SASL was not active.
    - AUTH is offered only where SASL is active: `src/smtpd/smtpd.c`, `ehlo_cmd()`; it is
      activated at the greeting without TLS unless `smtpd_tls_auth_only = yes`
      (`smtpd_proto()`), or after STARTTLS (`smtpd_start_tls()`).
    - Without a certificate no session has TLS: `src/smtpd/smtpd.c`, `pre_jail_init()`.

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
    summary = "permit_sasl_authenticated where no smtpd that reads it offers AUTH"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.master_is_stock:
            return  # the real master.cf, not seen, may well enable SASL on submission
        # each written permit_sasl_authenticated: its list, whether an smtpd that reads it
        # offers AUTH (then it can match), and why not (a server that enables SASL says more)
        found: dict[Location, _Permit] = {}
        for server in ctx.postfix.smtp_servers:
            enabled = yes(server.config.value("smtpd_sasl_auth_enable"))
            for list_name, listed in server.restrictions.items():
                if listed.is_default or _default_written_out(server.config, list_name):
                    continue
                for item in listed.flattened():
                    if item.lowered != "permit_sasl_authenticated":
                        continue
                    where = at.written(item.written, parameter=list_name)
                    if where is None:
                        continue
                    permit = found.setdefault(where, _Permit(list_name, server.auth.why))
                    permit.matches = permit.matches or server.auth.state != "none"
                    if enabled and not permit.why_enabled:
                        permit.why, permit.why_enabled = server.auth.why, True
        for where, permit in found.items():
            if not permit.matches:
                self.report(
                    where,
                    f"permit_sasl_authenticated in {permit.list_name} never matches: no smtpd "
                    f"that reads it offers AUTH ({permit.why})",
                )


@attrs.define
class _Permit:
    """What SASL005 learns of one written permit_sasl_authenticated."""

    list_name: str
    why: str
    matches: bool = False
    why_enabled: bool = False


def _default_written_out(config: Configuration, name: str) -> bool:
    """Whether ``name`` is written with the words of its default, at the configuration's
    compatibility level or at the target release's own (Debian's main.cf writes out the
    level-1 smtpd_relay_restrictions even where it sets no level): not a choice the
    administrator made."""
    value = config.value(name)
    if value is None:
        return False
    words = [t.text for t in split_list(value)]
    newest = ".".join(str(n) for n in config.version[:2])
    for view in (config, with_level(config, newest)):
        default = default_value(view, name)
        if default is not None and words == [t.text for t in split_list(default)]:
            return True
    return False


def _socket_like(path: str) -> bool:
    """A Dovecot socket: a path (``private/auth``) or ``inet:host:port`` (xsasl_dovecot)."""
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
    from `NAME.conf`.  With the two mixed up, smtpd cannot reach the authentication
    service: with `dovecot` it finds no socket, gets no mechanisms and stops each time it
    turns SASL on ("no SASL authentication mechanisms"), so clients are cut off at the
    greeting (or after STARTTLS with `smtpd_tls_auth_only`); with `cyrus` the library
    looks for a configuration that does not exist and logins fail ("SASL authentication
    failure").

    ## Postfix source
    - The path means the plug-in's own thing: for Cyrus the application name whose
      `NAME.conf` the library reads (`src/xsasl/xsasl_cyrus_server.c`,
      `xsasl_cyrus_server_init()`), for Dovecot the authentication socket, `unix:` or `inet:`
      (`src/xsasl/xsasl_dovecot_server.c`, `xsasl_dovecot_server_connect()`);
      `proto/postconf.proto` (smtpd_sasl_path), `proto/postconf.proto` (smtpd_sasl_type).
    - A Dovecot socket that cannot be reached gives no mechanisms ("SASL: Connect to Dovecot
      auth socket ... failed"), and smtpd stops where it turns SASL on ("no SASL
      authentication mechanisms"): `src/xsasl/xsasl_dovecot_server.c`,
      `xsasl_dovecot_server_get_mechanism_list()`; `src/smtpd/smtpd_sasl_glue.c`,
      `smtpd_sasl_activate()`.
    - Cyrus reports its failures as "SASL authentication failure": `src/xsasl/xsasl_cyrus_log.c`,
      `xsasl_cyrus_log()`.

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
        for server in ctx.postfix.smtp_servers:
            config = server.config
            if not yes(config.value("smtpd_sasl_auth_enable")):
                continue
            kind = (config.value("smtpd_sasl_type") or "").strip().lower()
            path = (config.value("smtpd_sasl_path") or "").strip()
            # A Dovecot socket may sit in the queue directory itself ("auth-dovecot"), so
            # only Cyrus's application name, the default, is certainly not one.
            if kind == "dovecot" and path == "smtpd":
                anchor = (
                    "smtpd_sasl_path" if config.is_set("smtpd_sasl_path") else "smtpd_sasl_type"
                )
                message = (
                    f"smtpd_sasl_type = dovecot needs the socket in smtpd_sasl_path (such as "
                    f"private/auth), not {path!r}"
                    + ("" if config.is_set("smtpd_sasl_path") else " (default)")
                )
            elif kind == "cyrus" and _socket_like(path):
                anchor = "smtpd_sasl_path"
                message = (
                    f"smtpd_sasl_path = {path} is a socket path, but smtpd_sasl_type is cyrus, "
                    "which reads it as an application name; set smtpd_sasl_type = dovecot"
                )
            else:
                continue
            where = at.setting(config, anchor)
            if where is not None:
                self.report(where, message)
