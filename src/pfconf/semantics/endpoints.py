"""Policy servers and Milters: the external services smtpd and cleanup talk to, each entry
read the way Postfix reads it (an endpoint, or ``{ endpoint, name = value, ... }``).

Facts (transports, per-entry settings, their types and minimums) come from rules/smtpd.toml.
This module reads text only: where the text is written is the caller's business.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..kb import Version, load_table, parse_version
from ..values import ISSPACE, LIST_SEPARATORS, split_list

#: INT_MAX of the C int Postfix stores times and numbers in.
_INT_MAX = 2**31 - 1

#: conv_time() units, in seconds.
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _facts() -> dict[str, Any]:
    return load_table("smtpd")


@attrs.frozen
class ExternalService:
    """One policy service or Milter entry (after ``$name`` expansion).

    ``endpoint`` is the ``transport:endpoint`` word, None when the entry has none;
    ``settings`` the per-entry overrides of a ``{ ... }`` entry.  ``fatal`` is why the program
    that reads the entry stops (Postfix's message, None when it reads it); ``endpoint_error``
    what is wrong with the endpoint itself (for a policy service that is fatal too, and is
    then also in ``fatal``; a Milter only fails each time it is used).
    """

    kind: str
    text: str
    endpoint: str | None
    settings: tuple[tuple[str, str], ...] = ()
    fatal: str | None = None
    endpoint_error: str | None = None

    @property
    def unix_socket(self) -> str | None:
        """The path of a Milter's UNIX-domain socket, as milter8_connect() splits the
        endpoint at its first ``:``: ``unix:`` (unix_connect()) and ``local:``
        (LOCAL_CONNECT, unix_connect() but on systems built with STREAM_CONNECTIONS); a
        relative path is taken from the daemon's working directory, queue_directory.
        None for ``inet:``, and for an entry the program refuses or cannot connect to."""
        if self.kind != "milter" or self.endpoint is None:
            return None
        if self.fatal is not None or self.endpoint_error is not None:
            return None
        transport, _, path = self.endpoint.partition(":")
        return path if transport in ("unix", "local") else None

    def setting(self, name: str) -> str | None:
        """The value this entry gives ``name`` (the last one, as attr_override() keeps)."""
        found = None
        for key, value in self.settings:
            if key == name:
                found = value
        return found


def extpar(text: str) -> tuple[str, str | None]:
    """util/extpar.c with EXTPAR_FLAG_NONE: the text inside ``{...}`` and None, or the text
    and Postfix's complaint ("missing '}'", "syntax error after '}'")."""
    level, end = 0, -1
    for index, ch in enumerate(text):
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
            if level == 0:
                end = index
                break
    if not text.startswith("{") or end < 0:
        return text[1:], f"missing '}}' in \"{text}\""
    if end != len(text) - 1:
        return text[1:end], f"syntax error after '}}' in \"{text}\""
    return text[1:end], None


def split_nameval(text: str) -> tuple[str, str] | str:
    """util/split_nameval.c: ``(name, value)``, or Postfix's complaint about the text."""
    i, n = 0, len(text)
    while i < n and text[i] in ISSPACE:
        i += 1
    if i >= n or text[i] == "=":
        return "missing attribute name"
    start = i
    while i < n and text[i] not in ISSPACE and text[i] != "=":
        i += 1
    name = text[start:i]
    while i < n and text[i] in ISSPACE:
        i += 1
    if i >= n or text[i] != "=":
        return "missing '=' after attribute name"
    return name, text[i + 1 :].strip(ISSPACE)


def _strtol(text: str) -> tuple[int | None, int]:
    """C strtol(text, &end, 10): the number (None on overflow of a C int) and where it ends
    (0 when there is no number)."""
    i, n = 0, len(text)
    while i < n and text[i] in ISSPACE:
        i += 1
    sign = 1
    if i < n and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    start = i
    while i < n and text[i].isascii() and text[i].isdigit():
        i += 1
    if i == start:
        return 0, 0
    number = sign * int(text[start:i])
    return (number if -_INT_MAX - 1 <= number <= _INT_MAX else None), i


def conv_time(text: str, default_unit: str = "s") -> int | None:
    """global/conv_time.c: seconds, or None when Postfix refuses the text.  Only the first
    character after the number is looked at, as Postfix does."""
    if not text:
        return None
    number, end = _strtol(text)
    if number is None or number < 0:
        return None
    unit = text[end] if end < len(text) else default_unit
    if unit not in _UNITS:
        return None
    seconds = number * _UNITS[unit]
    return seconds if seconds <= _INT_MAX else None


def endpoint_error(endpoint: str, kind: str = "policy") -> str | None:
    """What auto_clnt_create() (``kind`` policy) or milter8_connect() (milter) says of an
    endpoint; None when it is usable."""
    transport, colon, rest = endpoint.partition(":")
    service = "Milter service" if kind == "milter" else "service"
    if not colon or not rest or not transport:
        need = "Milter service needs" if kind == "milter" else "need service"
        return f'{need} transport:endpoint instead of "{endpoint}"'
    transports = _facts().get("endpoints", {}).get("transports", ["inet", "unix", "local"])
    if transport not in transports:
        return f"invalid transport name: {transport} in {service}: {endpoint}"
    return None


def _setting_error(name: str, value: str, fact: dict[str, Any]) -> str | None:
    """attr_override(): why a known setting's value stops the program, or None."""
    minimum = int(fact.get("min", 0))
    kind = fact.get("type")
    if kind == "time":
        seconds = conv_time(value)
        if seconds is None:
            return f"{name}: bad time value or unit: {value}"
        if seconds < minimum:
            return f"invalid {name}: {seconds} (min {minimum})"
    elif kind == "number":
        number, end = _strtol(value)
        if not value or end != len(value) or number is None:
            return f"bad numerical configuration: {name} = {value}"
        if number < minimum:
            return f"invalid {name} parameter value {number} < {minimum}"
    elif len(value) < minimum:
        return f"bad string length {len(value)} < {minimum}: {name} = {value}"
    return None


def _read_settings(
    text: str, table: dict[str, Any], version: Version
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """attr_override(): the ``name = value`` settings of a braced entry, and the message the
    first bad one stops the program with."""
    settings: list[tuple[str, str]] = []
    for token in split_list(text):
        item = token.text
        if item.startswith("{"):
            item, problem = extpar(item)
            if problem is not None:
                return tuple(settings), f'{problem} in "{token.text}"'
        pair = split_nameval(item)
        if isinstance(pair, str):
            return tuple(settings), f'malformed option: {pair}: "...{item}..."'
        name, value = pair
        fact = table.get(name)
        if fact is None or version[:2] < parse_version(str(fact.get("since", "2.0")))[:2]:
            return tuple(settings), f'unknown option: "{name} = {value}"'
        problem = _setting_error(name, value, fact)
        if problem is not None:
            return tuple(settings), problem
        settings.append((name, value))
    return tuple(settings), None


def _braced_form(version: Version) -> bool:
    since = _facts().get("braced_entries", {}).get("since", "3.0")
    return version[:2] >= parse_version(str(since))[:2]


def policy_service(text: str, version: Version) -> ExternalService:
    """A check_policy_service argument as smtpd_check.c policy_client_register() reads it
    when smtpd starts: the ``{...}`` form (3.0 and later) is unwrapped, its first word is
    the endpoint, the rest are settings; then attr_clnt_create() -> auto_clnt_create()
    checks the endpoint.  Every problem stops smtpd."""
    if not (text.startswith("{") and _braced_form(version)):
        error = endpoint_error(text)
        return ExternalService("policy", text, text, fatal=error, endpoint_error=error)
    inside, problem = extpar(text)
    if problem is not None:
        return ExternalService(
            "policy", text, None, fatal=f"policy service syntax error: {problem}"
        )
    words = split_list(inside, LIST_SEPARATORS, "\0\0")
    if not words:
        return ExternalService("policy", text, None, fatal=f'empty policy service: "{text}"')
    endpoint = words[0].text
    rest = inside[words[0].end :]
    table = _facts().get("policy_settings", {})
    settings, fatal = _read_settings(rest, table, version)
    error = endpoint_error(endpoint)
    return ExternalService("policy", text, endpoint, settings, fatal or error, error)


def milter_parens(version: Version) -> str:
    """How milter_new() splits a Milter list: at commas and blanks, ``{...}`` kept together
    from 3.0 (mystrtokq), not before (mystrtok).  For split_list's ``parens``."""
    return "{}" if _braced_form(version) else "\0\0"


def milter(text: str, version: Version) -> ExternalService:
    """One entry of smtpd_milters / non_smtpd_milters as milter/milter.c milter_new() reads
    it: a ``{...}`` entry (3.0 and later) unwrapped into its endpoint and settings (a problem
    there stops the program: "milter service syntax error", "empty milter definition", or
    attr_override()'s messages), then the endpoint as milter8_connect() checks it each time
    the Milter is used (a bad one makes the Milter fail every time)."""
    if not (_braced_form(version) and text.startswith("{")):
        return ExternalService("milter", text, text, endpoint_error=endpoint_error(text, "milter"))
    inside, problem = extpar(text)
    if problem is not None:
        return ExternalService(
            "milter", text, None, fatal=f"milter service syntax error: {problem}"
        )
    words = split_list(inside, LIST_SEPARATORS, "\0\0")
    if not words:
        return ExternalService("milter", text, None, fatal=f'empty milter definition: "{text}"')
    endpoint = words[0].text
    table = _facts().get("milter_settings", {})
    settings, fatal = _read_settings(inside[words[0].end :], table, version)
    return ExternalService(
        "milter", text, endpoint, settings, fatal, endpoint_error(endpoint, "milter")
    )
