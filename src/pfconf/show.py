"""What ``pfedit show`` prints: main.cf's effective values and master.cf's services.

Formats follow postconf (-n for main.cf, -M and -P for master.cf) so that output can be
compared with Postfix's own; unlike postconf, names Postfix does not know are listed too.
Named parameters, values for one service and the summary come from the model
(pfconf.semantics), so they say what the running Postfix reads, defaults included.  The
services and their ``-o`` overrides are listed as postconf -M and -P read them; a service's
values (``--service``) are those its daemon reads, whose getopt differs from postconf's
in a few command lines (``smtpd -n name -o x=y``: the daemon reads ``x=y``, postconf -P
does not show it; see pfconf.semantics.programs).
"""

from __future__ import annotations

import re
from typing import Any

from .kb import version_text
from .model import MainCf, MasterCf, Override, Parameter, Service
from .semantics import Configuration, Postfix

_BLANKS = re.compile(r"[ \t\r\n]+")
# postconf -M puts the fields at these columns, with at least one space between them.
_COLUMNS = (0, 11, 17, 25, 33, 41, 49, 57)


def fold(value: str) -> str:
    """postconf -n's display of a value: each run of blanks as one space, ends trimmed."""
    return _BLANKS.sub(" ", value).strip(" ")


def _needs_braces(text: str) -> bool:
    return any(ch in text for ch in " \t\r\n")


def command_line(service: Service) -> str:
    """The command and its arguments as postconf -F prints them (values with blanks in ``{}``).

    An option's value and every argument after the options get braces when they hold blanks,
    as postconf -F prints them; the options themselves never do, and neither does the word
    that ends them (``--`` or the first plain argument): postconf's printer
    (postconf_master.c, pcf_print_master_entry and pcf_print_master_field) leaves its
    "options" state at that word without asking whether it holds blanks, so
    ``smtpd { a b } { c d }`` and a word such as ``\v{ a }`` (a "{" that does not start
    the word, which Postfix keeps as text) print without braces.
    """
    reading = service.daemon_arguments
    out = [service.command]
    takes_value = False  # the previous word was an option that takes the next one
    for index, arg in enumerate(reading.args):
        is_option = index < reading.option_count and not takes_value
        takes_value = is_option and arg[1:2] == "o"
        braced = not is_option and index != reading.option_count and _needs_braces(arg)
        out.append(f"{{{arg}}}" if braced else arg)
    return " ".join(out)


def service_line(service: Service) -> str:
    """One service as postconf -M prints it (without folding long lines)."""
    fields = [
        service.name,
        service.type,
        service.private,
        service.unprivileged,
        service.chroot,
        service.wakeup,
        service.process_limit,
    ]
    line = ""
    for column, text in zip(_COLUMNS, fields):
        if line:
            line += " "
            line += " " * max(0, column - len(line))
        line += text
    line += " " * max(1, _COLUMNS[7] - len(line))
    return line + command_line(service)


def main_lines(doc: MainCf) -> list[str]:
    values = doc.effective()
    return [f"{name} = {fold(values[name])}".rstrip(" ") for name in sorted(values)]


def master_lines(doc: MasterCf) -> list[str]:
    """postconf -M, then postconf -P.

    postconf keeps one set of -o settings per name/type: when two entries share a key (a
    mistake of its own), -P shows the settings of both, the later winning, under each.
    """
    lines = [service_line(service) for service in doc.services]
    by_key: dict[str, dict[str, str]] = {}
    for service in doc.services:
        by_key.setdefault(service.key, {}).update(service.overrides)
    for service in doc.services:
        overrides = by_key[service.key]
        for name in sorted(overrides):
            lines.append(f"{service.key}/{name} = {fold(overrides[name])}".rstrip(" "))
    return lines


def as_json(main: MainCf | None, master: MasterCf | None) -> dict[str, Any]:
    """Raw values (not folded) for programs."""
    result: dict[str, Any] = {}
    if main is not None:
        result["main"] = main.effective()
    if master is not None:
        result["master"] = [
            {
                "service": s.name,
                "type": s.type,
                "private": s.private,
                "unprivileged": s.unprivileged,
                "chroot": s.chroot,
                "wakeup": s.wakeup,
                "process_limit": s.process_limit,
                "command": s.command,
                "args": list(s.args),
                "overrides": s.overrides,
                "line": s.line,
            }
            for s in master.services
        ]
    return result


# -- what the model says ---------------------------------------------------------------------


def _origin_note(config: Configuration, name: str) -> str:
    origin = config.origin(name)
    if isinstance(origin, Override):
        return f"-o on line {origin.argument.line} of master.cf"
    if isinstance(origin, Parameter):
        return f"line {origin.line} of main.cf"
    if config.raw(name) is None:
        return "no value"
    return "default"


def parameter_lines(
    config: Configuration, names: list[str], *, expand: bool, origins: bool = False
) -> list[str]:
    """``name = value`` for each name, as postconf NAME (or postconf -x NAME with
    ``expand``) prints it for this configuration, the target release's default included.
    A name the release does not know and the files do not set is reported as such."""
    lines = []
    for name in names:
        raw = config.raw(name)
        if raw is None:
            lines.append(f"# {name}: unknown to Postfix {version_text(config.version)}")
            continue
        value = (config.value(name) or "") if expand else raw
        line = f"{name} = {fold(value)}".rstrip(" ")
        if origins:
            line += f"  # {_origin_note(config, name)}"
        lines.append(line)
    return lines


def summary_lines(postfix: Postfix) -> list[str]:
    """What the running Postfix offers and where mail goes, in a few lines per part."""
    lines = [f"# what Postfix {version_text(postfix.version)} makes of these files"]
    for server in postfix.smtp_servers:
        where = server.key or "main.cf alone (no smtpd service in master.cf)"
        port = f", port {server.port}" if server.port is not None else ""
        lines.append(f"smtpd {where}{port}")
        lines.append(f"    TLS {server.tls.state} ({server.tls.why})")
        lines.append(f"    AUTH {server.auth.state.replace('_', ' ')} ({server.auth.why})")
        for name, listed in server.restrictions.items():
            if not listed.items:
                continue
            text = ", ".join(r.text for r in listed.flattened())
            default = " (default)" if listed.is_default else ""
            lines.append(f"    {name}{default}: {text}")
    for client in postfix.smtp_clients:
        where = client.key or "main.cf alone"
        sasl = client.sasl
        auth = (f"SASL with {sasl.password_maps}" if sasl.enabled and sasl.password_maps
                else "SASL enabled, no password table" if sasl.enabled else "no SASL")  # fmt: skip
        policy = f", per destination: {client.tls.policy_maps}" if client.tls.policy_maps else ""
        lines.append(f"{client.protocol} client {where}: TLS {client.tls.level}{policy}; {auth}")
    for screen in postfix.postscreens:
        running = [f"{t.name} ({t.action})" if t.action else t.name for t in screen.tests if t.runs]
        lines.append(f"postscreen {screen.daemon.key}: {', '.join(running) or 'no tests'}")
    networks = postfix.mynetworks
    if networks.items is not None:
        lines.append(f"mynetworks: {', '.join(networks.items.items) or '(empty)'}")
    else:
        lines.append(f"mynetworks: the machine's networks (mynetworks_style = {networks.style})")
    for address_class in postfix.address_classes:
        domains = address_class.domains
        names = "every other domain" if domains is None else ", ".join(domains.items) or "none"
        transport = address_class.transport or "(alias tables)"
        lines.append(f"{address_class.name} domains: {names} -> {transport}")
    return lines
