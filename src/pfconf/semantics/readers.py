"""Which Postfix program reads which main.cf parameter, by release (rules/readers.toml, which
tools/gen_readers.py derives from the configuration tables each program's code reaches).

It answers from that data alone; whether a daemon also reads a name through ``$name`` in a
value it reads is Daemon.reads()'s question (semantics.services), which asks this module.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import attrs

from ..kb import Version, load_table, parse_version

#: The reader every daemon is: the names mail_params_init() and the skeletons read.
EVERY = "*"


@attrs.frozen
class Reader:
    """One word of a parameter's readers: ``program`` (or EVERY) reads it from ``since``
    (None: from its first release) up to, not including, ``until`` (None: still)."""

    program: str
    since: Version | None = None
    until: Version | None = None

    def covers(self, version: Version) -> bool:
        release = version[:2]
        return (self.since is None or release >= self.since) and (
            self.until is None or release < self.until
        )


def _reader(word: str) -> Reader:
    """``PROGRAM``, ``PROGRAM@X.Y``, ``PROGRAM@X.Y..U.V`` or ``PROGRAM..U.V``."""
    head, _, until = word.partition("..")
    program, _, since = head.partition("@")
    return Reader(
        program,
        parse_version(since)[:2] if since else None,
        parse_version(until)[:2] if until else None,
    )


@functools.cache
def _parameters() -> dict[str, tuple[Reader, ...]]:
    table = load_table("readers").get("parameters", {})
    return {name: tuple(_reader(w) for w in words) for name, words in table.items()}


@functools.cache
def _table(section: str) -> dict[str, object]:
    """One section of rules/readers.toml (read once; callers do not change it)."""
    return dict(load_table("readers").get(section, {}))


def readers(name: str, version: Version) -> frozenset[str] | None:
    """The programs that read ``name`` in release ``version`` (EVERY: every daemon); None
    when the data does not know the name, or names no reader in that release."""
    found = _parameters().get(name)
    if found is None:
        return None
    programs = frozenset(r.program for r in found if r.covers(version))
    return programs or None


def known_program(program: str) -> bool:
    """Whether the data speaks of ``program`` (a Postfix daemon or command)."""
    return program in _table("programs")


def kind(program: str) -> str | None:
    """``daemon`` (master.cf runs it), ``master`` or ``command``; None for a program the
    data does not know."""
    value = _table("programs").get(program)
    return str(value) if value is not None else None


def open_ended(program: str) -> bool:
    """Whether ``program`` also reads parameters the configuration names (bounce: its
    templates' ``$name``), so that not reading a name by name proves nothing."""
    return program in _table("open")


def _dynamic(program: str, name: str, service: str | None) -> bool:
    """Whether ``name`` is one the program builds at run time: ``*_suffix`` for any
    transport (qmgr), ``{service}_suffix`` for its own service's name (pipe, spawn)."""
    patterns = _table("dynamic").get(program, [])
    for pattern in patterns if isinstance(patterns, list) else ():
        prefix, _, suffix = str(pattern).partition("_")
        suffix = "_" + suffix
        if not name.endswith(suffix) or len(name) == len(suffix):
            continue
        if prefix == "*" or (prefix == "{service}" and service == name[: -len(suffix)]):
            return True
    return False


def reads(program: str, name: str, version: Version, service: str | None = None) -> bool | None:
    """Whether ``program`` reads parameter ``name`` in release ``version`` (its own
    master.cf service ``service``, for the names a program builds from it): True or False;
    None when the data knows the program or the name not, or the program reads names the
    configuration chooses (bounce) and does not read this one by name."""
    if not known_program(program):
        return None
    if _dynamic(program, name, service):
        return True
    found = readers(name, version)
    if found is None:
        return None
    if EVERY in found or program in found:
        return True
    return None if open_ended(program) else False


def read_by_any(name: str, version: Version, programs: Iterable[str]) -> bool | None:
    """Whether one of ``programs`` (the daemons that run) or a program that always may run
    (master, and the commands people and scripts start: sendmail, postdrop...) reads
    ``name``; None when the data does not know the name."""
    found = readers(name, version)
    if found is None:
        return None
    running = set(programs)
    kinds = _table("programs")
    return any(p == EVERY or p in running or kinds.get(p) in ("master", "command") for p in found)


def who(name: str, version: Version) -> list[str]:
    """The programs that read ``name`` in ``version``, in a stable order, for messages
    (EVERY left out: such a name is read everywhere)."""
    found = readers(name, version) or frozenset()
    return sorted(p for p in found if p != EVERY)
