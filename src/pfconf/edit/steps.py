"""The kinds of recipe step: one frozen attrs class each, with typed fields, built when a
recipe file loads (pfconf.edit.recipes) and applied to a Workspace.

Each class names its TOML ``action``; its fields are the TOML keys the step takes.  A step
applies itself (:meth:`Step.apply`), compares before it edits so that a second run changes
nothing, and says in words what it does (:meth:`Step.describe`, for ``pfedit apply
--explain``).  It must not read files itself: everything goes through the Workspace's
editors, which verify every edit.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator, Mapping
from typing import ClassVar

import attrs

from ..errors import PfconfError
from ..kb import Version, parse_version, version_text
from ..model import FIELD_NAMES
from ..postfix import INDEX_SUFFIXES
from ..semantics import Configuration
from ..semantics.addresses import CLASSES, Listed, domain_listed
from ..semantics.services import daemons
from ..values import enabled_protocols, split_list
from .master import MasterEditor
from .workspace import Workspace


class RecipeError(PfconfError):
    """A recipe that cannot be read, or cannot be applied to this configuration."""


@attrs.define
class Outcome:
    """What applying a recipe found to do besides editing: commands to run, notes to read."""

    notes: list[str] = attrs.field(factory=list)


@attrs.frozen
class Run:
    """What a step is applied with: the files, the options' values (``{option}`` is filled
    from them), the Postfix release the result is written for, and the outcome so far."""

    workspace: Workspace
    values: dict[str, str]
    target: Version
    outcome: Outcome

    def master(self) -> MasterEditor:
        if self.workspace.master is None:
            raise RecipeError(
                f"{self.workspace.master_path}: no such file; this recipe changes master.cf"
            )
        return self.workspace.master


#: ``{option}`` in a step's text (not ``${name}``, Postfix's own).
_REFERENCE = re.compile(r"(?<!\$)\{([a-z][a-z0-9_]*)\}")


def fill(text: str, values: Mapping[str, str]) -> str:
    """``{option}`` replaced by the option's value (only names of options, so that Postfix's
    own braces and ``${name}`` stay as they are)."""
    return _REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def current(ws: Workspace, name: str, target: Version) -> str:
    """The value Postfix ``target`` reads for ``name`` from the files as they stand at this
    step (the model: main.cf's value expanded, or the release's default), lowercased."""
    master = ws.master.doc if ws.master is not None else None
    value = Configuration(ws.main.doc, master, target).value(name)
    return (value or "").strip().lower()


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _option_value(run: Run, value: str | None, value_from: str | None, needed_by: str) -> str:
    """A step's ``value`` (``{option}`` filled in), or the value of the option
    ``value_from``, which must then have been given."""
    if value_from is not None:
        if value_from not in run.values:
            raise RecipeError(f"{needed_by} needs {_flag(value_from)}")
        return run.values[value_from]
    return fill(value or "", run.values)


def running(ws: Workspace, key: str, target: Version) -> str:
    """The program master(8) of Postfix ``target`` runs for the service ``key`` as the files
    stand at this step (``smtpd`` for ``/usr/libexec/postfix/smtpd``): "" when master.cf has
    no such service, or master_service_disable (or an inet_protocols without a protocol)
    keeps it from running.  Of several entries with the key, the last counts."""
    if ws.master is None:
        return ""
    found = ""
    for daemon in daemons(Configuration(ws.main.doc, ws.master.doc, target)):
        if daemon.key == key:
            found = "" if daemon.disabled else daemon.program
    return found


def _is_key(key: str) -> bool:
    """``name/type``, as master.cf names a service."""
    name, _, type_ = key.rpartition("/")
    return bool(name) and bool(type_) and not any(c.isspace() for c in key)


def _version_problem(field: str, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        parse_version(text)
    except ValueError:
        return f"{field}: {text!r} is not a version like 3.6"
    return None


def _shown(value: str) -> str:
    reference = _REFERENCE.fullmatch(value)
    if reference:
        return f"the value of {_flag(reference.group(1))}"
    return f'"{value}"' if value else "empty"


# -- conditions ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Conditions:
    """When a step (or one of a ``set`` step's ``values``) applies.

    ``when``: options given (``true``), not given (``false``) or with this value;
    ``when_main``: the value Postfix reads for a main.cf parameter at this point (main.cf's,
    expanded, or the target release's default; compared in lower case, ``{option}`` filled
    in); ``unless_main``: the step is skipped when Postfix reads any of these values;
    ``when_service``: the program master runs for a master.cf service at this point (""
    when it runs none: no such service, or disabled);
    ``when_listed = {mydestination = "domains"}``: the domain list names a domain of the
    option (of type ``domains``), as trivial-rewrite matches it
    (pfconf.semantics.addresses.domain_listed); ``since`` and ``before``: the target
    Postfix release.
    """

    when: dict[str, str | bool] = attrs.field(factory=dict)
    when_main: dict[str, str] = attrs.field(factory=dict)
    unless_main: dict[str, str] = attrs.field(factory=dict)
    when_listed: dict[str, str] = attrs.field(factory=dict)
    when_service: dict[str, str] = attrs.field(factory=dict)
    since: str | None = None
    before: str | None = None

    def holds(self, run: Run, with_files: bool = True) -> bool:
        for name, wanted in self.when.items():
            if isinstance(wanted, bool):
                if (name in run.values) != wanted:
                    return False
            elif run.values.get(name) != wanted:
                return False
        if with_files:
            for name, text in self.when_main.items():
                if current(run.workspace, name, run.target) != fill(text, run.values).lower():
                    return False
            for name, text in self.unless_main.items():
                if current(run.workspace, name, run.target) == fill(text, run.values).lower():
                    return False
            if self.when_listed and not self.listed(run):
                return False
            for key, program in self.when_service.items():
                if running(run.workspace, key, run.target) != program:
                    return False
        if self.since is not None and run.target[:2] < parse_version(self.since)[:2]:
            return False
        return not (self.before is not None and run.target[:2] >= parse_version(self.before)[:2])

    def listed(self, run: Run) -> list[Listed]:
        """What ``when_listed`` finds: each domain of the option that the list names, as
        Postfix on this machine reads the files at this step ($myhostname its name when
        main.cf does not set it, $config_directory the directory edited)."""
        ws = run.workspace
        config = Configuration(
            ws.main.doc, ws.master.doc if ws.master is not None else None, run.target,
            runtime={"config_directory": os.path.abspath(ws.directory)},
            hostname=socket.gethostname(),
        )  # fmt: skip
        found = []
        for parameter, option in self.when_listed.items():
            for domain in split_list(run.values.get(option, "")):
                hit = domain_listed(config, parameter, domain.text)
                if hit is not None:
                    found.append(hit)
        return found

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        for name in self.when:
            if name not in options:
                yield f"when: no option {name!r} in this recipe"
        for field, table in (("when_main", self.when_main), ("unless_main", self.unless_main)):
            for name, wanted in table.items():
                for reference in _REFERENCE.findall(wanted):
                    if reference not in options:
                        yield f"{field}: {name}: no option {reference!r} in this recipe"
        for parameter, name in self.when_listed.items():
            if parameter not in DOMAIN_LISTS:
                yield (f"when_listed: {parameter!r} is not a list of domains "
                       f"({', '.join(DOMAIN_LISTS)})")  # fmt: skip
            elif name not in options:
                yield f"when_listed: no option {name!r} in this recipe"
            elif options[name].type != "domains":
                yield f'when_listed: the option {name!r} must be of type "domains"'
        for key in self.when_service:
            if not _is_key(key):
                yield f"when_service: {key!r} is not a service name/type (such as smtp/inet)"
        for field, text in (("since", self.since), ("before", self.before)):
            problem = _version_problem(field, text)
            if problem:
                yield problem

    def words(self) -> list[str]:
        """The conditions in words: ``--sasl is dovecot``, ``the target is Postfix 3.5 or
        later``."""
        said = []
        for name, wanted in self.when.items():
            flag = "--" + name.replace("_", "-")
            if wanted is True:
                said.append(f"{flag} is given")
            elif wanted is False:
                said.append(f"{flag} is not given")
            else:
                said.append(f"{flag} is {wanted}")
        for name, text in self.when_main.items():
            said.append(f"Postfix reads {name} as {_shown(text)}")
        for name, text in self.unless_main.items():
            said.append(f"Postfix does not read {name} as {_shown(text)}")
        for parameter, name in self.when_listed.items():
            said.append(f"{parameter} lists a domain of {_flag(name)}")
        for key, program in self.when_service.items():
            said.append(f"{key} runs {program}" if program else f"{key} does not run")
        if self.since is not None:
            said.append(f"the target is Postfix {self.since} or later")
        if self.before is not None:
            said.append(f"the target is older than Postfix {self.before}")
        return said


#: The main.cf lists of an address class's domains, which ``when_listed`` may name.
DOMAIN_LISTS = tuple(parameter for _, parameter, _ in CLASSES if parameter is not None)


# -- options ---------------------------------------------------------------------------------

#: The kinds of option value: any text; a file path (absolute: Postfix's daemons run in the
#: queue directory); a whole number; a switch given or not (its value is then "yes"); domain
#: names (commas or blanks between them).
OPTION_TYPES = ("text", "path", "integer", "flag", "domains")

#: A domain name as an option gives it: labels of letters, digits and inner hyphens (no
#: ``$name``, table, pattern or address literal, and no final dot, which a list item keeps:
#: Postfix strips it from the address it matches, never from the pattern).
_DOMAIN = re.compile(r"(?:[^\W_](?:[^\W_]|-)*(?<!-)\.)*[^\W_](?:[^\W_]|-)*(?<!-)")


@attrs.frozen(kw_only=True)
class Option:
    """One option of a recipe (``[options.NAME]``), given as ``--NAME`` to pfedit apply.

    ``default`` may hold ``{config_directory}``; ``secret`` keeps the value out of reports
    and off the command line (pfedit reads it from ``--NAME-file``, ``env`` or a prompt);
    ``env`` names an environment variable that holds the value when the option is not
    given; ``min`` and ``max`` bound an integer.
    """

    name: str = attrs.field(metadata={"toml": False})
    help: str
    type: str = "text"
    default: str | int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    secret: bool = False
    env: str | None = None
    min: int | None = None
    max: int | None = None

    @property
    def flag(self) -> str:
        """How pfedit apply names it: ``--password-maps``."""
        return "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        if self.choices:
            return "|".join(self.choices)
        return {"path": "FILE", "integer": "N", "flag": "", "domains": "DOMAINS"}.get(
            self.type, "TEXT"
        )

    def problems(self) -> Iterator[str]:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            yield "an option's name is lower-case letters, digits and _"
        if self.type not in OPTION_TYPES:
            yield f"type: {self.type!r} is not one of {', '.join(OPTION_TYPES)}"
        if self.choices and self.type != "text":
            yield "choices: only a text option has choices"
        if (self.min is not None or self.max is not None) and self.type != "integer":
            yield "min and max: only an integer option has bounds"
        if self.type == "flag" and (self.default is not None or self.required or self.secret):
            yield "a flag option has no default, and is neither required nor secret"
        if self.default is not None:
            if isinstance(self.default, int) != (self.type == "integer"):
                yield f"default: {self.default!r} is not a value of type {self.type}"
            else:
                try:
                    self.check(str(self.default), {"config_directory": "/"})
                except ValueError as exc:
                    yield f"default: {exc}"

    def check(self, value: str, values: Mapping[str, str]) -> str:
        """The value given, checked against the option's type and choices (ValueError
        saying what is wrong), with ``{config_directory}`` filled in."""
        value = fill(value, values)
        if self.type == "flag":
            return "yes"
        if not value.strip():
            # an empty path or name would be written into main.cf as "nothing": refuse it
            # rather than switch a working setting off
            raise ValueError("cannot be empty")
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        if self.type == "path" and not value.startswith(("/", "$")):
            # $config_directory/x is absolute once Postfix expands it
            raise ValueError(
                f"{value!r}: give an absolute path (Postfix's daemons run in its queue directory)"
            )
        if self.type == "integer":
            if not re.fullmatch(r"-?[0-9]+", value.strip()):
                raise ValueError(f"{value!r} is not a whole number")
            number = int(value)
            if self.min is not None and number < self.min:
                raise ValueError(f"{number} is less than {self.min}")
            if self.max is not None and number > self.max:
                raise ValueError(f"{number} is more than {self.max}")
            return str(number)
        if self.type == "domains":
            for domain in split_list(value):
                if not _DOMAIN.fullmatch(domain.text):
                    raise ValueError(f"{domain.text!r} is not a domain name")
        return value


# -- steps -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Step(Conditions):
    """What every step has: its conditions and the reason it is made (shown with each change).

    ``number`` and ``line`` say where it is in its file (not TOML keys)."""

    action: ClassVar[str] = ""
    #: the TOML keys of which the step needs exactly one (checked when the recipe loads)
    one_of: ClassVar[tuple[str, ...]] = ()
    #: whether the step must say why it is made (a require step's message says it)
    needs_reason: ClassVar[bool] = True

    reason: str
    number: int = attrs.field(default=0, eq=False, metadata={"toml": False})
    line: int = attrs.field(default=0, eq=False, metadata={"toml": False})

    def apply(self, run: Run) -> None:
        raise NotImplementedError

    def describe(self) -> list[str]:
        """What the step does, in words: a line, then lines of detail."""
        raise NotImplementedError

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if self.needs_reason and not self.reason.strip():
            yield "reason: say why the step is made (it is shown with the change)"
        if self.one_of:
            given = [k for k in self.one_of if getattr(self, k) not in (None, (), {})]
            if len(given) != 1:
                yield f"give exactly one of {', '.join(self.one_of)}"

    @property
    def where(self) -> str:
        return f"step {self.number} ({self.action})"


@attrs.frozen(kw_only=True)
class Choice(Conditions):
    """One of the values a ``set`` step picks from: the first whose conditions hold."""

    value: str


@attrs.frozen(kw_only=True)
class Set(Step):
    """main.cf ``name`` gets ``value`` (``{option}`` filled in), the option ``value_from``, or
    the first of ``values`` that fits.  ``keep_if_set`` leaves a value the administrator
    chose; ``keep_if_stricter`` (a protocol list) keeps one that allows no more protocols;
    ``only_if`` changes only these current values (main.cf's, or the release's default);
    ``secret`` hides the value in reports."""

    action = "set"
    one_of = ("value", "value_from", "values")

    name: str
    value: str | None = None
    value_from: str | None = None
    values: tuple[Choice, ...] = ()
    keep_if_set: bool = False
    keep_if_stricter: bool = False
    only_if: tuple[str, ...] | None = None
    secret: bool = False

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if self.value_from is not None and self.value_from not in options:
            yield f"value_from: no option {self.value_from!r} in this recipe"
        for index, choice in enumerate(self.values, 1):
            for problem in choice.problems(options):
                yield f"values[{index}]: {problem}"
            if choice.when_main or choice.unless_main or choice.when_listed or choice.when_service:
                yield f"values[{index}]: a value is chosen by options and versions only"

    def _value(self, run: Run) -> str:
        if self.values:
            for choice in self.values:
                if choice.holds(run, with_files=False):
                    return fill(choice.value, run.values)
            raise RecipeError(f"no value of {self.name} fits Postfix {version_text(run.target)}")
        return _option_value(run, self.value, self.value_from, f"step {self.number}: {self.name}")

    def apply(self, run: Run) -> None:
        main = run.workspace.main
        if self.keep_if_set and main.get(self.name):
            return
        if self.keep_if_stricter and main.get(self.name):
            allowed = enabled_protocols(main.get(self.name) or "")
            wanted = enabled_protocols(self._value(run))
            if allowed is not None and wanted is not None and allowed <= wanted:
                return  # the administrator's setting already allows no more than this
        if self.only_if is not None:
            # what Postfix reads now: main.cf's value, or the release's default when unset
            written = (main.get(self.name) or "").strip().lower()
            now = current(run.workspace, self.name, run.target)
            accepted = [v.lower() for v in self.only_if]
            if written not in accepted and now not in accepted:
                return
        main.set(self.name, self._value(run), self.reason, self.secret)

    def describe(self) -> list[str]:
        if self.secret:
            what = f"main.cf: set {self.name} (the value is secret)"
        elif self.value_from is not None:
            what = f"main.cf: set {self.name} to the value of --{self.value_from.replace('_', '-')}"
        elif self.values:
            picks = []
            for choice in self.values:
                words = choice.words()
                picks.append(
                    f"{_shown(choice.value)}{' if ' + ' and '.join(words) if words else ''}"
                )
            what = f"main.cf: set {self.name} to {', else '.join(picks)}"
        else:
            what = f"main.cf: set {self.name} = {self.value}"
        if self.keep_if_set:
            what += ", unless main.cf sets it already"
        if self.keep_if_stricter:
            what += ", unless main.cf's value already allows no more protocols"
        if self.only_if is not None:
            what += f", only where it reads {' or '.join(_shown(v) for v in self.only_if)} now"
        return [what]


@attrs.frozen(kw_only=True)
class ListAdd(Step):
    """The main.cf list ``name`` gets each item of ``value`` (``{option}`` filled in) or of the
    option ``value_from`` that it lacks, at its end (MainEditor.list_add, which compares
    case-insensitively).  An item the list already yields once expanded (through
    ``$smtpd_milters`` in ``non_smtpd_milters``, say) is not added again.  An unset list
    starts empty, not from its default: a recipe adds to lists whose default it means to
    replace (virtual_mailbox_domains' ``$virtual_mailbox_maps``) or that are empty."""

    action = "list_add"
    one_of = ("value", "value_from")

    name: str
    value: str | None = None
    value_from: str | None = None

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if self.value_from is not None and self.value_from not in options:
            yield f"value_from: no option {self.value_from!r} in this recipe"

    def apply(self, run: Run) -> None:
        items = _option_value(run, self.value, self.value_from, f"step {self.number}: {self.name}")
        main = run.workspace.main
        for item in split_list(items):
            master = run.workspace.master.doc if run.workspace.master is not None else None
            config = Configuration(main.doc, master, run.target)
            present = {t.text.lower() for t in split_list(config.value(self.name) or "")}
            if main.get(self.name) is not None and item.text.lower() in present:
                continue  # Postfix reads it there already
            main.list_add(self.name, item.text, reason=self.reason)

    def describe(self) -> list[str]:
        what = _flag(self.value_from) if self.value_from else f'"{self.value}"'
        what = f"main.cf: add each item of {what} that {self.name} lacks, at its end"
        return [what + " (an unset list starts empty)"]


@attrs.frozen(kw_only=True)
class Unset(Step):
    """main.cf ``name`` goes (every definition of it)."""

    action = "unset"

    name: str

    def apply(self, run: Run) -> None:
        run.workspace.main.unset(self.name, self.reason)

    def describe(self) -> list[str]:
        return [f"main.cf: remove {self.name}"]


@attrs.frozen(kw_only=True)
class Replace(Step):
    """An obsolete parameter ``old`` becomes ``new`` in place (its value translated by
    ``map``), or goes when ``new`` is already set."""

    action = "replace"

    old: str
    new: str
    map: dict[str, str] = attrs.field(factory=dict)

    def apply(self, run: Run) -> None:
        main = run.workspace.main
        value = main.get(self.old)
        if value is None:
            return
        if main.get(self.new) is not None:
            main.unset(self.old, self.reason)
            return
        mapping = {k.lower(): v for k, v in self.map.items()}
        translated = mapping.get(value.strip().lower(), value) if mapping else value
        main.rename(
            self.old, self.new, value=translated if translated != value else None,
            reason=self.reason,
        )  # fmt: skip
        if main.get(self.old) is not None:
            # an earlier copy, overridden until now, would take effect: it goes too, so that
            # one run does the whole change
            main.unset(self.old, self.reason)

    def describe(self) -> list[str]:
        what = f"main.cf: rename {self.old} to {self.new}"
        if self.map:
            what += " (" + ", ".join(f"{k} becomes {v}" for k, v in self.map.items()) + ")"
        return [what + f", or remove {self.old} where {self.new} is set already"]


@attrs.frozen(kw_only=True)
class Service(Step):
    """master.cf ``key`` is there with these ``overrides``: already there (under ``key`` or
    one of its ``alternatives``, such as ``smtps/inet`` for ``submissions/inet``); else a
    commented-out entry of it is enabled where it is (the stock one, or one pfedit commented
    out); else ``entry`` is added, after the service ``after`` or at the end.  ``CHROOT`` in
    ``entry`` takes the chroot field of the public smtp service."""

    action = "service"

    key: str
    alternatives: tuple[str, ...] = ()
    entry: str | None = None
    overrides: dict[str, str] = attrs.field(factory=dict)
    after: str | None = None

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        for field, key in [("key", self.key), ("after", self.after or "x/y")] + [
            ("alternatives", k) for k in self.alternatives
        ]:
            if not _is_key(key):
                yield f"{field}: {key!r} is not a service name/type (such as submission/inet)"
        if self.entry is not None:
            words = self.entry.split()
            if len(words) < 8:
                yield "entry: a service entry has eight fields (name type ... command)"
            elif f"{words[0]}/{words[1]}" != self.key:
                yield f"entry: {words[0]} {words[1]} is not the service {self.key}"

    def apply(self, run: Run) -> None:
        master = run.master()
        overrides = {k: fill(v, run.values) for k, v in self.overrides.items()}
        keys = [self.key, *self.alternatives]
        for key in keys:  # already there, under one of its names
            name, _, type_ = key.rpartition("/")
            if master.doc.service(name, type_) is not None:
                for option, value in overrides.items():
                    master.set_override(key, option, value, self.reason)
                return
        for key in keys:  # commented out: enable it where it is
            if master.enable_service(key, overrides, self.reason):
                return
        if self.entry is None:
            raise RecipeError(f"master.cf has no service {self.key}, and the step adds none")
        entry = fill(self.entry, run.values)
        if "CHROOT" in entry:  # the chroot of the public smtp service, for consistency
            smtp = master.doc.service("smtp", "inet")
            entry = entry.replace("CHROOT", smtp.chroot if smtp else "n")
        master.add_service(entry, self.reason, after=self.after)
        for option, value in overrides.items():
            master.set_override(self.key, option, value, self.reason)

    def describe(self) -> list[str]:
        names = " or ".join([self.key, *self.alternatives])
        what = f"master.cf: service {names} runs"
        if self.entry is not None:
            where = f" after {self.after}" if self.after else ""
            what += f' (a commented-out entry is enabled, else "{" ".join(self.entry.split())}"'
            what += f" is added{where})"
        lines = [what + (", with:" if self.overrides else "")]
        lines += [f"  -o {name}={value}" for name, value in self.overrides.items()]
        return lines


@attrs.frozen(kw_only=True)
class ChangeService(Step):
    """The service ``key`` runs ``command`` (with ``arguments``: the words after the command
    other than its ``-o`` overrides, which stay) and has these ``fields`` (``private``,
    ``unprivileged``, ``chroot``, ``wakeup``, ``process_limit``)."""

    action = "change_service"

    key: str
    command: str | None = None
    arguments: tuple[str, ...] | None = None
    fields: dict[str, str] = attrs.field(factory=dict)

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if not _is_key(self.key):
            yield f"key: {self.key!r} is not a service name/type (such as smtp/inet)"
        if self.command is None and self.arguments is None and not self.fields:
            yield "give command, arguments or fields: what changes"
        for field in self.fields:
            if field not in FIELD_NAMES[2:7]:
                yield f"fields: {field!r} is not one of {', '.join(FIELD_NAMES[2:7])}"

    def apply(self, run: Run) -> None:
        master = run.master()
        for field, value in self.fields.items():
            master.set_field(self.key, field, fill(value, run.values), self.reason)
        if self.command is not None or self.arguments is not None:
            name, _, type_ = self.key.rpartition("/")
            service = master.doc.service(name, type_)
            if service is None:
                raise RecipeError(f"master.cf has no service {self.key}")
            command = self.command if self.command is not None else service.command
            arguments = None
            if self.arguments is not None:
                arguments = tuple(fill(word, run.values) for word in self.arguments)
            master.set_command(self.key, fill(command, run.values), arguments, self.reason)

    def describe(self) -> list[str]:
        changes = []
        if self.command is not None:
            changes.append(f"runs {self.command}")
        if self.arguments is not None:
            words = " ".join(self.arguments)
            changes.append(f"with the arguments {words}" if words else "with no arguments")
        changes += [f"{field} {value}" for field, value in self.fields.items()]
        return [f"master.cf: service {self.key}: " + ", ".join(changes)]


@attrs.frozen(kw_only=True)
class MoveOverrides(Step):
    """The ``-o`` overrides of the service ``source`` move to the service ``target``: those
    in ``names`` (every one when not given), but those in ``keep``, which stay; those in
    ``copy`` stay and are set on ``target`` too (settings both daemons read)."""

    action = "move_overrides"

    source: str
    target: str
    names: tuple[str, ...] | None = None
    keep: tuple[str, ...] = ()
    copy: tuple[str, ...] = ()

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        for field, key in (("source", self.source), ("target", self.target)):
            if not _is_key(key):
                yield f"{field}: {key!r} is not a service name/type (such as smtp/inet)"
        if self.source == self.target:
            yield "source and target are the same service"
        if self.names is not None and self.keep:
            yield "give names (what moves) or keep (what stays), not both"

    def apply(self, run: Run) -> None:
        master = run.master()
        if not self.copy:
            master.move_overrides(self.source, self.target, self.names, self.keep, self.reason)
            return
        name, _, type_ = self.source.rpartition("/")
        service = master.doc.service(name, type_)
        if service is None:
            raise RecipeError(f"master.cf has no service {self.source}")
        # one by one in the source's order, so that the target lists them in that order too
        for option in list(service.overrides):
            if option in self.copy:
                value = master.get_override(self.source, option)
                if value is not None:
                    master.set_override(self.target, option, value, self.reason)
            elif (self.names is None or option in self.names) and option not in self.keep:
                master.move_overrides(self.source, self.target, (option,), (), self.reason)

    def describe(self) -> list[str]:
        if self.names is not None:
            what = "the -o " + ", ".join(self.names) + " of"
        else:
            what = "every -o of"
        keep = f" (but {', '.join(self.keep)})" if self.keep else ""
        lines = [f"master.cf: move {what} {self.source}{keep} to {self.target}"]
        if self.copy:
            lines[0] += f"; copy these, which stay on {self.source} too:"
            lines.append("  " + ", ".join(self.copy))
        return lines


@attrs.frozen(kw_only=True)
class CommentService(Step):
    """The service ``key`` is commented out, under a line that gives the reason (pfedit
    service uncomment brings it back)."""

    action = "comment_service"

    key: str

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if not _is_key(self.key):
            yield f"key: {self.key!r} is not a service name/type (such as smtps/inet)"

    def apply(self, run: Run) -> None:
        run.master().comment_service(self.key, self.reason)

    def describe(self) -> list[str]:
        return [f"master.cf: comment out service {self.key}, with a line saying why"]


@attrs.frozen(kw_only=True)
class Require(Step):
    """Stop with ``message`` unless one of ``any`` holds: ``option:NAME`` (the option is
    given), ``main:NAME`` (main.cf sets it), ``service:KEY`` (master runs the master.cf
    service KEY, such as ``smtp/inet``: it is there and not disabled) or
    ``service:KEY=PROGRAM`` (and runs PROGRAM)."""

    action = "require"
    needs_reason = False

    any: tuple[str, ...]
    message: str
    reason: str = ""

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if not self.any:
            yield "any: name at least one condition"
        for condition in self.any:
            kind, _, name = condition.partition(":")
            if kind not in ("option", "main", "service") or not name:
                yield (f"any: {condition!r} is none of option:NAME, main:NAME, service:KEY "
                       "and service:KEY=PROGRAM")  # fmt: skip
            elif kind == "option" and name not in options:
                yield f"any: no option {name!r} in this recipe"
            elif kind == "service" and not _is_key(name.partition("=")[0]):
                yield f"any: {condition!r}: not a service name/type (such as smtp/inet)"

    def apply(self, run: Run) -> None:
        for condition in self.any:
            kind, _, name = condition.partition(":")
            if kind == "option" and name in run.values:
                return
            if kind == "main" and run.workspace.main.get(name):
                return
            if kind == "service":
                key, equals, program = name.partition("=")
                now = running(run.workspace, key, run.target)
                if now and (not equals or now == program):
                    return
        raise RecipeError(self.message)

    def describe(self) -> list[str]:
        said = []
        for condition in self.any:
            kind, _, name = condition.partition(":")
            if kind == "option":
                said.append(f"--{name.replace('_', '-')}")
            elif kind == "main":
                said.append(f"main.cf's {name}")
            else:
                key, equals, program = name.partition("=")
                said.append(f"master.cf's {key} running {program}" if equals
                            else f"master.cf's {key} running")  # fmt: skip
        return [f"stop unless one of these is there: {', '.join(said)}",
                f"  (else: {self.message})"]  # fmt: skip


@attrs.frozen(kw_only=True)
class Stop(Step):
    """Stop with ``message`` (``{option}`` filled in, and ``{listed}`` by what the step's
    ``when_listed`` found) where the step's conditions hold: nothing is written."""

    action = "stop"

    message: str

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        conditions = (self.when, self.when_main, self.unless_main, self.when_listed,
                      self.since, self.before)  # fmt: skip
        if all(c in (None, {}) for c in conditions):
            yield "a stop step needs conditions (when, when_main, unless_main, when_listed...)"
        if "{listed}" in self.message and not self.when_listed:
            yield "message: {listed} is what when_listed found, and the step has none"

    def apply(self, run: Run) -> None:
        found = self.listed(run) if self.when_listed else []
        listed = "; ".join(hit.describe() for hit in found)
        raise RecipeError(fill(self.message, {**run.values, "listed": listed}))

    def describe(self) -> list[str]:
        return ["stop, writing nothing", f"  ({self.message})"]


@attrs.frozen(kw_only=True)
class File(Step):
    """A file in the configuration directory (``path``, relative) holds ``content``
    (``{option}`` filled in), with ``mode``; ``secret`` keeps it out of reports and diffs;
    ``postmap`` runs postmap on it: ``true``, or the table as main.cf names it
    (``"{password_maps}"``), which postmap then builds.

    ``table_from`` names an option holding a table (``hash:/full/path``) instead of ``path``:
    the file is that table's, built with postmap; a table that is no indexed file
    (``mysql:``, ``proxy:``...) is left alone.  ``keep_if_exists`` leaves a file that is
    there already as it is (with a note when its indexed file is missing)."""

    action = "file"
    one_of = ("path", "table_from")

    path: str | None = None
    table_from: str | None = None
    content: str
    mode: str = "0644"
    secret: bool = False
    postmap: bool | str = False
    keep_if_exists: bool = False

    def problems(self, options: Mapping[str, Option]) -> Iterator[str]:
        yield from super().problems(options)
        if not re.fullmatch(r"0?[0-7]{3,4}", self.mode):
            yield f'mode: {self.mode!r} is not an octal mode like "0600"'
        if self.path is not None:
            parts = self.path.split("/")
            if not self.path or os.path.isabs(self.path) or ".." in parts:
                yield f"path: {self.path!r} is not a path inside the configuration directory"
        if self.table_from is not None:
            if self.table_from not in options:
                yield f"table_from: no option {self.table_from!r} in this recipe"
            if self.postmap:
                yield "postmap: the table table_from names is built with postmap already"

    def apply(self, run: Run) -> None:
        ws = run.workspace
        content = fill(self.content, run.values)
        postmap = self.postmap
        if self.table_from is not None:
            spec = _option_value(run, None, self.table_from, f"step {self.number}: the file")
            table_type, _, path = spec.partition(":")
            if table_type not in INDEX_SUFFIXES:
                return  # a database or a map of maps: not a file this step writes
            if not os.path.isabs(path):
                # Postfix's daemons open it from the queue directory, postmap from elsewhere
                raise RecipeError(f"{_flag(self.table_from)}: {spec}: give the table's full path")
            postmap = spec
        else:
            path = self.path or ""
        directory = os.path.dirname(os.path.join(ws.directory, path))
        if not os.path.isdir(directory):
            raise RecipeError(f"{directory}: no such directory (create it first)")
        where = os.path.abspath(os.path.join(ws.directory, path))
        table = None
        if postmap:
            # the table as main.cf names it (type:path), so that postmap builds the file that
            # Postfix will open; plain ``true`` takes the directory's default_database_type
            spec = fill(postmap, run.values) if isinstance(postmap, str) else ""
            table_type, _, table_path = spec.partition(":")
            if spec and os.path.abspath(table_path) != where:
                raise RecipeError(f"the table {spec} is not the file {where} this recipe writes")
            table = table_type or ""
        if self.keep_if_exists and os.path.lexists(where):
            # the administrator's file; without its indexed file Postfix cannot open the table
            suffixes = INDEX_SUFFIXES.get(table or "", ())
            if any(not os.path.exists(where + suffix) for suffix in suffixes):
                run.outcome.notes.append(
                    f"{where} is kept as it is, but has no indexed file: run "
                    f"postmap -c {ws.directory} {table}:{where}"
                )
            return
        ws.put_file(
            path, content, mode=int(self.mode, 8), secret=self.secret,
            reason=self.reason, table=table,
        )  # fmt: skip

    def describe(self) -> list[str]:
        if self.table_from is not None:
            what = (f"write the table {_flag(self.table_from)} names (mode {self.mode}), "
                    "then build it with postmap; a table that is no indexed file "
                    "(such as proxy: or mysql:) is left alone")  # fmt: skip
        else:
            what = f"write {self.path} (mode {self.mode}"
            what += ", its content kept secret)" if self.secret else ")"
            if self.postmap:
                table = self.postmap if isinstance(self.postmap, str) else self.path
                what += f", then build it with postmap ({table})"
        if self.keep_if_exists:
            what += "; a file already there is kept as it is"
        lines = [what]
        if not self.secret:
            lines += ["  | " + line for line in self.content.splitlines()]
        return lines


#: Every kind of step, by its TOML action.
STEP_KINDS: dict[str, type[Step]] = {
    kind.action: kind
    for kind in (
        Set,
        ListAdd,
        Unset,
        Replace,
        Service,
        ChangeService,
        MoveOverrides,
        CommentService,
        Require,
        Stop,
        File,
    )
}
