"""Settings that stop a Postfix program at start-up or at its first use, and that fit no
other family: the log file, proxied tables, the SMTP client's SASL cache and source address,
VERP delimiters, the address-verification sender, MIME options, listening addresses.
"""

from __future__ import annotations

import ipaddress
import re

from ...model import Override
from ...semantics import Configuration, Daemon, Postfix, yes
from ...semantics.services import disabled_by_setting, no_network, protocol_families
from ...semantics.tables import ProxyApproval, read_only_cache
from ...values import split_list
from .. import location as at
from ..context import Context
from ..rule import Rule, register


@register
class MaillogFileOutsidePrefixes(Rule):
    """
    ## What it finds
    `maillog_file` set to a path that starts with none of the `maillog_file_prefixes`
    (Postfix 3.4 and later; the default prefixes are `/var` and `/dev/stdout`).

    ## Why it matters
    Every Postfix program checks the path when it starts logging, and stops with
    "maillog_file value ... does not match any prefix in maillog_file_prefixes"
    (maillog_client.c, maillog_client_init()): `postfix start` refuses, and no daemon runs.

    ## Postfix source
    - Every program that logs to `maillog_file` checks it against `maillog_file_prefixes` and
      stops ("... does not match any prefix in maillog_file_prefixes"):
      `src/global/maillog_client.c`, `maillog_client_init()` (Postfix 3.4 and later).
    - The default prefixes: `src/global/mail_params.h` (`DEF_MAILLOG_FILE_PFXS`);
      `proto/postconf.proto` (maillog_file_prefixes).

    ## Example
    ```
    maillog_file = /home/log/postfix.log
    ```

    ## Use instead
    ```
    maillog_file = /var/log/postfix.log
    ```
    or add the directory to `maillog_file_prefixes`.

    ## Fix
    Log below one of the prefixes, or extend `maillog_file_prefixes` (which exists to keep
    a typo from overwriting a file elsewhere).
    """

    code = "CFG001"
    name = "maillog-file-outside-prefixes"
    severity = "error"
    summary = "maillog_file outside maillog_file_prefixes: no Postfix program starts"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 4):
            return
        config = ctx.configuration
        path = config.value("maillog_file") or ""
        if not path:
            return
        prefixes = [t.text for t in split_list(config.value("maillog_file_prefixes") or "")]
        if any(path.startswith(prefix) for prefix in prefixes):
            return
        message = (
            f"maillog_file = {path} starts with none of maillog_file_prefixes "
            f"({', '.join(prefixes) or 'empty'}): every Postfix program stops when it starts"
        )
        where = at.setting_origin(config.origin("maillog_file"))
        if where is not None:
            self.report(where, message)


@register
class ProxiedTableNotApproved(Rule):
    """
    ## What it finds
    A `proxy:type:name` table that proxymap(8) will not serve: not listed (with `proxy:`)
    in the value of `proxy_read_maps` as proxymap reads it, or, for a table Postfix
    updates (`address_verify_map`, `postscreen_cache_map`, `smtp_sasl_auth_cache_name`,
    `lmtp_sasl_auth_cache_name`), in `proxy_write_maps`.  The defaults list the usual
    parameters by `$name`; a table written only in a master.cf `-o` value, or in a
    parameter the default does not list (`smtpd_data_restrictions`, say), is not covered.

    ## Why it matters
    proxymap reads main.cf, not the asking daemon's `-o` overrides, and refuses any other
    table: "request for unapproved table" (proxymap.c, proxy_map_find()).  Up to Postfix
    3.10 the daemon that opens the table stops with "proxymap service is not configured
    for table" (dict_proxy.c, dict_proxy_open()), smtpd as soon as it starts; from 3.11
    the table answers every lookup or update with that error, so smtpd answers with a
    temporary error and mail that needs the table is deferred.

    ## Postfix source
    - proxymap serves only the tables its `proxy_read_maps` or `proxy_write_maps` list
      ("request for unapproved table"): `src/proxymap/proxymap.c`, `proxy_map_find()`.
    - The client side: up to Postfix 3.10 the open stops the program ("proxymap service is
      not configured for table"); from 3.11 the table answers with that error instead:
      `src/global/dict_proxy.c`, `dict_proxy_open()`.

    ## Example
    ```
    proxy_read_maps = proxy:mysql:/etc/postfix/virtual.cf
    virtual_alias_maps = proxy:mysql:/etc/postfix/virtual.cf
    smtpd_sender_login_maps = proxy:mysql:/etc/postfix/senders.cf
    ```

    ## Use instead
    ```
    proxy_read_maps = $virtual_alias_maps $smtpd_sender_login_maps
    ```

    ## Fix
    Add the table to `proxy_read_maps` (`proxy_write_maps` for a cache), keeping the
    default's `$name` entries, or set the parameter in main.cf where proxymap sees it.
    """

    code = "CFG002"
    name = "proxied-table-not-approved"
    severity = "error"
    summary = "a proxy: table that proxymap does not serve"
    needs_main = True

    def check(self, ctx: Context) -> None:
        postfix = ctx.postfix
        approvals: dict[bool, ProxyApproval] = {}  # worked out only for a proxied table
        for table in postfix.proxied_tables:
            if table.write not in approvals:
                approvals[table.write] = postfix.proxy_approval(table.write)
            approval = approvals[table.write]
            if not approval.complete or table.table in approval.tables:
                continue
            service = "proxywrite" if table.write else "proxymap"
            named = (
                f"-o {table.parameter} on {table.daemon.key}"
                if table.daemon is not None
                else table.parameter
            )
            if ctx.target[:2] >= (3, 11):
                effect = f"every {'update' if table.write else 'lookup'} in it fails"
            else:
                effect = "the program that opens it stops"
            message = (
                f"{table.text} ({named}) is not in {approval.parameter} as {service} reads "
                f"it (main.cf): {service} refuses the table, and {effect}"
            )
            where = at.setting_origin(table.origin, word=table.text, daemon=table.daemon)
            if where is not None:
                self.report(where, message)


@register
class VirtualMailboxBaseRelative(Rule):
    """
    ## What it finds
    `virtual_mailbox_base` that does not start with `/`, where virtual(8) receives mail.

    ## Why it matters
    virtual(8) checks it before each delivery and stops with "do not specify relative
    pathname: virtual_mailbox_base = ..." (virtual/mailbox.c, deliver_mailbox()): every
    message for the virtual mailbox domains stays in the queue.

    ## Postfix source
    - virtual(8) stops before each delivery when the base is not absolute ("do not specify
      relative pathname"): `src/virtual/mailbox.c`, `deliver_mailbox()`.

    ## Example
    ```
    virtual_mailbox_domains = example.com
    virtual_mailbox_base = var/mail/vhosts
    ```

    ## Use instead
    ```
    virtual_mailbox_domains = example.com
    virtual_mailbox_base = /var/mail/vhosts
    ```

    ## Fix
    Give the absolute path.
    """

    code = "CFG003"
    name = "virtual-mailbox-base-relative"
    severity = "error"
    summary = "virtual_mailbox_base is not an absolute path: virtual(8) defers every message"
    needs_main = True

    def check(self, ctx: Context) -> None:
        postfix = ctx.postfix
        for daemon in postfix.running("virtual"):
            if not postfix.delivers_with(daemon.name):
                continue
            value = daemon.config.value("virtual_mailbox_base") or ""
            if not value or value.startswith("/"):
                continue  # empty: PAR019 (required text)
            message = (
                f"virtual_mailbox_base = {value} is not an absolute path: virtual(8) stops "
                "before every delivery and the mail stays in the queue"
            )
            origin = daemon.config.origin("virtual_mailbox_base")
            where = at.setting_origin(origin, daemon=daemon)
            if where is not None:
                self.report(where, message)


@register
class SaslAuthCacheName(Rule):
    """
    ## What it finds
    `smtp_sasl_auth_cache_name` (or `lmtp_`) on a client with SASL enabled that is not a
    `proxy:` table, or that names more than one table.

    ## Why it matters
    smtp(8) opens the cache when it starts and stops with "SASL authentication cache
    name ... must start with proxy:" or "... contains multiple values"
    (smtp_sasl_auth_cache.c, smtp_sasl_auth_cache_init()): the cache is shared by all
    smtp processes and only proxywrite may update it.  No mail leaves through that client.

    ## Postfix source
    - With SASL enabled, smtp(8) opens the cache at start-up: `src/smtp/smtp.c`,
      `pre_init()` calls `smtp_sasl_initialize()` in `src/smtp/smtp_sasl_glue.c`.
    - The cache must be one `proxy:` table ("contains multiple values", "must start with
      proxy:"): `src/smtp/smtp_sasl_auth_cache.c`, `smtp_sasl_auth_cache_init()`.

    ## Example
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_auth_cache_name = btree:/var/lib/postfix/sasl_auth_cache
    ```

    ## Use instead
    ```
    smtp_sasl_auth_enable = yes
    smtp_sasl_auth_cache_name = proxy:btree:/var/lib/postfix/sasl_auth_cache
    ```

    ## Fix
    Prefix the table with `proxy:` (the default `proxy_write_maps` lists this parameter).
    """

    code = "CFG004"
    name = "sasl-auth-cache-name"
    severity = "error"
    summary = "smtp_sasl_auth_cache_name is not one proxy: table: smtp(8) stops"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for client in ctx.postfix.reached_clients:
            if not client.sasl.enabled:
                continue
            name = client.parameter("sasl_auth_cache_name")
            value = client.value("sasl_auth_cache_name") or ""
            if not value:
                continue
            # smtp_sasl_auth_cache.c: HAS_MULTIPLE_VALUES() looks for a comma or blank
            if any(ch in value for ch in ", \t\r\n"):
                problem = "names more than one table"
            elif not value.startswith("proxy:"):
                problem = "does not start with proxy:"
            else:
                continue
            message = (
                f"{name} = {value} {problem}: {client.protocol}(8) stops when it starts, and "
                "no mail leaves through it"
            )
            where = at.setting_origin(client.config.origin(name), daemon=client.daemon)
            if where is not None:
                self.report(where, message)


@register
class BindAddressNotNumeric(Rule):
    """
    ## What it finds
    `smtp_bind_address` (or `smtp_bind_address6`, `lmtp_`...) that is not a numeric IP
    address: a host name, or a `[` without its `]` (brackets are allowed from Postfix 3.7).

    ## Why it matters
    smtp(8) converts the address before each connection and stops with "malformed
    smtp_bind_address parameter" or "bad smtp_bind_address parameter: ...: Name or service
    not known" (smtp_connect.c, smtp_connect_addr()): every delivery over that address
    family fails, and the mail stays in the queue.

    ## Postfix source
    - smtp(8) converts the bind address before each connection and stops on a bad one
      ("malformed ... parameter" for an unclosed `[`, "bad ... parameter" for a name):
      `src/smtp/smtp_connect.c`, `smtp_connect_addr()` (brackets from Postfix 3.7), with
      `src/util/myaddrinfo.c`, `hostaddr_to_sockaddr()` (numeric addresses only).

    ## Example
    ```
    smtp_bind_address = mail.example.com
    ```

    ## Use instead
    ```
    smtp_bind_address = 192.0.2.25
    ```

    ## Fix
    Write the address itself.
    """

    code = "CFG005"
    name = "bind-address-not-numeric"
    severity = "error"
    summary = "smtp_bind_address is not a numeric address: smtp(8) stops on each delivery"
    needs_main = True

    def check(self, ctx: Context) -> None:
        brackets = ctx.target[:2] >= (3, 7)
        for client in ctx.postfix.reached_clients:
            for suffix in ("bind_address", "bind_address6"):
                name = client.parameter(suffix)
                value = (client.value(suffix) or "").strip()
                if not value:
                    continue
                problem = None
                inner = value
                if value.startswith("[") and brackets:
                    if not value.endswith("]") or value.count("]") != 1:
                        problem = "malformed"
                    inner = value[1:].split("]", 1)[0]
                if problem is None and not _numeric(inner):
                    problem = "not a numeric address"
                if problem is None:
                    continue
                message = (
                    f"{name} = {value} is {problem}: {client.protocol}(8) stops on every "
                    "connection it would make from it, and the mail stays in the queue"
                )
                where = at.setting_origin(client.config.origin(name), daemon=client.daemon)
                if where is not None:
                    self.report(where, message)


#: inet_aton() also takes short and hexadecimal forms (127.1, 0x7f.1): such words are
#: given the benefit of the doubt.
_INET_ATON = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)(\.(0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$")


def _numeric(text: str) -> bool:
    """Whether hostaddr_to_sockaddr() (getaddrinfo() with AI_NUMERICHOST) takes ``text``:
    an IPv4 or IPv6 address, with an IPv6 scope (``%eth0``)."""
    if _INET_ATON.match(text):
        return True
    try:
        ipaddress.ip_address(text.split("%", 1)[0] if ":" in text else text)
    except ValueError:
        return False
    return True


@register
class VerpDelimitersFiltered(Rule):
    """
    ## What it finds
    A character of `default_verp_delimiters` that `verp_delimiter_filter` does not allow
    (judged when the value has its required two characters).

    ## Why it matters
    Every Postfix program checks the pair at start-up and stops with "parameters
    default_verp_delimiters and verp_delimiter_filter: bad first (second) VERP delimiter
    character" (mail_params.c, mail_params_init(); verp_sender.c, verp_delims_verify()).

    ## Postfix source
    - Every program checks the delimiters at start-up: `src/global/mail_params.c`,
      `mail_params_init()` calls `src/global/verp_sender.c`, `verp_delims_verify()` ("bad
      first VERP delimiter character", "bad second ...").

    ## Example
    ```
    default_verp_delimiters = +_
    ```

    ## Use instead
    ```
    default_verp_delimiters = +=
    ```

    ## Fix
    Use characters from `verp_delimiter_filter` (by default `-=+`), or extend it.
    """

    code = "CFG006"
    name = "verp-delimiters-filtered"
    severity = "error"
    summary = "a VERP delimiter that verp_delimiter_filter forbids: Postfix does not start"
    needs_main = True

    def check(self, ctx: Context) -> None:
        config = ctx.configuration
        delimiters = config.value("default_verp_delimiters") or ""
        allowed = config.value("verp_delimiter_filter") or ""
        if len(delimiters) != 2 or not allowed:
            return  # a length other than 2, or an empty filter: PAR018/PAR019 (limits)
        for position, char in zip(("first", "second"), delimiters):
            if char in allowed:
                continue
            message = (
                f"the {position} VERP delimiter {char!r} is not in verp_delimiter_filter "
                f"({allowed}): every Postfix program stops at start-up"
            )
            origin = config.origin("default_verp_delimiters") or config.origin(
                "verp_delimiter_filter"
            )
            where = at.setting_origin(origin)
            if where is not None:
                self.report(where, message)
            return


@register
class VerifySenderAtSign(Rule):
    """
    ## What it finds
    `address_verify_sender` that starts or ends with `@`, where smtpd verifies addresses
    (`reject_unverified_sender` or `reject_unverified_recipient` in a restriction list).

    ## Why it matters
    verify(8) builds the probe's sender from it and stops with "parameter
    address_verify_sender: value ... must not start (end) with '@'"
    (verify_sender_addr.c, make_verify_sender_addr()): no probe is sent, and the
    restrictions that wait for one answer with a temporary error.

    ## Postfix source
    - The probe's sender is built and checked when verify(8) sends a probe ("must not start
      with '@'", "must not end with '@'"): `src/global/verify_sender_addr.c`,
      `make_verify_sender_addr()`, called from `src/verify/verify.c`,
      `verify_query_service()`.

    ## Example
    ```
    smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
    address_verify_sender = @example.com
    ```

    ## Use instead
    ```
    address_verify_sender = postmaster@example.com
    ```

    ## Fix
    Give a whole address, a local part, or `<>` for the null sender.
    """

    code = "CFG007"
    name = "verify-sender-at-sign"
    severity = "error"
    summary = "address_verify_sender starts or ends with @: verify(8) stops"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 9):
            return
        postfix = ctx.postfix
        verifies = any(
            item.lowered in ("reject_unverified_sender", "reject_unverified_recipient")
            for server in postfix.smtp_servers
            for restrictions in server.restrictions.values()
            for item in restrictions.flattened()
        )
        if not verifies:
            return
        daemons = postfix.running("verify")
        views = [d.config for d in daemons] or [postfix.config]
        for view in views:
            value = view.value("address_verify_sender") or ""
            # make_verify_sender_addr() looks at the first "@" only
            if value.startswith("@"):
                problem = "starts"
            elif value.find("@") == len(value) - 1:
                problem = "ends"
            else:
                continue
            message = (
                f"address_verify_sender = {value} {problem} with '@': verify(8) stops when it "
                "makes a probe, and address verification answers with a temporary error"
            )
            where = at.setting_origin(view.origin("address_verify_sender"))
            if where is not None:
                self.report(where, message)


@register
class MimeProcessingContradiction(Rule):
    """
    ## What it finds
    `disable_mime_input_processing = yes` together with `force_mime_input_conversion = yes`
    for a cleanup service (Postfix 3.9 and later).

    ## Why it matters
    cleanup(8) stops with "do not specify both disable_mime_input_processing=yes and
    force_mime_input_conversion=yes" on every message (cleanup_message.c,
    cleanup_message()): smtpd, pickup and the other submitters cannot queue mail.

    ## Postfix source
    - cleanup(8) stops on each message with "do not specify both
      disable_mime_input_processing=yes and force_mime_input_conversion=yes":
      `src/cleanup/cleanup_message.c`, `cleanup_message()` (Postfix 3.9 and later).

    ## Example
    ```
    disable_mime_input_processing = yes
    force_mime_input_conversion = yes
    ```

    ## Use instead
    ```
    force_mime_input_conversion = yes
    ```

    ## Fix
    Keep the one you mean: MIME conversion needs MIME processing.
    """

    code = "CFG008"
    name = "mime-processing-contradiction"
    severity = "error"
    summary = "MIME processing disabled and MIME conversion forced: cleanup refuses all mail"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 9):
            return
        postfix = ctx.postfix
        views = [d.config for d in postfix.running("cleanup")] or [postfix.config]
        for view in views:
            if not (
                yes(view.value("disable_mime_input_processing"))
                and yes(view.value("force_mime_input_conversion"))
            ):
                continue
            message = (
                "disable_mime_input_processing = yes with force_mime_input_conversion = yes: "
                "cleanup(8) stops on every message, and no mail can be queued"
            )
            origin = view.origin("force_mime_input_conversion") or view.origin(
                "disable_mime_input_processing"
            )
            where = at.setting_origin(origin)
            if where is not None:
                self.report(where, message)


@register
class NoListeningAddress(Rule):
    """
    ## What it finds
    `inet_interfaces` with no address in it (empty, or only separators) while master.cf
    runs `inet` services that name no host of their own (`smtp inet ...`, not
    `127.0.0.1:10025 inet ...`).  Also `inet_protocols` with no protocol in it (empty, or
    only separators) while master.cf (Postfix's stock one included) has `inet` services.

    ## Why it matters
    master(8) finds no address to listen on for such a service and stops with "service
    definition requires valid host name or address, or non-empty inet_interfaces
    setting" (before 3.9: "no valid IP address found") (master_ent.c, get_master_ent()):
    Postfix does not start.  A null client that should not listen needs
    `inet_interfaces = loopback-only`, or no inet services.  With no protocol master does
    start, but logs "all network protocols are disabled" and runs no inet service: nothing
    listens on port 25 or any other, and mail from the network is refused.

    ## Postfix source
    - An inet service without a host uses `inet_interfaces`; with none master stops ("service
      definition requires valid host name or address, or non-empty inet_interfaces setting"
      from Postfix 3.9, "no valid IP address found" before): `src/master/master_ent.c`,
      `get_master_ent()`.
    - When inet_protocols enables no protocol, master adds `inet` to master_service_disable
      ("disabling all type "inet" services in master.cf"): `src/master/master_ent.c`,
      `set_master_ent()` (Postfix 2.9 and later); the words are read by
      `src/util/inet_proto.c`, `inet_proto_init()`.

    ## Example
    ```
    inet_interfaces =
    ```
    with the stock `smtp inet n - y - - smtpd` in master.cf.

    ## Use instead
    ```
    inet_interfaces = loopback-only
    ```

    ## Fix
    List the addresses to listen on, or comment out the inet services.
    """

    code = "CFG009"
    name = "no-listening-address"
    severity = "error"
    summary = "inet_interfaces or inet_protocols is empty while master.cf has inet services"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 9) or ctx.master is None:
            return  # before 2.9 an empty value is refused as too short (PAR019)
        config = ctx.configuration.main_view()
        if no_network(config):
            self._no_protocol(ctx, config)
            return  # master runs no inet service, so none needs an address
        if ctx.master_is_stock:
            return
        origin = config.origin("inet_interfaces")
        value = config.value("inet_interfaces")
        if origin is None or value is None or split_list(value, " \t,"):
            return
        for daemon in ctx.postfix.daemons:
            if daemon.type != "inet" or daemon.disabled:
                continue
            endpoint = daemon.endpoint
            if endpoint is None or endpoint.host is not None:
                continue
            message = (
                f"inet_interfaces lists no address, and the inet service {daemon.key} names "
                "no host: master(8) has nothing to listen on and Postfix does not start"
            )
            where = at.setting_origin(origin)
            if where is not None:
                self.report(where, message)
            return

    def _no_protocol(self, ctx: Context, config: Configuration) -> None:
        keys = [
            d.key for d in ctx.postfix.daemons
            if d.type == "inet" and not disabled_by_setting(d)
        ]  # fmt: skip
        where = at.setting_line(config, "inet_protocols")
        if not keys or where is None:
            return
        shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
        self.report(
            where,
            f"inet_protocols enables no protocol: master(8) logs 'all network protocols are "
            f"disabled' and runs none of the inet services ({shown}), so nothing listens on "
            "the network; use ipv4, ipv6 or all",
        )


@register
class ReadOnlyCache(Rule):
    """
    ## What it finds
    A cache that Postfix writes, of a table type that cannot be written (`texthash:`,
    `cidr:`, `regexp:`, `mysql:`, `cdb:`... directly or behind `proxy:`):
    `address_verify_map` where smtpd verifies addresses (error), `postscreen_cache_map`
    where postscreen runs, and the TLS session caches where TLS is used (warnings).

    ## Why it matters
    A read-only type opened for update fails every write ("map requires O_RDONLY access
    mode", or "update operation is not supported": util/dict_alloc.c).  verify(8) then
    cannot record a probe's result ("could not update entry"), so each verified address
    stays "Address verification in progress" and smtpd answers 450 for ever.  postscreen
    forgets the clients that passed and tests them again on every connection; TLS
    sessions are never resumed.

    ## Postfix source
    - A type that cannot be written refuses to open for update ("map requires O_RDONLY access
      mode", for example `src/util/dict_cidr.c`, `dict_cidr_open()`, and
      `src/util/dict_thash.c`, `dict_thash_open()`), or stops the program at the first write
      ("update operation is not supported"): `src/util/dict_alloc.c`,
      `dict_default_update()`.
    - The caches are opened for update: `src/verify/verify.c`, `pre_jail_init()`;
      `src/postscreen/postscreen.c`, `pre_jail_init()`; `src/tlsmgr/tlsmgr.c`,
      `tlsmgr_pre_init()`.
    - A failed write is logged and the entry is lost: `src/util/dict_cache.c`,
      `dict_cache_update()` ("could not update entry"), which `src/verify/verify.c`,
      `verify_update_service()` uses.

    ## Example
    ```
    smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
    address_verify_map = texthash:/etc/postfix/verify_cache
    ```

    ## Use instead
    ```
    address_verify_map = btree:$data_directory/verify_cache
    ```

    ## Fix
    Use a type Postfix can update: `btree:`, `hash:` or `lmdb:` (behind `proxy:` when
    several processes share it), or `memcache:`.
    """

    code = "CFG011"
    name = "read-only-cache"
    severity = "error"
    summary = "a cache Postfix writes, of a table type that cannot be written"
    needs_main = True

    def check(self, ctx: Context) -> None:
        postfix = ctx.postfix
        wanted: list[tuple[Configuration, str, str, str | None, Daemon | None]] = []
        if any(
            item.lowered in ("reject_unverified_sender", "reject_unverified_recipient")
            for server in postfix.smtp_servers
            for restrictions in server.restrictions.values()
            for item in restrictions.flattened()
        ):
            for view, daemon in _views(postfix, "verify"):
                effect = (
                    "verify(8) cannot record a probe's result, so verified addresses stay "
                    "'in progress' and smtpd answers 450 for ever"
                )
                wanted.append((view, "address_verify_map", effect, None, daemon))
        for daemon in postfix.running("postscreen"):
            effect = "postscreen cannot remember clients that passed, and tests them again"
            wanted.append((daemon.config, "postscreen_cache_map", effect, "warning", daemon))
        for server in postfix.smtp_servers:
            if server.tls.state != "none":
                effect = "TLS sessions of smtpd are never resumed"
                wanted.append((server.config, "smtpd_tls_session_cache_database", effect,
                               "warning", server.daemon))  # fmt: skip
        for client in ctx.postfix.reached_clients:
            if client.tls.level != "none" or client.tls.policy_maps:
                effect = f"TLS sessions of {client.protocol}(8) are never resumed"
                wanted.append((client.config, client.parameter("tls_session_cache_database"),
                               effect, "warning", client.daemon))  # fmt: skip
        for view, name, effect, severity, daemon in wanted:
            table = read_only_cache(view.value(name) or "")
            if table is None:
                continue
            message = f"{name}: {table.type}: tables cannot be written; {effect}"
            where = at.setting_origin(view.origin(name), word=table.text, daemon=daemon)
            if where is not None:
                self.report(where, message, severity=severity)


def _views(postfix: Postfix, program: str) -> list[tuple[Configuration, Daemon | None]]:
    """The configuration of each service running ``program``, or main.cf's."""
    daemons = postfix.running(program)
    if not daemons:
        return [(postfix.config, None)]
    return [(d.config, d) for d in daemons]


@register
class NarrowerSmtpdProtocols(Rule):
    """
    ## What it finds
    An smtpd service whose `-o inet_protocols` leaves out an address family (IPv4 or IPv6)
    that master listens on for it: master's own `inet_protocols` (main.cf) enables it, and
    the service (or, for a `pass` service, a postscreen in front of it) listens on every
    address of `inet_interfaces = all` or `loopback-only`, or on an address of that family.
    IPv6 counts only where main.cf names it (`ipv6` or `all`).

    ## Why it matters
    smtpd checks each connection's family against its own inet_protocols and stops with
    "cannot handle socket type AF_INET6 with "inet_protocols = ipv4"": every client of that
    family is cut off, and master may pause the service after repeated failures.

    ## Postfix source
    - `src/smtpd/smtpd_peer.c`, `smtpd_peer_sockaddr_to_hostaddr()` ("cannot handle socket
      type %s with ...", fatal).
    - The `-o` settings are applied before the parameters are read, inet_protocols with
      them: `src/master/single_server.c`, `single_server_main()` (mail_conf_update(), then
      mail_params_init(), which calls inet_proto_init() in `src/global/mail_params.c`).
    - master listens in the families its own inet_protocols enables:
      `src/master/master_ent.c`, `get_master_ent()`; `src/util/inet_proto.c`.

    ## Example
    ```
    # main.cf: inet_protocols = all
    smtp      inet  n       -       y       -       -       smtpd
      -o inet_protocols=ipv4
    ```

    ## Use instead
    ```
    smtp      inet  n       -       y       -       -       smtpd
    ```

    ## Fix
    Remove the `-o inet_protocols`, and set the families in main.cf, where master reads
    them too.
    """

    code = "CFG017"
    name = "smtpd-protocols-narrower"
    severity = "error"
    summary = "smtpd -o inet_protocols without a family master listens on: smtpd stops"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.master is None or ctx.master_is_stock:
            return
        main = ctx.configuration.main_view()
        master_families = protocol_families(main)
        interfaces = (main.value("inet_interfaces") or "").strip()
        screens = [
            d for d in ctx.postfix.daemons
            if d.program == "postscreen" and d.type == "inet" and not d.disabled
        ]  # fmt: skip
        for daemon in ctx.postfix.daemons:
            if daemon.program != "smtpd" or daemon.disabled:
                continue
            origin = daemon.config.origin("inet_protocols")
            if not isinstance(origin, Override):
                continue
            own = protocol_families(daemon.config)
            if daemon.type == "inet":
                fronts = [daemon]
            elif daemon.type == "pass":
                fronts = screens
            else:
                continue
            missing = sorted(
                family for family in master_families - own
                if any(_listens(front, family, interfaces) for front in fronts)
            )  # fmt: skip
            if not missing:
                continue
            kinds = " and ".join("AF_INET6" if f == "ipv6" else "AF_INET" for f in missing)
            # inet_proto_init() turns IPv6 off on a kernel without it
            host = " (on a host with IPv6)" if "ipv6" in missing else ""
            where = at.setting_origin(origin, daemon=daemon)
            if where is not None:
                self.report(
                    where,
                    f"smtpd on {daemon.key} reads inet_protocols = {origin.value}, but master "
                    f"accepts {', '.join(missing)} clients for it{host} (main.cf's "
                    "inet_protocols): "
                    f'smtpd stops on each with "cannot handle socket type {kinds}"',
                )


def _listens(daemon: Daemon, family: str, interfaces: str) -> bool:
    """Whether master surely listens for ``daemon`` on an address of ``family``."""
    endpoint = daemon.endpoint
    if endpoint is None:
        return False
    host = endpoint.host
    if host is None:
        return interfaces.lower() in ("all", "loopback-only")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (address.version == 6) == (family == "ipv6")
