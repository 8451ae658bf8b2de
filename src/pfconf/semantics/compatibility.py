"""What compatibility_level changes: the defaults a configuration gets from its level, and
which of them a higher level would change.

Postfix 3.x writes the defaults that depend on the level as expressions of
``$compatibility_level`` (``${{$compatibility_level} <level {2} ? {subnet} : {host}}``), which
the knowledge base holds per release; mail_params.c (check_legacy_defaults()) logs "using
backwards-compatible default setting" for each one left at a legacy value.  Nothing here
reports; PAR013 asks.
"""

from __future__ import annotations

from ..expand import _compat_level
from .configuration import Configuration


def parse(text: str) -> tuple[int, int, int] | None:
    """A level as compat_level_from_string() reads it (``3.6`` is (3, 6, 0)); None when
    Postfix calls it malformed."""
    return _compat_level(text.strip())


def level(config: Configuration) -> tuple[int, int, int] | None:
    """compatibility_level as Postfix reads it (``0`` when it is not set); None when Postfix
    cannot read it, or the release has no levels (before 3.0)."""
    value = config.value("compatibility_level")
    return None if value is None else parse(value)


def with_level(config: Configuration, value: str) -> Configuration:
    """``config`` (main.cf's view) as it would read with ``compatibility_level = value``."""
    changed = Configuration(config.main, config.master, config.version, config.runtime,
                            config.hostname)  # fmt: skip
    changed._defined["compatibility_level"] = value
    return changed


def level_dependent(config: Configuration) -> tuple[str, ...]:
    """The parameters whose default in the target release depends on compatibility_level."""
    return config.kb.defaults_mentioning("compatibility_level", config.version)


def changes(config: Configuration, value: str) -> tuple[str, ...]:
    """The parameters left at their default whose value would change if compatibility_level
    were ``value``: what this configuration keeps of an older level's defaults."""
    other = with_level(config, value)
    return tuple(
        name
        for name in level_dependent(config)
        if not config.is_set(name) and config.value(name) != other.value(name)
    )
