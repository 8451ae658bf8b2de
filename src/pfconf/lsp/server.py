"""pfconf-lsp: main.cf and master.cf in the editor, over the Language Server Protocol (stdio).

The protocol lives here; what is answered comes from pfconf.lsp.analysis (and through it the
same engine, rules, settings and suppressions as pflint).  Documents are recognised by their
file name (pfconf.lsp.analysis.kind_of_path), whatever language id the editor sends; other
documents get no answers.

Diagnostics: on open at once, on change after a short pause that coalesces a burst of
keystrokes (DEBOUNCE), for the document and for its open partner, whose context it is.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

import attrs
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from .. import __version__
from ..io import decode, read_config
from ..lint.engine import Options
from ..lint.finding import Finding
from ..model import Span
from . import analysis

#: Seconds to wait after a change before linting: changes that come faster are linted once.
DEBOUNCE = 0.01

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


class PfconfServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("pfconf-lsp", __version__)
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._noted: set[str] = set()
        self._linted: dict[str, tuple[tuple[str, str | None, Options], list[Finding]]] = {}

    # -- documents -----------------------------------------------------------------------

    def kind(self, uri: str) -> tuple[str, str] | None:
        """(path, kind) of a document this server answers for; None for any other."""
        path = to_fs_path(uri)
        if path is None:
            return None
        kind = analysis.kind_of_path(path)
        return (path, kind) if kind else None

    def document(self, uri: str) -> TextDocument:
        return self.workspace.get_text_document(uri)

    def sibling_text(self, path: str) -> tuple[str | None, str | None]:
        """The partner file's text and URI: the open buffer if there is one, else the file on
        disk (None when there is none or it cannot be read)."""
        partner = analysis.sibling_path(path)
        if partner is None:
            return None, None
        uri = _uri(partner)
        if uri in self.workspace.text_documents:
            return self.document(uri).source, uri
        if not os.path.lexists(partner):
            return None, None
        try:
            return decode(read_config(partner)), None
        except OSError:  # unreadable, a FIFO, too large: linted as if absent
            return None, None

    # -- diagnostics ---------------------------------------------------------------------

    def schedule(self, uri: str, delay: float) -> None:
        """Lint ``uri`` after ``delay`` seconds, replacing a lint already waiting for it."""
        self.cancel(uri)
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(delay, self.publish_safely, uri)

    def forget(self, uri: str) -> None:
        self._linted.pop(uri, None)

    def cancel(self, uri: str) -> None:
        waiting = self._pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()

    def publish_safely(self, uri: str) -> None:
        """:meth:`publish`, and a failure in pfconf is a message in the client's log, not the
        end of the server (the editing goes on, and so do the other documents)."""
        try:
            self.publish(uri)
        except Exception as exc:  # noqa: BLE001 - any bug in a rule must not stop the server
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error,
                    message=f"pfconf-lsp: linting {uri} failed: {type(exc).__name__}: {exc}",
                )
            )

    def publish(self, uri: str) -> None:
        self._pending.pop(uri, None)
        known = self.kind(uri)
        if known is None or uri not in self.workspace.text_documents:
            return
        path, kind = known
        document = self.document(uri)
        sibling, _ = self.sibling_text(path)
        options, notes = analysis.options_for(path)
        for note in notes:
            if note not in self._noted:  # once, not at every keystroke
                self._noted.add(note)
                self.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Warning, message=note)
                )
        findings = self.findings(uri, path, kind, document, sibling, options)
        lines = document.lines
        diagnostics = [_diagnostic(document, finding, lines) for finding in findings]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=document.version
            )
        )

    def findings(
        self,
        uri: str,
        path: str,
        kind: str,
        document: TextDocument,
        sibling: str | None,
        options: Options,
    ) -> list[Finding]:
        """pflint's findings in the document, linted once per text: the code actions an
        editor asks for at each move of the cursor reuse the lint its diagnostics came from."""
        key = (document.source, sibling, options)
        kept = self._linted.get(uri)
        if kept is not None and kept[0] == key:
            return kept[1]
        found = analysis.diagnose(path, kind, document.source, sibling, options)
        self._linted[uri] = (key, found)
        return found

    def partner_changed(self, uri: str) -> None:
        """Lint the open partner of ``uri`` again: its context changed."""
        known = self.kind(uri)
        if known is None:
            return
        partner = analysis.sibling_path(known[0])
        if partner is not None and _uri(partner) in self.workspace.text_documents:
            self.schedule(_uri(partner), DEBOUNCE)


def _uri(path: str) -> str:
    return from_fs_path(path) or path


def _range(document: TextDocument, span: Span, lines: Sequence[str] | None = None) -> types.Range:
    """A pfconf span (1-based, characters) as an LSP range (0-based, in the client's units).

    ``lines``: the document's lines, when many ranges are made at once (TextDocument.lines
    splits the whole text again at each use)."""
    if lines is None:
        lines = document.lines
    start = types.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0))
    end = types.Position(line=max(span.end_line - 1, 0), character=max(span.end_column - 1, 0))
    codec = document.position_codec
    return types.Range(
        start=codec.position_to_client_units(lines, start),
        end=codec.position_to_client_units(lines, end),
    )


def _diagnostic(
    document: TextDocument, finding: Finding, lines: Sequence[str] | None = None
) -> types.Diagnostic:
    span = Span(finding.line, finding.column, finding.end_line, finding.end_column)
    return types.Diagnostic(
        range=_range(document, span, lines),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=types.CodeDescription(href=_rule_url(finding.code)),
        source="pflint",
        data={"code": finding.code},
    )


def _rule_url(code: str) -> str:
    # docs/rules.md has an anchor per rule, its code in lower case
    return f"https://github.com/pfconf/pfconf/blob/main/docs/rules.md#{code.lower()}"


server = PfconfServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PfconfServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)
    ls.partner_changed(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PfconfServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE)
    ls.partner_changed(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PfconfServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PfconfServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.cancel(uri)
    ls.forget(uri)
    if ls.kind(uri) is not None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
    # the partner now reads this file from disk, not from the closed buffer
    ls.partner_changed(uri)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(
    ls: PfconfServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol] | None:
    known = ls.kind(params.text_document.uri)
    if known is None:
        return None
    path, kind = known
    document = ls.document(params.text_document.uri)
    doc = analysis.read(document.source, kind, path)
    if doc is None:
        return []
    result = []
    lines = document.lines
    for symbol in analysis.symbols(doc):
        result.append(
            types.DocumentSymbol(
                name=symbol.name,
                detail=symbol.detail,
                kind=types.SymbolKind.Property
                if symbol.kind == "parameter"
                else types.SymbolKind.Module,
                range=_range(document, symbol.span, lines),
                selection_range=_range(document, symbol.selection, lines),
            )
        )
    return result


def _position(document: TextDocument, position: types.Position) -> tuple[int, int]:
    """An LSP position (0-based, the client's units) as pfconf's 1-based line and column."""
    server_position = document.position_codec.position_from_client_units(document.lines, position)
    return server_position.line + 1, server_position.character + 1


def _context(ls: PfconfServer, uri: str) -> tuple[TextDocument, str, str, str | None] | None:
    """The document, its path and kind, and its partner's text; None for other files."""
    known = ls.kind(uri)
    if known is None:
        return None
    path, kind = known
    sibling, _ = ls.sibling_text(path)
    return ls.document(uri), path, kind, sibling


@attrs.frozen
class _At:
    """A request at a position of a document the server answers for."""

    document: TextDocument
    path: str
    kind: str
    sibling: str | None
    line: int  # pfconf's: 1-based, characters
    column: int


def _at(ls: PfconfServer, uri: str, position: types.Position) -> _At | None:
    context = _context(ls, uri)
    if context is None:
        return None
    document, path, kind, sibling = context
    line, column = _position(document, position)
    return _At(document, path, kind, sibling, line, column)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PfconfServer, params: types.HoverParams) -> types.Hover | None:
    at = _at(ls, params.text_document.uri, params.position)
    if at is None:
        return None
    options, _ = analysis.options_for(at.path)
    found = analysis.hover(
        at.document.source, at.kind, at.path, at.line, at.column, at.sibling, options
    )
    if found is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.markdown),
        range=_range(at.document, found.span),
    )


_COMPLETION_KIND = {
    "parameter": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.Value,
    "restriction": types.CompletionItemKind.Function,
    "table type": types.CompletionItemKind.Module,
}


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=["=", ",", " "]),
)
def completion(ls: PfconfServer, params: types.CompletionParams) -> types.CompletionList | None:
    at = _at(ls, params.text_document.uri, params.position)
    if at is None:
        return None
    options, _ = analysis.options_for(at.path)
    items = [
        types.CompletionItem(
            label=item.label,
            kind=_COMPLETION_KIND.get(item.kind),
            detail=item.detail or None,
            insert_text=item.insert,
            tags=[types.CompletionItemTag.Deprecated] if item.deprecated else None,
        )
        for item in analysis.completions(at.document.source, at.kind, at.line, at.column, options)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PfconfServer, params: types.DefinitionParams) -> types.Location | None:
    at = _at(ls, params.text_document.uri, params.position)
    if at is None:
        return None
    document, sibling = at.document, at.sibling
    found = analysis.definition(document.source, at.kind, at.path, at.line, at.column, sibling)
    if found is None:
        return None
    target_path, span = found
    uri = _uri(target_path)
    if uri == params.text_document.uri:
        target = document
    elif uri in ls.workspace.text_documents:
        target = ls.document(uri)
    else:
        target = TextDocument(uri, sibling or "")
    return types.Location(uri=uri, range=_range(target, span))


#: Safe fixes are quick fixes; fixes that change what Postfix does are a kind of their own,
#: so that an editor can offer them apart (or not at all).
UNSAFE_FIX = "quickfix.pflint.unsafe"


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, UNSAFE_FIX]),
)
def code_action(ls: PfconfServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    context = _context(ls, params.text_document.uri)
    if context is None:
        return None
    document, path, kind, sibling = context
    if kind != "main":
        return []  # fixes are edits of main.cf
    options, _ = analysis.options_for(path)
    findings = ls.findings(params.text_document.uri, path, kind, document, sibling, options)
    first_line, _ = _position(document, params.range.start)
    last_line, _ = _position(document, params.range.end)
    actions = []
    for fix in analysis.quick_fixes(document.source, path, findings, first_line, last_line):
        kind_ = types.CodeActionKind.QuickFix if fix.safe else UNSAFE_FIX
        edit = types.TextEdit(
            range=types.Range(
                start=types.Position(line=fix.first - 1, character=0),
                end=types.Position(line=fix.last - 1, character=0),
            ),
            new_text=fix.text,
        )
        actions.append(
            types.CodeAction(
                title=fix.title if fix.safe else f"{fix.title} (changes what Postfix does)",
                kind=kind_,
                diagnostics=[_diagnostic(document, fix.finding)],
                is_preferred=fix.safe,
                edit=types.WorkspaceEdit(changes={params.text_document.uri: [edit]}),
            )
        )
    return actions


def main() -> None:
    """Serve one client over stdin and stdout (the pfconf-lsp command, pfconf.lsp.main)."""
    server.start_io()
