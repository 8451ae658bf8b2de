"""Rules about what smtpd(8) refuses in its restriction lists and in the services it talks
to: policy and Milter endpoints, restriction classes, restriction arguments, reply codes and
templates, client certificates (issue #11's sweep, families A6, A7, B2, B4, B5).

Every rule asks the model (ctx.postfix.smtp_servers); facts live in rules/smtpd.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ...kb import load_table, parse_version
from ...model import Parameter
from ...semantics import Configuration, Daemon, Restriction, Written, yes
from ...semantics.endpoints import ExternalService, split_nameval
from ...semantics.postscreen import postscreen_tls
from ...semantics.replies import (
    POSTSCREEN_FOOTER_MACROS,
    SMTPD_FOOTER_MACROS,
    RblTemplate,
    postscreen_footer,
    rbl_template,
    unknown_macros,
)
from ...semantics.restrictions import ccert_table_problem, ip_pattern_error
from ...semantics.smtpd import SmtpServer
from ...values import find_tables
from .. import location as at
from ..context import Context
from ..location import Location
from ..rule import Rule, register

#: Restrictions whose use ends the evaluation of their list (generic_checks(): their status
#: is never 0); warn_if_reject before a reject or defer turns it into a logged warning.
_FINAL = ("permit", "reject", "defer")

#: The lists smtpd evaluates without a default access restriction (generic_checks() is
#: called with NO_DEF_ACL): a bare type:table there is a configuration error.
_NO_DEFAULT_TABLE = ("smtpd_data_restrictions", "smtpd_end_of_data_restrictions")


def _facts(section: str) -> dict[str, object]:
    found = load_table("smtpd").get(section, {})
    return found if isinstance(found, dict) else {}


def _reachable(items: Iterable[Restriction]) -> Iterator[Restriction]:
    """The restrictions of a list smtpd can reach: none after an unconditional permit,
    reject or defer (one that warn_if_reject does not turn into a warning)."""
    warned = False
    for item in items:
        yield item
        if item.lowered == "permit" or (item.lowered in _FINAL and not warned):
            return
        warned = item.lowered == "warn_if_reject"


def _all_digits(text: str) -> bool:
    """C's alldig() with ISDIGIT: ASCII digits only (and at least one here)."""
    return text.isascii() and text.isdigit()


@register
class PolicyServiceEndpoint(Rule):
    """
    ## What it finds
    A `check_policy_service` whose argument smtpd cannot use: an endpoint without a
    transport (`127.0.0.1:10023`, `policyd`) or with one other than `inet:`, `unix:` or
    `local:`; a `{ endpoint, name = value, ... }` entry (Postfix 3.0 and later) that is
    empty, has a setting without `=`, a setting name other than `timeout`, `max_idle`,
    `max_ttl`, `retry_delay`, `request_limit`, `try_limit`, `default_action` and
    `policy_context` (3.1), or a value that is not a time, a number or a non-empty text as
    the name needs.  Every list smtpd reads counts, classes that no list uses and
    `smtpd_etrn_restrictions` included.

    ## Why it matters
    smtpd registers every policy service when it starts (smtpd/smtpd_check.c,
    smtpd_check_parse() and policy_client_register(); util/auto_clnt.c,
    auto_clnt_create(); global/attr_override.c, attr_override()).  Each problem above is
    fatal ("invalid transport name", "need service transport:endpoint", "unknown option",
    ...): smtpd exits as soon as master starts it for a client, so no client can deliver
    mail, and master throttles the service.  postconf accepts all of it.

    ## Postfix source
    - smtpd parses every restriction list and class when it starts (`src/smtpd/smtpd_check.c`,
      `smtpd_check_init()` and `smtpd_check_parse()`) and registers each
      `check_policy_service` there: `policy_client_register()`.
    - The `{ endpoint, name = value }` form (Postfix 3.0 and later; `policy_context` from
      3.1): `src/smtpd/smtpd_check.c`, `policy_client_register()` ("policy service syntax
      error", "empty policy service"), with `src/global/attr_override.c`, `attr_override()`
      ("unknown option", "malformed option", bad time or number).
    - The endpoint needs `inet:`, `unix:` or `local:` ("need service transport:endpoint",
      "invalid transport name"): `src/util/attr_clnt.c`, `attr_clnt_create()` calls
      `src/util/auto_clnt.c`, `auto_clnt_create()`.

    ## Example
    ```
    smtpd_recipient_restrictions = reject_unauth_destination,
        check_policy_service 127.0.0.1:10023
    ```

    ## Use instead
    ```
    smtpd_recipient_restrictions = reject_unauth_destination,
        check_policy_service inet:127.0.0.1:10023
    ```

    ## Fix
    Write the transport (`inet:host:port` or `unix:path`), and per-entry settings as
    `name = value` with one of the names above.
    """

    code = "RLY006"
    name = "policy-service-endpoint"
    severity = "error"
    summary = "check_policy_service endpoint or settings smtpd refuses: smtpd does not start"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            for restriction, service in server.policy_services:
                if service.fatal is None:
                    continue
                written = restriction.argument_written or restriction.written
                where = at.written(written, parameter=restriction.list_name, service=server.key)
                if where is None:
                    continue
                endpoint_only = (
                    service.endpoint_error is not None and service.fatal == service.endpoint_error
                )
                hint = _endpoint_hint(service.endpoint) if endpoint_only else ""
                self.report(
                    where,
                    f"check_policy_service {_short(service.text)}: {service.fatal}; smtpd "
                    f"stops when it starts, and no client can deliver mail{hint}",
                )


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _endpoint_hint(endpoint: str | None) -> str:
    """A suggestion for an endpoint written without its transport: ``host:port`` (one
    colon) is meant for inet, a path for unix."""
    if endpoint is None:
        return ""
    host, colon, port = endpoint.partition(":")
    if colon and host and port.isascii() and port.isdigit():
        return f" (write inet:{endpoint})"
    if not colon and "/" in endpoint:
        return f" (write unix:{endpoint})"
    return ""


@register
class MilterEndpoint(Rule):
    """
    ## What it finds
    An entry of `smtpd_milters` or `non_smtpd_milters` that Postfix cannot use:
    - an endpoint without a transport or with one other than `inet:`, `unix:` or
      `local:` (`127.0.0.1:8891`);
    - a `{ endpoint, name = value, ... }` entry (Postfix 3.0 and later) that is empty, has
      a setting without `=`, a setting other than `connect_timeout`, `command_timeout`,
      `content_timeout`, `protocol` and `default_action`, or a bad time or empty text.
    An unbalanced `{` is PAR026's.  A service whose `receive_override_options` has
    `no_milters` is not judged for `smtpd_milters`.

    ## Why it matters
    A bad entry stops the program that reads it (milter/milter.c, milter_new();
    global/attr_override.c): smtpd each time a client connects, cleanup when it starts (no
    mail at all is queued then).  A bad endpoint is found each time the Milter is used
    (milter/milter8.c, milter8_connect(): "Milter service needs transport:endpoint", or
    "invalid transport name"), and the Milter's `default_action` applies to every message
    (milter8_conf_error()): 451 4.3.5 for `tempfail` (and for `reject`), 421 and a hang-up
    for `shutdown`, a hold for `quarantine`, or the Milter is silently skipped for
    `accept` (a warning then).

    ## Postfix source
    - Each program parses its Milter list when it starts: smtpd per session
      (`src/smtpd/smtpd.c`, `setup_milters()`), cleanup before it serves mail
      (`src/cleanup/cleanup_init.c`, `cleanup_pre_jail()`); the `{ endpoint, name = value }`
      form and its settings (Postfix 3.0 and later) stop it on an error:
      `src/milter/milter.c`, `milter_new()` with `src/global/attr_override.c`,
      `attr_override()`.
    - A bad endpoint is found on each use ("Milter service needs transport:endpoint",
      "invalid transport name"): `src/milter/milter8.c`, `milter8_connect()`; the Milter's
      `default_action` then decides (451 4.3.5 for `tempfail` and `reject`, 421 for
      `shutdown`, a hold for `quarantine`, nothing for `accept`): `milter8_conf_error()`.

    ## Example
    ```
    smtpd_milters = 127.0.0.1:8891
    ```

    ## Use instead
    ```
    smtpd_milters = inet:127.0.0.1:8891
    ```

    ## Fix
    Write the transport (`inet:host:port` or `unix:path`), and per-entry settings as
    `name = value` with one of the names above.
    """

    code = "RLY007"
    name = "milter-endpoint"
    severity = "error"
    summary = "Milter entry Postfix cannot use: the program stops, or every message fails"
    needs_main = True
    #: a shared entry, judged with each service's own milter_default_action
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            for written, entry in server.milters:
                self._judge(
                    written, entry, "smtpd_milters", server.config.value, server.key,
                    "smtpd stops each time a client connects",
                )  # fmt: skip
        for daemon, written, entry in ctx.postfix.cleanup_milters:
            config = daemon.config if daemon is not None else ctx.configuration
            self._judge(
                written, entry, "non_smtpd_milters", config.value,
                daemon.key if daemon is not None else None,
                "cleanup stops when it starts, and no mail is queued",
            )  # fmt: skip

    def _judge(
        self, written: Written, entry: ExternalService, parameter: str,
        value: Callable[[str], str | None], service: str | None, stops: str,
    ) -> None:  # fmt: skip
        where = at.written(written, parameter=parameter, service=service)
        if where is None:
            return
        if entry.fatal is not None:
            if entry.fatal.startswith("milter service syntax error"):
                return  # an unbalanced brace: PAR026
            self.report(where, f"{parameter} entry {_short(entry.text)}: {entry.fatal}; {stops}")
            return
        if entry.endpoint_error is None:
            return
        action = entry.setting("default_action") or value("milter_default_action") or ""
        action = action.strip().lower()
        effects = _facts("milter_actions")
        effect = effects.get(action) if action in ("accept", "shutdown", "quarantine") else None
        effect = effect or effects.get("other", "every message fails")
        what = "every message through smtpd" if parameter == "smtpd_milters" else (
            "every message submitted without SMTP (sendmail, pickup)"
        )  # fmt: skip
        hint = _endpoint_hint(entry.endpoint)
        self.report(
            where,
            f"{parameter} entry {_short(entry.text)}: {entry.endpoint_error}; the Milter fails "
            f"for {what}, and with milter_default_action = {action or '(empty)'} {effect}{hint}",
            severity="warning" if action == "accept" else None,
        )


@register
class UndefinedRestrictionClass(Rule):
    """
    ## What it finds
    A name in `smtpd_restriction_classes` that has no definition: no parameter of that
    name in main.cf (or the service's `-o` options), or one whose value is empty.

    ## Why it matters
    smtpd_check_init() (smtpd/smtpd_check.c) looks each class up when smtpd starts and
    stops with "restriction class `%s' needs a definition": smtpd exits as soon as master
    starts it for a client, and no mail is received.  postconf only warns about an unused
    parameter, or says nothing.

    ## Postfix source
    - smtpd looks up each name of `smtpd_restriction_classes` at start-up and stops when it
      has no value or an empty one ("restriction class ... needs a definition"):
      `src/smtpd/smtpd_check.c`, `smtpd_check_init()`.

    ## Example
    ```
    smtpd_restriction_classes = freemail
    smtpd_sender_restrictions = check_sender_access hash:/etc/postfix/freemail_senders
    ```

    ## Use instead
    ```
    smtpd_restriction_classes = freemail
    freemail = reject_unverified_sender
    smtpd_sender_restrictions = check_sender_access hash:/etc/postfix/freemail_senders
    ```

    ## Fix
    Define the class (`name = restrictions...`), or remove the name from
    `smtpd_restriction_classes`.
    """

    code = "RLY008"
    name = "undefined-restriction-class"
    severity = "error"
    summary = "restriction class without a definition: smtpd does not start"
    needs_main = True
    #: a shared class name, said to be empty or undefined as the first service reads it
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            for restriction_class in server.classes:
                if restriction_class.definition is not None:
                    continue
                where = at.written(
                    restriction_class.written,
                    parameter="smtpd_restriction_classes",
                    service=server.key,
                )
                if where is None:
                    continue
                name = restriction_class.name
                how = "is empty" if server.config.raw(name) is not None else "is not defined"
                self.report(
                    where,
                    f"restriction class {name} {how}: smtpd stops when it starts "
                    f'("restriction class `{name}\' needs a definition"); define '
                    f"'{name} = ...' or remove it from smtpd_restriction_classes",
                )


@register
class MalformedRestrictionArgument(Rule):
    """
    ## What it finds
    A restriction whose argument smtpd cannot use, where smtpd can reach it:
    - a `check_*_access` with no argument, or one without a `:` (`check_client_access
      /etc/postfix/access`: the table type is missing);
    - `check_ccert_access { ... }` (3.5 and later) that global/map_search.c cannot read,
      or that searches `issuer_cn`/`subject_cn`, which check_ccert_access() does not
      handle;
    - `check_policy_service` at the end of a list, with no server after it;
    - `sleep` not followed by a plain number of seconds;
    - a bare `type:table` in `smtpd_data_restrictions` or
      `smtpd_end_of_data_restrictions`, which have no default access restriction;
    - a DNS list zone whose reply filter (`zone=127.0.0.[2..11]`) is no address pattern
      util/ip_match.c can read (`=127.0.0.256`, `=127.0.0.*`);
    - (warning) `reject_rbl_client`, `reject_rhsbl_*`, `permit_dnswl_client` or
      `permit_rhswl_client` at the end of a list, with no DNS zone after it.
    Unknown restriction names are RLY005's; a policy endpoint without a transport is
    RLY006's (smtpd does not even start).

    ## Why it matters
    smtpd_check.c (generic_checks(), is_map_command(), check_ccert_access()) answers every
    client that reaches such a restriction with "451 4.3.5 Server configuration error":
    nothing that gets that far is delivered, and the senders retry until they give up.  A
    bad reply filter is worse: rbl_byte_pagein() stops smtpd ("RBL reply error") each time
    it checks the restriction.  A DNS list without a zone is only logged ("requires domain
    name argument") and does nothing.

    ## Postfix source
    - A `check_*_access` without `type:table` ("bad argument ... need maptype:mapname"):
      `src/smtpd/smtpd_check.c`, `is_map_command()`; `check_policy_service` without a server
      ("must be followed by transport:server") and `sleep` without a number ("must be
      followed by number"), and a bare `type:table` where a list has no default access
      restriction ("specify one of ... before ..."): `generic_checks()`; each answers with
      `reject_server_error()` (451 4.3.5).
    - `check_ccert_access { ... }` (Postfix 3.5 and later) is parsed by
      `src/global/map_search.c`, `map_search_create()` (called from `smtpd_check_parse()`);
      a search type other than the fingerprints gets "unexpected action" and 451 4.3.5:
      `src/smtpd/smtpd_check.c`, `check_ccert_access()`.
    - A reply filter that is no address pattern stops smtpd ("RBL reply error"):
      `src/smtpd/smtpd_check.c`, `rbl_byte_pagein()`, with `src/util/ip_match.c`,
      `ip_match_parse()`.
    - A DNS list restriction without a zone only logs "requires domain name argument":
      `src/smtpd/smtpd_check.c`, `generic_checks()`.

    ## Example
    ```
    smtpd_client_restrictions = check_client_access /etc/postfix/client_access
    ```

    ## Use instead
    ```
    smtpd_client_restrictions = check_client_access hash:/etc/postfix/client_access
    ```

    ## Fix
    Give the restriction the argument it needs: `type:name` for a table (check the table
    type with `postconf -m`), `inet:host:port` or `unix:path` after
    `check_policy_service`, a number after `sleep`, a zone after a DNS list; in the DATA
    lists write `check_client_access type:table` (or the check you meant) instead of a
    bare table.
    """

    code = "RLY009"
    name = "malformed-restriction-argument"
    severity = "error"
    summary = "restriction argument smtpd cannot use: 451 (or a stop) for every client reaching it"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            lists = [*server.restrictions.values(), server.etrn_restrictions]
            for listed in lists:
                for item in _reachable(listed.flattened()):
                    problem = self._problem(ctx, listed.name, item)
                    if problem is None:
                        continue
                    message, severity = problem
                    where = at.written(item.written, parameter=item.list_name, service=server.key)
                    if where is None:
                        continue
                    via = f" (through class {' > '.join(item.classes)})" if item.classes else ""
                    self.report(where, f"{message}{via}", severity=severity)

    def _problem(
        self, ctx: Context, list_name: str, item: Restriction
    ) -> tuple[str, str | None] | None:
        """The message and severity (None: the rule's) for a restriction smtpd cannot use."""
        info = ctx.kb.restriction(item.name)
        takes = info.get("argument") if info else None
        argument = item.argument
        who = "sends ETRN and " if list_name == "smtpd_etrn_restrictions" else ""
        error = (
            "smtpd answers 451 4.3.5 Server configuration error to every client that "
            f"{who}reaches it"
        )
        message = None
        if info is None:
            if ":" in item.name and list_name in _NO_DEFAULT_TABLE:
                message = (
                    f"bare table {_short(item.name)} in {list_name}: this list has no default "
                    f'check ("specify one of (check_client_access, ...) before ..."); '
                    f"{error}; write the check_*_access restriction before it"
                )
        elif takes == "table" and argument is None:
            message = f"{item.name} has no table after it: {error}"
        elif takes == "table" and ":" not in (argument or ""):
            message = (
                f'{item.name} {_short(argument or "")}: not a type:table ("need '
                f'maptype:mapname"); {error}'
            )
        elif takes == "table" and item.lowered == "check_ccert_access":
            found = ccert_table_problem(argument or "", ctx.target)
            if found is not None:
                text, with_certificate = found
                who = "client that presents a certificate and reaches it" if (
                    with_certificate) else "client that reaches it"  # fmt: skip
                message = (
                    f"check_ccert_access {_short(argument or '')}: {text}; smtpd answers 451 "
                    f"4.3.5 Server configuration error to every {who}"
                )
        elif takes == "policy_service" and argument is None:
            message = (
                f'check_policy_service has no server after it ("must be followed by '
                f'transport:server"): {error}'
            )
        elif takes == "time" and not _all_digits(argument or ""):
            shown = "nothing" if argument is None else repr(argument)
            message = (
                f'{item.name} is followed by {shown}, not a number of seconds ("must be '
                f'followed by number"): {error}'
            )
        elif takes == "dns_zone" and argument is not None and "=" in argument:
            since = parse_version(str(_facts("dnsbl_filter").get("since", "2.8")))
            pattern = argument.split("=", 1)[1]
            problem = ip_pattern_error(pattern) if ctx.target[:2] >= since[:2] else None
            if problem is not None:
                message = (
                    f"{item.name} {_short(argument)}: the reply filter {pattern!r} is no "
                    f'address pattern ({problem}): smtpd stops ("RBL reply error") each time '
                    "it checks this restriction"
                )
        elif takes == "dns_zone" and argument is None:
            message = (
                f'{item.name} has no DNS zone after it: smtpd logs "requires domain name '
                f'argument" and the restriction does nothing'
            )
            return message, "warning"
        return None if message is None else (message, None)


@register
class AccessListWord(Rule):
    """
    ## What it finds
    A word in `postscreen_access_list` other than `permit_mynetworks`, `permit`,
    `reject`, `dunno` or a `type:table`; a word in `local_header_rewrite_clients` other
    than `permit_inet_interfaces`, `permit_mynetworks`, `permit_sasl_authenticated`,
    `permit_tls_clientcerts`, `permit_tls_all_clientcerts`, `check_address_map
    type:table` or a `type:table` (for example a misspelt `permit_mynetwork`).

    ## Why it matters
    postscreen (global/server_acl.c, server_acl_eval()) logs "unknown command ... ignoring
    the remainder of this access list" and ignores the rest of the list for every client
    that gets that far: permits and rejects written after the word never apply.  smtpd
    (smtpd/smtpd_check.c, smtpd_check_rewrite()) logs "invalid request" and skips the word:
    the clients it was meant to cover get their headers rewritten as remote clients.

    ## Postfix source
    - postscreen's access list stops at a word it does not know ("unknown command ...
      ignoring the remainder of this access list"): `src/global/server_acl.c`,
      `server_acl_eval()`.
    - smtpd skips an unknown word of `local_header_rewrite_clients` ("invalid request") and
      goes on: `src/smtpd/smtpd_check.c`, `smtpd_check_rewrite()`.

    ## Example
    ```
    postscreen_access_list = permit_mynetwork, cidr:/etc/postfix/postscreen_access.cidr
    ```

    ## Use instead
    ```
    postscreen_access_list = permit_mynetworks, cidr:/etc/postfix/postscreen_access.cidr
    ```

    ## Fix
    Correct the word, or write the table with its type.
    """

    code = "RLY010"
    name = "access-list-word"
    severity = "warning"
    summary = "word a postscreen or header-rewrite access list does not know"
    needs_main = True

    def check(self, ctx: Context) -> None:
        lists = _facts("access_lists")
        for screen in ctx.postfix.postscreens:
            key = screen.daemon.key
            self._words(ctx, "postscreen_access_list", screen.access_list, lists, key)
        for server in ctx.postfix.smtp_servers:
            self._words(
                ctx, "local_header_rewrite_clients", server.rewrite_clients, lists, server.key
            )

    def _words(
        self, ctx: Context, parameter: str, words: tuple[tuple[str, Written], ...],
        lists: dict[str, object], service: str | None,
    ) -> None:  # fmt: skip
        facts = lists.get(parameter)
        if not isinstance(facts, dict) or not ctx.kb.known(parameter):
            return
        known = {str(w).lower() for w in facts.get("words", [])}
        table_command = str(facts.get("table_command", "")).lower()
        skip_next = False
        for word, written in words:
            if skip_next:
                skip_next = False
                continue
            lowered = word.lower()
            if ":" in word or lowered in known:
                continue
            if table_command and lowered == table_command:
                skip_next = True
                continue
            close = ctx.kb.close_restriction(word)
            hint = f"; did you mean {close}?" if close and close in known else ""
            where = at.written(written, parameter=parameter, service=service)
            if where is not None:
                self.report(
                    where, f"{parameter}: unknown word {word!r}: {facts.get('effect')}{hint}"
                )
            if parameter == "postscreen_access_list":
                return  # the rest is ignored anyway


def _used(server: SmtpServer) -> set[str]:
    """The restrictions (lower case) this smtpd can reach in its lists; a bare table counts
    as an access restriction."""
    names: set[str] = set()
    for listed in server.restrictions.values():
        for item in _reachable(listed.flattened()):
            names.add("check_client_access" if ":" in item.name else item.lowered)
    return names


@register
class ReplyCodeOutOfRange(Rule):
    """
    ## What it finds
    A reply-code parameter of smtpd (`reject_code`, `defer_code`,
    `unknown_client_reject_code`, `access_map_reject_code`,
    `relay_domains_reject_code`, `unknown_local_recipient_reject_code`...) set outside
    400-599, where a restriction of that smtpd uses it (or recipient validation, for the
    `unknown_*_recipient_reject_code` family); also `relay_domains_reject_code` below
    500 with `defer_unauth_destination`, which answers with that code minus 100.

    ## Why it matters
    smtpd reads these codes without a range check, and smtpd_check_reject()
    (smtpd/smtpd_check.c) replaces a code outside 400-599 with "450 4.7.1 Service
    unavailable" and logs "SMTP reply code configuration error".  A rejection meant to be
    permanent becomes a temporary one: senders retry for days instead of getting a bounce
    at once; a code meant to accept (2xx) accepts nothing.

    ## Postfix source
    - A reply code outside 400-599 becomes "450 4.7.1 Service unavailable" with "SMTP reply
      code configuration error": `src/smtpd/smtpd_check.c`, `smtpd_check_reject()`.
    - `defer_unauth_destination` answers with `relay_domains_reject_code` minus 100:
      `src/smtpd/smtpd_check.c`, `generic_checks()`.

    ## Example
    ```
    unknown_client_reject_code = 250
    smtpd_client_restrictions = reject_unknown_client_hostname
    ```

    ## Use instead
    ```
    unknown_client_reject_code = 550
    smtpd_client_restrictions = reject_unknown_client_hostname
    ```

    ## Fix
    Use a 4xx code for a temporary and a 5xx code for a permanent rejection.
    """

    code = "RLY011"
    name = "reply-code-out-of-range"
    severity = "warning"
    summary = "reply code outside 400-599: smtpd answers 450 4.7.1 instead"
    needs_main = True
    #: a shared code, judged with the restrictions each service uses (in the message)
    one_finding_per_place = True

    def check(self, ctx: Context) -> None:
        codes = _facts("reply_codes")
        for server in ctx.postfix.smtp_servers:
            used = _used(server)
            config = server.config
            for parameter, fact in codes.items():
                if not isinstance(fact, dict) or config.origin(parameter) is None:
                    continue
                value = (config.value(parameter) or "").strip()
                if not _all_digits(value.lstrip("-")):
                    continue  # not a number: PAR010
                code = int(value)
                users = [str(u) for u in fact.get("used_by", []) if str(u) in used]
                users += [str(a) for a in fact.get("also", []) if yes(config.value(str(a)))]
                problem = None
                if users and not 400 <= code <= 599:
                    problem = f"{parameter} = {code} is used by {users[0]}"
                elif (
                    parameter == "relay_domains_reject_code"
                    and "defer_unauth_destination" in used
                    and not 400 <= code - 100 <= 599
                ):
                    problem = (
                        f"{parameter} = {code}: defer_unauth_destination answers with {code - 100}"
                    )
                where = at.setting(config, parameter)
                if problem is None or where is None:
                    continue
                self.report(
                    where,
                    f'{problem}: smtpd accepts only 400-599 and answers "450 4.7.1 Service '
                    'unavailable" instead',
                )


#: The DNS-list restrictions whose rejection uses an RBL reply template.
_RBL_REJECTS = ("reject_rbl_client", "reject_rbl", "reject_rhsbl_client", "reject_rhsbl_helo",
                "reject_rhsbl_recipient", "reject_rhsbl_reverse_client", "reject_rhsbl_sender",
                "reject_maps_rbl")  # fmt: skip


@register
class RblReplyTemplate(Rule):
    """
    ## What it finds
    A `default_rbl_reply`, or an `inline:`/`static:` template of `rbl_reply_maps`, that
    smtpd cannot fill in: a `$name` smtpd does not define for these replies (only the
    `rbl_*` names, `client`, `client_address`, `client_name`, `client_port`,
    `reverse_client_name`, `helo_name`, `sender`, `recipient` with `_name` and `_domain`,
    `server_name` and `localtime`: not main.cf parameters such as `$myhostname`), a
    syntax error, a comparison whose operands are both all digits with one too large for
    a C long (Postfix 3.2 and later), or a reply that does not start with a 4xx or 5xx
    code.  Only where a DNS list rejects (`reject_rbl_client`, `reject_rhsbl_*`).

    ## Why it matters
    rbl_reject_reply() (smtpd/smtpd_check.c) expands the template when a listed client is
    rejected.  For `default_rbl_reply` a failed expansion is fatal ("bad default rbl reply
    template"): smtpd exits in the middle of the session, and listed clients are cut off
    instead of rejected.  A failed `rbl_reply_maps` template falls back to
    `default_rbl_reply` (warning), and a reply without a valid code becomes "450 4.7.1
    Service unavailable": listed clients are deferred and retry instead of being refused.
    A number too large for a long stops smtpd with either template ("mac_exp_eval: bad
    conversion").

    ## Postfix source
    - The template is expanded when a listed client is rejected; a failed default template
      stops smtpd ("bad default rbl reply template"), a failed `rbl_reply_maps` one falls back
      to the default, and a reply that does not start with a 4xx or 5xx code becomes "450
      4.7.1 Service unavailable": `src/smtpd/smtpd_check.c`, `rbl_reject_reply()`.
    - The names it can fill in: `rbl_*` in `src/smtpd/smtpd_check.c`, `rbl_expand_lookup()`,
      the rest in `src/smtpd/smtpd_expand.c`, `smtpd_expand_lookup()` (no main.cf
      parameters; `server_name` stands for `$myhostname`).
    - A comparison of two all-digit operands converts them with strtol(), and a number
      that does not fit stops the program: `src/util/mac_expand.c`, `atol_or_die()`.

    ## Example
    ```
    smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org
    default_rbl_reply = $rbl_code Blocked, see http://$myhostname/rbl.html
    ```

    ## Use instead
    ```
    smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org
    default_rbl_reply = $rbl_code Blocked, see http://$server_name/rbl.html
    ```

    ## Fix
    Use only the names above (write `$$` for a literal dollar sign), and start the reply
    with `$rbl_code` or a 4xx/5xx code.
    """

    code = "RLY012"
    name = "rbl-reply-template"
    severity = "error"
    summary = "RBL reply template smtpd cannot fill in"
    needs_main = True

    def check(self, ctx: Context) -> None:
        for server in ctx.postfix.smtp_servers:
            zones = self._zones(server)
            if not zones:
                continue
            config = server.config
            code_value = (config.value("maps_rbl_reject_code") or "").strip()
            rbl_code = code_value if _all_digits(code_value) else None
            where = at.setting(config, "default_rbl_reply")
            raw = config.raw("default_rbl_reply")
            if where is not None and raw is not None:
                reading = rbl_template(raw, ctx.target, rbl_code)
                self._report(where, "default_rbl_reply", reading, True)
            where = at.setting(config, "rbl_reply_maps")
            if where is None:
                continue
            # main.cf expands the value when smtpd reads it: a $rbl_code written there is
            # already gone (an unknown parameter) before the template is used
            raw_maps = config.raw("rbl_reply_maps") or ""
            expanded = config.value("rbl_reply_maps") or ""
            for template, key in self._templates(expanded, zones):
                reading = rbl_template(template, ctx.target, rbl_code)
                self._report(
                    where, "rbl_reply_maps", reading, False, key,
                    "$rbl_" in raw_maps.replace("$$", ""),
                )  # fmt: skip

    @staticmethod
    def _zones(server: SmtpServer) -> set[str]:
        """The DNS zones this smtpd rejects with (with and without their =filter)."""
        zones: set[str] = set()
        for listed in server.restrictions.values():
            for item in _reachable(listed.flattened()):
                if item.lowered in _RBL_REJECTS and item.argument is not None:
                    zones |= {item.argument, item.argument.split("=", 1)[0]}
                elif item.lowered == "reject_maps_rbl":
                    zones.add("*")  # its zones are maps_rbl_domains
        return zones

    @staticmethod
    def _templates(value: str, zones: set[str]) -> Iterator[tuple[str, str]]:
        """The templates of inline:/static: tables of rbl_reply_maps for the zones in use."""
        for table in find_tables(value):
            if table.type == "static" and table.entries:
                yield table.entries[0], "static"
            elif table.type == "inline":
                for entry in table.entries:
                    pair = split_nameval(entry)
                    if not isinstance(pair, str) and (pair[0] in zones or "*" in zones):
                        yield pair[1], pair[0]

    def _report(
        self, where: Location, parameter: str, reading: RblTemplate, fatal: bool,
        key: str | None = None, expanded_early: bool = False,
    ) -> None:  # fmt: skip
        entry = f" (entry {key})" if key and key != "static" else ""
        early = (
            "; main.cf expands $rbl_... names in rbl_reply_maps before smtpd sees them: "
            "write $$rbl_code"
            if expanded_early
            else ""
        )
        if reading.error is not None and reading.stops:
            message = (
                f"{parameter}{entry}: {reading.error}: smtpd stops each time a DNS list "
                "rejects a client: the client is cut off, and master may pause the service"
            )
            severity = None
        elif reading.error is not None:
            if fatal:
                message = (
                    f'{parameter}: {reading.error}: smtpd stops ("bad default rbl reply '
                    'template") each time a DNS list rejects a client: the client is cut off, '
                    "and master may pause the service"
                )
                severity = None
            else:
                message = (
                    f'{parameter}{entry}: {reading.error}: smtpd logs "bad rbl reply '
                    'template" and uses default_rbl_reply instead'
                )
                severity = "warning"
        elif reading.code_error is not None:
            message = (
                f'{parameter}{entry}: {reading.code_error}: smtpd answers "450 4.7.1 Service '
                f'unavailable" to listed clients instead of rejecting them{early}'
            )
            severity = "warning"
        else:
            return
        self.report(where, message, severity=severity)


def _certificate_asked(server: SmtpServer) -> str | None:
    """Why this smtpd never receives a client certificate, or None when it may: smtpd.c
    (pre_jail_init) asks for one when smtpd_tls_ask_ccert = yes, or when TLS is required
    and smtpd_tls_req_ccert = yes; and only inside TLS."""
    value = server.config.value
    if server.tls.state == "none":
        return f"this server offers no TLS ({server.tls.why})"
    if yes(value("smtpd_tls_ask_ccert")):
        return None
    if server.tls.state == "required" and yes(value("smtpd_tls_req_ccert")):
        return None
    return "smtpd_tls_ask_ccert = no, so smtpd never asks the client for a certificate"


_CERTIFICATE_CHECKS = ("permit_tls_clientcerts", "permit_tls_all_clientcerts", "check_ccert_access")


@register
class ClientCertificateNotRequested(Rule):
    """
    ## What it finds
    `permit_tls_clientcerts`, `permit_tls_all_clientcerts` or `check_ccert_access` in a
    restriction list of an smtpd that never receives a client certificate: one with
    `smtpd_tls_ask_ccert = no` (the default) and without required TLS plus
    `smtpd_tls_req_ccert = yes`, or one without TLS.  When several services read the same
    list, it is reported only if none of them asks for a certificate.

    ## Why it matters
    smtpd asks the client for a certificate only then (smtpd/smtpd.c, pre_jail_init()),
    so these restrictions never match (smtpd_check.c, permit_tls_clientcerts() and
    check_ccert_access() log "... is requested, but smtpd_tls_ask_ccert = no"): clients
    that should relay or be accepted by their certificate are treated like anyone else,
    and their mail may be refused.

    ## Postfix source
    - smtpd asks for a client certificate only with `smtpd_tls_ask_ccert = yes`, or with
      required TLS and `smtpd_tls_req_ccert = yes`: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - Without it the restrictions never match and log "... is requested, but
      "smtpd_tls_ask_ccert = no"" (Postfix 3.5 and later): `src/smtpd/smtpd_check.c`,
      `permit_tls_clientcerts()` and `check_ccert_access()`.

    ## Example
    ```
    smtpd_tls_security_level = may
    smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/cert.pem
    smtpd_relay_restrictions = permit_tls_clientcerts, reject_unauth_destination
    relay_clientcerts = hash:/etc/postfix/relay_clientcerts
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = may
    smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/cert.pem
    smtpd_tls_ask_ccert = yes
    smtpd_relay_restrictions = permit_tls_clientcerts, reject_unauth_destination
    relay_clientcerts = hash:/etc/postfix/relay_clientcerts
    ```

    ## Fix
    Set `smtpd_tls_ask_ccert = yes` on the services that use these restrictions (and
    give them TLS).
    """

    code = "RLY013"
    name = "client-certificate-not-requested"
    severity = "warning"
    summary = "client-certificate restriction on an smtpd that never asks for a certificate"
    needs_main = True

    def check(self, ctx: Context) -> None:
        # one written restriction is judged for all the services that read it
        places: dict[tuple[object, ...], list[tuple[Location, Restriction, str | None]]] = {}
        for server in ctx.postfix.smtp_servers:
            reason = _certificate_asked(server)
            for listed in server.restrictions.values():
                for item in _reachable(listed.flattened()):
                    if item.lowered not in _CERTIFICATE_CHECKS:
                        continue
                    where = at.written(item.written, parameter=item.list_name, service=server.key)
                    if where is not None:
                        key = (where.file, where.span, item.index, item.name)
                        places.setdefault(key, []).append((where, item, reason))
        for readers in places.values():
            if any(reason is None for _, _, reason in readers):
                continue
            where, item, reason = readers[0]
            self.report(where, f"{item.name} never matches: {reason}")


@register
class ClientCertificateRequiredWithoutTls(Rule):
    """
    ## What it finds
    `smtpd_tls_req_ccert = yes` for an smtpd whose TLS is not required
    (`smtpd_tls_security_level` other than `encrypt`, and no wrapper mode).  When several
    services read the setting, it is reported only if it takes effect on none of them.
    From Postfix 3.12 also `postscreen_tls_req_ccert` (by default smtpd's setting) where
    postscreen's TLS level is `may` (a setting already reported for smtpd is not named
    again).

    ## Why it matters
    smtpd requires a client certificate only together with required TLS; otherwise it
    logs "Can't require client certs unless TLS is required" and goes on without the
    requirement (smtpd/smtpd.c, pre_jail_init()): clients without a certificate are
    served although the setting says they must not be.

    ## Postfix source
    - Without required TLS smtpd logs "Can't require client certs unless TLS is required"
      and does not require one: `src/smtpd/smtpd.c`, `pre_jail_init()`.
    - postscreen does the same from Postfix 3.12, with `postscreen_tls_req_ccert` (default
      `$smtpd_tls_req_ccert`) at its level `may`: `src/postscreen/postscreen_tls_conf.c`,
      `psc_tls_pre_jail()`.

    ## Example
    ```
    smtpd_tls_security_level = may
    smtpd_tls_req_ccert = yes
    ```

    ## Use instead
    ```
    smtpd_tls_security_level = encrypt
    smtpd_tls_req_ccert = yes
    ```

    ## Fix
    Require TLS on that service (`smtpd_tls_security_level = encrypt`), or remove
    `smtpd_tls_req_ccert`.
    """

    code = "RLY014"
    name = "client-certificate-required-without-tls"
    severity = "warning"
    summary = "smtpd_tls_req_ccert = yes where TLS is not required: ignored"
    needs_main = True

    def check(self, ctx: Context) -> None:
        # one setting is judged for all the services that read it
        places: dict[tuple[object, ...], list[tuple[Location, SmtpServer]]] = {}
        for server in ctx.postfix.smtp_servers:
            config = server.config
            where = at.setting(config, "smtpd_tls_req_ccert")
            if where is None or not yes(config.value("smtpd_tls_req_ccert")):
                continue
            places.setdefault((where.file, where.span), []).append((where, server))
        reported: set[tuple[object, ...]] = set()
        for place, readers in places.items():
            if any(server.tls.state == "required" for _, server in readers):
                continue
            where, server = readers[0]
            reported.add(place)
            self.report(
                where,
                f"smtpd_tls_req_ccert = yes has no effect: TLS is not required "
                f"({server.tls.why}); smtpd logs \"Can't require client certs unless TLS is "
                'required"',
            )
        if ctx.target[:2] < (3, 12):
            return  # before, postscreen reads no client-certificate setting
        for screen in ctx.postfix.postscreens:
            config = screen.config
            if not yes(config.value("postscreen_tls_req_ccert")):
                continue
            tls = postscreen_tls(screen, ctx.postfix.daemons)
            if tls.level != "may":
                continue  # encrypt: it takes effect; none: postscreen reads no TLS setting
            where = at.setting(config, "postscreen_tls_req_ccert") or at.setting(
                config, "smtpd_tls_req_ccert"
            )
            if where is None or (where.file, where.span) in reported:
                continue
            reported.add((where.file, where.span))
            self.report(
                where,
                f"postscreen ({screen.daemon.key}) does not require TLS ({tls.why}), so "
                "requiring client certificates has no effect there; it logs \"Can't require "
                'client certs unless TLS is required"',
            )


@register
class FooterMacro(Rule):
    """
    ## What it finds
    A `$name` in `smtpd_reject_footer` that smtpd does not fill in, or one in the footer
    postscreen uses (`postscreen_reject_footer`, by default the text of
    `smtpd_reject_footer`) that postscreen does not fill in.  smtpd knows `client`,
    `client_address`, `client_name`, `client_port`, `reverse_client_name`, `helo_name`,
    `sender` and `recipient` (each also with `_name` and `_domain`), `server_name` and
    `localtime`; postscreen only `client_address`, `client_port`, `server_name` and
    `localtime`.  No main.cf parameter is filled in: `$myhostname` is unknown,
    `$server_name` gives its value.  Both outcomes of a `${name?...}` are checked.

    ## Why it matters
    For each rejected client the server logs 'unknown macro name "..." in expansion
    request' and leaves that part of the footer empty, so the footer does not say what it
    was written to say (a postscreen footer shared with smtpd that uses `$client` or
    `$helo_name` warns on every postscreen reject).

    ## Postfix source
    - The footer is expanded per reply without recursion: `src/global/smtp_reply_footer.c`,
      `smtp_reply_footer()`; smtpd's names in `src/smtpd/smtpd_expand.c`,
      `smtpd_expand_lookup()`, `smtpd_expand_addr()` and `smtpd_expand_unknown()`;
      postscreen's in `src/postscreen/postscreen_expand.c`, `psc_expand_lookup()`.
    - postscreen puts the value of a parameter named alone (`$smtpd_reject_footer`, the
      default) in once at start-up, `${name}` too from Postfix 3.11:
      `src/postscreen/postscreen.c`, `post_jail_init()` (3.11: `contains_only_parameter()`).
    - smtpd_reject_footer is read without expansion (a raw parameter):
      `src/smtpd/smtpd.c`, `main()` (its CONFIG_RAW_TABLE).

    ## Example
    ```
    smtpd_reject_footer = \\c For help, write to postmaster@$myhostname ($client_ip)
    ```

    ## Use instead
    ```
    smtpd_reject_footer = \\c For help, write to postmaster@$server_name ($client_address)
    ```

    ## Fix
    Use the names above; for a footer shared with postscreen use only the four postscreen
    knows, or give postscreen its own `postscreen_reject_footer`.
    """

    code = "RLY015"
    name = "footer-macro"
    severity = "warning"
    summary = "reject footer names a macro smtpd or postscreen does not fill in"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.target[:2] < (2, 8):
            return
        seen: set[tuple[object, str]] = set()
        for server in ctx.postfix.smtp_servers:
            config = server.config
            text = config.raw("smtpd_reject_footer") or ""
            for name in unknown_macros(text, SMTPD_FOOTER_MACROS):
                self._report(ctx, seen, config, "smtpd_reject_footer", name, "smtpd", None)
        for screen in ctx.postfix.postscreens:
            config = screen.config
            text, parameter = postscreen_footer(config)
            for name in unknown_macros(text, POSTSCREEN_FOOTER_MACROS):
                self._report(ctx, seen, config, parameter, name, "postscreen", screen.daemon)

    def _report(
        self, ctx: Context, seen: set[tuple[object, str]], config: Configuration,
        parameter: str, name: str, program: str, daemon: Daemon | None,
    ) -> None:  # fmt: skip
        origin = config.origin(parameter)
        if origin is None or (origin, name + program) in seen:
            return
        seen.add((origin, name + program))
        written = origin.value if isinstance(origin, Parameter) else origin.text
        braced = f"${{{name}}}"
        where = at.setting_origin(origin, word=braced if braced in written else f"${name}")
        if where is None:
            return
        via = (
            f" (postscreen_reject_footer is ${parameter})"
            if program == "postscreen" and parameter != "postscreen_reject_footer"
            else ""
        )
        hint = " (use $server_name)" if name == "myhostname" else ""
        self.report(
            where,
            f'{parameter}: {program} does not fill in ${name}{hint}{via}: it logs "unknown '
            f'macro name" for each rejected client, and that part of the footer is empty',
        )
