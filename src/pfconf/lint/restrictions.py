"""Restriction lists as smtpd reads them: each restriction with its argument and position.

smtpd evaluates the client, helo, sender, relay, recipient, data and end-of-data lists of
each service; a service's ``-o`` options replace main.cf's lists for that service only.
This module turns those values into Restriction objects that rules can walk.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from ..model import Override, Parameter, Span
from ..values import Token, split_list
from .context import Context, ServiceConfig
from .finding import Edit, Fix, RemoveListItem, ReplaceListItem

#: smtpd's lists in the order it evaluates them (with smtpd_delay_reject = yes, the default,
#: client, helo and sender checks run at RCPT TO, before the relay and recipient lists).
LISTS = (
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
)


@attrs.frozen
class Restriction:
    """One restriction of a list: its name, its argument if it takes one, and where both are."""

    name: str
    argument: str | None
    list_name: str
    path: str | None
    span: Span  # name and argument together
    argument_span: Span | None
    origin: Parameter | Override
    index: int  # position in its list

    @property
    def lowered(self) -> str:
        return self.name.lower()


def _override_span(override: Override, token: Token) -> Span | None:
    """Where ``token`` (offsets into the override's value) sits in master.cf, if we can tell."""
    where = override.argument
    if where.line != where.end_line:
        return None
    at = override.text.find(override.value)
    if at < 0 or override.text.count(override.value) != 1:
        return None
    start = where.column + at + token.start
    return Span(where.line, start, where.line, start + len(token.text))


def _join(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


def parse_list(
    ctx: Context, origin: Parameter | Override, list_name: str
) -> list[Restriction]:
    value = origin.value
    tokens = split_list(value)
    path = ctx.main_path if isinstance(origin, Parameter) else ctx.master_path

    def span_of(token: Token) -> Span | None:
        if isinstance(origin, Parameter):
            return origin.item_span(token)
        return _override_span(origin, token)

    result: list[Restriction] = []
    i = 0
    index = 0
    while i < len(tokens):
        token = tokens[i]
        name = token.text
        info = ctx.kb.restriction(name)
        takes = info.get("argument", "none") if info else "none"
        argument = None
        argument_span = None
        span = span_of(token)
        if takes in ("table", "dns_zone", "policy_service", "time") and i + 1 < len(tokens):
            arg_token = tokens[i + 1]
            argument = arg_token.text
            argument_span = span_of(arg_token)
            if span is not None and argument_span is not None:
                span = _join(span, argument_span)
            i += 1
        if span is None and isinstance(origin, Override):
            span = origin.argument
        assert span is not None
        result.append(
            Restriction(name, argument, list_name, path, span, argument_span, origin, index)
        )
        index += 1
        i += 1
    return result


def service_lists(ctx: Context, config: ServiceConfig) -> dict[str, list[Restriction]]:
    """The restriction lists one smtpd service runs with (empty when left at the default)."""
    lists: dict[str, list[Restriction]] = {}
    for list_name in LISTS:
        origin = config.origin(list_name)
        lists[list_name] = parse_list(ctx, origin, list_name) if origin is not None else []
    return lists


def configurations(
    ctx: Context,
) -> Iterator[tuple[ServiceConfig | None, dict[str, list[Restriction]]]]:
    """Each smtpd service's lists; main.cf's alone when no service runs smtpd."""
    services = ctx.smtpd_services
    if not services:
        lists: dict[str, list[Restriction]] = {}
        for list_name in LISTS:
            entry = ctx.main.get(list_name) if ctx.main else None
            lists[list_name] = parse_list(ctx, entry, list_name) if entry is not None else []
        yield None, lists
        return
    for config in services:
        yield config, service_lists(ctx, config)


def item_fix(
    restriction: Restriction,
    description: str,
    *,
    item: str | None = None,
    replacement: str | None = None,
    safe: bool = True,
) -> Fix:
    """A fix of one restriction in a main.cf list: removed, or replaced by ``replacement``.

    Items set by a master.cf ``-o`` get a described fix only (pflint --fix edits main.cf).
    """
    if not isinstance(restriction.origin, Parameter):
        return Fix.display_only(description)
    if item is None:
        item = restriction.name
        if restriction.argument:
            item += " " + restriction.argument
    name, (line, column) = restriction.list_name, (restriction.span.line, restriction.span.column)
    edit: Edit = (
        ReplaceListItem(name, item, replacement, line, column)
        if replacement is not None
        else RemoveListItem(name, item, line, column)
    )
    return Fix.safe(description, edit) if safe else Fix.unsafe(description, edit)
