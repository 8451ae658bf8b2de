"""``pfedit``: show and change main.cf and master.cf, modelled on postconf.

A thin layer over pfconf.edit: options in, library calls, output and an exit status out.
Every writing command takes ``--diff`` (print a unified diff, write nothing), ``--check``
(exit 1 if anything would change, write nothing) and ``--backup[=SUFFIX]``.
"""

from __future__ import annotations

import functools
import json
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .. import MainCf, MasterCf, __version__
from ..edit import EditError, MasterEditor
from ..edit.workspace import Workspace

if TYPE_CHECKING:
    from ..edit.recipes import Recipe
    from ..semantics import Daemon, Postfix
from ..errors import PfconfError, ReadError
from ..io import decode, read_config
from ..kb import KnowledgeBase, Version, parse_version
from ..postfix import PostfixError, installed_version
from .common import DEFAULT_DIR, EXIT_ERROR, EXIT_FINDINGS, config_paths, echo, fail, read


class _Commands(click.Group):
    """pfedit's commands, with ``--backup`` taking its suffix only as ``--backup=SUFFIX``.

    A bare ``--backup`` means ``--backup=.bak``; it never takes the next word, which would
    make ``pfedit set --backup myhostname=a`` back up to "main.cfmyhostname=a".
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            args = [_BACKUP_DEFAULT if a == "--backup" else a for a in args[:cut]] + args[cut:]
        else:
            args = [_BACKUP_DEFAULT if a == "--backup" else a for a in args]
        return super().parse_args(ctx, args)


_BACKUP_DEFAULT = "--backup=.bak"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config-dir",
    "config_dir",
    default=DEFAULT_DIR,
    show_default=True,
    metavar="DIR",
    help="Postfix configuration directory holding main.cf and master.cf.",
)
@click.version_option(__version__, prog_name="pfedit")
@click.pass_context
def cli(ctx: click.Context, config_dir: str) -> None:
    """Read and change Postfix's main.cf and master.cf without losing a byte."""
    ctx.obj = _Config(config_dir)


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json_output", is_flag=True, help="Print raw values as JSON.")
@click.option("-x", "--expand", is_flag=True,
              help="With NAMES: values with $name expanded, as postconf -x.")  # fmt: skip
@click.option(
    "--service",
    metavar="NAME/TYPE",
    help="With NAMES: the values this master.cf service runs with (its -o too, as its "
    "daemon reads them).",
)
@click.option("--origin", is_flag=True, help="With NAMES: say where each value comes from.")
@click.option("--summary", is_flag=True,
              help="What Postfix makes of the files: TLS, AUTH and lists per SMTP server, "
                   "the clients, postscreen, mynetworks, address classes.")  # fmt: skip
@click.option(
    "--postfix-version", metavar="X.Y|auto", default="auto", show_default=True,
    help="With NAMES or --summary: the Postfix release whose defaults apply.",
)  # fmt: skip
@click.pass_obj
def show(
    config: _Config,
    names: tuple[str, ...],
    as_json_output: bool,
    expand: bool,
    service: str | None,
    origin: bool,
    summary: bool,
    postfix_version: str,
) -> None:
    """Print main.cf's effective values and master.cf's services and overrides.

    Like postconf -n (but listing names Postfix does not know too), then postconf -M and -P.
    With NAMES, print those parameters as Postfix reads them, defaults included (postconf
    NAME); --summary prints what the configuration adds up to.
    """
    # The model and the display are imported here: the editing commands need neither.
    from ..semantics import Postfix
    from ..show import as_json, main_lines, master_lines, parameter_lines, summary_lines

    config_dir = config.path
    if not os.path.isdir(config_dir):
        raise fail(f"{config_dir}: no such directory")
    main_path, master_path = config_paths(config_dir)
    main = read(main_path, "main", required=False)
    master = read(master_path, "master", required=False)
    if main is None and master is None:
        raise fail(f"{config_dir}: neither main.cf nor master.cf found")
    assert main is None or isinstance(main, MainCf)
    assert master is None or isinstance(master, MasterCf)
    if names or summary or service:
        if as_json_output:
            raise fail("--json shows the files; it does not go with NAMES or --summary")
        # values as Postfix on this machine reads them with -c: $myhostname is the
        # machine's name, $config_directory the directory read
        model = Postfix(
            main or MainCf(()),
            master,
            _target(postfix_version),
            runtime={"config_directory": os.path.abspath(config_dir)},
            hostname=socket.gethostname(),
        )
        if summary:
            for line in summary_lines(model):
                echo(line)
            return
        view = model.config
        if service is not None:
            found = _service(model, service, master_path)
            view = found.config
        if not names:
            raise fail("--service needs the NAMES of the parameters to show")
        for line in parameter_lines(view, list(names), expand=expand, origins=origin):
            echo(line)
        return
    if as_json_output:
        click.echo(
            json.dumps(as_json(main, master), indent=2, ensure_ascii=False, default=str)
            .encode("utf-8", "surrogateescape")
            .decode("utf-8", "replace")
        )
        return
    if main is not None:
        echo(f"# {main_path}")
        for line in main_lines(main):
            echo(line)
    if master is not None:
        if main is not None:
            click.echo("")
        echo(f"# {master_path}")
        for line in master_lines(master):
            echo(line)


def _target(postfix_version: str) -> Version:
    """--postfix-version: ``auto`` is the installed Postfix, else the newest known."""
    if postfix_version == "auto":
        try:
            postfix_version = installed_version()
        except PostfixError:
            return KnowledgeBase().newest
    try:
        return parse_version(postfix_version)
    except ValueError:
        raise fail(f"--postfix-version: {postfix_version!r} is not a version like 3.9") from None


def _service(model: Postfix, key: str, master_path: str) -> Daemon:
    name, _, type_ = key.rpartition("/")
    if not name:
        raise fail(f"--service: {key!r} is not NAME/TYPE (such as submission/inet)")
    found = model.daemon(name, type_)
    if found is None:
        raise fail(f"--service: {master_path} has no service {key}")
    return found


# -- writing commands ----------------------------------------------------------------------------


def writing_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add --diff, --check and --backup to a command (see :func:`edit`)."""
    for option in reversed(
        (
            click.option("--diff", "show_diff", is_flag=True,
                         help="Print a unified diff; write nothing."),
            click.option("--check", is_flag=True,
                         help="Exit 1 if anything would change; write nothing."),
            click.option("--backup", default=None, metavar="[=SUFFIX]",
                         help="Keep a copy of each changed file: --backup (.bak) or "
                              "--backup=SUFFIX."),
        )
    ):  # fmt: skip
        command = option(command)
    return command


def edit(
    change: Callable[[Workspace], None], *, show_diff: bool, check: bool, backup: str | None
) -> None:
    """Open the configuration directory, ``change`` it, then report and write (or show the
    diff, or check).

    A command that may write holds Postfix's edit lock on main.cf and master.cf from before
    it reads them until it has written them (see pfconf.edit.workspace).
    """
    config_dir = click.get_current_context().find_object(_Config)
    assert config_dir is not None
    with open_workspace(config_dir.path, lock=not (show_diff or check)) as workspace:
        try:
            change(workspace)
        except (EditError, ReadError) as exc:  # ReadError: a file a recipe compares
            raise fail(f"pfedit: {exc}") from None
        finish(workspace, show_diff=show_diff, check=check, backup=backup)


def writing(command: Callable[..., None]) -> Callable[..., None]:
    """Add --diff, --check and --backup to a command that edits a Workspace (its first
    argument)."""

    @writing_options
    @functools.wraps(command)
    def wrapper(*args: Any, show_diff: bool, check: bool, backup: str | None, **kw: Any) -> None:
        edit(
            lambda workspace: command(workspace, *args, **kw),
            show_diff=show_diff, check=check, backup=backup,
        )  # fmt: skip

    return wrapper


class _Config:
    def __init__(self, path: str) -> None:
        self.path = path


def open_workspace(directory: str, *, lock: bool = False) -> Workspace:
    if not os.path.isdir(directory):
        raise fail(f"{directory}: no such directory")
    try:
        return Workspace(directory, lock=lock)
    except ReadError as exc:
        raise fail(str(exc)) from None
    except FileNotFoundError as exc:
        raise fail(f"{exc.filename}: no such file") from None
    except PermissionError as exc:
        raise fail(f"{exc.filename}: permission denied") from None
    except PfconfError as exc:  # a ParseError, or another editor holds the lock
        raise fail(str(exc)) from None


def finish(workspace: Workspace, *, show_diff: bool, check: bool, backup: str | None) -> None:
    """Report the changes, then write them unless --diff or --check says not to."""
    if show_diff:
        text = workspace.diff()
        if text:
            click.echo(text.encode("utf-8", "surrogateescape"), nl=False)
        return
    if check:
        for change in workspace.changes:
            echo(change.describe())
        if workspace.changed:
            raise click.exceptions.Exit(EXIT_FINDINGS)
        return
    if not workspace.changed:
        return
    try:
        # written before anything is printed: a closed pipe on stdout must not stop it
        workspace.write(backup=backup)
    except PfconfError as exc:  # changed on disk, cannot be written, postmap failed
        raise fail(f"pfedit: {exc} (nothing was changed)") from None
    for change in workspace.changes:
        echo(change.describe())
    for note in workspace.notes:
        echo(note)


def _assignments(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    result = []
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise fail(f"pfedit: {pair!r}: expected NAME=VALUE")
        result.append((name.strip(), value.strip()))
    return result


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def get(config_dir: _Config, names: tuple[str, ...]) -> None:
    """Print the value main.cf gives each NAME (like postconf -n NAME...)."""
    from ..show import fold

    main_path, _ = config_paths(config_dir.path)
    main = read(main_path, "main")
    assert isinstance(main, MainCf)
    missing = False
    for name in names:
        entry = main.get(name)
        if entry is None:
            echo(f"pfedit: {name}: not set in {main_path}", err=True)
            missing = True
            continue
        echo(f"{name} = {fold(entry.value)}".rstrip(" "))
    if missing:
        raise click.exceptions.Exit(EXIT_FINDINGS)


@cli.command(name="set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@writing
def set_(workspace: Workspace, assignments: tuple[str, ...]) -> None:
    """Set parameters in main.cf, each in place or next to its relatives."""
    for name, value in _assignments(assignments):
        workspace.main.set(name, value)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@writing
def unset(workspace: Workspace, names: tuple[str, ...]) -> None:
    """Remove parameters from main.cf (like postconf -X)."""
    for name in names:
        workspace.main.unset(name)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@writing
def comment(workspace: Workspace, names: tuple[str, ...]) -> None:
    """Comment out parameters in main.cf (like postconf -#)."""
    for name in names:
        workspace.main.comment(name)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--line", type=int, metavar="N",
    help="The commented-out definition on line N (when there are several).",
)  # fmt: skip
@writing
def uncomment(workspace: Workspace, names: tuple[str, ...], line: int | None) -> None:
    """Bring back commented-out parameters of main.cf: what pfedit comment took, exactly."""
    if line is not None and len(names) != 1:
        raise fail("pfedit uncomment: --line goes with one NAME")
    for name in names:
        workspace.main.uncomment(name, line=line)


# -- master.cf --------------------------------------------------------------------------------


@cli.group()
def service() -> None:
    """List and change master.cf services (like postconf -M, -F and -P)."""


def _master(workspace: Workspace) -> MasterEditor:
    if workspace.master is None:
        raise fail(f"{workspace.master_path}: no such file")
    return workspace.master


@service.command(name="list")
@click.pass_obj
def service_list(config_dir: _Config) -> None:
    """Print every service, one line each (like postconf -M)."""
    from ..show import service_line

    _, master_path = config_paths(config_dir.path)
    master = read(master_path, "master")
    assert isinstance(master, MasterCf)
    for item in master.services:
        echo(service_line(item))


@service.command(name="show")
@click.argument("key", metavar="NAME/TYPE")
@click.pass_obj
def service_show(config_dir: _Config, key: str) -> None:
    """Print one service and its -o overrides (like postconf -M and -P)."""
    from ..show import fold, service_line

    _, master_path = config_paths(config_dir.path)
    master = read(master_path, "master")
    assert isinstance(master, MasterCf)
    name, _, type_ = key.rpartition("/")
    item = master.service(name, type_)
    if item is None:
        raise fail(f"pfedit: {master_path} has no service {key}")
    echo(service_line(item))
    for option, value in sorted(item.overrides.items()):
        echo(f"{key}/{option} = {fold(value)}".rstrip(" "))


@service.command(name="set")
@click.argument("key", metavar="NAME/TYPE")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@writing
def service_set(workspace: Workspace, key: str, assignments: tuple[str, ...]) -> None:
    """Set -o overrides of a service, each in place or as one new line; the field names
    private, unprivileged, chroot, wakeup and process_limit change that column (like
    postconf -F)."""
    master = _master(workspace)
    for name, value in _assignments(assignments):
        if name in ("private", "unprivileged", "chroot", "wakeup", "process_limit"):
            master.set_field(key, name, value)
        else:
            master.set_override(key, name, value)


@service.command(name="unset")
@click.argument("key", metavar="NAME/TYPE")
@click.argument("names", nargs=-1, required=True)
@writing
def service_unset(workspace: Workspace, key: str, names: tuple[str, ...]) -> None:
    """Remove -o overrides from a service."""
    master = _master(workspace)
    for name in names:
        master.unset_override(key, name)


@service.command(name="add")
@click.argument("entry", metavar="'NAME TYPE PRIVATE UNPRIV CHROOT WAKEUP MAXPROC COMMAND...'")
@writing
def service_add(workspace: Workspace, entry: str) -> None:
    """Add a service (a commented-out stock one is re-enabled instead)."""
    master = _master(workspace)
    words = entry.split()
    if len(words) < 8:
        raise fail(
            "pfedit: a service needs 8 fields: name type private unpriv chroot wakeup maxproc command"
        )
    key = f"{words[0]}/{words[1]}"
    name, _, type_ = key.rpartition("/")
    if master.doc.service(name, type_) is not None:
        return
    if not master.enable_service(key):
        master.add_service(entry)


@service.command(name="remove")
@click.argument("key", metavar="NAME/TYPE")
@writing
def service_remove(workspace: Workspace, key: str) -> None:
    """Remove a service and its continuation lines."""
    master = _master(workspace)
    if not master.remove_service(key):
        raise EditError(f"{workspace.master_path} has no service {key}")


@service.command(name="comment")
@click.argument("key", metavar="NAME/TYPE")
@click.option("--why", default="", metavar="TEXT", help="The reason, written on the note line.")
@writing
def service_comment(workspace: Workspace, key: str, why: str) -> None:
    """Comment out a service, under a note line (with --why) that pfedit service uncomment
    reads to bring it back exactly."""
    master = _master(workspace)
    if not master.comment_service(key, why) and not master.commented_service(key):
        raise EditError(f"{workspace.master_path} has no service {key}")


@service.command(name="uncomment")
@click.argument("key", metavar="NAME/TYPE")
@writing
def service_uncomment(workspace: Workspace, key: str) -> None:
    """Bring back a commented-out service: what pfedit service comment took, exactly, or a
    stock example (#submission inet ...)."""
    master = _master(workspace)
    name, _, type_ = key.rpartition("/")
    if master.doc.service(name, type_) is not None:
        return
    if not master.uncomment_service(key):
        raise EditError(f"{workspace.master_path} has no commented-out service {key}")


# -- recipes ----------------------------------------------------------------------------------


_RECIPE = "pfedit.recipe"
_RECIPE_PARAMS = "pfedit.recipe_params"


def _recipe_name(ctx: click.Context) -> str:
    recipe = ctx.meta.get(_RECIPE)
    return recipe.name if recipe is not None else ""


class _Apply(click.Command):
    """``pfedit apply``, whose flags include the options the recipe declares
    (``[options.NAME]`` in its file, ``--NAME``): the recipe is found and read before the
    command line is parsed, so that ``pfedit apply RECIPE --help`` lists them too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from ..edit.recipes import RecipeError, load_recipe

        named = _recipe_argument(args)
        if named is not None:
            try:
                ctx.meta[_RECIPE] = load_recipe(named)
            except RecipeError as exc:
                raise fail(f"pfedit: {exc}") from None
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        recipe = ctx.meta.get(_RECIPE)
        if recipe is None:
            return params
        if _RECIPE_PARAMS not in ctx.meta:  # made once: click tells parameters by identity
            ctx.meta[_RECIPE_PARAMS] = _recipe_params(recipe)
        return [*params, *ctx.meta[_RECIPE_PARAMS]]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """pfedit's options, then the recipe's under a heading of their own."""
        own = ctx.meta.get(_RECIPE_PARAMS, [])
        for title, wanted in (("Options", False), (f"Options of {_recipe_name(ctx)}", True)):
            records = [
                record
                for param in self.get_params(ctx)
                if (param in own) == wanted and not isinstance(param, click.Argument)
                for record in [param.get_help_record(ctx)]
                if record is not None
            ]
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        recipe = ctx.meta.get(_RECIPE)
        if recipe is not None:
            formatter.write_paragraph()
            formatter.write_text(
                f"{recipe.name}: {recipe.summary}.  pfedit apply {recipe.name} --explain "
                "describes each change it makes."
            )
        super().format_epilog(ctx, formatter)


#: pfedit apply's own options that take a value (the word after them is not the recipe)
_VALUE_OPTIONS = ("--recipe-file", "--postfix-version", "-O", "--option")


def _recipe_argument(args: list[str]) -> str | None:
    """The recipe the command line names, read before it is parsed: --recipe-file's value,
    else the first plain word that names a built-in recipe or a file, else the first plain
    word.  (A recipe's own option before the recipe's name takes a value that looks plain.)
    """
    from ..edit.recipes import builtin_recipes

    plain: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            plain += args[index + 1 :]
            break
        if word.startswith("--recipe-file="):
            return word.partition("=")[2]
        if word == "--recipe-file":
            return args[index + 1] if index + 1 < len(args) else None
        if word in _VALUE_OPTIONS:
            index += 1
        elif not word.startswith("-") or word == "-":
            plain.append(word)
        index += 1
    builtin = set(builtin_recipes())
    for word in plain:
        if word in builtin or os.path.isfile(word):
            return word
    return plain[0] if plain else None


def _recipe_params(recipe: Recipe) -> list[click.Parameter]:
    """A flag for each option of the recipe: ``--NAME VALUE``; a secret one as
    ``--NAME-file FILE`` (a value on the command line would show in ps); a flag option as a
    switch."""
    from ..edit.recipes import option_help

    params: list[click.Parameter] = []
    for option in recipe.options:
        name = f"recipe__{option.name}"
        if option.secret:
            params.append(click.Option(
                [f"{option.flag}-file", name], type=click.Path(dir_okay=False), metavar="FILE",
                help=option_help(option),
            ))  # fmt: skip
        elif option.type == "flag":
            params.append(click.Option([option.flag, name], is_flag=True, default=None,
                                       help=option_help(option)))  # fmt: skip
        else:
            params.append(click.Option([option.flag, name], metavar=option.metavar,
                                       help=option_help(option)))  # fmt: skip
    return params


@cli.command(cls=_Apply)
@click.argument("recipe", required=False)
@click.option(
    "--recipe-file", type=click.Path(dir_okay=False), help="Apply a recipe from this file."
)
@click.option("--list", "list_recipes", is_flag=True, help="List the built-in recipes and exit.")
@click.option(
    "--explain", is_flag=True,
    help="Describe the recipe: what it is for, its options, each change and why; change nothing.",
)  # fmt: skip
@click.option(
    "-O", "--option", "extra", multiple=True, metavar="NAME=VALUE", help="Any recipe option."
)
@click.option(
    "--postfix-version", metavar="X.Y|auto", default="auto", show_default=True,
    help="Write settings in the syntax this Postfix understands.",
)  # fmt: skip
@writing_options
@click.pass_context
def apply(
    ctx: click.Context,
    /,
    recipe: str | None,
    recipe_file: str | None,
    list_recipes: bool,
    explain: bool,
    extra: tuple[str, ...],
    postfix_version: str,
    show_diff: bool,
    check: bool,
    backup: str | None,
    **given: str | bool | None,
) -> None:
    """Apply a recipe idempotently: a reviewed change set with a reason for each change.

    RECIPE is a built-in recipe (--list shows them) or a recipe file.  Its options are
    flags: pfedit apply RECIPE --help lists them, --explain describes every step.  --list
    and --explain need no configuration directory.
    """
    from ..edit.recipes import RecipeError, apply_recipe, builtin_recipes, explain_recipe
    from ..kb import version_text

    if list_recipes:
        for name in builtin_recipes():
            echo(f"{name}: {_load(name).summary}")
        return
    if recipe and recipe_file:
        raise fail("pfedit apply: name a recipe or give --recipe-file, not both")
    if not (recipe or recipe_file):
        raise fail("pfedit apply: name a recipe (pfedit apply --list shows them)")
    loaded: Recipe = ctx.meta.get(_RECIPE) or _load(recipe_file or recipe or "")
    if (recipe_file and os.path.abspath(loaded.path) != os.path.abspath(recipe_file)) or (
        recipe and loaded.path != _load(recipe).path
    ):
        raise fail(f"pfedit apply: give the recipe's name before its options ({loaded.name}?)")
    if explain:
        for line in explain_recipe(loaded):
            echo(line)
        return
    options = _given_options(loaded, given)
    options.update(dict(_assignments(extra)))
    for option in loaded.options:
        if option.secret and option.required and option.name not in options:
            where = f"{option.flag}-file" + (f" or ${option.env}" if option.env else "")
            raise fail(f"pfedit: {loaded.name} needs its {option.name}: {where}")
    if postfix_version == "auto":
        try:
            postfix_version = installed_version()
        except PostfixError as exc:
            postfix_version = version_text(KnowledgeBase().newest[:2])
            echo(f"pfedit: --postfix-version auto: {exc}; writing for Postfix "
                 f"{postfix_version}, the newest known", err=True)  # fmt: skip
    try:
        target = parse_version(postfix_version)
    except ValueError:
        raise fail(f"--postfix-version: {postfix_version!r} is not a version like 3.9") from None

    def change(workspace: Workspace) -> None:
        try:
            outcome = apply_recipe(loaded, workspace, options, target)
        except RecipeError as exc:
            raise fail(f"pfedit: {exc}") from None
        for note in outcome.notes:
            echo(note, err=True)

    edit(change, show_diff=show_diff, check=check, backup=backup)


def _load(name: str) -> Recipe:
    from ..edit.recipes import RecipeError, load_recipe

    try:
        return load_recipe(name)
    except RecipeError as exc:
        raise fail(f"pfedit: {exc}") from None


def _given_options(recipe: Recipe, given: dict[str, str | bool | None]) -> dict[str, str]:
    """The values of the recipe's flags: given on the command line, read from ``--NAME-file``
    (a secret), from the option's environment variable, or asked for (a required secret,
    at a terminal)."""
    options: dict[str, str] = {}
    for option in recipe.options:
        value = given.get(f"recipe__{option.name}")
        if value is None or value is False:
            if option.env and option.env in os.environ:
                options[option.name] = os.environ[option.env]
            elif option.secret and option.required and os.isatty(0):
                options[option.name] = str(click.prompt(option.help, hide_input=True))
            continue
        if value is True:
            options[option.name] = "yes"
        elif option.secret:
            try:
                # surrogateescape: a password that is not UTF-8 reaches the table byte for byte
                options[option.name] = decode(read_config(value)).rstrip("\r\n")
            except ReadError as exc:
                raise fail(str(exc)) from None
        else:
            options[option.name] = value
    return options


def main() -> None:
    cli(prog_name="pfedit")


__all__ = ["EXIT_ERROR", "cli", "main"]
