"""smtpd's restriction lists as smtpd_check.c reads them, each item traced to where it is written.

smtpd reads a list's value with ``$name`` expanded and splits it with mystrtokq() at commas
and blanks, braces kept (smtpd_check_parse()); no ``#`` is special there.  A restriction that
takes an argument (``check_client_access type:table``, ``reject_rbl_client zone``) takes
the next word, whatever it is.  A word that names a class of smtpd_restriction_classes
(looked up case-sensitively, after the built-in restrictions: generic_checks()) stands for
that class's own list, which smtpd_check_init() parsed from the parameter of the same name.

Every item keeps the place it comes from: the main.cf entry or ``-o`` override whose value
holds it, and its span there when the word is written literally (a word produced by
expanding ``$name`` points at the entry of ``name`` when that is a plain list reference,
otherwise at the word that expanded to it).
"""

from __future__ import annotations

import attrs

from ..expand import expand
from ..kb import Version, load_table, parse_version
from ..model import Override, Parameter, Span
from ..values import ISSPACE, Token, split_list
from .configuration import Configuration, Origin
from .endpoints import extpar, split_nameval

#: smtpd's lists in the order it evaluates them (with smtpd_delay_reject = yes, the default,
#: the client, helo and sender lists run at RCPT TO, before the relay and recipient lists).
LISTS = (
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
)

#: The other list smtpd_check_init() parses when smtpd starts (it is evaluated for ETRN only).
ETRN_LIST = "smtpd_etrn_restrictions"

#: The kinds of argument the knowledge base gives restrictions that take the next word.
_TAKES_ARGUMENT = ("table", "dns_zone", "policy_service", "time")

#: A class inside a class inside ...: smtpd follows them at run time without a limit; the
#: model stops here (a class that names itself would loop smtpd until its stack ends).
MAX_CLASS_DEPTH = 20


@attrs.frozen
class Written:
    """Where a word is written: the entry or override whose value holds it, and its span
    there (None when it cannot be placed exactly, e.g. inside a default)."""

    origin: Origin
    span: Span | None


@attrs.frozen
class Restriction:
    """One restriction of a list with its argument, where each is written, and the chain of
    restriction classes it was reached through (outermost first)."""

    name: str
    argument: str | None
    list_name: str
    index: int
    written: Written
    argument_written: Written | None = None
    classes: tuple[str, ...] = ()

    @property
    def lowered(self) -> str:
        return self.name.lower()

    @property
    def origin(self) -> Origin:
        return self.written.origin

    @property
    def text(self) -> str:
        return self.name if self.argument is None else f"{self.name} {self.argument}"


@attrs.frozen
class RestrictionList:
    """One list of one smtpd: its restrictions in order (classes not expanded: a class is a
    Restriction whose name is the class; :meth:`flattened` expands them)."""

    name: str
    items: tuple[Restriction, ...]
    #: where the list itself is written (None: the release's default)
    origin: Origin
    #: the class lists reachable from this one, by class name
    class_lists: dict[str, RestrictionList] = attrs.field(factory=dict, eq=False)

    @property
    def is_default(self) -> bool:
        return self.origin is None

    def flattened(self) -> tuple[Restriction, ...]:
        """The restrictions in evaluation order, each class replaced by its own list (items
        reached through a class carry its name in ``classes``)."""
        return tuple(self._flatten(self.items, ()))

    def _flatten(self, items: tuple[Restriction, ...], seen: tuple[str, ...]) -> list[Restriction]:
        result: list[Restriction] = []
        for item in items:
            inner = self.class_lists.get(item.name)
            if inner is None or item.name in seen or len(seen) >= MAX_CLASS_DEPTH:
                result.append(item)
                continue
            for sub in self._flatten(inner.items, (*seen, item.name)):
                result.append(attrs.evolve(sub, classes=(item.name, *sub.classes)))
        return result


def _override_span(override: Override, token: Token) -> Span | None:
    """Where ``token`` (offsets into the override's value) sits in master.cf, when the
    override is on one line and its value appears once in its text."""
    where = override.argument
    if where.line != where.end_line:
        return None
    at = override.text.find(override.value)
    if at < 0 or override.text.count(override.value) != 1:
        return None
    start = where.column + at + token.start
    return Span(where.line, start, where.line, start + len(token.text))


def _span(origin: Origin, token: Token) -> Span | None:
    if isinstance(origin, Parameter):
        return origin.item_span(token)
    if isinstance(origin, Override):
        return _override_span(origin, token)
    return None


def _plain_reference(text: str) -> str | None:
    """The name in a word that is only a reference: ``$name``, ``${name}``, ``$(name)``."""
    if not text.startswith("$"):
        return None
    body = text[1:]
    if len(body) > 2 and body[0] + body[-1] in ("{}", "()"):
        body = body[1:-1]
    if body and all(c.isalnum() or c == "_" for c in body):
        return body
    return None


class _Reader:
    """Reads the words of lists in one configuration, with their places."""

    def __init__(self, config: Configuration) -> None:
        self.config = config

    def words(self, name: str, depth: int = 0, parens: str = "{}") -> list[tuple[str, Written]]:
        """The words of ``name``'s expanded value, each with where it is written (``parens``
        as for split_list: braces keep a word together unless told otherwise)."""
        raw = self.config.raw(name)
        if raw is None:
            return []
        origin = self.config.origin(name)
        result: list[tuple[str, Written]] = []
        for token in split_list(raw, parens=parens):
            if "$" not in token.text:
                result.append((token.text, Written(origin, _span(origin, token))))
                continue
            reference = _plain_reference(token.text)
            if reference is not None and depth < 20 and self.config.raw(reference) is not None:
                # a list made of other lists ($mua_client_restrictions): each word is
                # placed in the list that holds it
                result.extend(self.words(reference, depth + 1, parens))
                continue
            text = expand(token.text, self.config.raw).text
            place = Written(origin, _span(origin, token))
            result.extend((word.text, place) for word in split_list(text, parens=parens))
        return result


def words(config: Configuration, name: str, parens: str = "{}") -> list[tuple[str, Written]]:
    """The words of a list parameter (split at commas and blanks, ``parens`` keeping a word
    together), each with where it is written: for the lists smtpd reads besides its
    restriction lists (smtpd_milters, smtpd_restriction_classes...)."""
    return _Reader(config).words(name, parens=parens)


def read_list(
    config: Configuration, name: str, classes: frozenset[str] = frozenset()
) -> RestrictionList:
    """The restriction list ``name`` as smtpd reads it, its classes resolved from
    ``classes`` (the names in smtpd_restriction_classes)."""
    reader = _Reader(config)
    items = _bind(config, name, reader.words(name))
    found = RestrictionList(name, items, config.origin(name) if config.raw(name) else None)
    pending = [item.name for item in items if item.name in classes]
    while pending:
        class_name = pending.pop()
        if class_name in found.class_lists:
            continue
        class_items = _bind(config, class_name, reader.words(class_name))
        found.class_lists[class_name] = RestrictionList(
            class_name, class_items, config.origin(class_name)
        )
        pending.extend(item.name for item in class_items if item.name in classes)
    return found


def _bind(
    config: Configuration, list_name: str, words: list[tuple[str, Written]]
) -> tuple[Restriction, ...]:
    """Words to restrictions: a restriction that takes an argument takes the next word."""
    result: list[Restriction] = []
    i = 0
    while i < len(words):
        text, written = words[i]
        info = config.kb.restriction(text)
        takes = info.get("argument", "none") if info else "none"
        argument: str | None = None
        argument_written: Written | None = None
        if takes in _TAKES_ARGUMENT and i + 1 < len(words):
            argument, argument_written = words[i + 1]
            i += 1
        result.append(
            Restriction(text, argument, list_name, len(result), written, argument_written)
        )
        i += 1
    return tuple(result)


@attrs.frozen
class RestrictionClass:
    """A name listed in smtpd_restriction_classes, where it is listed, and the list it
    stands for: None when smtpd finds no definition (smtpd_check_init() looks the name up
    with mail_conf_lookup_eval(): no parameter of that name, or one that expands to
    nothing, stops smtpd with "restriction class `%s' needs a definition")."""

    name: str
    written: Written
    definition: RestrictionList | None


def read_classes(config: Configuration) -> tuple[RestrictionClass, ...]:
    """Every name of smtpd_restriction_classes (split with mystrtok: no braces), in order."""
    names = restriction_classes(config)
    found = []
    for name, written in words(config, "smtpd_restriction_classes", "\0\0"):
        definition = read_list(config, name, names) if config.value(name) else None
        found.append(RestrictionClass(name, written, definition))
    return tuple(found)


def restriction_classes(config: Configuration) -> frozenset[str]:
    """The names of smtpd_restriction_classes (split with mystrtok at commas and blanks)."""
    value = config.value("smtpd_restriction_classes")
    if not value:
        return frozenset()
    return frozenset(token.text for token in split_list(value, parens="\0\0"))


def _extpar_strip(text: str) -> tuple[str, str | None]:
    """util/extpar.c with EXTPAR_FLAG_STRIP: :func:`extpar`'s reading, the inside trimmed."""
    inside, problem = extpar(text)
    return inside.strip(ISSPACE), problem


def ccert_table_problem(argument: str, version: Version) -> tuple[str, bool] | None:
    """What check_ccert_access makes of a ``{ type:name, { search_order = ... } }`` argument
    (global/map_search.c, map_search_create(), 3.5 and later; facts in rules/smtpd.toml):
    None when it works, else Postfix's complaint and whether it hits only clients that
    present a certificate (a search name check_ccert_access() does not handle) rather than
    every client that reaches it (no table at all)."""
    facts = load_table("smtpd").get("ccert_search", {})
    since = parse_version(str(facts.get("since", "3.5")))
    if not argument.startswith("{") or version[:2] < since[:2]:
        return None
    inside, problem = _extpar_strip(argument)
    if problem is not None:
        return f"malformed map specification: '{problem}'", False
    items = split_list(inside)
    if not items:
        return f"empty map specification: '{argument}'", False
    if ":" not in items[0].text:
        return f"expected maptype:mapname instead of '{items[0].text}'", False
    search: list[str] = []
    for token in items[1:]:
        text = token.text
        if text.startswith("{"):
            text, problem = _extpar_strip(text)
            if problem is not None:
                return f"malformed map attribute: {problem}", False
        pair = split_nameval(text)
        if isinstance(pair, str):
            return f"malformed map attribute in '{argument}': '{pair}'", False
        name, value = pair
        if name.lower() != "search_order":
            return f"unknown map attribute in '{argument}': '{name}'", False
        search = [t.text for t in split_list(value, parens="\0\0")]
    names = [str(n) for n in facts.get("names", [])]
    for word in search:
        if word not in names:
            return f"unknown search type '{word}' in '{argument}'", False
    supported = [str(n) for n in facts.get("supported", [])]
    for word in search:
        if word not in supported:
            return f"unexpected action '{word}' in '{argument}'", True
    return None


def _ip_tokens(text: str) -> list[tuple[str, int]]:
    """util/ip_match.c ip_match_next_token(): ("n", value) for a decimal octet, ("err", 0)
    for a number above 255, (character, 0) for anything else; ("", 0) at the end."""
    tokens: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        if text[i].isascii() and text[i].isdigit():
            start = i
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                i += 1
            value = int(text[start:i])
            tokens.append(("n", value) if value <= 255 else ("err", 0))
        else:
            tokens.append((text[i], 0))
            i += 1
    return tokens


def ip_pattern_error(pattern: str) -> str | None:
    """What util/ip_match.c ip_match_parse() says of an IPv4 reply filter such as
    ``127.0.0.[2..11]`` (the part after ``=`` of a DNS list argument), or None."""
    if pattern.startswith("["):
        level, end = 0, -1
        for index, ch in enumerate(pattern):
            if ch == "[":
                level += 1
            elif ch == "]":
                level -= 1
                if level == 0:
                    end = index
                    break
        if end < 0:
            return 'missing "]" character'
        if end == len(pattern) - 1:
            pattern = pattern[1:-1]
    if not pattern:
        return "empty address pattern"
    tokens = iter(_ip_tokens(pattern))

    def take() -> tuple[str, int]:
        return next(tokens, ("", 0))

    for octet in range(4):
        kind, _ = take()
        if kind == "[":
            while True:
                kind, low = take()
                if kind != "n":
                    return "need decimal number 0..255"
                ahead = take()
                if ahead[0] == ".":
                    dot, (kind, high) = take(), take()
                    if dot[0] != "." or kind != "n" or low > high:
                        return "numeric range error"
                    ahead = take()
                if ahead[0] == ";":
                    continue
                if ahead[0] != "]":
                    return 'need ";" or "]"'
                break
        elif kind != "n":
            return 'need decimal number 0..255 or "["'
        if octet == 3:
            return "garbage after pattern" if take()[0] else None
        if take()[0] != ".":
            return 'need "."'
    return None
