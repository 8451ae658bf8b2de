"""Run the rules over files: read them, pair main.cf with master.cf, apply selection and suppressions.

The CLI gives it paths and options and gets findings back; everything between (which files
give context, which findings are reported, which are silenced) happens here.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .. import load, loads
from ..errors import ParseError
from ..io import kind_by_name, kind_of, read_config
from ..kb import KnowledgeBase, Version
from ..model import MainCf, MasterCf
from ..syntax.nodes import CommentLine, Entry, ServiceEntry
from .context import CERTIFICATE_EXPIRY_DAYS, Context, stock_master
from .finding import Finding, severity_rank
from .reporter import Reporter
from .rule import Rule, all_rules, rule_for

if TYPE_CHECKING:
    from ..live import Host
    from .config import Settings

#: A file Postfix refuses to read.
SYNTAX_ERROR = "SYN001"
#: A suppression comment that silenced nothing.
UNUSED_SUPPRESSION = "PFL001"

_PRAGMA = re.compile(r"^\s*#\s*pflint:\s*disable=([A-Za-z0-9_, ]+?)\s*(?:--\s*(.*))?$")


@attrs.define
class Options:
    """What to check and report; the CLI fills it from flags and configuration files."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severities: dict[str, str] = attrs.Factory(dict)
    per_file_ignores: dict[str, tuple[str, ...]] = attrs.Factory(dict)
    target: Version | None = None
    #: Also run the live rules, which look at what the files name on this host (pfconf.live);
    #: off, nothing beyond the configuration files is read.
    live: bool = False
    #: Live: a certificate that expires within this many days is a warning (LIVE013).
    certificate_expiry_days: int = CERTIFICATE_EXPIRY_DAYS

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        target: Version | None = None,
        select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        live: bool = False,
        certificate_expiry_days: int | None = None,
    ) -> Options:
        """The options a settings file gives, the command line's flags first (``select``
        replaces the file's, ``ignore`` adds to it): pflint's and the language server's."""
        days = (certificate_expiry_days, settings.certificate_expiry_days)
        return cls(
            select=select or settings.select,
            ignore=ignore + settings.ignore,
            severities=settings.severities,
            per_file_ignores=settings.per_file_ignores,
            target=target,
            live=live,
            certificate_expiry_days=next(
                (d for d in days if d is not None), CERTIFICATE_EXPIRY_DAYS
            ),
        )


@attrs.define
class FileResult:
    path: str
    kind: str
    doc: object | None = None
    error: ParseError | None = None


@attrs.define
class Run:
    """The outcome of one lint run: findings, plus notes for verbose output."""

    findings: list[Finding]
    notes: list[str]
    files: list[str]


def _matches(code: str, patterns: Iterable[str]) -> bool:
    """``code`` is selected by a pattern that is the code, an alias, a prefix or ``ALL``."""
    rule_codes = {code}
    try:
        cls = rule_for(code)
        rule_codes |= {cls.code, *cls.aliases}
    except KeyError:
        pass
    for pattern in patterns:
        pattern = pattern.strip().upper()
        if pattern == "ALL" or any(c.startswith(pattern) for c in rule_codes):
            return True
    return False


def enabled(code: str, options: Options, path: str | None = None) -> bool:
    if options.select and not _matches(code, options.select):
        return False
    if options.ignore and _matches(code, options.ignore):
        return False
    if path is not None:
        for pattern, codes in options.per_file_ignores.items():
            if _path_matches(path, pattern) and _matches(code, codes):
                return False
    return True


def _path_matches(path: str, pattern: str) -> bool:
    normalized = path.replace(os.sep, "/")
    return (
        fnmatch.fnmatch(normalized, pattern)
        or fnmatch.fnmatch(os.path.basename(normalized), pattern)
        or fnmatch.fnmatch(normalized, f"*/{pattern}")
    )


def _read(path: str, kind: str) -> FileResult:
    """A file Postfix would refuse becomes a finding; one pfconf cannot read raises ReadError."""
    try:
        return FileResult(path, kind, doc=load(path, kind))
    except ParseError as exc:
        return FileResult(path, kind, error=exc.with_path(path))


def _kind(path: str) -> str:
    # The name decides when it says (main.cf, master.cf): no need to read the file twice.
    return kind_by_name(path) or kind_of(path, read_config(path)[:65536])


def _beside(path: str) -> bool:
    """Whether something is at ``path``: a partner that is there but unreadable (a directory,
    a FIFO, a dangling link) is read, so that it is reported rather than silently replaced
    by Postfix's stock master.cf."""
    return os.path.lexists(path)


def _pairs(paths: list[str]) -> list[tuple[str | None, str | None]]:
    """Group the files into (main.cf, master.cf) pairs, adding the partner found beside each."""
    pairs: dict[str, list[str | None]] = {}
    for path in paths:
        kind = _kind(path)
        directory = os.path.dirname(os.path.abspath(path))
        key = f"{directory}\0{kind}\0{path}"
        # a file named main.cf or master.cf pairs with its partner in the same directory
        base = os.path.basename(path)
        if base in ("main.cf", "master.cf"):
            key = directory
        slot = pairs.setdefault(key, [None, None])
        slot[0 if kind == "main" else 1] = path
    result = []
    for slot in pairs.values():
        main, master = slot
        if main is not None and master is None:
            partner = os.path.join(os.path.dirname(main), "master.cf")
            if os.path.basename(main) == "main.cf" and _beside(partner):
                master = partner
        if master is not None and main is None:
            partner = os.path.join(os.path.dirname(master), "main.cf")
            if os.path.basename(master) == "master.cf" and _beside(partner):
                main = partner
        result.append((main, master))
    return result


def lint(
    paths: list[str],
    options: Options | None = None,
    rules: list[type[Rule]] | None = None,
    *,
    jobs: int = 1,
) -> Run:
    """Lint the named files; the partner file beside each is read as context only.

    With ``jobs`` above 1 and more than one configuration (directory) to lint, they are
    spread over that many worker processes; the findings and notes are the same, in the
    same order, as with one.  Raises ReadError (see pfconf.io.read_config) for a file that
    cannot be read at all.
    """
    options = options or Options()
    named = {os.path.abspath(p) for p in paths}
    pairs = _pairs(paths)
    workers = min(jobs, len(pairs))
    if workers > 1 and rules is None:
        results = _in_workers(pairs, named, options, workers)
    else:
        kb = KnowledgeBase(options.target)
        rule_classes = rules if rules is not None else all_rules(live=options.live)
        results = [_lint_pair(pair, named, kb, rule_classes, options) for pair in pairs]
    findings: list[Finding] = []
    notes: list[str] = []
    for pair_findings, pair_notes in results:
        findings += pair_findings
        notes += pair_notes
    return _reported(findings, notes, sorted(named), options)


def _lint_pair(
    pair: tuple[str | None, str | None],
    named: set[str],
    kb: KnowledgeBase,
    rule_classes: list[type[Rule]],
    options: Options,
) -> tuple[list[Finding], list[str]]:
    """The findings and notes of one configuration: a main.cf, its master.cf, or both."""
    main_path, master_path = pair
    findings: list[Finding] = []
    notes: list[str] = []
    main_result = _read(main_path, "main") if main_path else None
    master_result = _read(master_path, "master") if master_path else None
    for result in (main_result, master_result):
        if result is None or result.error is None:
            continue
        if os.path.abspath(result.path) in named:
            findings.append(_syntax_finding(result.error))
    main = main_result.doc if main_result else None
    master = master_result.doc if master_result else None
    findings += _check(
        main if isinstance(main, MainCf) else None,
        master if isinstance(master, MasterCf) else None,
        main_path,
        master_path,
        {p for p in (main_path, master_path) if p and os.path.abspath(p) in named},
        kb,
        rule_classes,
        options,
        notes,
    )
    return findings, notes


# -- pflint -j: configurations spread over worker processes ----------------------------------


def _in_workers(
    pairs: list[tuple[str | None, str | None]], named: set[str], options: Options, workers: int
) -> list[tuple[list[Finding], list[str]]]:
    """Each pair linted in a worker process; the results in the pairs' order.

    Pairs go out in consecutive chunks, a few per worker so that a slow one does not hold
    the others up, and come back in order (Executor.map), so the run reads the same as one
    made in this process.  A ReadError in a worker is raised here, as it would have been.
    """
    import concurrent.futures
    import multiprocessing

    size = max(1, -(-len(pairs) // (workers * 4)))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(_start_method())
    ) as pool:
        done = pool.map(_lint_chunk, [(chunk, named, options) for chunk in chunks])
        return [result for chunk_results in done for result in chunk_results]


def _start_method() -> str:
    """fork where it is safe: workers then start with pfconf already imported, which is
    most of a small lint's cost.  A process with other threads (pflint as a library in a
    threaded program) gets spawn, since a fork copies locks other threads may hold."""
    import multiprocessing
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


_WORKER: dict[str, tuple[KnowledgeBase, list[type[Rule]]]] = {}


def _lint_chunk(
    job: tuple[list[tuple[str | None, str | None]], set[str], Options],
) -> list[tuple[list[Finding], list[str]]]:
    chunk, named, options = job
    # the knowledge base and the rules once per worker, not once per chunk
    key = repr((options.target, options.live))
    if key not in _WORKER:
        _WORKER[key] = (KnowledgeBase(options.target), all_rules(live=options.live))
    kb, rule_classes = _WORKER[key]
    return [_lint_pair(pair, named, kb, rule_classes, options) for pair in chunk]


def lint_documents(
    main: MainCf | None,
    master: MasterCf | None,
    *,
    main_path: str = "main.cf",
    master_path: str = "master.cf",
    options: Options | None = None,
    rules: list[type[Rule]] | None = None,
) -> Run:
    """Lint documents already read (or edited) in memory, as :func:`lint` lints files: the
    paths are only what findings show.  Findings in both documents are reported; without a
    master.cf, Postfix's stock one stands in, as it does for a main.cf with none beside it."""
    options = options or Options()
    rule_classes = rules if rules is not None else all_rules(live=options.live)
    notes: list[str] = []
    paths = {p for p, doc in ((main_path, main), (master_path, master)) if doc is not None}
    findings = _check(
        main,
        master,
        main_path if main is not None else None,
        master_path if master is not None else None,
        paths,
        KnowledgeBase(options.target),
        rule_classes,
        options,
        notes,
    )
    return _reported(findings, notes, sorted(paths), options)


def lint_texts(
    main_text: str | None,
    master_text: str | None,
    *,
    main_path: str = "main.cf",
    master_path: str = "master.cf",
    options: Options | None = None,
) -> Run:
    """Lint the text of a main.cf and a master.cf (either may be None: not there), as
    :func:`lint` lints the files: a text Postfix would refuse gives its syntax finding, and
    the other is still read as context.  What an editor lints: its buffers, unsaved."""
    options = options or Options()
    docs: dict[str, Any] = {}
    syntax: list[Finding] = []
    for kind, text, path in (("main", main_text, main_path), ("master", master_text, master_path)):
        if text is None:
            continue
        try:
            docs[kind] = loads(text, kind, path=path)
        except ParseError as exc:
            syntax.append(_syntax_finding(exc))
    run = lint_documents(
        docs.get("main"),
        docs.get("master"),
        main_path=main_path,
        master_path=master_path,
        options=options,
    )
    return _reported([*syntax, *run.findings], run.notes, run.files, options)


def _check(
    main: MainCf | None,
    master: MasterCf | None,
    main_path: str | None,
    master_path: str | None,
    named: set[str],
    kb: KnowledgeBase,
    rule_classes: list[type[Rule]],
    options: Options,
    notes: list[str],
) -> list[Finding]:
    """Run the rules over one configuration; keep the findings in the ``named`` files, less
    the ones their suppression comments silence."""
    stock = False
    if master is None and main is not None and master_path is None:
        master = stock_master()
        stock = True
        notes.append(f"{main_path}: no master.cf beside it; assuming Postfix's stock master.cf")
    ctx = Context(
        main,
        master,
        main_path,
        master_path if not stock else "<stock master.cf>",
        kb,
        master_is_stock=stock,
        host=_host(main_path) if options.live else None,
        certificate_expiry_days=options.certificate_expiry_days,
    )
    skipped = []
    reporter = Reporter(ctx)
    try:
        for cls in rule_classes:
            if not enabled(cls.code, options):
                continue
            if cls.live and ctx.host is None:
                continue
            if cls.needs_main and ctx.main is None and ctx.master is not None:
                skipped.append(cls.code)
                continue
            cls(reporter).check(ctx)
    finally:
        if ctx.host is not None:
            ctx.host.close()
            notes.extend(ctx.host.notes)
    if skipped:
        notes.append(
            f"{master_path}: no main.cf beside it; skipped the rules that need its "
            f"settings ({', '.join(skipped)})"
        )
    wanted = {os.path.abspath(p) for p in named}
    findings = [f for f in reporter.findings if os.path.abspath(f.path) in wanted]
    for doc, path in ((main, main_path), (master if not stock else None, master_path)):
        if doc is not None and path in named:
            findings = _suppress(findings, doc, path, options)
    return findings


def _host(main_path: str | None) -> Host:
    """The host under --live; Postfix's tools are pointed at the main.cf's directory when it
    is named main.cf (a main.cf by another name is not what they would read)."""
    from ..live import Host

    config_dir = None
    if main_path is not None and os.path.basename(main_path) == "main.cf":
        config_dir = os.path.dirname(os.path.abspath(main_path))
    return Host(config_dir)


def _reported(findings: list[Finding], notes: list[str], files: list[str], options: Options) -> Run:
    """The run's outcome: the selected findings, with the severities the options give, in
    file order."""
    reported = []
    for finding in findings:
        if not enabled(finding.code, options, finding.path):
            continue
        severity = options.severities.get(finding.code, finding.severity)
        if severity != finding.severity:
            finding = attrs.evolve(finding, severity=severity)
        reported.append(finding)
    reported.sort(key=lambda f: f.sort_key)
    return Run(reported, notes, files)


def _syntax_finding(error: ParseError) -> Finding:
    column = max(error.column, 1)
    line = error.line or 1
    return Finding(
        SYNTAX_ERROR,
        "error",
        error.message,
        error.path or "<unknown>",
        line,
        column,
        line,
        column + 1,
    )


@attrs.define
class _Pragma:
    codes: tuple[str, ...]
    reason: str | None
    line: int
    first: int  # first line of the entry it covers
    last: int
    text: str
    used: set[str] = attrs.Factory(set)


def _pragmas(doc: MainCf | MasterCf) -> list[_Pragma]:
    """Suppression comments directly above an entry or service, with the lines they cover."""
    found: list[_Pragma] = []
    nodes = doc.nodes
    for index, node in enumerate(nodes):
        if not isinstance(node, (Entry, ServiceEntry)):
            continue
        last: int | None = None  # the entry's last line, counted only when a pragma needs it
        j = index - 1
        while j >= 0 and isinstance(nodes[j], CommentLine):
            comment = nodes[j]
            assert isinstance(comment, CommentLine)
            match = _PRAGMA.match(comment.text)
            if match:
                if last is None:
                    text = node.dump()
                    last = node.line + text.count("\n") - (1 if text.endswith("\n") else 0)
                codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
                found.append(
                    _Pragma(codes, match.group(2), comment.line, node.line, last, comment.text)
                )
            j -= 1
    return found


def _suppress(
    findings: list[Finding], doc: MainCf | MasterCf, doc_path: str, options: Options
) -> list[Finding]:
    pragmas = _pragmas(doc)
    if not pragmas:
        return findings
    path = os.path.abspath(doc_path)
    kept = []
    for finding in findings:
        silenced = False
        if os.path.abspath(finding.path) == path:
            for pragma in pragmas:
                if pragma.first <= finding.line <= pragma.last:
                    for code in pragma.codes:
                        if _matches(finding.code, [code]) and finding.code != UNUSED_SUPPRESSION:
                            pragma.used.add(code)
                            silenced = True
        if not silenced:
            kept.append(finding)
    if enabled(UNUSED_SUPPRESSION, options, doc_path):
        for pragma in pragmas:
            for code in pragma.codes:
                if code in pragma.used:
                    continue
                start = pragma.text.upper().find(code) + 1 or 1
                kept.append(
                    Finding(
                        UNUSED_SUPPRESSION,
                        "warning",
                        f"suppression of {code} silences nothing here",
                        doc_path,
                        pragma.line,
                        start,
                        pragma.line,
                        start + len(code),
                    )
                )
    return kept


def exit_status(findings: list[Finding], threshold: str) -> int:
    """1 when a finding is at or above ``threshold``, else 0."""
    limit = severity_rank(threshold)
    return 1 if any(severity_rank(f.severity) >= limit for f in findings) else 0
