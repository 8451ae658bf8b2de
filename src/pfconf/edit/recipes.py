"""Recipes: reviewed change sets kept as data (rules/recipes/NAME.toml), applied idempotently.

A recipe file has ``[recipe]`` (name, summary, description), ``[options.NAME]`` (pfedit
apply's ``--NAME``) and ``[[steps]]``, each one small change with the reason it is made.
The file is read whole into typed objects (pfconf.edit.steps) before anything is applied:
an unknown key, a missing one or a value of the wrong type is refused with the file, the
step and its line.  This module reads, checks, explains and applies; it must not edit
files except through the steps.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .. import _toml
from ..errors import ReadError
from ..kb import Version
from ..resources import rules_dir
from .base import EditError
from .steps import (
    STEP_KINDS,
    Option,
    Outcome,
    RecipeError,
    Run,
    Step,
)
from .workspace import Workspace

#: Option names pfedit apply takes for itself (and ``config_directory``, which a default
#: may name): a recipe cannot declare them.
RESERVED_OPTIONS = frozenset(
    {"list", "explain", "recipe_file", "option", "postfix_version", "diff", "check", "backup",
     "help", "config_directory"}
)  # fmt: skip


@attrs.frozen(kw_only=True)
class _Head:
    """``[recipe]``."""

    name: str | None = None
    summary: str
    description: str = ""


@attrs.frozen(kw_only=True)
class Recipe:
    name: str
    summary: str
    description: str
    options: tuple[Option, ...]
    steps: tuple[Step, ...]
    path: str

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


def recipes_dir() -> Path:
    return rules_dir() / "recipes"


def builtin_recipes() -> list[str]:
    return sorted(p.stem for p in recipes_dir().glob("*.toml"))


def find_recipe(name_or_path: str) -> Path:
    """The file of a built-in recipe by name, or a recipe file by path."""
    path = Path(name_or_path)
    # Whatever is at the path but a directory is the recipe file: a FIFO or a dangling link
    # is refused by the reader rather than taken for the name of a built-in recipe.
    if not os.path.lexists(path) or path.is_dir():
        path = recipes_dir() / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(builtin_recipes())
            raise RecipeError(f"no recipe {name_or_path!r} (built in: {known})")
    return path


def load_recipe(name_or_path: str) -> Recipe:
    """A built-in recipe by name, or a recipe file by path, read and checked whole."""
    path = find_recipe(name_or_path)
    try:
        text, data = _toml.load_file_text(str(path))
    except ReadError as exc:
        raise RecipeError(str(exc)) from None
    return _Reader(str(path), text).recipe(data)


# -- reading ---------------------------------------------------------------------------------


class _Problem(Exception):
    """Something wrong in a recipe file: the message, and the TOML key it is about."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


_STEP_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*steps[ \t]*\]\][ \t]*(#.*)?$")
_HEADER = re.compile(r"^[ \t]*\[")


class _Reader:
    """Builds a Recipe from the TOML of ``path``; ``text`` finds the lines it names (cheaply:
    the n-th ``[[steps]]`` header line is step n's, when the count agrees)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        headers = [i + 1 for i, line in enumerate(self.lines) if _STEP_HEADER.match(line)]
        self.step_lines = headers

    def _step_line(self, number: int, count: int, key: str | None) -> int:
        if len(self.step_lines) != count or not 1 <= number <= count:
            return 0
        start = self.step_lines[number - 1]
        if key is None:
            return start
        end = self.step_lines[number] - 1 if number < count else len(self.lines)
        name = key.split("[")[0].split(".")[0]
        pattern = re.compile(
            rf"^[ \t]*(\[[ \t]*steps[ \t]*\.[ \t]*{re.escape(name)}[ \t]*\]|{re.escape(name)}[ \t]*=)"
        )
        for index in range(start, end):
            if pattern.match(self.lines[index]):
                return index + 1
        return start

    def _table_line(self, table: str, key: str | None) -> int:
        """The line of ``[table]`` (``options.cert``), or of ``key =`` under it."""
        parts = [re.escape(p) for p in table.split(".")]
        head = re.compile(r"^[ \t]*\[[ \t]*" + r"[ \t]*\.[ \t]*".join(parts) + r"[ \t]*\]")
        for index, line in enumerate(self.lines):
            if head.match(line):
                if key is not None:
                    for after in range(index + 1, len(self.lines)):
                        if _HEADER.match(self.lines[after]):
                            break
                        if re.match(rf"^[ \t]*{re.escape(key)}[ \t]*=", self.lines[after]):
                            return after + 1
                return index + 1
        return 0

    def _error(self, line: int, where: str, message: str) -> RecipeError:
        place = f"{self.path}:{line}" if line else self.path
        return RecipeError(f"{place}: {where}{': ' if where else ''}{message}")

    def recipe(self, data: dict[str, Any]) -> Recipe:
        for key in data:
            if key not in ("recipe", "options", "steps"):
                raise self._error(
                    self._table_line(key, None), "", f"unknown table {key!r} (a recipe has "
                    "[recipe], [options.NAME] and [[steps]])",
                )  # fmt: skip
        if not isinstance(data.get("recipe"), dict):
            raise self._error(0, "", "no [recipe] table (its summary, name and description)")
        try:
            head = build(_Head, data["recipe"], "[recipe]")
        except _Problem as exc:
            raise self._error(self._table_line("recipe", exc.key), "[recipe]", str(exc)) from None
        options = self._options(data.get("options", {}))
        known = {o.name: o for o in options}
        raw_steps = data.get("steps", [])
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self._error(0, "", "no [[steps]]: a recipe changes something")
        steps = tuple(
            self._step(number, raw, len(raw_steps), known)
            for number, raw in enumerate(raw_steps, 1)
        )
        return Recipe(
            name=head.name or Path(self.path).stem,
            summary=head.summary,
            description=head.description.strip(),
            options=options,
            steps=steps,
            path=self.path,
        )

    def _options(self, table: Any) -> tuple[Option, ...]:
        if not isinstance(table, dict):
            raise self._error(0, "options", "expected [options.NAME] tables")
        options = []
        for name, spec in table.items():
            where = f"[options.{name}]"
            try:
                if not isinstance(spec, dict):
                    raise _Problem(f"expected a table, got {_got(spec)}")
                option = build(Option, spec, where, name=name)
                for problem in option.problems():
                    raise _Problem(problem)
                if name in RESERVED_OPTIONS:
                    raise _Problem(f"{option.flag} is pfedit apply's own option")
                if option.secret and f"{name}_file" in table:
                    raise _Problem(f"{option.flag}-file reads this secret option")
            except _Problem as exc:
                line = self._table_line(f"options.{name}", exc.key)
                raise self._error(line, where, str(exc)) from None
            options.append(option)
        return tuple(options)

    def _step(self, number: int, raw: Any, count: int, options: Mapping[str, Option]) -> Step:
        action = raw.get("action") if isinstance(raw, dict) else None
        where = f"step {number}" + (f" ({action})" if isinstance(action, str) else "")
        try:
            if not isinstance(raw, dict):
                raise _Problem(f"expected a table, got {_got(raw)}")
            if "action" not in raw:
                raise _Problem(f"no action (one of {', '.join(STEP_KINDS)})")
            kind = STEP_KINDS.get(action) if isinstance(action, str) else None
            if kind is None:
                raise _Problem(
                    f"unknown action {action!r} (one of {', '.join(STEP_KINDS)})", "action"
                )
            line = self._step_line(number, count, None)
            fields = {k: v for k, v in raw.items() if k != "action"}
            step: Step = build(kind, fields, where, number=number, line=line)
            for problem in step.problems(options):
                raise _Problem(problem, problem.split(":")[0].split("[")[0])
        except _Problem as exc:
            raise self._error(self._step_line(number, count, exc.key), where, str(exc)) from None
        return step


def build(cls: type[Any], table: dict[str, Any], where: str, **given: Any) -> Any:
    """An instance of the attrs class ``cls`` from a TOML table: every key a field (those
    with ``metadata={"toml": False}`` excepted, which come from ``given``), every field
    without a default present, every value of the field's type; else a _Problem."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in attrs.fields(cls) if f.metadata.get("toml", True)}
    for key in table:
        if key not in fields:
            raise _Problem(f"unknown key {key!r} (known: {', '.join(fields)})", key)
    for name, field in fields.items():
        if field.default is attrs.NOTHING and name not in table:
            raise _Problem(f"missing key {name!r}", None)
    values = {key: _convert(value, hints[key], key) for key, value in table.items()}
    return cls(**values, **given)


def _convert(value: Any, hint: Any, key: str) -> Any:
    """``value`` as the type ``hint`` wants (lists become tuples), or a _Problem."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in arguments:
            if arm is type(None):
                continue
            try:
                return _convert(value, arm, key)
            except _Problem:
                continue
        raise _Problem(f"{key}: expected {_wanted(hint)}, got {_got(value)}", key)
    if hint in (str, bool, int):
        if type(value) is not hint:
            raise _Problem(f"{key}: expected {_wanted(hint)}, got {_got(value)}", key)
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise _Problem(f"{key}: expected {_wanted(hint)}, got {_got(value)}", key)
        return tuple(_convert(item, arguments[0], f"{key}[{n}]") for n, item in enumerate(value, 1))
    if origin is dict:
        if not isinstance(value, dict):
            raise _Problem(f"{key}: expected {_wanted(hint)}, got {_got(value)}", key)
        return {k: _convert(v, arguments[1], f"{key}.{k}") for k, v in value.items()}
    if attrs.has(hint):
        if not isinstance(value, dict):
            raise _Problem(f"{key}: expected a table, got {_got(value)}", key)
        try:
            return build(hint, value, key)
        except _Problem as exc:
            raise _Problem(f"{key}: {exc}", key) from None
    raise TypeError(f"no TOML reading of {hint!r}")  # a field type this module lacks


def _wanted(hint: Any) -> str:
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_wanted(a) for a in arguments if a is not type(None))
    if origin is tuple:
        return f"a list of {_wanted(arguments[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return f"a table of {_wanted(arguments[1]).removeprefix('a ').removeprefix('an ')}s"
    return {str: "a string", bool: "true or false", int: "an integer"}.get(hint, "a table")


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


# -- explaining ------------------------------------------------------------------------------


def explain_recipe(recipe: Recipe) -> list[str]:
    """The recipe in words an administrator reads: what it is for, its options, and each
    step with its conditions and its reason."""
    lines = [f"{recipe.name}: {recipe.summary}", f"({recipe.path})"]
    if recipe.description:
        lines += ["", *recipe.description.splitlines()]
    lines += ["", "Options:" if recipe.options else "Options: none"]
    for option in recipe.options:
        if option.secret:
            lines.append(f"  {option.flag}-file FILE")
        else:
            lines.append(f"  {option.flag}{' ' + option.metavar if option.metavar else ''}")
        lines.append(f"      {option_help(option)}")
    lines += [
        "",
        "Steps (each compares before it changes: a second run changes nothing):",
    ]
    for step in recipe.steps:
        described = step.describe()
        conditions = step.words()
        first = described[0]
        if conditions:
            first = f"if {' and '.join(conditions)}: {first}"
        lines.append(f"  {step.number:2}. {first}")
        lines += [f"      {more}" for more in described[1:]]
        if step.reason:
            lines.append(f"      why: {step.reason}")
    return lines


def option_help(option: Option) -> str:
    """An option's help with what else there is to know: required, default, secret."""
    notes = []
    if option.required:
        notes.append("required")
    if option.default is not None:
        notes.append(f"default: {option.default}")
    if option.secret:
        notes.append("secret: read from FILE, never shown")
    if option.env:
        notes.append(f"else ${option.env}")
    if option.type == "integer" and (option.min is not None or option.max is not None):
        low = "" if option.min is None else f"{option.min} <= "
        high = "" if option.max is None else f" <= {option.max}"
        notes.append(f"{low}N{high}")
    return option.help + (f" ({'; '.join(notes)})" if notes else "")


# -- applying --------------------------------------------------------------------------------


def apply_recipe(
    recipe: Recipe, workspace: Workspace, options: dict[str, str], target: Version
) -> Outcome:
    """Apply every step that applies; EditError or RecipeError leaves the workspace unusable
    (the caller writes nothing)."""
    values = option_values(recipe, options, os.path.abspath(workspace.directory))
    outcome = Outcome()
    if workspace.master is not None:
        # overrides are found and checked as that release's daemons read their options
        workspace.master.version = target
    run = Run(workspace, values, target, outcome)
    for step in recipe.steps:
        if step.holds(run):
            step.apply(run)
    return outcome


def option_values(recipe: Recipe, given: dict[str, str], config_directory: str) -> dict[str, str]:
    """The options' values: those given, checked, and the defaults of the others."""
    known = {o.name: o for o in recipe.options}
    for name in given:
        if name not in known:
            listed = ", ".join(known) or "none"
            raise RecipeError(f"{recipe.name}: no option {name!r} (options: {listed})")
    values: dict[str, str] = {}
    context = {"config_directory": config_directory}
    for option in recipe.options:
        value = given.get(option.name)
        if value is None and option.default is not None:
            value = str(option.default)
        if value is None:
            if option.required:
                raise RecipeError(f"{recipe.name}: {option.flag} is required ({option.help})")
            continue
        try:
            values[option.name] = option.check(value, context)
        except ValueError as exc:
            raise RecipeError(f"{recipe.name}: {option.flag}: {exc}") from None
    return values


__all__ = [
    "EditError",
    "Option",
    "Outcome",
    "Recipe",
    "RecipeError",
    "apply_recipe",
    "builtin_recipes",
    "explain_recipe",
    "find_recipe",
    "load_recipe",
    "option_help",
    "option_values",
]
