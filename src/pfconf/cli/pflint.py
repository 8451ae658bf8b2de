"""``pflint``: report problems in main.cf and master.cf as ``path:line:col: CODE severity message``.

A thin layer over pfconf.lint.  Exit status: 0 clean, 1 findings, 2 usage error or unreadable
path.
"""

from __future__ import annotations

import os

import click

from .. import __version__
from ..lint import discover, lint_paths
from .common import DEFAULT_DIR, EXIT_CLEAN, EXIT_FINDINGS, echo, fail


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.version_option(__version__, prog_name="pflint")
def cli(paths: tuple[str, ...]) -> None:
    """Check Postfix configuration files (default: /etc/postfix)."""
    files: list[str] = []
    for path in paths or (DEFAULT_DIR,):
        if not os.path.exists(path):
            raise fail(f"{path}: no such file or directory")
        found = discover(path)
        if not found:
            raise fail(f"{path}: no main.cf or master.cf in this directory")
        for file in found:
            if not os.access(file, os.R_OK):
                raise fail(f"{file}: permission denied")
        files.extend(found)
    try:
        findings = lint_paths(files)
    except OSError as exc:
        raise fail(f"{exc.filename}: {exc.strerror or exc}")
    for finding in findings:
        echo(
            f"{finding.path}:{finding.line}:{finding.column}: "
            f"{finding.code} {finding.severity} {finding.message}"
        )
    raise click.exceptions.Exit(EXIT_FINDINGS if findings else EXIT_CLEAN)


def main() -> None:
    cli(prog_name="pflint")
