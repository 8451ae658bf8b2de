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
from ..model import Override, Parameter, Span
from ..values import Token, split_list
from .configuration import Configuration, Origin

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

    def words(self, name: str, depth: int = 0) -> list[tuple[str, Written]]:
        """The words of ``name``'s expanded value, each with where it is written."""
        raw = self.config.raw(name)
        if raw is None:
            return []
        origin = self.config.origin(name)
        result: list[tuple[str, Written]] = []
        for token in split_list(raw):
            if "$" not in token.text:
                result.append((token.text, Written(origin, _span(origin, token))))
                continue
            reference = _plain_reference(token.text)
            if reference is not None and depth < 20 and self.config.raw(reference) is not None:
                # a list made of other lists ($mua_client_restrictions): each word is
                # placed in the list that holds it
                result.extend(self.words(reference, depth + 1))
                continue
            text = expand(token.text, self.config.raw).text
            place = Written(origin, _span(origin, token))
            result.extend((word.text, place) for word in split_list(text))
        return result


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


def restriction_classes(config: Configuration) -> frozenset[str]:
    """The names of smtpd_restriction_classes (split with mystrtok at commas and blanks)."""
    value = config.value("smtpd_restriction_classes")
    if not value:
        return frozenset()
    return frozenset(token.text for token in split_list(value, parens="\0\0"))
