"""``$name`` expansion as Postfix does it (util/mac_parse.c, util/mac_expand.c, and the
``<level`` comparison of global/compat_level.c).

Postfix expands a parameter's value when a daemon reads it: ``$name`` and ``${name}`` give
the value of ``name`` (expanded again, as with MAC_EXP_FLAG_RECURSE), ``${name?text}`` the
text when the value is not empty, ``${name:text}`` the text when it is empty or undefined,
``${name?{a}:{b}}`` one or the other, and ``${{x} == {y} ? {a} : {b}}`` compares two texts
(numbers when both are all digits; ``==level`` and friends compare compatibility levels).
A number too large for a C long stops Postfix at once ("mac_exp_eval: bad conversion"):
``fatal`` says so, and the expansion stops there too.
``postconf -x`` prints what this module computes, and the tests hold it to that.

The reader is iterative where Postfix recurses, with Postfix's own limit: more than 100
nested expansions is an error ("unreasonable macro call nesting"), as it is for Postfix.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .values import compatibility_level

#: Postfix's limit on nested expansions (mac_expand_callback: ``mc->level++ > 100``).
MAX_NESTING = 100

#: LONG_MAX of the LP64 systems Postfix runs on: the largest number a comparison's operand
#: may be (util/mac_expand.c, atol_or_die(): strtol() with ERANGE is fatal, Postfix 3.2 and
#: later; 3.0 and 3.1 used atol(), whose result then is undefined).
LONG_MAX = 2**63 - 1

#: CHARS_SPACE in util/stringops.h: what mac_expand skips around ``{text}``.
_WHITESPACE = " \t\r\n"

#: Lookup: the value of a parameter, or None when it is undefined.
Lookup = Callable[[str], "str | None"]


@attrs.define
class Expansion:
    """The result of expanding a value: the text, the names that were undefined where they
    were used unconditionally (``$name`` of an unknown name: empty, and postconf warns), and
    the syntax errors Postfix would warn about (the expansion then stops, as Postfix's does).
    ``fatal`` is the message with which Postfix stops the program doing the expansion
    (msg_fatal), a comparison's number that does not fit a long; it is the last of
    ``errors`` too, since the value is not known either way."""

    text: str = ""
    undefined: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)
    fatal: str | None = None

    def copy(self) -> Expansion:
        """A copy with lists of its own (what is remembered is never handed out)."""
        return Expansion(self.text, list(self.undefined), list(self.errors), self.fatal)


def expand(pattern: str, lookup: Lookup, *, recurse: bool = True) -> Expansion:
    """Expand ``pattern`` with the parameter values ``lookup`` gives, like mac_expand()."""
    if "$" not in pattern:
        return Expansion(pattern)
    key = (pattern, recurse)
    known = _MEMO.get(key)
    if known is not None:
        for asked, found in known:
            if all(lookup(name) == value for name, value in asked):
                return found.copy()
    asked_now: dict[str, str | None] = {}

    def recording(name: str) -> str | None:
        value = lookup(name)
        asked_now.setdefault(name, value)
        return value

    result = Expansion()
    _Expander(recording, recurse, result).parse(pattern, 0)
    _remember(key, tuple(asked_now.items()), result)
    return result.copy()


# Expansions already made, with the values their lookups answered.  A lint expands the same
# defaults for every service of master.cf, and for every host directory of a run: hundreds of
# times the same few patterns over the same values.  The expansion of a pattern depends on
# nothing but the answers to its lookups (which lookups it makes depends on the earlier
# answers, so when every recorded lookup answers the same, the same lookups are made), so a
# result is reused when asking its recorded names again gives the same values.
_MEMO: dict[tuple[str, bool], list[tuple[tuple[tuple[str, str | None], ...], Expansion]]] = {}
_MEMO_PATTERNS = 8192  # bounds for a long-running process (a language server)
_MEMO_PER_PATTERN = 16


def _remember(
    key: tuple[str, bool], asked: tuple[tuple[str, str | None], ...], result: Expansion
) -> None:
    if len(_MEMO) >= _MEMO_PATTERNS:
        _MEMO.clear()
    known = _MEMO.setdefault(key, [])
    if len(known) >= _MEMO_PER_PATTERN:
        del known[0]
    known.append((asked, result.copy()))




def _compat_level(text: str) -> tuple[int, int, int] | None:
    """compat_level_from_string(): ``3``, ``3.6`` or ``3.6.1`` within its limits (minor and
    patch at most 1023); None when malformed.  pfconf.values reads it, as strtol() does."""
    return compatibility_level(text)


def _fits_long(digits: str) -> bool:
    """Whether strtol() reads the ASCII digits ``digits`` without ERANGE (leading zeros
    are fine).  Compared as text first: int() refuses very long digit strings."""
    significant = digits.lstrip("0")
    return len(significant) <= len(str(LONG_MAX)) and int(significant or "0") <= LONG_MAX


_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")


class _Error(Exception):
    pass


class _Fatal(_Error):
    """What msg_fatal() ends: the program stops, not just the expansion."""


class _Expander:
    def __init__(self, lookup: Lookup, recurse: bool, result: Expansion) -> None:
        self.lookup = lookup
        self.recurse = recurse
        self.result = result
        self.out: list[str] = []

    # mac_parse(): literal text and $-expressions, handed to the callback one by one
    def parse(self, value: str, level: int) -> None:
        try:
            self._parse(value, level)
        except _Error as exc:
            self.result.errors.append(str(exc))
            if isinstance(exc, _Fatal):
                self.result.fatal = str(exc)
        self.result.text = "".join(self.out)

    def _parse(self, value: str, level: int) -> None:
        # An explicit stack of (text, position, level) instead of recursion: a value nested
        # 400 deep must give Postfix's error, not Python's RecursionError.
        stack: list[tuple[str, int, int]] = [(value, 0, level)]
        while stack:
            text, i, depth = stack.pop()
            literal: list[str] = []
            while i < len(text):
                if text[i] != "$":
                    # literal text runs to the next "$" (a lint expands hundreds of values)
                    dollar = text.find("$", i)
                    end = len(text) if dollar < 0 else dollar
                    literal.append(text[i:end])
                    i = end
                    continue
                if text[i + 1 : i + 2] == "$":
                    literal.append("$")
                    i += 2
                    continue
                self.out.append("".join(literal))
                literal = []
                i += 1
                if text[i : i + 1] in ("(", "{"):
                    opening = text[i]
                    closing = ")" if opening == "(" else "}"
                    count, end = 1, i + 1
                    while count > 0:
                        if end >= len(text):
                            raise _Error(f'truncated macro reference: "{value}"')
                        if text[end] == opening:
                            count += 1
                        elif text[end] == closing:
                            count -= 1
                        end += 1
                    body, i = text[i + 1 : end - 1], end
                else:
                    end = i
                    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                        end += 1
                    body, i = text[i:end], end
                if not body:
                    raise _Error(f'empty macro name: "{value}"')
                pieces = self._callback(body, depth + 1)
                if pieces is not None:
                    # what the expression expands to is parsed before the rest of this text
                    stack.append((text, i, depth))
                    stack.append((pieces, 0, depth + 1))
                    break
            else:
                self.out.append("".join(literal))

    # mac_expand_callback(): one $-expression; returns text still to be parsed, or None
    def _callback(self, body: str, level: int) -> str | None:
        if level > MAX_NESTING + 1:  # Postfix checks the level before it counts this call
            raise _Error(f'unreasonable macro call nesting: "{body}"')
        cp = 0
        value: str | None
        skip = len(body) - len(body.lstrip(_WHITESPACE))
        if body[skip : skip + 1] == "{":
            value, cp = self._relational(body, skip, level)
            if cp < len(body):
                if body[cp] not in "?:":
                    raise _Error(f'"?" or ":" expected at: "...}}>>>{body[cp:][:20]}"')
                operator = body[cp]
                cp += 1
            else:
                operator = ""
        else:
            cp = skip
            start = cp
            while True:
                rest = body[cp:]
                stripped = rest.lstrip(_WHITESPACE)
                if not stripped:
                    name, operator, cp = body[start:cp], "", len(body)
                    break
                if stripped[0] in "?:":
                    name, operator = body[start:cp], stripped[0]
                    cp = len(body) - len(stripped) + 1
                    break
                if stripped[0] == "{":
                    raise _Error(f'unknown function "{body[start:cp]}"')
                if not (body[cp].isalnum() or body[cp] == "_") or not body[cp].isascii():
                    raise _Error(
                        f'attribute name syntax error at: "...{body[:cp]}>>>{body[cp:][:20]}"'
                    )
                cp += 1
            value = self.lookup(name)
            if operator == "" and value is None:
                self.result.undefined.append(name)
        if operator == "?":
            iftrue, cp, more = self._operand(body, cp)
            wanted = value is not None and value != ""
            chosen = iftrue if wanted else None
            if more:
                if body[cp] != ":":
                    raise _Error(f'":" expected at: "...{iftrue}}}>>>{body[cp:][:20]}"')
                iffalse, cp, more = self._operand(body, cp + 1)
                if more:
                    raise _Error(f'unexpected input at: "...{iffalse}}}>>>{body[cp:][:20]}"')
                if not wanted:
                    chosen = iffalse
            return chosen
        if operator == ":":
            iffalse, cp, more = self._operand(body, cp)
            if more:
                raise _Error(f'unexpected input at: "...{iffalse}}}>>>{body[cp:][:20]}"')
            return iffalse if value is None or value == "" else None
        if value is None or value == "":
            return None
        if self.recurse:
            return value
        self.out.append(value)
        return None

    def _operand(self, body: str, cp: int) -> tuple[str, int, bool]:
        """A result operand after ``?`` or ``:``: ``{text}`` (then what follows may be more),
        or the rest of the expression as it is. (text, position after it, anything left)."""
        skip = len(body[cp:]) - len(body[cp:].lstrip(_WHITESPACE))
        if body[cp + skip : cp + skip + 1] == "{":
            text, cp = self._curly(body, cp + skip, strip=False)
            return text, cp, cp < len(body)
        return body[cp:], len(body), False

    def _curly(self, body: str, at: int, strip: bool) -> tuple[str, int]:
        """mac_exp_extract_curly_payload(): the text inside balanced braces at ``at``, and the
        position after the closing brace and the blanks after it."""
        level, cp = 1, at + 1
        start = cp
        if strip:
            while start < len(body) and body[start] in _WHITESPACE:
                start += 1
            cp = start
        while True:
            if cp >= len(body):
                raise _Error(f'unbalanced {{}} in attribute expression: "{body[at:]}"')
            if body[cp] == "{":
                level += 1
            elif body[cp] == "}":
                level -= 1
                if level <= 0:
                    break
            cp += 1
        payload = body[start:cp]
        if strip:
            payload = payload.rstrip(" \t")
        cp += 1
        while cp < len(body) and body[cp] in _WHITESPACE:
            cp += 1
        return payload, cp

    def _relational(self, body: str, at: int, level: int) -> tuple[str, int]:
        """``{left} OP {right}``: "true" or "" (mac_exp_parse_relational)."""
        left, cp = self._curly(body, at, strip=False)
        length = 0
        while cp + length < len(body) and body[cp + length] in "<>!=?+-*/~&|%":
            length += 1
        operator = body[cp : cp + length]
        if operator not in _OPERATORS:
            raise _Error(
                f'"==" or "!=" or "<" or "<=" or ">=" or ">" expected at: '
                f'"...{left}}}>>>{body[cp:][:20]}"'
            )
        cp += length
        suffix = ""
        while cp < len(body) and body[cp].isalnum() and body[cp].isascii():
            suffix += body[cp]
            cp += 1
        if suffix and suffix != "level":
            raise _Error(f'bad operator suffix at: "...{operator}>>>{suffix}"')
        skip = len(body[cp:]) - len(body[cp:].lstrip(_WHITESPACE))
        if body[cp + skip : cp + skip + 1] != "{":
            raise _Error(
                f'"{{expression}}" expected at: "...{{{left}}} {operator}>>>{body[cp:][:20]}"'
            )
        right, cp = self._curly(body, cp + skip, strip=False)
        a, b = self._sub(left, level), self._sub(right, level)
        if suffix == "level":
            la, lb = _compat_level(a), _compat_level(b)
            if la is None or lb is None:
                bad = a if la is None else b
                raise _Error(f'malformed compatibility level syntax: "{bad}"')
            delta = (la > lb) - (la < lb)
        elif a.isdigit() and b.isdigit() and a.isascii() and b.isascii():
            # mac_exp_eval(): alldig() on both, then atol_or_die() on the left, the right
            for number in (a, b):
                if not _fits_long(number):
                    raise _Fatal(f"mac_exp_eval: bad conversion: {number}")
            delta = (int(a) > int(b)) - (int(a) < int(b))
        else:
            ea, eb = a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
            delta = (ea > eb) - (ea < eb)  # strcmp(): bytes, unsigned
        true = {
            "==": delta == 0,
            "!=": delta != 0,
            "<": delta < 0,
            "<=": delta <= 0,
            ">=": delta >= 0,
            ">": delta > 0,
        }[operator]
        return ("true" if true else ""), cp

    def _sub(self, text: str, level: int) -> str:
        """An operand of a comparison, expanded on its own (mac_expand() of it)."""
        inner = _Expander(self.lookup, self.recurse, self.result)
        inner._parse(text, level)  # an error goes on up: the whole expansion stops
        return "".join(inner.out)
