"""What the language server answers, worked out from text alone: which file a document is,
its diagnostics, symbols, hover, completions, definitions and quick fixes.

No protocol here (pfconf.lsp.server speaks it, and converts positions): lines and columns
are pfconf's, 1-based, columns counted in characters.  Each answer reads the buffer as
pflint reads a file, with the same engine, rules, suppressions and settings.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import attrs

from .. import loads
from ..errors import ParseError, PfconfError
from ..kb import KnowledgeBase
from ..lint.config import load_settings, target_release
from ..lint.engine import Options, lint_texts
from ..lint.finding import Finding
from ..model import MainCf, MasterCf, Override, Service, Span
from ..syntax.nodes import Entry, ServiceEntry

#: The names editors open these files under: main.cf and master.cf, with a prefix
#: (``postfix-main.cf``) or a suffix (``main.cf.proto``, ``master.cf.dist``, ``main.cf.bak``).
_FILE_NAME = re.compile(r"(?:[\w.-]*[._-])?(main|master)\.cf(?:[._-][\w.-]*)?", re.IGNORECASE)


def kind_of_path(path: str) -> str | None:
    """``"main"`` or ``"master"`` for a file named like one, whatever language the editor
    says it is; None for any other file."""
    found = _FILE_NAME.fullmatch(os.path.basename(path))
    return found.group(1).lower() if found else None


def sibling_path(path: str) -> str | None:
    """The partner of a main.cf (its master.cf) or of a master.cf, named the same way."""
    name = os.path.basename(path)
    found = _FILE_NAME.fullmatch(name)
    if found is None:
        return None
    word = "master" if found.group(1).lower() == "main" else "main"
    start, end = found.span(1)
    return os.path.join(os.path.dirname(path), name[:start] + word + name[end:])


def options_for(path: str) -> tuple[Options, list[str]]:
    """pflint's options for a file at ``path``: from the settings file above it
    (``.pflint.toml``, ``[tool.pflint]``), as pflint without flags reads them; and what
    could not be used, for the client's log."""
    from ..postfix import PostfixError

    try:
        settings = load_settings(path)
    except PfconfError as exc:
        return Options(), [str(exc)]
    notes: list[str] = []
    target = None
    try:
        target = target_release(settings.postfix_version)
    except PostfixError as exc:  # a PfconfError: check it first
        notes.append(f"{settings.path}: postfix-version auto: {exc}; judging for the newest")
    except ValueError:
        notes.append(f"{settings.path}: postfix-version {settings.postfix_version!r} ignored")
    return Options.from_settings(settings, target=target), notes


def diagnose(
    path: str, kind: str, text: str, sibling: str | None, options: Options | None = None
) -> list[Finding]:
    """pflint's findings in the document at ``path``, read from ``text``, with ``sibling``
    (the partner file's text, or None when there is none) as context."""
    partner = sibling_path(path) or os.path.join(os.path.dirname(path), "master.cf")
    if kind == "main":
        run = lint_texts(text, sibling, main_path=path, master_path=partner, options=options)
    else:
        run = lint_texts(sibling, text, main_path=partner, master_path=path, options=options)
    return [finding for finding in run.findings if finding.path == path]


@attrs.frozen
class Symbol:
    """An entry of main.cf or a service of master.cf: its name, a word about it, where it
    stands (all its lines) and where its name is."""

    name: str
    detail: str
    kind: str  # "parameter" or "service"
    span: Span
    selection: Span


def read(text: str, kind: str, path: str | None = None) -> MainCf | MasterCf | None:
    """The document, or None when Postfix would refuse it (the diagnostics say why)."""
    try:
        doc = loads(text, kind, path=path)
    except ParseError:
        return None
    assert isinstance(doc, (MainCf, MasterCf))
    return doc


def symbols(doc: MainCf | MasterCf) -> list[Symbol]:
    found: list[Symbol] = []
    if isinstance(doc, MainCf):
        for entry in doc.entries:
            value = entry.value
            detail = value if len(value) <= 60 else value[:57] + "..."
            found.append(
                Symbol(entry.name, detail, "parameter", _whole(entry.node), entry.name_span)
            )
        return found
    for service in doc.services:
        detail = " ".join([service.command, *service.args])
        found.append(
            Symbol(service.key, detail, "service", _whole(service.node), service.field_span(0))
        )
    return found


def _whole(node: Entry | ServiceEntry) -> Span:
    """The span of all of a node's lines."""
    line = node.line
    lines = node.dump().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    last = lines[-1].removesuffix("\r") if lines else ""
    return Span(line, 1, line + max(len(lines) - 1, 0), len(last) + 1)


# -- hover ---------------------------------------------------------------------------------

#: What each master.cf column says, in our words (master(5) describes them in full).
FIELDS = {
    "service": "the service's name: a TCP port or host:port for inet, else the name other "
    "Postfix programs use to reach it (under the queue directory's private/ or public/)",
    "type": "how it is reached: inet (TCP), unix or unix-dgram (local socket), fifo, or pass "
    "(connections handed over by another process)",
    "private": "y (the default): only Postfix may reach the socket (private/); n: anyone "
    "(public/).  inet services are never private",
    "unprivileged": "y (the default): runs as mail_owner; n: runs as root (local, pipe, "
    "virtual need it to deliver)",
    "chroot": "whether the daemon runs in a chroot jail at the queue directory: n is the "
    "default from Postfix 3.0, y before",
    "wakeup": "every N seconds master wakes the daemon (N? : only once it is in use); 0 or - "
    "for never",
    "process_limit": "the most processes of this service at once; - means "
    "default_process_limit, 0 no limit",
    "command": "the program run from daemon_directory, then its arguments; -o name=value "
    "overrides a main.cf parameter for this service only",
}


@attrs.frozen
class Hover:
    markdown: str
    span: Span


def _covers(span: Span, line: int, column: int) -> bool:
    """Whether the character at ``line``, ``column`` is in ``span`` (whose end is past it)."""
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column)


def _reference_at(text: str, offset: int) -> tuple[str, int, int] | None:
    """The ``$name`` (``${name...}``, ``$(name)``) around ``offset`` in ``text``, as Postfix
    reads references (pfconf.values.find_references: ``$$`` is none); the innermost when
    they nest."""
    from ..values import find_references

    around = [r for r in find_references(text) if r.start <= offset <= r.end]
    if not around:
        return None
    found = min(around, key=lambda r: r.end - r.start)
    return found.name, found.start, found.end


def hover(
    text: str,
    kind: str,
    path: str,
    line: int,
    column: int,
    sibling: str | None = None,
    options: Options | None = None,
) -> Hover | None:
    """What to show for the position (1-based line and column) of the document ``text``."""
    doc = read(text, kind, path)
    if doc is None:
        return None
    kb = KnowledgeBase((options or Options()).target)
    main, master = _pair(doc, kind, sibling, path)
    if isinstance(doc, MainCf):
        for entry in doc.entries:
            if not entry.line <= line <= entry.end_line:
                continue
            if _covers(entry.name_span, line, column):
                return Hover(_parameter(kb, entry.name, main, master, None), entry.name_span)
            for item in entry.items:
                if not _covers(item.span, line, column):
                    continue
                found = _in_word(kb, item.text, item.span, column, main, master, None)
                if found is not None:
                    return found
                if _restriction_list(kb, entry.name, main) and kb.restriction(item.text):
                    return Hover(_restriction(kb, item.text), item.span)
            return None
        return None
    for service in doc.services:
        if service.line > line or line > _whole(service.node).end_line:
            continue
        arguments = service.arguments
        for index, argument in enumerate(arguments):
            if not _covers(argument.span, line, column):
                continue
            if index < 8:
                name = ("service", "type", "private", "unprivileged", "chroot", "wakeup",
                        "process_limit", "command")[index]  # fmt: skip
                return Hover(
                    f"**{name}** (master.cf column {index + 1}): {FIELDS[name]}", argument.span
                )
            for override in service.override_list:
                if override.argument != argument.span:
                    continue
                found = _override_name(
                    kb, override, argument.text, line, column, main, master, service
                )
                if found is not None:
                    return found
            return _in_word(kb, argument.text, argument.span, column, main, master, service)
    return None


def _override_name(
    kb: KnowledgeBase,
    override: Override,
    word: str,
    line: int,
    column: int,
    main: MainCf | None,
    master: MasterCf | None,
    service: Service,
) -> Hover | None:
    """The name of a ``-o name=value`` under the cursor (the word on one line)."""
    span = override.argument
    if span.line != span.end_line or line != span.line:
        return None
    start = word.find(override.name)
    if start < 0:
        return None
    name_span = Span(line, span.column + start, line, span.column + start + len(override.name))
    if not _covers(name_span, line, column):
        return None
    return Hover(_parameter(kb, override.name, main, master, service), name_span)


def _in_word(
    kb: KnowledgeBase,
    word: str,
    span: Span,
    column: int,
    main: MainCf | None,
    master: MasterCf | None,
    service: Service | None,
) -> Hover | None:
    """A ``$name`` under the cursor, in a word on one line."""
    if span.line != span.end_line:
        return None
    found = _reference_at(word, column - span.column)
    if found is None:
        return None
    name, start, end = found
    where = Span(span.line, span.column + start, span.line, span.column + end)
    return Hover(_parameter(kb, name, main, master, service), where)


def _pair(
    doc: MainCf | MasterCf, kind: str, sibling: str | None, path: str
) -> tuple[MainCf | None, MasterCf | None]:
    """The main.cf and master.cf documents the hovered one is read with."""
    other_kind = "master" if kind == "main" else "main"
    other = read(sibling, other_kind) if sibling is not None else None
    if isinstance(doc, MainCf):
        return doc, other if isinstance(other, MasterCf) else None
    return (other if isinstance(other, MainCf) else None), doc


def _restriction_list(kb: KnowledgeBase, name: str, main: MainCf | None) -> bool:
    """Whether smtpd reads ``name`` as a restriction list: one of its own (the knowledge
    base's kind) or a class that main.cf's smtpd_restriction_classes names."""
    if (kb.parameter(name) or {}).get("kind") == "restriction_list":
        return True
    if main is None or main.get("smtpd_restriction_classes") is None:
        return False
    from ..semantics import Configuration
    from ..semantics.restrictions import restriction_classes

    return name in restriction_classes(Configuration(main, None, kb.target))


def _parameter(
    kb: KnowledgeBase,
    name: str,
    main: MainCf | None,
    master: MasterCf | None,
    service: Service | None,
) -> str:
    from ..kb import version_text

    info = kb.parameter(name)
    target = version_text(kb.target[:2])
    lines = []
    if info is None:
        lines.append(f"**{name}**: not a parameter of any Postfix release pflint knows")
        close = kb.close_parameter(name)
        if close:
            lines.append(f"Did you mean `{close}`?")
        return "\n\n".join(lines)
    lines.append(f"**{name}** ({info.get('kind', 'text')})")
    default = kb.compiled_default(name, kb.target)
    if default is not None:
        lines.append(f"Default in Postfix {target}: `{default}`" if default else
                     f"Default in Postfix {target}: empty")  # fmt: skip
    lines.append(_history(info))
    value = _effective(main, master, service, name, kb)
    if value is not None:
        where = f" for {service.key}" if service is not None else ""
        lines.append(f"Value here{where}: `{value}`" if value else f"Value here{where}: empty")
    lines.append(f"postconf(5): `{name}`")
    return "\n\n".join(lines)


def _history(info: dict[str, Any]) -> str:
    """When a parameter or restriction came, was deprecated or went, and what replaces it."""
    history = [f"added in {info.get('introduced', '2.0')}"]
    if info.get("deprecated"):
        history.append(f"deprecated in {info['deprecated']}")
    if info.get("removed"):
        history.append(f"removed in {info['removed']}")
    if info.get("replacement"):
        history.append(f"use `{info['replacement']}` instead")
    text = "; ".join(history)
    return text[:1].upper() + text[1:]  # not str.capitalize(): names keep their case


def _effective(
    main: MainCf | None,
    master: MasterCf | None,
    service: Service | None,
    name: str,
    kb: KnowledgeBase,
) -> str | None:
    from ..semantics import Configuration

    if main is None:
        main = MainCf(())
    # as pfedit show reads values: this machine's name for $myhostname and what follows
    config = Configuration(main, master, kb.target, hostname=socket.gethostname())
    if service is not None:
        config = config.for_service(service)
    return config.value(name)


def _what_it_does(name: str) -> str | None:
    """What a restriction does, from the family its name belongs to (our words; each
    restriction's own conditions are in postconf(5))."""
    if name == "warn_if_reject":
        return "Makes the restriction after it log what it would reject, instead of rejecting"
    if re.fullmatch(r"check_\w+_access", name):
        return "Looks the request up in the table it names and does what the table answers"
    exact = {
        "check_policy_service": "Asks a policy server and does what it answers",
        "check_recipient_maps": "Rejects a recipient that the recipient tables do not list",
        "check_relay_domains": "Accepts mail for this host's and the relay domains, and from "
        "the clients they name; rejects the rest (the old form of relay control)",
        "permit": "Always accepts the request; the list stops there",
        "reject": "Always rejects the request",
        "defer": "Always answers with a temporary error",
        "defer_if_permit": "A temporary error, given only if the rest of the lists would "
        "accept the request",
        "defer_if_reject": "A temporary error, given only if the rest of the lists would "
        "reject the request",
        "sleep": "Waits the seconds it is given, then goes on to the next restriction",
    }
    if name in exact:
        return exact[name]
    for prefix, effect in (
        ("permit", "Accepts the request when its condition holds; the list stops there"),
        ("reject", ("Rejects the request when its condition holds (with the reply code "
                    "its own parameter sets)")),
        ("defer", "Answers with a temporary error when its condition holds"),
    ):  # fmt: skip
        if name.startswith(prefix + "_"):
            return effect
    return None


def _restriction(kb: KnowledgeBase, name: str) -> str:
    info = kb.restriction(name) or {}
    lines = [f"**{name.lower()}** (smtpd restriction)"]
    does = _what_it_does(name.lower())
    if does:
        lines.append(does)
    lists = info.get("lists") or []
    if lists:
        lines.append("Works in the " + ", ".join(lists) + " restriction lists")
    argument = info.get("argument")
    if argument and argument != "none":
        lines.append(f"Takes an argument: {argument}")
    lines.append(_history(info))
    lines.append(f"postconf(5): `{name.lower()}`")
    return "\n\n".join(lines)


# -- completion ------------------------------------------------------------------------------


@attrs.frozen
class Completion:
    label: str
    kind: str  # "parameter", "value", "restriction", "table type"
    detail: str = ""
    insert: str | None = None
    deprecated: bool = False


def completions(
    text: str, kind: str, line: int, column: int, options: Options | None = None
) -> list[Completion]:
    """What may be typed at the position (1-based line and column) of ``text``, which need
    not read as a whole (it is being typed)."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return []
    physical = lines[line - 1].removesuffix("\r")
    before = physical[: column - 1]
    kb = KnowledgeBase((options or Options()).target)
    if kind == "master":
        # the name of a -o: right after "-o ", or while it is being typed
        words = before.split()
        typing = bool(before) and not before[-1].isspace()
        if typing and len(words) >= 2 and words[-2] == "-o" and "=" not in words[-1]:
            return _parameter_names(kb, "=")
        if not typing and words and words[-1] == "-o":
            return _parameter_names(kb, "=")
        return []
    starts_entry = bool(physical) and physical[0] not in " \t\v\f\r#"
    if starts_entry and "=" not in before:
        return _parameter_names(kb, " = ")
    if physical.lstrip(" \t\v\f\r").startswith("#"):
        return []
    name = _entry_name(lines, line)
    if name is None:
        return []
    doc = read(text, "main")
    return _values(kb, name, _restriction_list(kb, name, doc if isinstance(doc, MainCf) else None))


def _entry_name(lines: list[str], line: int) -> str | None:
    """The name of the entry a physical line belongs to (its head line or a continuation)."""
    for index in range(line - 1, -1, -1):
        text = lines[index]
        if not text.strip(" \t\v\f\r") or text.lstrip(" \t\v\f\r").startswith("#"):
            continue
        if text[0] not in " \t\v\f\r":
            found = re.match(r"[^ \t\v\f\r=]+", text)
            return found.group(0) if found else None
    return None


def _parameter_names(kb: KnowledgeBase, suffix: str) -> list[Completion]:
    found = []
    for name in sorted(kb.parameters):
        status = kb.status(name)
        if status in ("unknown", "future"):
            continue
        info = kb.parameters[name]
        detail = str(info.get("kind", "text"))
        if status in ("deprecated", "removed", "ignored"):
            detail += f", {status}"
            if info.get("replacement"):
                detail += f": use {info['replacement']}"
        found.append(
            Completion(
                name,
                "parameter",
                detail,
                insert=name + suffix,
                deprecated=status in ("deprecated", "removed", "ignored"),
            )
        )
    return found


def _values(kb: KnowledgeBase, name: str, restrictions: bool) -> list[Completion]:
    info = kb.parameter(name) or {}
    kind = info.get("kind")
    if kind == "boolean":
        return [Completion("yes", "value", name), Completion("no", "value", name)]
    choices = kb.choices(name)
    if choices:
        return [Completion(choice, "value", name) for choice in choices]
    found: list[Completion] = []
    if restrictions:
        for restriction, facts in sorted(kb.restrictions.items()):
            retired = bool(facts.get("removed") or facts.get("deprecated"))
            found.append(
                Completion(restriction, "restriction", str(facts.get("stage", "")),
                           deprecated=retired)
            )  # fmt: skip
    if restrictions or kind == "table_list":
        from ..kb import load_table

        for table_type, facts in sorted(load_table("tables").get("types", {}).items()):
            found.append(Completion(f"{table_type}:", "table type", str(facts.get("note", ""))))
    return found


# -- go to definition ------------------------------------------------------------------------


def definition(
    text: str, kind: str, path: str, line: int, column: int, sibling: str | None = None
) -> tuple[str, Span] | None:
    """Where the ``$name`` at the position gets its value: the ``-o`` of the same service
    that sets it (master.cf), else main.cf's definition that counts (the last one); None
    for a name left to its default, or no ``$name`` there."""
    doc = read(text, kind, path)
    if doc is None:
        return None
    main, _ = _pair(doc, kind, sibling, path)
    main_path = path if kind == "main" else (sibling_path(path) or path)
    if isinstance(doc, MainCf):
        for entry in doc.entries:
            if not entry.line <= line <= entry.end_line:
                continue
            for item in entry.items:
                name = _reference_name(item.text, item.span, line, column)
                if name is not None:
                    return _main_definition(doc, main_path, name)
        return None
    for service in doc.services:
        for argument in service.arguments[8:]:
            name = _reference_name(argument.text, argument.span, line, column)
            if name is None:
                continue
            for override in reversed(service.override_list):
                if override.name == name:
                    return path, override.argument
            return _main_definition(main, main_path, name) if main is not None else None
    return None


def _reference_name(word: str, span: Span, line: int, column: int) -> str | None:
    if span.line != span.end_line or line != span.line or not _covers(span, line, column):
        return None
    found = _reference_at(word, column - span.column)
    return found[0] if found else None


def _main_definition(main: MainCf, main_path: str, name: str) -> tuple[str, Span] | None:
    entry = main.get(name)
    return (main_path, entry.name_span) if entry is not None else None


# -- quick fixes -----------------------------------------------------------------------------


@attrs.frozen
class QuickFix:
    """A fix a finding carries, as the text it changes: lines ``first`` to ``last``
    (1-based, ``last`` excluded; past the end appends) become ``text``."""

    title: str
    code: str
    safe: bool
    first: int
    last: int
    text: str
    finding: Finding


def quick_fixes(
    text: str,
    path: str,
    findings: list[Finding],
    line: int,
    end_line: int,
) -> list[QuickFix]:
    """The fixes of the findings on lines ``line`` to ``end_line`` of a main.cf, each made
    alone on the buffer by the editor pflint --fix uses (fixes are edits of main.cf)."""
    from ..edit import EditError, MainEditor
    from ..lint.fixer import apply_edit

    doc = read(text, "main", path)
    if not isinstance(doc, MainCf):
        return []
    found = []
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.edit is None or not fix.applies(unsafe=True):
            continue
        if finding.end_line < line or finding.line > end_line:
            continue
        editor = MainEditor(doc)
        try:
            if not apply_edit(editor, fix.edit, f"{finding.code}: {fix.description}"):
                continue
        except EditError:
            continue
        first, last, new = _changed_lines(text, editor.text)
        found.append(
            QuickFix(
                f"{fix.description} ({finding.code})",
                finding.code,
                fix.applies(unsafe=False),
                first,
                last,
                new,
                finding,
            )
        )
    return found


def _changed_lines(old: str, new: str) -> tuple[int, int, str]:
    """The smallest run of whole lines of ``old`` that, replaced, gives ``new``."""
    before = old.splitlines(keepends=True)
    after = new.splitlines(keepends=True)
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end_old, end_new = len(before), len(after)
    while end_old > start and end_new > start and before[end_old - 1] == after[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start + 1, end_old + 1, "".join(after[start:end_new])
