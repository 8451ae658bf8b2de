"""The knowledge base in rules/: Postfix parameters and restrictions by version, as data.

Loaded once per process from the TOML files that tools/ generate; rules ask it questions
(is this name known in 3.9? what replaced it?) and never hard-code Postfix facts.
"""

from __future__ import annotations

import functools
from typing import Any

from . import _toml as tomllib
from .cache import cached
from .resources import rules_dir
from .spelling import NameIndex, closest

Version = tuple[int, ...]


@functools.lru_cache(maxsize=1024)
def parse_version(text: str) -> Version:
    """``"3.9"`` -> (3, 9); ``"3.7.11"`` -> (3, 7, 11).  ValueError for anything else.

    Remembered: the knowledge base's versions are a few dozen strings, asked thousands of
    times a lint."""
    parts = text.strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a Postfix version: {text!r}")
    return tuple(int(p) for p in parts)


def version_text(version: Version) -> str:
    return ".".join(str(p) for p in version)


@functools.cache
def load_table(name: str) -> dict[str, Any]:
    """One TOML file of rules/ (``parameters``, ``restrictions``, ``dnsbl``...), or {} if absent.

    Read when first asked for, and from pfconf.cache when that holds these very bytes."""
    path = rules_dir() / f"{name}.toml"
    try:
        source = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return {}
    return cached(f"kb-{name}", source, lambda: tomllib.loads(source.decode("utf-8")))


@functools.cache
def newest_version() -> Version:
    """The newest Postfix release the knowledge base describes."""
    # Asked each time a KnowledgeBase is made, which the editor does for every list item.
    versions = load_table("parameters").get("meta", {}).get("postfix_versions", [])
    return max((parse_version(v) for v in versions), default=(3, 12))


class _Answers:
    """Answers worked out from one parameters table, for every KnowledgeBase over it: a lint
    asks thousands of times (every default of every service's view, and each view makes its
    own KnowledgeBase)."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters  # held, so that its id is not reused while this lives
        self.known: dict[tuple[str, Version], bool] = {}
        self.defaults: dict[tuple[str, Version], str | None] = {}
        self.names: dict[Version, tuple[str, ...]] = {}
        self.mentioning: dict[tuple[str, Version], tuple[str, ...]] = {}
        self.name_indexes: dict[Version, NameIndex] = {}
        self.hints: dict[tuple[str, Version, float], str | None] = {}


_ANSWERS: dict[int, _Answers] = {}


def _answers(parameters: dict[str, Any]) -> _Answers:
    found = _ANSWERS.get(id(parameters))
    if found is None or found.parameters is not parameters:
        found = _ANSWERS[id(parameters)] = _Answers(parameters)
    return found


class KnowledgeBase:
    """Questions about parameters and restrictions, answered for a target Postfix version."""

    def __init__(self, target: Version | None = None) -> None:
        self.parameters: dict[str, dict[str, Any]] = load_table("parameters").get("parameters", {})
        self.restrictions: dict[str, dict[str, Any]] = load_table("restrictions").get(
            "restrictions", {}
        )
        self.target = target or self.newest
        # Built on first use and kept: pflint asks for a hint once per unknown name, and
        # rebuilding them each time made a lint run cost (unknown names) x (known names).
        self._restriction_index: NameIndex | None = None
        self._answers = _answers(self.parameters)

    @property
    def newest(self) -> Version:
        return newest_version()

    def parameter(self, name: str) -> dict[str, Any] | None:
        return self.parameters.get(name)

    def known(self, name: str, version: Version | None = None) -> bool:
        """Whether Postfix ``version`` (default: the target) knows the parameter ``name``."""
        key = (name, (version or self.target)[:2])
        known = self._answers.known
        found = known.get(key)
        if found is None:
            found = known[key] = self._knows(name, version)
        return found

    def _knows(self, name: str, version: Version | None) -> bool:
        info = self.parameters.get(name)
        if info is None:
            return False
        version = version or self.target
        introduced = parse_version(info.get("introduced", "2.0"))
        if version[:2] < introduced[:2] and introduced > (2, 0):
            return False
        removed = info.get("removed")
        return not (removed and version[:2] >= parse_version(removed)[:2])

    def compiled_default(self, name: str, version: Version | None = None) -> str | None:
        """The default that Postfix ``version`` (default: the target) compiles in for
        ``name``, from the newest patch release of that x.y; None when the release computes
        it at run time (``myhostname``, ``mynetworks``) or does not know the parameter."""
        key = (name, (version or self.target)[:2])
        defaults = self._answers.defaults
        if key not in defaults:
            defaults[key] = self._compiled_default(name, version)
        return defaults[key]

    def _compiled_default(self, name: str, version: Version | None) -> str | None:
        info = self.parameters.get(name)
        if info is None:
            return None
        version = (version or self.target)[:2]
        current: dict[str, str] | None = None
        for change in info.get("defaults", ()):
            if parse_version(change["since"])[:2] <= version:
                current = change
        return None if current is None else current.get("value")

    def _step(self, name: str, key: str, version: Version | None) -> list[dict[str, Any]]:
        """The entries of the per-release list ``key`` of ``name`` that hold for ``version``
        (default: the target): those of the newest ``since`` at or before it."""
        info = self.parameters.get(name) or {}
        version = (version or self.target)[:2]
        chosen: str | None = None
        for step in info.get(key, ()):
            if parse_version(step["since"])[:2] <= version:
                chosen = step["since"]
        return [step for step in info.get(key, ()) if step["since"] == chosen]

    def choices(self, name: str, version: Version | None = None) -> list[str] | None:
        """The words a single-choice parameter accepts in Postfix ``version`` (default: the
        target), from the name table its program looks the value up in; None when the
        knowledge base has no list for that release."""
        info = self.parameters.get(name) or {}
        if "choices" not in info:
            values = info.get("values")
            return [str(v) for v in values] if info.get("kind") == "enum" and values else None
        steps = self._step(name, "choices", version)
        return [str(v) for v in steps[0]["values"]] if steps and "values" in steps[0] else None

    def words(self, name: str, version: Version | None = None) -> list[str] | None:
        """The words a set-valued parameter (notify_classes, ...) may list in Postfix
        ``version`` (default: the target); None when it is not such a parameter there."""
        steps = self._step(name, "words", version)
        return [str(v) for v in steps[0]["values"]] if steps and "values" in steps[0] else None

    def inert_words(self, name: str, version: Version | None = None) -> list[str]:
        """The words of a set-valued parameter that its name table maps to no bit in Postfix
        ``version`` (default: the target): accepted, but they change nothing.  Listed only
        where a value of such words alone has an effect of its own (``none_set``)."""
        steps = self._step(name, "words", version)
        return [str(v) for v in steps[0].get("inert", ())] if steps else []

    def limits(self, name: str, version: Version | None = None) -> list[dict[str, Any]]:
        """The limits that the programs reading ``name`` put on its value in Postfix
        ``version`` (default: the target): ``{"program", "min", "max"}`` each, a missing
        min or max meaning none; for text the limits are on its length."""
        return [s for s in self._step(name, "limits", version) if "program" in s]

    def names(self, version: Version | None = None) -> list[str]:
        """Every parameter name Postfix ``version`` (default: the target) knows."""
        version = version or self.target
        names = self._answers.names
        if version not in names:
            names[version] = tuple(n for n in self.parameters if self.known(n, version))
        return list(names[version])

    def defaults_mentioning(self, word: str, version: Version | None = None) -> tuple[str, ...]:
        """The parameters whose default in Postfix ``version`` (default: the target) has
        ``word`` in it (``compatibility_level``: the defaults that depend on it)."""
        key = (word, version or self.target)
        found = self._answers.mentioning.get(key)
        if found is None:
            found = tuple(
                name
                for name in self.names(key[1])
                if word in (self.compiled_default(name, key[1]) or "")
            )
            self._answers.mentioning[key] = found
        return found

    def name_index(self, version: Version | None = None) -> NameIndex:
        """:meth:`names` indexed for close-spelling lookups (pfconf.spelling)."""
        version = version or self.target
        indexes = self._answers.name_indexes
        if version not in indexes:
            indexes[version] = NameIndex(self.names(version))
        return indexes[version]

    def close_parameter(self, name: str, cutoff: float = 0.88) -> str | None:
        """The known parameter name that ``name`` most likely misspells, or None."""
        # remembered: a lint asks for every unknown name, and an editor lints again on
        # every change, asking for the same names
        key = (name, self.target, cutoff)
        hints = self._answers.hints
        if key not in hints:
            if len(hints) >= 65536:
                hints.clear()
            hints[key] = closest(name, [self.name_index()], cutoff)
        return hints[key]

    def close_restriction(self, name: str, cutoff: float = 0.8) -> str | None:
        """The known restriction that ``name`` (compared in lower case) most likely misspells."""
        if self._restriction_index is None:
            self._restriction_index = NameIndex(self.restrictions)
        return closest(name.lower(), [self._restriction_index], cutoff)

    def restriction(self, name: str) -> dict[str, Any] | None:
        return self.restrictions.get(name.lower())

    # -- one status per parameter and release; what mail_params_init() checks ------------------

    def status(self, name: str, version: Version | None = None) -> str:
        """What Postfix ``version`` (default: the target) makes of the parameter ``name``, one
        word for each release: ``unknown`` (no Postfix release has it), ``future`` (a later
        release adds it), ``removed`` (postconf calls it unused), ``ignored`` (still known,
        without effect), ``deprecated`` (still read; postconf warns) or ``current``."""
        info = self.parameters.get(name)
        if info is None:
            return "unknown"
        version = (version or self.target)[:2]
        introduced = parse_version(info.get("introduced", "2.0"))
        if introduced > (2, 0) and version < introduced[:2]:
            return "future"
        for status in ("removed", "ignored", "deprecated"):
            since = info.get(status)
            if since and version >= parse_version(str(since))[:2]:
                return status
        return "current"

    def startup_check(self, name: str, version: Version | None = None) -> str | None:
        """How every Postfix program checks ``name`` when it starts (rules/startup.toml:
        ``number``, ``boolean``, ``time``, ``hostname``, ``one_word``,
        ``compatibility_level`` or ``choice``); None when mail_params_init() does not."""
        entry = load_table("startup").get("parameters", {}).get(name)
        if entry is None:
            return None
        version = (version or self.target)[:2]
        if version < parse_version(entry["since"])[:2]:
            return None
        until = entry.get("until")
        if until and version >= parse_version(until)[:2]:
            return None
        return str(entry["check"])

    def startup_checked(self, version: Version | None = None) -> tuple[str, ...]:
        """Every parameter that mail_params_init() checks in Postfix ``version``."""
        names = load_table("startup").get("parameters", {})
        return tuple(n for n in names if self.startup_check(n, version) is not None)

    def compatibility_level(self, version: Version | None = None) -> str | None:
        """The compatibility level Postfix ``version`` (default: the target) is current at
        (its LAST_COMPAT_LEVEL); None before Postfix 3.0, which has no levels."""
        levels = load_table("parameters").get("compatibility", {}).get("levels", {})
        version = (version or self.target)[:2]
        current = None
        for release, level in sorted(levels.items(), key=lambda kv: parse_version(kv[0])):
            if parse_version(release)[:2] <= version:
                current = str(level)
        return current
