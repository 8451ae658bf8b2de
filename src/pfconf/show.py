"""What ``pfedit show`` prints: main.cf's effective values and master.cf's services.

Formats follow postconf (-n for main.cf, -M and -P for master.cf) so that output can be
compared with Postfix's own; unlike postconf, names Postfix does not know are listed too.
"""

from __future__ import annotations

import re
from typing import Any

from .model import MainCf, MasterCf, Service

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
    as postconf -F prints them; the options themselves never do.
    """
    reading = service.daemon_arguments
    out = [service.command]
    takes_value = False  # the previous word was an option that takes the next one
    for index, arg in enumerate(reading.args):
        is_option = index < reading.option_count and not takes_value
        takes_value = is_option and arg[1:2] == "o"
        out.append(f"{{{arg}}}" if not is_option and _needs_braces(arg) else arg)
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
