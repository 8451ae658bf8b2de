"""master.cf rules: duplicate services, unknown -o parameters, submission ports without the
TLS they need or open to anonymous clients, chroot where a daemon cannot work, and -o values
that Postfix splits at a blank.

Field values that Postfix refuses outright (an unknown service type, a bad chroot or wakeup
field) are syntax errors, SYN001.  These rules report nothing about the stock master.cf
that pflint assumes when none was found.
"""

from __future__ import annotations

import os

from ...values import split_list
from .. import location as at
from ..context import Context, ServiceConfig
from ..location import File
from ..names import NameSpace
from ..restrictions import service_lists
from ..rule import Rule, register

_SUBMISSION = {"submission", "587"}
_SUBMISSIONS = {"submissions", "smtps", "465"}
_SMTP = {"smtp", "25"}


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() == "yes"


def _real(ctx: Context) -> bool:
    return ctx.master is not None and not ctx.master_is_stock


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
    using the last entry"; earlier releases say nothing (master/master_conf.c,
    master_config, which updates the service already read with each later entry).

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
        assert ctx.master is not None
        first: dict[str, int] = {}
        for service in ctx.master.services:
            if service.key in first:
                said = (
                    "logs 'duplicate master.cf entry' and uses"
                    if ctx.target[:2] >= (3, 4)
                    else "silently uses"
                )
                self.report(
                    at.span(File.MASTER, service.field_span(0), service=service.key),
                    f"{service.key} is already defined on line {first[service.key]}: master "
                    f"{said} this last entry, and the earlier one's settings are lost",
                )
            else:
                first[service.key] = service.line


@register
class UnknownOverrideParameter(Rule):
    """
    ## What it finds
    An `-o name=value` whose name Postfix does not know for the target version, and that
    no other setting makes meaningful (a `$name` reference, a restriction class, a
    `<service>_...` name of a master.cf service).  postconf reports these as "unused
    parameter".

    ## Why it matters
    The setting does nothing: a typo such as `-o smtpd_tls_securty_level=encrypt` leaves the
    service at the default, without the protection the line promises.

    ## Example
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_securty_level=encrypt
    ```

    ## Use instead
    ```
    submission inet n - y - - smtpd
      -o smtpd_tls_security_level=encrypt
    ```

    ## Fix
    Correct the name, or remove the line.
    """

    code = "MST002"
    name = "unknown-override-parameter"
    severity = "warning"
    summary = "-o override of a parameter Postfix does not know"

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        names = NameSpace(ctx)
        for config in ctx.services:
            for override in config.service.override_list:
                name = override.name
                if names.accepted(name) or (ctx.main is not None and ctx.main.get(name)):
                    continue
                info = ctx.kb.parameter(name)
                detail = ""
                if info is not None:
                    removed = info.get("removed")
                    detail = (
                        f" (removed in Postfix {removed})" if removed else " (not in this version)"
                    )
                self.report(
                    at.override(config, override),
                    f"-o {name} on {config.key}: Postfix does not know this parameter{detail}; "
                    "the setting does nothing",
                )


@register
class SubmissionWithoutTls(Rule):
    """
    ## What it finds
    A submission service (port 587: `submission`, `587`, `host:submission`) that offers
    SASL authentication while TLS is optional: `smtpd_tls_security_level` is not `encrypt`
    for that service, and it is not in wrapper mode.

    ## Why it matters
    Port 587 is where users send their password.  RFC 8314 asks for TLS there; with
    optional TLS, a client (or an attacker who removes STARTTLS from the server's answer)
    can authenticate in clear, unless `smtpd_tls_auth_only = yes` happens to be set.

    ## Example
    ```
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
    Add `-o smtpd_tls_security_level=encrypt` to the service.
    """

    code = "MST003"
    name = "submission-without-tls"
    severity = "error"
    summary = "submission service (587) with SASL but without mandatory TLS"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if not _real(ctx):
            return
        for config in ctx.smtpd_services:
            if config.port not in _SUBMISSION:
                continue
            if not _yes(config.value("smtpd_sasl_auth_enable")):
                continue
            if _yes(config.value("smtpd_tls_wrappermode")):
                continue  # MST004 reports wrapper mode on 587
            level = (config.value("smtpd_tls_security_level") or "").strip().lower()
            if level == "encrypt" or (not level and _yes(config.value("smtpd_enforce_tls"))):
                continue
            message = (
                f"{config.key} offers SASL with TLS optional (smtpd_tls_security_level = "
                f"{level or 'unset'}); add -o smtpd_tls_security_level=encrypt"
            )
            override = config.service.override("smtpd_tls_security_level")
            if override is not None:
                self.report(at.override(config, override), message)
            else:
                self.report(at.service(config.service), message)


@register
class SubmissionsWithoutWrapperMode(Rule):
    """
    ## What it finds
    A port-465 service (`submissions`, `smtps`, `465`) without `smtpd_tls_wrappermode=yes`
    (error), and wrapper mode on port 587 or 25 (warning).

    ## Why it matters
    Clients of port 465 start TLS with the first byte (RFC 8314, "implicit TLS"); without
    wrapper mode smtpd answers them in plain SMTP and no client can connect.  The other way
    round, clients of 587 and 25 expect plain SMTP and STARTTLS, and wrapper mode locks
    them out.

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
        if not _real(ctx):
            return
        for config in ctx.smtpd_services:
            port = config.port
            wrapper = _yes(config.value("smtpd_tls_wrappermode"))
            if port in _SUBMISSIONS and not wrapper:
                override = config.service.override("smtpd_tls_wrappermode")
                message = (
                    f"{config.key} is the implicit-TLS port 465 but smtpd_tls_wrappermode is not "
                    "yes: clients that start with TLS cannot connect"
                )
                if override is not None:
                    self.report(at.override(config, override), message)
                else:
                    self.report(at.service(config.service), message)
            elif port in _SUBMISSION | _SMTP and wrapper:
                override = config.service.override("smtpd_tls_wrappermode")
                message = (
                    f"smtpd_tls_wrappermode = yes on {config.key}: its clients speak plain SMTP "
                    "with STARTTLS, not TLS from the first byte"
                )
                if override is not None:
                    self.report(at.override(config, override), message, severity="warning")
                else:
                    self.report(at.service(config.service), message, severity="warning")


_CONFINING_LISTS = (
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
)


def _confined(lists: dict[str, list[str]]) -> bool:
    """Whether some list ends in ``permit_sasl_authenticated[, ...], reject`` with no other
    permit (but permit_mynetworks) that lets an anonymous client through."""
    for name in _CONFINING_LISTS:
        items = lists.get(name, [])
        if (
            not items
            or items[-1] not in ("reject", "defer")
            or "permit_sasl_authenticated" not in items
        ):
            continue
        others = [i for i in items[:-1] if i == "permit" or i.startswith("permit_")]
        if set(others) <= {"permit_sasl_authenticated", "permit_mynetworks"}:
            return True
    return False


def _resolved(ctx: Context, config: ServiceConfig) -> dict[str, list[str]] | None:
    """Each list's restriction names, a ``$name`` value looked up in main.cf; None when a
    list refers to something main.cf does not define."""
    result: dict[str, list[str]] = {}
    for name, restrictions in service_lists(ctx, config).items():
        items = [r.lowered for r in restrictions]
        if any("$" in i for i in items):
            if len(items) != 1 or ctx.main is None:
                return None
            ref = items[0].strip("${}()")
            entry = ctx.main.get(ref)
            if entry is None:
                return None
            items = [t.text.lower() for t in split_list(entry.value)]
            if any("$" in i for i in items):
                return None
        result[name] = items
    return result


@register
class SaslServiceNotConfined(Rule):
    """
    ## What it finds
    A submission service (587 or 465) with SASL enabled whose restriction lists do not end
    in `permit_sasl_authenticated, reject` (or `permit_mynetworks,
    permit_sasl_authenticated, reject`) in any of its client, helo, sender, relay or
    recipient restrictions.

    ## Why it matters
    A submission port is for your users.  Without such a list it falls back to main.cf's
    restrictions, written for port 25, so anonymous clients can submit mail for your own
    domains on it, bypassing whatever port 25 checks that the submission port does not.

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
        if not _real(ctx):
            return
        for config in ctx.smtpd_services:
            if config.port not in _SUBMISSION | _SUBMISSIONS:
                continue
            if not _yes(config.value("smtpd_sasl_auth_enable")):
                continue
            lists = _resolved(ctx, config)
            if lists is None or _confined(lists):  # None: a $list main.cf does not define
                continue
            self.report(
                at.service(config.service),
                f"{config.key} offers SASL but no restriction list ends in "
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
    then reaches only tables inside the queue directory).  A `-` counts as `y` for targets
    older than Postfix 3.0, whose default it was.

    ## Why it matters
    Chrooted, these daemons cannot see home directories, mailbox paths, the programs they
    run or the tables they serve; deliveries fail with "file not found" in ways that are
    hard to trace back to master.cf.

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
        assert ctx.master is not None
        for service in ctx.master.services:
            program = os.path.basename(service.command)
            if program not in _NO_CHROOT:
                continue
            chroot = service.chroot
            if chroot == "y" or (chroot == "-" and ctx.target[:2] < (3, 0)):
                self.report(
                    at.span(File.MASTER, service.field_span(4), service=service.key),
                    f"{service.key} runs {program} chrooted: it cannot reach files outside the "
                    "queue directory; use n",
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

    ## Why it matters
    The service runs with `smtpd_client_restrictions=permit_sasl_authenticated,` (no
    `reject`: everyone gets through), and every `-o` after it is silently ignored.

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
        assert ctx.master is not None
        for service in ctx.master.services:
            if os.path.basename(service.command) in _ARGUMENT_PROGRAMS:
                continue  # their plain arguments (argv=..., flags=...) are meant
            words = service.arguments
            reading = service.daemon_arguments
            end = reading.options_end
            if end >= len(words):
                continue
            plain = words[end]
            ends_options = plain.text == "--"
            last = reading.args[max(reading.getopt_count - 2, 0) : reading.getopt_count]
            if not ends_options and len(last) == 2 and last[0] == "-o":
                # the last option was "-o value": the word after it is the rest of a value
                # that Postfix cut at a blank
                before = words[end - 1].span
                split = next(
                    (o for o in service.override_list
                     if (o.argument.end_line, o.argument.end_column)
                     == (before.end_line, before.end_column)),
                    None,
                )  # fmt: skip
                name = split.name if split else last[1].split("=", 1)[0]
                value = repr(split.value) if split else "missing"
                self.report(
                    at.span(File.MASTER, plain.span, parameter=name, service=service.key),
                    f"{plain.text!r} is not part of -o {name}: Postfix splits the line at "
                    f"blanks, so the value is {value}; write it without blanks or as "
                    f"-o {{ {name} = ... }}",
                )
            ignored = [w for w in words[end + 1 :] if w.text.startswith("-o")]
            if ignored:
                more = f" and the {len(ignored) - 1} after it" if len(ignored) > 1 else ""
                after = (
                    f"'--' (line {plain.span.line}), which ends the options"
                    if ends_options
                    else f"the plain argument {plain.text!r} (line {plain.span.line})"
                )
                self.report(
                    at.span(File.MASTER, ignored[0].span, service=service.key),
                    f"this -o{more} come{'' if more else 's'} after {after}: "
                    f"{service.command} does not read "
                    + ("them as options, so the settings are" if more else "it as an option, so the setting is")
                    + " ignored",
                )  # fmt: skip
