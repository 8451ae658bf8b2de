"""Settings Postfix reads and then ignores, in part or whole, with a warning in its log: the
family C of the sweep.  Nothing stops, but the setting does not do what it says.
"""

from __future__ import annotations

from ...semantics.settings import (
    charset_problem,
    dane_digests,
    header_problem,
    known_tcp_ports,
    log_file_mode_problem,
)
from .. import location as at
from ..context import Context
from ..rule import Rule, register


@register
class UpstreamProxyBehindPostscreen(Rule):
    """
    ## What it finds
    `smtpd_upstream_proxy_protocol` set for an smtpd that runs behind postscreen (a
    master.cf `pass` service), where no smtpd reached directly shares the setting.

    ## Why it matters
    Behind postscreen, smtpd takes the client's address from postscreen and logs
    "ignoring non-empty smtpd_upstream_proxy_protocol setting behind postscreen"
    (smtpd_peer.c, smtpd_peer_init()).  The proxy protocol has to be spoken to
    postscreen: `postscreen_upstream_proxy_protocol`.

    ## Postfix source
    - Behind postscreen, smtpd takes the client's address from postscreen and ignores its own
      proxy setting ("ignoring non-empty smtpd_upstream_proxy_protocol setting behind
      postscreen"): `src/smtpd/smtpd_peer.c`, `smtpd_peer_init()`.
    - The proxy protocol for postscreen: `proto/postconf.proto`
      (postscreen_upstream_proxy_protocol).

    ## Example
    ```
    smtpd     pass  -       -       y       -       -       smtpd
      -o smtpd_upstream_proxy_protocol=haproxy
    ```

    ## Use instead
    ```
    postscreen_upstream_proxy_protocol = haproxy
    ```

    ## Fix
    Move the setting to postscreen.
    """

    code = "CFG010"
    name = "upstream-proxy-behind-postscreen"
    severity = "warning"
    summary = "smtpd_upstream_proxy_protocol on the smtpd behind postscreen is ignored"
    needs_main = True
    #: main.cf's setting is reported once, naming the first service behind postscreen
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 10):
            return
        servers = ctx.postfix.running("smtpd")
        for daemon in servers:
            if daemon.type != "pass":
                continue
            value = (daemon.config.value("smtpd_upstream_proxy_protocol") or "").strip()
            origin = daemon.config.origin("smtpd_upstream_proxy_protocol")
            if not value or origin is None:
                continue
            shared = any(
                other.type != "pass"
                and other.config.origin("smtpd_upstream_proxy_protocol") is origin
                for other in servers
            )
            if shared:
                continue
            message = (
                f"smtpd_upstream_proxy_protocol = {value} is ignored by {daemon.key}, which "
                "gets its clients from postscreen: set postscreen_upstream_proxy_protocol"
            )
            where = at.setting_origin(origin, daemon=daemon)
            if where is not None:
                self.report(where, message)


@register
class MaillogFilePermissionsIgnored(Rule):
    """
    ## What it finds
    `maillog_file_permissions` other than `0600`, `0640` or `0644` (Postfix 3.9 and later).

    ## Why it matters
    Every program logs "ignoring bad permissions: maillog_file_permissions = ..." and
    postlogd creates the log file with mode 0600 (global/mail_params.c, mail_params_init();
    util/logwriter.c, set_logwriter_create_perms()).

    ## Postfix source
    - Every program passes the setting to `src/util/logwriter.c`,
      `set_logwriter_create_perms()`, which accepts only 644, 640 and 600 (leading zeros
      aside), and warns "ignoring bad permissions" otherwise: `src/global/mail_params.c`,
      `mail_params_init()` (Postfix 3.9 and later); the file then keeps mode 0600.

    ## Example
    ```
    maillog_file_permissions = 0664
    ```

    ## Use instead
    ```
    maillog_file_permissions = 0644
    ```

    ## Fix
    Choose one of the three modes Postfix allows.
    """

    code = "CFG012"
    name = "maillog-file-permissions-ignored"
    severity = "warning"
    summary = "maillog_file_permissions is not 0600, 0640 or 0644: ignored"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 9):
            return
        config = ctx.configuration
        value = (config.value("maillog_file_permissions") or "").strip()
        origin = config.origin("maillog_file_permissions")
        if origin is None or log_file_mode_problem(value) is None:
            return
        message = (
            f"maillog_file_permissions = {value} is not 0600, 0640 or 0644: every Postfix "
            "program warns and the log file is created with mode 0600"
        )
        where = at.setting_origin(origin)
        if where is not None:
            self.report(where, message)


@register
class UndisclosedRecipientsHeaderInvalid(Rule):
    """
    ## What it finds
    `undisclosed_recipients_header` whose text is not a header (`Name: value`).

    ## Why it matters
    When cleanup(8) adds the header to a message without `To:` or `Cc:`, it checks the
    text, logs "bad undisclosed_recipients_header header text ... -- need "headername:
    headervalue"" and adds nothing (cleanup_message.c, cleanup_header_done_callback()).

    ## Postfix source
    - cleanup(8) adds the header only when it is one ("bad undisclosed_recipients_header
      header text ... -- need "headername: headervalue"" otherwise):
      `src/cleanup/cleanup_message.c`, `cleanup_header_done_callback()`, with
      `src/global/is_header.c`, `is_header()`.

    ## Example
    ```
    undisclosed_recipients_header = undisclosed recipients
    ```

    ## Use instead
    ```
    undisclosed_recipients_header = To: undisclosed-recipients:;
    ```

    ## Fix
    Write the header name and a colon first.
    """

    code = "CFG013"
    name = "undisclosed-recipients-header-invalid"
    severity = "warning"
    summary = "undisclosed_recipients_header is not a header: cleanup adds nothing"
    needs_main = True

    def check(self, ctx: Context) -> None:
        postfix = ctx.postfix
        views = [d.config for d in postfix.running("cleanup")] or [postfix.config]
        for view in views:
            origin = view.origin("undisclosed_recipients_header")
            value = view.value("undisclosed_recipients_header") or ""
            if origin is None or not value or header_problem(value) is None:
                continue
            message = (
                f'undisclosed_recipients_header = {value} is not "Name: value": cleanup(8) '
                "warns and adds no header to mail without visible recipients"
            )
            where = at.setting_origin(origin)
            if where is not None:
                self.report(where, message)


@register
class KnownTcpPortsEntryIgnored(Rule):
    """
    ## What it finds
    An entry of `known_tcp_ports` (Postfix 3.6 and later) that Postfix refuses: not
    `name = port`, a numeric name, a port that is not a number or above 65535, a name
    listed twice, blanks inside a name or port.

    ## Why it matters
    Every program logs "known_tcp_ports: in ...: ..." and leaves the entry out
    (global/config_known_tcp_ports.c, util/known_tcp_ports.c): the name is then looked up
    in the host's services file, or not found.

    ## Postfix source
    - Each entry is checked and a bad one left out with a warning:
      `src/global/config_known_tcp_ports.c`, `config_known_tcp_ports()` ('not in "name = value"
      form') and `src/util/known_tcp_ports.c`, `add_known_tcp_port()` ("numerical service name",
      "non-numerical service port", "port number out of range", "duplicate service name"); Postfix
      3.6 and later.

    ## Example
    ```
    known_tcp_ports = lmtp=24, smtp=25, submissions=465, submission=587, smtp-alt:2525
    ```

    ## Use instead
    ```
    known_tcp_ports = lmtp=24, smtp=25, submissions=465, submission=587, smtp-alt=2525
    ```

    ## Fix
    Write each entry as `name = port` (several names may share a port: `a = b = 465`).
    """

    code = "CFG014"
    name = "known-tcp-ports-entry-ignored"
    severity = "warning"
    summary = "a known_tcp_ports entry Postfix refuses and leaves out"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 6):
            return
        config = ctx.configuration
        origin = config.origin("known_tcp_ports")
        if origin is None:
            return
        for piece in known_tcp_ports(config.value("known_tcp_ports") or ""):
            if piece.problem is None:
                continue
            message = (
                f"known_tcp_ports entry {piece.text.strip()!r}: {piece.problem}; Postfix "
                "warns and leaves it out"
            )
            where = at.setting_origin(origin, word=piece.text.strip())
            if where is not None:
                self.report(where, message)


@register
class QueueMinfreeTooSmall(Rule):
    """
    ## What it finds
    `queue_minfree` set, but below one and a half times `message_size_limit` (both
    non-zero).

    ## Why it matters
    smtpd warns "queue_minfree(...) should be at least 1.5*message_size_limit(...)" each
    time it starts (smtpd.c, post_jail_init()): with less free space than a message may
    need, smtpd accepts mail it then cannot store, and clients send it again.

    ## Postfix source
    - smtpd warns "queue_minfree(...) should be at least 1.5*message_size_limit(...)" when it
      starts: `src/smtpd/smtpd.c`, `post_jail_init()`.

    ## Example
    ```
    message_size_limit = 52428800
    queue_minfree = 20971520
    ```

    ## Use instead
    ```
    message_size_limit = 52428800
    queue_minfree = 104857600
    ```

    ## Fix
    Raise `queue_minfree` (or lower `message_size_limit`).
    """

    code = "CFG015"
    name = "queue-minfree-too-small"
    severity = "info"
    summary = "queue_minfree below 1.5 times message_size_limit"
    needs_main = True
    #: a shared queue_minfree, judged with each smtpd's own message_size_limit
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            config = server.config
            origin = config.origin("queue_minfree")
            free = (config.value("queue_minfree") or "").strip()
            limit = (config.value("message_size_limit") or "").strip()
            if origin is None or not free.isdigit() or not limit.isdigit():
                continue
            if int(free) == 0 or int(limit) == 0 or int(free) / 1.5 >= int(limit):
                continue
            message = (
                f"queue_minfree = {free} is below 1.5 x message_size_limit ({limit}): smtpd "
                "warns at each start; keep room for at least one and a half messages"
            )
            where = at.setting_origin(origin, daemon=server.daemon)
            if where is not None:
                self.report(where, message)


#: Client levels that use DANE (smtp_tls_policy.c, TLS_DANE_BASED()).
_DANE_LEVELS = ("dane", "dane-only")


@register
class DaneDigestsEntryIgnored(Rule):
    """
    ## What it finds
    An entry of `tls_dane_digests` that Postfix skips (3.6 and later), where an SMTP client
    uses DANE: a matching type number that is not 1-254, a digest other than sha256 or
    sha512 without `=number`, type 1 for anything but sha256, type 2 for anything but
    sha512, a type given twice.

    ## Why it matters
    smtp(8) logs the problem and ignores the entry (tls/tls_dane.c,
    tls_dane_digest_init()): TLSA records of that matching type cannot be used, and where
    all of a server's records are of it, DANE falls back to unauthenticated TLS (`dane`)
    or fails (`dane-only`).

    ## Postfix source
    - The smtp client reads `tls_dane_digests` when it sets up TLS, and skips each bad entry
      with a warning ("Invalid matching type number", "Reserved matching type number",
      "needs an explicit number", "matching type 1 can only be sha256", "matching type 2 can
      only be sha512", "specified more than once"): `src/tls/tls_dane.c`,
      `tls_dane_digest_init()`, called from `src/tls/tls_client.c`, `tls_client_init()`
      (Postfix 3.6 and later).

    ## Example
    ```
    tls_dane_digests = sha512 sha256 sha384
    ```

    ## Use instead
    ```
    tls_dane_digests = sha512 sha256 sha384=3
    ```

    ## Fix
    Give other digests an explicit private matching type number.
    """

    code = "TLS016"
    name = "dane-digests-entry-ignored"
    severity = "warning"
    summary = "a tls_dane_digests entry Postfix skips"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 6):
            return
        for client in ctx.postfix.reached_clients:
            if client.tls.level not in _DANE_LEVELS and not client.tls.policy_maps:
                continue
            config = client.config
            origin = config.origin("tls_dane_digests")
            if origin is None:
                continue
            for piece in dane_digests(config.value("tls_dane_digests") or ""):
                if piece.problem is None:
                    continue
                message = f"tls_dane_digests entry {piece.text!r}: {piece.problem}; skipped"
                where = at.setting_origin(origin, word=piece.text, daemon=client.daemon)
                if where is not None:
                    self.report(where, message)


@register
class FullNameCharsetInvalid(Rule):
    """
    ## What it finds
    `full_name_encoding_charset` (Postfix 3.10 and later) that cannot name a character set
    in an RFC 2047 encoded word: a blank, a control or non-ASCII character, or one of
    `()<>@,;:\\"/[]?.=`; or, from Postfix 3.10.9, 3.11.2 and 3.12 on, a name longer
    than 37 characters (half of the 75 an encoded word may have, rounded down).

    ## Why it matters
    cleanup(8) uses it to encode a sender's full name that is not ASCII when it adds a
    `From:` header to locally submitted mail; with an invalid name rfc2047_encode() logs
    "invalid character ... in charset name" (or "unreasonable charset name" for one too
    long) and gives up (global/rfc2047_code.c), so such messages go out without the full
    name.

    ## Postfix source
    - cleanup(8) encodes a non-ASCII full name with `full_name_encoding_charset`:
      `src/cleanup/cleanup_message.c`, `get_fullname_hdr_text()` (Postfix 3.10 and later).
    - A charset name with a character RFC 2047 does not allow stops the encoding ("invalid
      character ... in charset name"), and the full name is left out:
      `src/global/rfc2047_code.c`, `rfc2047_encode()`.  So does a name longer than
      `ENC_WORD_MAX_LEN / 2` (75 / 2, so 37 characters; "unreasonable charset name"),
      checked first, in the same function from postfix-3.12-20260413, 3.10.9 and 3.11.2.

    ## Example
    ```
    full_name_encoding_charset = iso 8859-1
    ```

    ## Use instead
    ```
    full_name_encoding_charset = iso-8859-1
    ```

    ## Fix
    Use the character set's registered name (`utf-8`, the default, fits most systems).
    """

    code = "CFG016"
    name = "full-name-charset-invalid"
    severity = "warning"
    summary = "full_name_encoding_charset is not a valid charset name"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (3, 10):
            return
        postfix = ctx.postfix
        views = [d.config for d in postfix.running("cleanup")] or [postfix.config]
        for view in views:
            origin = view.origin("full_name_encoding_charset")
            value = view.value("full_name_encoding_charset") or ""
            # empty: a length limit
            problem = charset_problem(value, ctx.target) if value else None
            if origin is None or problem is None:
                continue
            message = (
                f"full_name_encoding_charset = {value}: {problem}; cleanup(8) leaves "
                "non-ASCII full names out of the From: headers it adds"
            )
            where = at.setting_origin(origin)
            if where is not None:
                self.report(where, message)
