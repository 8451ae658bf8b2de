"""Recipes: reviewed change sets kept as data (rules/recipes/NAME.toml), applied idempotently.

A recipe has options (``--sasl dovecot``) and steps.  Each step is one small change with the
reason it is made; a step whose result is already there changes nothing, so a second run of
the same recipe reports no change.  Steps:

``set``          main.cf ``name`` gets ``value`` (or the option ``value_from``); ``values`` picks a
                 value by target version (``[{since = "3.6", value = ...}, {value = ...}]``);
                 ``keep_if_set`` leaves a value the administrator chose; ``only_if`` changes
                 only these current values.
``unset``        main.cf ``name`` goes.
``replace``      an obsolete parameter ``old`` becomes ``new`` in place (its value translated
                 by ``map``), or goes when ``new`` is already set.
``service``      master.cf ``key`` is there (a commented-out stock entry is re-enabled, else
                 ``entry`` is added) with these ``overrides``; ``alternatives`` names other
                 keys for the same service (``smtps/inet`` for ``submissions/inet``).
``list_add``     main.cf list ``name`` gets each item of ``value`` (or ``value_from``) that
                 it lacks, at its end; an unset list starts empty, not from its default.
``require``      stop with ``message`` unless one of ``any`` holds (``option:cert``,
                 ``main:smtpd_tls_cert_file``).
``stop``         stop with ``message`` (``{option}`` replaced, and ``{listed}`` by what
                 ``when_listed`` found); give it conditions.
``file``         a file in the configuration directory holds ``content`` (``{option}``
                 replaced), with ``mode``; ``secret`` keeps it out of reports and diffs;
                 ``postmap`` says to run postmap on it: ``true``, or the table as main.cf
                 names it (``"{password_maps}"``), which postmap then builds.
                 ``table_from`` names an option holding a table (``hash:/path``) instead:
                 the file is that path, built with postmap; a table that is no indexed
                 file (``mysql:``, ``proxy:``...) is left alone.  ``keep_if_exists`` leaves
                 a file that is already there as it is.

Conditions on any step: ``when = {option = "value"}`` (``true``/``false``: the option was
given or not), ``when_main = {name = "value"}`` (the value Postfix reads at that point:
main.cf's, expanded, or the target release's default; pfconf.semantics; ``{option}``
replaced), ``unless_main = {name = "value"}`` (the step is skipped when Postfix reads any
of these values), ``when_listed = {list = "option"}`` (the domain list, such as
mydestination, names a domain of the option as trivial-rewrite matches it:
pfconf.semantics.addresses.domain_listed; the option must hold domain names), and
``since``/``before`` a version.  ``keep_if_stricter`` on a protocol setting keeps an
administrator's value that already allows no more protocols.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any

import attrs

from .. import _toml, postfix
from ..errors import PfconfError, ReadError
from ..kb import Version, parse_version
from ..resources import rules_dir
from ..semantics import Configuration
from ..semantics.addresses import Listed, domain_listed
from ..values import enabled_protocols, split_list
from .base import EditError
from .workspace import Workspace


class RecipeError(PfconfError):
    """A recipe that cannot be read, or cannot be applied to this configuration."""


@attrs.frozen
class Option:
    name: str
    help: str = ""
    default: str | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    secret: bool = False


@attrs.frozen
class Recipe:
    name: str
    summary: str
    description: str
    options: tuple[Option, ...]
    steps: tuple[dict[str, Any], ...]
    path: str


def recipes_dir() -> Path:
    return rules_dir() / "recipes"


def builtin_recipes() -> list[str]:
    return sorted(p.stem for p in recipes_dir().glob("*.toml"))


def load_recipe(name_or_path: str) -> Recipe:
    """A built-in recipe by name, or a recipe file by path."""
    path = Path(name_or_path)
    # Whatever is at the path but a directory is the recipe file: a FIFO or a dangling link
    # is refused by the reader rather than taken for the name of a built-in recipe.
    if not os.path.lexists(path) or path.is_dir():
        path = recipes_dir() / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(builtin_recipes())
            raise RecipeError(f"no recipe {name_or_path!r} (built in: {known})")
    try:
        data = _toml.load_file(str(path))
    except ReadError as exc:
        raise RecipeError(str(exc)) from None
    head = data.get("recipe", {})
    options = tuple(
        Option(
            name,
            spec.get("help", ""),
            spec.get("default"),
            tuple(spec.get("choices", ())),
            bool(spec.get("required", False)),
            bool(spec.get("secret", False)),
        )
        for name, spec in data.get("options", {}).items()
    )
    steps = tuple(data.get("steps", ()))
    for number, step in enumerate(steps, 1):
        if step.get("action") not in _ACTIONS:
            raise RecipeError(f"{path}: step {number}: unknown action {step.get('action')!r}")
    return Recipe(
        head.get("name", path.stem),
        head.get("summary", ""),
        head.get("description", ""),
        options,
        steps,
        str(path),
    )


@attrs.define
class Outcome:
    """What applying a recipe found to do besides editing: commands to run, notes to read."""

    notes: list[str] = attrs.field(factory=list)


def apply_recipe(
    recipe: Recipe, workspace: Workspace, options: dict[str, str], target: Version
) -> Outcome:
    """Apply every step that applies; EditError or RecipeError leaves the workspace unusable
    (the caller writes nothing)."""
    values = _options(recipe, options, os.path.abspath(workspace.directory))
    outcome = Outcome()
    if workspace.master is not None:
        # overrides are found and checked as that release's daemons read their options
        workspace.master.version = target
    for step in recipe.steps:
        if not _applies(step, values, target, workspace):
            continue
        action = step["action"]
        try:
            _ACTIONS[action](step, workspace, values, target, outcome)
        except KeyError as exc:
            raise RecipeError(f"{recipe.name}: step {action} lacks {exc}") from exc
    return outcome


def _options(recipe: Recipe, given: dict[str, str], config_directory: str) -> dict[str, str]:
    known = {o.name: o for o in recipe.options}
    for name in given:
        if name not in known:
            raise RecipeError(f"{recipe.name}: no option {name!r} (options: {', '.join(known)})")
    values: dict[str, str] = {}
    for option in recipe.options:
        value = given.get(option.name)
        if value is None and option.default is not None:
            value = _fill(option.default, {"config_directory": config_directory})
        if value is None:
            if option.required:
                raise RecipeError(f"{recipe.name}: --{option.name} is required ({option.help})")
            continue
        if not value.strip():
            # an empty path or name would be written into main.cf as "nothing": refuse it
            # rather than switch a working setting off
            raise RecipeError(f"{recipe.name}: --{option.name} cannot be empty ({option.help})")
        if option.choices and value not in option.choices:
            raise RecipeError(
                f"{recipe.name}: --{option.name} must be one of {', '.join(option.choices)}"
            )
        values[option.name] = value
    return values


def _applies(
    step: dict[str, Any], values: dict[str, str], target: Version, ws: Workspace | None = None
) -> bool:
    for name, wanted in step.get("when", {}).items():
        if isinstance(wanted, bool):
            if (name in values) != wanted:
                return False
        elif values.get(name) != wanted:
            return False
    if ws is not None:
        for name, wanted in step.get("when_main", {}).items():
            if _current(ws, name, target) != _fill(str(wanted), values).lower():
                return False
        for name, unwanted in step.get("unless_main", {}).items():
            if _current(ws, name, target) == _fill(str(unwanted), values).lower():
                return False
        if "when_listed" in step and not _listed(step, ws, values, target):
            return False
    if "since" in step and target[:2] < parse_version(step["since"])[:2]:
        return False
    return not ("before" in step and target[:2] >= parse_version(step["before"])[:2])


def _current(ws: Workspace, name: str, target: Version) -> str:
    """The value Postfix ``target`` reads for ``name`` from the files as they stand at this
    step (the model: main.cf's value expanded, or the release's default), lowercased."""
    master = ws.master.doc if ws.master is not None else None
    value = Configuration(ws.main.doc, master, target).value(name)
    return (value or "").strip().lower()


#: A domain name as an option gives it: labels of letters, digits and inner hyphens (no
#: ``$name``, table, pattern or address literal, and no final dot, which a list item keeps:
#: Postfix strips it from the address it matches, never from the pattern).
_DOMAIN = re.compile(r"(?:[^\W_](?:[^\W_]|-)*(?<!-)\.)*[^\W_](?:[^\W_]|-)*(?<!-)")


def _domains(values: dict[str, str], option: str) -> list[str]:
    """The domain names option ``option`` holds (commas or blanks between them)."""
    domains = [t.text for t in split_list(values.get(option, ""))]
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise RecipeError(f"--{option}: {domain!r} is not a domain name")
    return domains


def _listed(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version
) -> list[Listed]:
    """What ``when_listed`` finds: each domain of the option that the list names, as
    Postfix on this machine reads main.cf ($myhostname its name when main.cf does not set
    it, $config_directory the directory edited)."""
    master = ws.master.doc if ws.master is not None else None
    config = Configuration(
        ws.main.doc, master, target,
        runtime={"config_directory": os.path.abspath(ws.directory)},
        hostname=socket.gethostname(),
    )  # fmt: skip
    found = []
    for parameter, option in step["when_listed"].items():
        for domain in _domains(values, option):
            listed = domain_listed(config, parameter, domain)
            if listed is not None:
                found.append(listed)
    return found


def _value(step: dict[str, Any], values: dict[str, str], target: Version) -> str:
    if "value_from" in step:
        return values[step["value_from"]]
    if "values" in step:
        for choice in step["values"]:
            if _applies(choice, values, target):
                return str(choice["value"])
        raise RecipeError(f"no value of {step.get('name')} fits Postfix {target}")
    return _fill(str(step["value"]), values)


def _fill(text: str, values: dict[str, str]) -> str:
    """``{option}`` replaced by the option's value (only names of options, so that Postfix's
    own braces and ``${name}`` stay as they are)."""
    return re.sub(r"(?<!\$)\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def _reason(step: dict[str, Any]) -> str:
    return str(step.get("reason", ""))


def _set(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    name = step["name"]
    if step.get("keep_if_set") and ws.main.get(name):
        return
    if step.get("keep_if_stricter") and ws.main.get(name):
        allowed = enabled_protocols(ws.main.get(name) or "")
        wanted = enabled_protocols(_value(step, values, target))
        if allowed is not None and wanted is not None and allowed <= wanted:
            return  # the administrator's setting already allows no more than this
    if "only_if" in step:
        # what Postfix reads now: main.cf's value, or the release's default when unset
        written = (ws.main.get(name) or "").strip().lower()
        current = _current(ws, name, target)
        accepted = [str(v).lower() for v in step["only_if"]]
        if written not in accepted and current not in accepted:
            return
    ws.main.set(name, _value(step, values, target), _reason(step), bool(step.get("secret")))


def _list_add(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    for token in split_list(_value(step, values, target)):
        ws.main.list_add(step["name"], token.text, reason=_reason(step))


def _stop(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    listed = _listed(step, ws, values, target) if "when_listed" in step else []
    found = "; ".join(item.describe() for item in listed)
    raise RecipeError(_fill(step["message"], {**values, "listed": found}))


def _unset(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    ws.main.unset(step["name"], _reason(step))


def _replace(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    old, new = step["old"], step["new"]
    current = ws.main.get(old)
    if current is None:
        return
    if ws.main.get(new) is not None:
        ws.main.unset(old, _reason(step))
        return
    mapping = {k.lower(): v for k, v in step.get("map", {}).items()}
    translated = mapping.get(current.strip().lower(), current) if mapping else current
    ws.main.rename(
        old, new, value=translated if translated != current else None, reason=_reason(step)
    )
    if ws.main.get(old) is not None:
        # an earlier copy, overridden until now, would take effect: it goes too, so that
        # one run does the whole change
        ws.main.unset(old, _reason(step))


def _service(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    if ws.master is None:
        raise RecipeError(f"{ws.master_path}: no such file; this recipe changes master.cf")
    master = ws.master
    overrides = {k: _fill(str(v), values) for k, v in step.get("overrides", {}).items()}
    keys = [step["key"], *step.get("alternatives", ())]
    for key in keys:  # already there, under one of its names
        name, _, type_ = key.rpartition("/")
        if master.doc.service(name, type_) is not None:
            for option, value in overrides.items():
                master.set_override(key, option, value, _reason(step))
            return
    for key in keys:  # commented out in the stock file: enable it where it is
        if master.enable_service(key, overrides, _reason(step)):
            return
    entry = _fill(step["entry"], values)
    if "CHROOT" in entry:  # the chroot of the public smtp service, for consistency
        smtp = master.doc.service("smtp", "inet")
        entry = entry.replace("CHROOT", smtp.chroot if smtp else "n")
    master.add_service(entry, _reason(step))
    for option, value in overrides.items():
        master.set_override(step["key"], option, value, _reason(step))


def _require(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, _: Outcome
) -> None:
    for condition in step["any"]:
        kind, _, name = condition.partition(":")
        if kind == "option" and name in values:
            return
        if kind == "main" and ws.main.get(name):
            return
    raise RecipeError(step["message"])


def _file(
    step: dict[str, Any], ws: Workspace, values: dict[str, str], target: Version, outcome: Outcome
) -> None:
    content = _fill(step["content"], values)
    mode = int(str(step.get("mode", "0644")), 8)
    postmap = step.get("postmap")
    if "table_from" in step:
        spec = values[step["table_from"]]
        table_type, _, path = spec.partition(":")
        if table_type not in postfix.INDEX_SUFFIXES:
            return  # a database or a map of maps: not a file this step writes
        if not os.path.isabs(path):
            # Postfix's daemons open it from the queue directory, postmap from elsewhere
            raise RecipeError(f"--{step['table_from']}: {spec}: give the table's full path")
        postmap = spec
    else:
        path = step["path"]
    directory = os.path.dirname(os.path.join(ws.directory, path))
    if not os.path.isdir(directory):
        raise RecipeError(f"{directory}: no such directory (create it first)")
    where = os.path.abspath(os.path.join(ws.directory, path))
    table = None
    if postmap:
        # the table as main.cf names it (type:path), so that postmap builds the file that
        # Postfix will open; plain ``true`` takes the directory's default_database_type
        spec = _fill(postmap, values) if isinstance(postmap, str) else ""
        table_type, _, table_path = spec.partition(":")
        if spec and os.path.abspath(table_path) != where:
            raise RecipeError(f"the table {spec} is not the file {where} this recipe writes")
        table = table_type or ""
    if step.get("keep_if_exists") and os.path.lexists(where):
        # the administrator's file; without its indexed file Postfix cannot open the table
        suffixes = postfix.INDEX_SUFFIXES.get(table or "", ())
        if any(not os.path.exists(where + suffix) for suffix in suffixes):
            outcome.notes.append(f"{where} is kept as it is, but has no indexed file: run "
                                 f"postmap -c {ws.directory} {table}:{where}")  # fmt: skip
        return
    ws.put_file(
        path, content, mode=mode, secret=bool(step.get("secret")), reason=_reason(step),
        table=table,
    )  # fmt: skip


_ACTIONS = {
    "set": _set,
    "list_add": _list_add,
    "unset": _unset,
    "replace": _replace,
    "service": _service,
    "require": _require,
    "stop": _stop,
    "file": _file,
}

__all__ = [
    "EditError",
    "Outcome",
    "Recipe",
    "RecipeError",
    "apply_recipe",
    "builtin_recipes",
    "load_recipe",
]
