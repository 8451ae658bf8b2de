"""What a daemon master.cf runs makes of its command line, and what the program demands of it.

master(8) starts ``$daemon_directory/command`` with its own options first (``-n``, ``-t``,
``-l``, ``-z``, ``-u``, ``-c``...; master_ent.c, get_master_ent), then the words of the
entry after the command, each ``{ ... }`` word without its braces from Postfix 3.0.  The
daemon's server skeleton (master/*_server.c, *_server_main) reads them all with getopt and
its own option letters: ``-o name=value`` goes into its copy of main.cf, and the other
letters that take a value (``-n name``, ``-t type``, ``-s count``...) take one too.

postconf reads the same line differently (postconf_master.c: only ``-o`` takes a value, and a
lone ``-`` takes the next word), and ``postconf -P`` shows the overrides of that reading;
pfconf.model's Service.overrides mirrors it, for ``pfedit show`` and the editor.  Where the two
differ (``smtpd -n name -o x=y``: postconf stops at ``name``; ``- x -o y=z``: the daemon stops
at ``-``), the running Postfix is the daemon's reading, and the model uses it.

The facts about each program (its skeleton, the skeleton's getopt letters by release, the
process limit, privilege and arguments it demands) are in rules/daemons.toml.
"""

from __future__ import annotations

import functools
import posixpath
from typing import Any

import attrs

from .._shared import ByIdentity
from ..kb import Version, load_table, parse_version
from ..model import Override, Service, Span, split_nameval
from ..values import strip_braces


@attrs.frozen
class Program:
    """What rules/daemons.toml says of one program, for a target release."""

    name: str
    #: the getopt string of its server skeleton (a letter followed by ``:`` takes a value)
    letters: str
    #: the process limit its skeleton demands (1 or 0), None when it accepts any
    process_limit: int | None
    #: whether it must run as root (``n`` in the unprivileged column)
    privileged: bool
    #: what may follow its options: ``any``, ``none`` (its service function stops at the first
    #: plain argument) or ``flags`` (only ``flags=...`` words, of ``flag_letters``)
    arguments: str
    flag_letters: str
    source: str


def _since(version: Version, release: str | None) -> bool:
    return release is not None and version[:2] >= parse_version(release)[:2]


@functools.cache
def program(name: str, version: Version) -> Program | None:
    """The facts about program ``name`` in release ``version``; None for a program
    rules/daemons.toml does not know (a third-party command, a typo)."""
    table = load_table("daemons")
    info: dict[str, Any] | None = table.get("daemons", {}).get(name)
    if info is None:
        return None
    letters = None
    for step in table.get("skeletons", {}).get(info["skeleton"], {}).get("getopt", ()):
        if _since(version, step["since"]):
            letters = str(step["options"])
    if letters is None:
        return None  # the skeleton is newer than the target release
    limit = info.get("process_limit")
    arguments = "any"
    if _since(version, info.get("flags_since")):
        arguments = "flags"
    elif _since(version, info.get("no_arguments_since")):
        arguments = "none"
    return Program(
        name,
        letters,
        int(limit) if limit is not None and _since(version, info.get("process_limit_since"))
        else None,
        _since(version, info.get("privileged_since")),
        arguments,
        str(info.get("flag_letters", "")),
        str(info.get("source", "")),
    )  # fmt: skip


#: What postconf takes to have a value when it reads a command line (postconf_master.c,
#: pcf_daemon_options_expecting_value): the reading of a program pflint does not know.
POSTCONF_LETTERS = "o:"


@attrs.frozen
class Option:
    """One option the daemon's getopt reads: its letter, the index (in Service.arguments) of
    the word that holds it, and its value with the index of the word that holds that (the
    same word for ``-ovalue``)."""

    letter: str
    word: int
    value: str | None = None
    value_word: int | None = None


@attrs.frozen
class Refused:
    """An option letter the daemon stops on ("invalid option"): ``unknown``, or a letter that
    takes a value and has ``no value``."""

    letter: str
    word: int
    why: str


@attrs.frozen
class CommandLine:
    """A service's command arguments as its daemon reads them.

    ``words`` are the arguments as master passes them (braces stripped), indexed like
    Service.arguments (the first eight, the fields, are empty).  ``options`` are what getopt
    reads, in order; ``refused`` the letters it stops the daemon on (the skeleton's getopt
    loop ends in msg_fatal at the first one); ``plain`` the indexes of the words after the
    options (``--``, which getopt consumes, is not one of them); ``end`` the index of the
    first word that is not an option or an option's value (``--`` or the first plain
    word), len(words) when there is none.  ``known`` says whether the letters are the
    program's own, or postconf's reading for a program pflint does not know.
    """

    words: tuple[str, ...]
    options: tuple[Option, ...]
    refused: tuple[Refused, ...]
    plain: tuple[int, ...]
    end: int
    overrides: tuple[Override, ...]
    known: bool

    def has(self, letters: str) -> bool:
        """Whether any of ``letters`` is among the options read."""
        return any(option.letter in letters for option in self.options)

    @property
    def ends_at_dashes(self) -> bool:
        """Whether the options end at ``--`` (rather than at a plain word)."""
        return self.end < len(self.words) and self.end not in self.plain


def _sub(span: Span, start: int, end: int) -> Span:
    """Characters ``start:end`` of a word at ``span`` (the whole word when it spans lines)."""
    if span.line != span.end_line:
        return span
    return Span(span.line, span.column + start, span.line, span.column + end)


def command_line(service: Service, version: Version) -> CommandLine | None:
    """How the daemon of ``service`` reads its arguments in release ``version``; None when
    master itself refuses a word (a ``{`` without its ``}``, or text after it: MST011)."""
    # worked out once per service and release (services are shared: pfconf._shared)
    return _COMMAND_LINES.get(service, version, lambda: _command_line(service, version))


_COMMAND_LINES: ByIdentity[Service, CommandLine | None] = ByIdentity(4096)


def _command_line(service: Service, version: Version) -> CommandLine | None:
    facts = program(posixpath.basename(service.command), version)
    letters = facts.letters if facts is not None else POSTCONF_LETTERS
    arguments = service.arguments
    words: list[str] = [""] * min(8, len(arguments))
    for argument in arguments[8:]:
        text = argument.text
        if text.startswith("{") and version[:2] >= (3, 0):
            inside = strip_braces(text)
            if inside is None:
                return None
            text = inside
        words.append(text)
    return _getopt(service, tuple(words), letters, strict=facts is not None)


def _getopt(service: Service, words: tuple[str, ...], letters: str, strict: bool) -> CommandLine:
    """POSIX getopt with the "+" Postfix prepends (util/sys_defs.h, GETOPT): the options end
    at ``--`` (consumed) or at the first word that does not start with ``-`` or is ``-``.
    ``strict``: a letter outside ``letters`` is refused (else, for a program pflint does not
    know, it is taken for an option without a value)."""
    arguments = service.arguments
    options: list[Option] = []
    refused: list[Refused] = []
    overrides: list[Override] = []
    i = 8
    end = len(words)
    while i < len(words):
        text = words[i]
        if text == "--":
            end = i
            i += 1
            break
        if not text.startswith("-") or text == "-":
            end = i
            break
        j = 1
        while j < len(text):
            letter = text[j]
            at = letters.find(letter)
            if letter == ":" or at < 0:
                if strict:
                    refused.append(Refused(letter, i, "unknown"))
                else:
                    options.append(Option(letter, i))
                j += 1
                continue
            if not (at + 1 < len(letters) and letters[at + 1] == ":"):
                options.append(Option(letter, i))
                j += 1
                continue
            if j + 1 < len(text):
                option = Option(letter, i, text[j + 1 :], i)
                word_span = arguments[i].span
                value_span = _sub(word_span, j + 1, len(text))
                letter_span = _sub(word_span, j, j + 1) if j > 1 else _sub(word_span, 0, 2)
                written = arguments[i].text[j + 1 :]
                braced = False
            elif i + 1 < len(words):
                i += 1
                option = Option(letter, i - 1, words[i], i)
                word_span = arguments[i - 1].span
                letter_span = _sub(word_span, j, j + 1) if j > 1 else word_span
                value_span = arguments[i].span
                written = arguments[i].text
                braced = written.startswith("{") and written != words[i]
            else:
                refused.append(Refused(letter, i, "no value"))
                break
            options.append(option)
            if letter == "o" and option.value is not None:
                error, ns, ne, vs, ve = split_nameval(option.value)
                if error is None:
                    value = option.value
                    overrides.append(
                        Override(
                            value[ns:ne], value[vs:ve], letter_span, value_span, braced, written
                        )
                    )
            break
        i += 1
    plain = tuple(range(i, len(words)))
    return CommandLine(words, tuple(options), tuple(refused), plain, end, tuple(overrides), strict)
