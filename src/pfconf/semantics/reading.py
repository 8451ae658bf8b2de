"""How Postfix reads one parameter's value: as a match list, a checked word, a number, a
list of tables or restrictions, or free text; and each word of a match list traced to
where it is written.

This is what decides the effect of text a value was not meant to hold, such as a trailing
``# comment``: a match list ends there, a host name or a number becomes invalid, free text
keeps it.  Nothing here reports; rules ask.
"""

from __future__ import annotations

import attrs

from ..expand import expand
from ..values import split_list
from .configuration import Configuration
from .restrictions import Written, _span

#: How a value is read (see :func:`reading`).
MATCH_LIST = "match_list"
HOSTNAME = "hostname"
ONE_WORD = "one_word"
COMPATIBILITY_LEVEL = "compatibility_level"
NUMBER = "number"
BOOLEAN = "boolean"
TIME = "time"
CHOICE = "choice"
TABLES = "tables"
RESTRICTIONS = "restrictions"
TEXT = "text"

#: The knowledge base's kinds, as a reading.
_KINDS = {
    "boolean": BOOLEAN,
    "integer": NUMBER,
    "size": NUMBER,
    "time": TIME,
    "enum": CHOICE,
    "table_list": TABLES,
    "restriction_list": RESTRICTIONS,
}


def reading(config: Configuration, name: str) -> str:
    """How the programs that use ``name`` read its (expanded) value:

    - ``match_list``: split at commas and blanks up to a word that starts with ``#``
      (match_list_parse());
    - ``hostname``, ``one_word``, ``compatibility_level``: one word that
      mail_params_init() checks (valid_hostname(); no comma or blank; a level);
    - ``number``, ``boolean``, ``time``: the whole value, read by get_mail_conf_*(), which
      stops the program on anything else;
    - ``choice``: one of a fixed set of words;
    - ``tables``: ``type:name`` lookup tables, each word opened as one;
    - ``restrictions``: smtpd restrictions, each word one (or an argument);
    - ``text``: anything else, taken as it is.
    """
    if config.reads_as_match_list(name):
        return MATCH_LIST
    check = config.kb.startup_check(name, config.version)
    if check is not None:
        return check
    kind = (config.kb.parameter(name) or {}).get("kind")
    return _KINDS.get(str(kind), TEXT)


def checked_at_startup(config: Configuration, name: str) -> bool:
    """Whether every Postfix program, the ``postfix`` command included, reads and checks
    ``name`` when it starts (mail_params_init()): a value it refuses stops them all."""
    return config.kb.startup_check(name, config.version) is not None


def expands(config: Configuration, name: str) -> bool:
    """Whether Postfix expands ``$name`` in the value of ``name`` (not a raw parameter such
    as ``mailbox_command``, whose ``$EXTENSION`` is for the command)."""
    return not (config.kb.parameter(name) or {}).get("raw")


def boolean(value: str | None) -> bool | None:
    """A yes/no value as get_mail_conf_bool() (global/mail_conf_bool.c) reads it: ``yes`` or
    ``no`` in any case; None for anything else, which stops the program that reads it."""
    word = (value or "").lower()
    if word == "yes":
        return True
    if word == "no":
        return False
    return None


@attrs.frozen
class Word:
    """One word of a list, and where it is written: the word of the setting's own value
    that gives it (itself, or the ``$name`` that expands to it)."""

    text: str
    written: Written


@attrs.frozen
class PlacedMatchList:
    """A match list with every word placed: ``items`` are what Postfix matches, ``comment``
    the word starting with ``#`` that ends the list (None when there is none), ``dropped``
    what follows it, which Postfix ignores."""

    name: str
    items: tuple[Word, ...]
    comment: Word | None = None
    dropped: tuple[Word, ...] = ()


def placed_match_list(config: Configuration, name: str) -> PlacedMatchList | None:
    """``name`` read as a match list (:meth:`Configuration.match_list`), each word placed in
    the setting ``config`` takes the value from; None when the name has no value.

    A ``$name`` word of the value places every word it expands to at itself.  When placing
    word by word would read the list differently than expanding it whole does (a ``$(...)``
    split at a blank), every word is placed at the whole setting instead.
    """
    found = config.match_list(name)
    raw = config.raw(name)
    if found is None or raw is None:
        return None
    origin = config.origin(name)
    words: list[Word] = []
    for token in split_list(raw):
        written = Written(origin, _span(origin, token))
        if "$" not in token.text:
            words.append(Word(token.text, written))
            continue
        expansion = expand(token.text, config.raw)
        words.extend(Word(word.text, written) for word in split_list(expansion.text))
    value = config.value(name) or ""
    if [w.text for w in words] != [t.text for t in split_list(value)]:
        whole = Written(origin, None)
        words = [Word(t.text, whole) for t in split_list(value)]
    for index, word in enumerate(words):
        if word.text.startswith("#"):
            return PlacedMatchList(name, tuple(words[:index]), word, tuple(words[index + 1 :]))
    return PlacedMatchList(name, tuple(words))
