"""``pfedit``: show and (in later releases) change main.cf and master.cf.

A thin layer over pfconf: options in, one library call, output and an exit status out.
"""

from __future__ import annotations

import json
import os

import click

from .. import MainCf, MasterCf, __version__
from ..show import as_json, main_lines, master_lines
from .common import DEFAULT_DIR, EXIT_ERROR, config_paths, echo, fail, read


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = config_dir


@cli.command()
@click.option("--json", "as_json_output", is_flag=True, help="Print raw values as JSON.")
@click.pass_obj
def show(config_dir: str, as_json_output: bool) -> None:
    """Print main.cf's effective values and master.cf's services and overrides.

    Like postconf -n (but listing names Postfix does not know too), then postconf -M and -P.
    """
    if not os.path.isdir(config_dir):
        raise fail(f"{config_dir}: no such directory")
    main_path, master_path = config_paths(config_dir)
    main = read(main_path, "main", required=False)
    master = read(master_path, "master", required=False)
    if main is None and master is None:
        raise fail(f"{config_dir}: neither main.cf nor master.cf found")
    assert main is None or isinstance(main, MainCf)
    assert master is None or isinstance(master, MasterCf)
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


def main() -> None:
    cli(prog_name="pfedit")


__all__ = ["cli", "main", "EXIT_ERROR"]
