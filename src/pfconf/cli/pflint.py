"""``pflint``: report problems in main.cf and master.cf, in the conventions of ruff and hadolint.

A thin layer over pfconf.lint: flags and configuration in, one lint run, a report out.  Exit
status: 0 nothing at or above the threshold, 1 findings, 2 usage error or unreadable path.
"""

from __future__ import annotations

import os
import sys

import attrs
import click

from .. import __version__
from ..errors import PfconfError, ReadError, WriteError
from ..kb import KnowledgeBase, version_text
from ..lint.baseline import BaselineError, filter_new, write_baseline
from ..lint.config import ConfigError, Settings, load_settings, read_settings, target_release
from ..lint.engine import Options, exit_status, lint
from ..lint.finding import SEVERITIES
from ..lint.rule import all_rules, rule_for
from ..postfix import PostfixError
from ..report import FORMATS, as_json, github, sarif, text
from .common import DEFAULT_DIR, EXIT_CLEAN, echo, fail


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def _files(paths: tuple[str, ...]) -> list[str]:
    """The files to lint: each path named, or the main.cf and master.cf in a directory named.

    Whatever is at those names is linted, so that a main.cf that is a directory, a FIFO or a
    dangling link is reported by the reader instead of skipped.
    """
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = [
                os.path.join(path, n)
                for n in ("main.cf", "master.cf")
                if os.path.lexists(os.path.join(path, n))
            ]
            if not found and os.path.basename(os.path.normpath(path)) in ("main.cf", "master.cf"):
                raise fail(f"{path}: is a directory")
            if not found:
                raise fail(f"{path}: no main.cf or master.cf in this directory")
        elif os.path.lexists(path):
            found = [path]
        else:
            raise fail(f"{path}: no such file or directory")
        files.extend(found)
    return files


def _list_rules() -> None:
    for cls in all_rules():
        echo(f"{cls.code}  {cls.name:<34} {cls.severity:<8} {cls.summary}")


def _explain(code: str) -> None:
    try:
        cls = rule_for(code)
    except KeyError:
        raise fail(f"--explain: no rule {code!r} (see pflint --list-rules)")
    aliases = f" (formerly {', '.join(cls.aliases)})" if cls.aliases else ""
    echo(f"{cls.code} {cls.name}{aliases}: {cls.summary}")
    echo(f"Default severity: {cls.severity}. Fix: {cls.fix_safety}.")
    echo("")
    echo(cls.doc())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rules (codes or prefixes, comma-separated).",
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Not these rules.")
@click.option(
    "--severity-threshold",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Lowest severity that makes the exit status 1 [default: info].",
)
@click.option(
    "--postfix-version",
    metavar="X.Y|auto",
    help="Judge for this Postfix version [default: newest known].",
)
@click.option(
    "--baseline", "baseline_path", metavar="FILE", help="Report only findings not recorded in FILE."
)
@click.option(
    "--write-baseline",
    "write_baseline_path",
    metavar="FILE",
    help="Record today's findings in FILE.",
)
@click.option(
    "--config", "config_path", metavar="FILE", help="Read settings from FILE instead of searching."
)
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
)
@click.option(
    "--fix", "apply_fixes", is_flag=True, help="Apply the safe fixes to main.cf, then report."
)
@click.option(
    "--unsafe-fixes", is_flag=True, help="With --fix: also apply fixes that change behaviour."
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="With --fix: print the diff, write nothing."
)
@click.option(
    "--live",
    is_flag=True,
    help="Also check what the files name on this host: lookup tables, certificates and keys, "
    "sockets, programs and permissions (read-only; never the network).",
)
@click.option(
    "--certificate-expiry-days",
    type=click.IntRange(min=0),
    metavar="N",
    help="With --live: warn about a certificate that expires within N days (default 30).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Lint the configurations named in N worker processes "
    "[default: the number of CPUs]; the output is the same for any N.",
)
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Explain one rule and exit.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Say which files gave context and what was assumed."
)
@click.version_option(__version__, prog_name="pflint")
def cli(
    paths: tuple[str, ...],
    output_format: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity_threshold: str | None,
    postfix_version: str | None,
    baseline_path: str | None,
    write_baseline_path: str | None,
    config_path: str | None,
    isolated: bool,
    color: str,
    apply_fixes: bool,
    unsafe_fixes: bool,
    show_diff: bool,
    live: bool,
    certificate_expiry_days: int | None,
    jobs: int | None,
    list_rules: bool,
    explain: str | None,
    verbose: bool,
) -> None:
    """Check Postfix's main.cf and master.cf (default: /etc/postfix)."""
    if list_rules:
        _list_rules()
        return
    if explain:
        _explain(explain)
        return
    files = _files(paths or (DEFAULT_DIR,))

    try:
        if isolated:
            settings = Settings()
        elif config_path:
            settings = read_settings(config_path)
        else:
            settings = load_settings(files[0])
    except ConfigError as exc:
        raise fail(str(exc))

    version_text_ = postfix_version or settings.postfix_version
    try:
        target = target_release(version_text_)
    except PostfixError as exc:
        raise fail(f"--postfix-version auto: {exc}; name a version like 3.9") from None
    except ValueError:
        raise fail(f"--postfix-version: {version_text_!r} is not a version like 3.9") from None
    options = Options.from_settings(
        settings,
        target=target,
        select=_split(select),
        ignore=_split(ignore),
        live=live,
        certificate_expiry_days=certificate_expiry_days,
    )
    for code in (*options.select, *options.ignore, *options.severities):
        if code != "ALL" and not any(c.startswith(code) for c in _all_codes()):
            raise fail(f"unknown rule code or prefix {code!r} (see pflint --list-rules)")

    if apply_fixes or show_diff:
        # fixes are edits of main.cf: what the host holds has none to offer
        _fix(files, attrs.evolve(options, live=False), unsafe=unsafe_fixes, show_diff=show_diff)
        if show_diff:
            raise click.exceptions.Exit(EXIT_CLEAN)
    try:
        run = lint(files, options, jobs=jobs or _cpus())
    except ReadError as exc:
        raise fail(str(exc))
    except OSError as exc:
        raise fail(f"{exc.filename}: {exc.strerror or exc}")
    findings = run.findings
    if verbose:
        kb = KnowledgeBase(target)
        echo(f"pflint: judging for Postfix {version_text(kb.target)}", err=True)
        if settings.path:
            echo(f"pflint: settings from {settings.path}", err=True)
        for note in run.notes:
            echo(f"pflint: {note}", err=True)

    if write_baseline_path:
        try:
            count = write_baseline(write_baseline_path, findings)
        except WriteError as exc:
            raise fail(str(exc))
        echo(
            f"pflint: recorded {count} finding{'s' if count != 1 else ''} in {write_baseline_path}",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_CLEAN)
    if baseline_path:
        try:
            findings = filter_new(findings, baseline_path)
        except BaselineError as exc:
            raise fail(str(exc))

    if output_format == "json":
        output = as_json(findings)
    elif output_format == "sarif":
        output = sarif(findings, __version__)
    elif output_format == "github":
        output = github(findings)
    else:
        use_color = color == "always" or (
            color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        )
        output = text(findings, color=use_color)
    if output:
        click.echo(output.encode("utf-8", "surrogateescape"), nl=False)
    threshold = severity_threshold or settings.severity_threshold or "info"
    raise click.exceptions.Exit(exit_status(findings, threshold))


def _cpus() -> int:
    """The CPUs this process may run on (a container or taskset may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _fix(files: list[str], options: Options, *, unsafe: bool, show_diff: bool) -> None:
    """Fix the main.cf of each directory named; print the diff instead with --diff."""
    from ..lint.fixer import fix_directory

    directories: dict[str, str] = {}  # each directory once, named as the user named it
    for name in files:
        if name.endswith("main.cf"):
            directory = os.path.dirname(name) or "."
            directories.setdefault(os.path.realpath(directory), directory)
    for directory in directories.values():
        try:
            result = fix_directory(directory, options, unsafe=unsafe, lock=not show_diff)
        except PfconfError as exc:  # unreadable, does not parse, another editor holds it
            raise fail(str(exc)) from None
        workspace = result.workspace
        if show_diff:
            workspace.close()
            diff = workspace.diff()
            if diff:
                click.echo(diff.encode("utf-8", "surrogateescape"), nl=False)
            continue
        try:
            workspace.write()
        except PfconfError as exc:  # changed on disk, or cannot be written
            raise fail(f"pflint: {exc} (nothing was changed)") from None
        count = len(result.applied)
        if count:
            echo(
                f"pflint: fixed {count} finding{'s' if count != 1 else ''} in {workspace.main_path}",
                err=True,
            )
        for finding, why in result.skipped:
            echo(f"pflint: could not fix {finding.code} at line {finding.line}: {why}", err=True)


def _all_codes() -> list[str]:
    from ..lint.rule import iter_codes

    return list(iter_codes())


def main() -> None:
    cli(prog_name="pflint")
