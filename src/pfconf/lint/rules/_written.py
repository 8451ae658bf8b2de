"""Findings placed on what the model says is written: a main.cf entry or a master.cf ``-o``.

A helper for the rule modules of the sweep (delivery, client, startup): it turns a model
Origin, and optionally one word of its value, into a finding at that place.
"""

from __future__ import annotations

from typing import Any

from ...model import Override, Parameter, Span
from ...semantics import Daemon, Origin
from ...values import Token
from ..context import Context
from ..finding import Finding
from ..rule import Rule


def _once(text: str, word: str) -> int | None:
    at = text.find(word)
    if at < 0 or text.find(word, at + 1) >= 0:
        return None
    return at


def place(
    ctx: Context,
    rule: type[Rule],
    origin: Origin,
    message: str,
    *,
    word: str | None = None,
    daemon: Daemon | None = None,
    **kw: Any,
) -> Finding | None:
    """A finding on ``origin`` (on ``word`` inside its value when the word is written there
    once); on ``daemon``'s service line when nothing is written; None when neither."""
    if daemon is not None:
        kw.setdefault("service", daemon.key)
    if isinstance(origin, Parameter):
        kw.setdefault("parameter", origin.name)
        span = origin.value_span
        at = _once(origin.value, word) if word else None
        if word and at is not None:
            span = origin.item_span(Token(word, at, at + len(word)))
        return ctx.at_span(rule, ctx.main_path, span, message, **kw)
    if isinstance(origin, Override):
        kw.setdefault("parameter", origin.name)
        span = origin.argument
        at = _once(origin.text, word) if word else None
        if word and at is not None and span.line == span.end_line:
            column = span.column + at
            span = Span(span.line, column, span.line, column + len(word))
        return ctx.at_span(rule, ctx.master_path, span, message, **kw)
    if daemon is not None:
        return ctx.at_service(rule, daemon.service, message, **kw)
    return None


class Once:
    """Findings by place: a setting that several services share is reported once."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, int, int]] = set()

    def __call__(self, finding: Finding | None) -> Finding | None:
        if finding is None:
            return None
        key = (finding.path, finding.line, finding.column)
        if key in self._seen:
            return None
        self._seen.add(key)
        return finding
