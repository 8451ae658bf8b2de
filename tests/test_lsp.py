"""pfconf-lsp end to end: a real client (pytest-lsp) talks to the server over stdio.

Each test opens documents under tmp_path (the server recognises them by name) and checks
what an editor would show.  The server is started by the fixture, once per test.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER = [sys.executable, "-m", "pfconf.lsp"]


#: The clients whose recorded capabilities (pytest-lsp's) each test runs with: what the
#: server sends must suit Neovim's, VS Code's and Emacs's (eglot) alike.
CLIENTS = ["neovim", "visual-studio-code", "emacs"]


@pytest_lsp.fixture(params=CLIENTS, config=ClientServerConfig(server_command=SERVER))
async def client(request, lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    params = types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities(request.param),
    )
    result = await lsp_client.initialize_session(params)
    lsp_client.encoding = result.capabilities.position_encoding  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def _uri(path: Path) -> str:
    return path.as_uri()


async def _open(client: LanguageClient, path: Path, text: str, language: str = "plaintext") -> str:
    uri = _uri(path)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def _codes(client: LanguageClient, uri: str) -> list[str]:
    return sorted(str(d.code) for d in client.diagnostics.get(uri, []))


SASL_PLAIN = """\
smtpd_sasl_auth_enable = yes
smtpd_tls_auth_only = no
smtpd_use_tls = yes
"""


@pytest.mark.asyncio
async def test_diagnostics_on_open_match_pflint(client: LanguageClient, tmp_path: Path):
    from pfconf.lint import lint

    path = tmp_path / "main.cf"
    path.write_text(SASL_PLAIN)
    expected = lint([str(path)]).findings
    uri = await _open(client, path, SASL_PLAIN)
    got = client.diagnostics[uri]
    assert sorted(str(d.code) for d in got) == sorted(f.code for f in expected)
    assert expected, "the example must have findings"
    first = min(expected, key=lambda f: (f.line, f.column))
    shown = min(got, key=lambda d: (d.range.start.line, d.range.start.character))
    assert shown.range.start.line == first.line - 1
    assert shown.range.start.character == first.column - 1
    assert shown.source == "pflint"
    assert shown.code_description is not None
    assert shown.code_description.href.endswith(f"#{first.code.lower()}")


@pytest.mark.asyncio
async def test_diagnostics_follow_changes(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "main.cf"
    uri = await _open(client, path, "smtpd_tls_auth_only = yes\n")
    before = _codes(client, uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(text="smtpd_tls_auth_onyl = yes\n")
            ],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    after = _codes(client, uri)
    assert after != before and after  # the misspelt name is reported


@pytest.mark.asyncio
async def test_a_syntax_error_is_a_diagnostic(client: LanguageClient, tmp_path: Path):
    uri = await _open(client, tmp_path / "main.cf", "myhostname mail.example.com\n")
    (diagnostic,) = client.diagnostics[uri]
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert "missing '='" in diagnostic.message and diagnostic.range.start.line == 0


async def _until(check, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Wait for the server's notifications to make ``check()`` true."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return bool(check())


@pytest.mark.asyncio
async def test_the_partner_buffer_is_the_context(client: LanguageClient, tmp_path: Path):
    """A main.cf is judged with the master.cf beside it: the file on disk, or its open
    buffer, unsaved; a change there lints main.cf again, and closing it goes back to disk."""
    (tmp_path / "master.cf").write_text("smtp inet n - y - - smtpd\n")
    main_uri = await _open(client, tmp_path / "main.cf", "default_transport = myrelay\n")
    assert "XF001" in _codes(client, main_uri)  # master.cf on disk has no myrelay service
    master_uri = await _open(
        client, tmp_path / "master.cf", "smtp inet n - y - - smtpd\nmyrelay unix - - y - - smtp\n"
    )
    assert await _until(lambda: "XF001" not in _codes(client, main_uri))
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=master_uri))
    )
    assert await _until(lambda: "XF001" in _codes(client, main_uri))


@pytest.mark.asyncio
async def test_files_are_recognised_by_name_not_language(client: LanguageClient, tmp_path: Path):
    uri = await _open(client, tmp_path / "main.cf.proto", "smtpd_use_tls = yes\n", "ini")
    assert client.diagnostics[uri]
    other = _uri(tmp_path / "notes.txt")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=other, language_id="plaintext", version=1, text="smtpd_use_tls = yes\n"
            )
        )
    )
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=other))
    )
    assert not result and other not in client.diagnostics


@pytest.mark.asyncio
async def test_document_symbols(client: LanguageClient, tmp_path: Path):
    uri = await _open(
        client,
        tmp_path / "main.cf",
        "# mail\nmyhostname = mx.example.com\nrelayhost =\n  [smarthost]:587\n",
    )
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert result is not None
    names = [(s.name, s.range.start.line, s.range.end.line) for s in result]  # type: ignore[union-attr]
    assert names == [("myhostname", 1, 1), ("relayhost", 2, 3)]
    master = await _open(client, tmp_path / "master.cf", "smtp inet n - y - - smtpd\n")
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=master))
    )
    assert [s.name for s in result or []] == ["smtp/inet"]


async def _hover(client: LanguageClient, uri: str, line: int, character: int) -> str | None:
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


@pytest.mark.asyncio
async def test_hover_on_a_parameter_its_facts_and_value(client: LanguageClient, tmp_path: Path):
    text = "smtpd_use_tls = yes\nrelayhost = [$myorigin]:587\nmyorigin = example.org\n"
    uri = await _open(client, tmp_path / "main.cf", text)
    shown = await _hover(client, uri, 0, 3)
    assert shown is not None
    assert "**smtpd_use_tls** (boolean)" in shown
    assert "deprecated in 3.9" in shown and "`smtpd_tls_security_level`" in shown
    assert "Value here: `yes`" in shown
    # a $name inside a value: the referenced parameter, expanded
    shown = await _hover(client, uri, 1, 16)
    assert shown is not None and "**myorigin**" in shown and "`example.org`" in shown
    assert await _hover(client, uri, 1, 24) is None  # ":587" is no name


@pytest.mark.asyncio
async def test_hover_on_a_restriction_and_on_master_cf(client: LanguageClient, tmp_path: Path):
    main = "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n"
    main_uri = await _open(client, tmp_path / "main.cf", main)
    shown = await _hover(client, main_uri, 0, 55)
    assert shown is not None and "**reject_unauth_destination** (smtpd restriction)" in shown
    assert "recipient" in shown and "Rejects the request when its condition holds" in shown
    master = (
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd\n"
        "  -o smtpd_tls_security_level=encrypt\n"
    )
    master_uri = await _open(client, tmp_path / "master.cf", master)
    shown = await _hover(client, master_uri, 0, 12)
    assert shown is not None and "**unprivileged** (master.cf column 4)" in shown
    shown = await _hover(client, master_uri, 2, 10)
    assert shown is not None and "**smtpd_tls_security_level**" in shown
    assert "Value here for submission/inet: `encrypt`" in shown


async def _complete(
    client: LanguageClient, uri: str, line: int, character: int
) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.CompletionList) else result)


@pytest.mark.asyncio
async def test_completion_of_names_values_restrictions_and_tables(
    client: LanguageClient, tmp_path: Path
):
    text = (
        "smtpd_tls_\n"
        "smtpd_tls_auth_only = \n"
        "smtpd_tls_security_level = \n"
        "smtpd_recipient_restrictions = permit_mynetworks,\n"
        "    \n"
        "transport_maps = \n"
    )
    uri = await _open(client, tmp_path / "main.cf", text)
    names = {item.label: item for item in await _complete(client, uri, 0, 10)}
    assert "smtpd_tls_security_level" in names
    assert names["smtpd_tls_security_level"].insert_text == "smtpd_tls_security_level = "
    assert list(names["smtpd_use_tls"].tags or []) == [types.CompletionItemTag.Deprecated]
    assert not names["smtpd_tls_security_level"].tags
    assert [i.label for i in await _complete(client, uri, 1, 22)] == ["yes", "no"]
    levels = [i.label for i in await _complete(client, uri, 2, 27)]
    assert "encrypt" in levels and "may" in levels
    restrictions = {i.label for i in await _complete(client, uri, 4, 4)}
    assert "reject_unauth_destination" in restrictions and "hash:" in restrictions
    tables = {i.label for i in await _complete(client, uri, 5, 17)}
    assert {"hash:", "lmdb:", "regexp:"} <= tables and "reject_unauth_destination" not in tables


@pytest.mark.asyncio
async def test_completion_of_override_names_in_master_cf(client: LanguageClient, tmp_path: Path):
    text = "submission inet n - y - - smtpd\n  -o \n  -o smtpd_sasl_auth_enable=yes\n"
    uri = await _open(client, tmp_path / "master.cf", text)
    items = {i.label: i for i in await _complete(client, uri, 1, 5)}
    assert items["smtpd_tls_security_level"].insert_text == "smtpd_tls_security_level="
    assert await _complete(client, uri, 2, 30) == []  # a value: nothing offered


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: e.range.start.line, reverse=True):
        assert edit.range.start.character == 0 and edit.range.end.character == 0
        lines[edit.range.start.line : edit.range.end.line] = [edit.new_text]
    return "".join(lines)


@pytest.mark.asyncio
async def test_quick_fixes_safe_and_unsafe_apart(client: LanguageClient, tmp_path: Path):
    text = "myhostname = a.example\nmyhostname = b.example\nsmtpd_use_tls = yes\nbiff = no\n"
    uri = await _open(client, tmp_path / "main.cf", text)

    async def actions(line: int) -> list[types.CodeAction]:
        result = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=line, character=0),
                    end=types.Position(line=line, character=3),
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    (safe,) = [a for a in await actions(2) if "PAR005" in a.title]
    assert safe.kind == types.CodeActionKind.QuickFix and safe.is_preferred
    assert safe.edit is not None and safe.edit.changes is not None
    fixed = _apply(text, list(safe.edit.changes[uri]))
    assert "smtpd_use_tls" not in fixed and "smtpd_tls_security_level = may" in fixed
    assert fixed.startswith("myhostname = a.example\nmyhostname = b.example\n")
    assert fixed.endswith("biff = no\n")
    (unsafe,) = [a for a in await actions(0) if "PAR003" in a.title]
    assert unsafe.kind == "quickfix.pflint.unsafe" and not unsafe.is_preferred
    assert unsafe.edit is not None and unsafe.edit.changes is not None
    assert "a.example" not in _apply(text, list(unsafe.edit.changes[uri]))


@pytest.mark.asyncio
async def test_go_to_the_definition_of_a_name(client: LanguageClient, tmp_path: Path):
    main = "myorigin = example.org\nmydestination = $myorigin, localhost\n"
    main_uri = await _open(client, tmp_path / "main.cf", main)

    async def where(uri: str, line: int, character: int) -> tuple[str, int] | None:
        result = await client.text_document_definition_async(
            types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )
        if result is None:
            return None
        assert isinstance(result, types.Location)
        return result.uri, result.range.start.line

    assert await where(main_uri, 1, 19) == (main_uri, 0)
    assert await where(main_uri, 1, 30) is None  # localhost is no $name
    master = (
        "submission inet n - y - - smtpd\n"
        "  -o syslog_name=postfix/submission\n"
        "  -o milter_macro_daemon_name=$syslog_name\n"
        "  -o smtpd_banner=$myorigin\n"
    )
    master_uri = await _open(client, tmp_path / "master.cf", master)
    assert await where(master_uri, 2, 35) == (master_uri, 1)  # the service's own -o
    assert await where(master_uri, 3, 22) == (main_uri, 0)  # else main.cf


@pytest.mark.asyncio
async def test_settings_and_suppressions_are_pflints(client: LanguageClient, tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "PAR013" in _codes(client, await _open(client, plain / "main.cf", "biff = no\n"))
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / ".pflint.toml").write_text('ignore = ["PAR013"]\n')
    uri = await _open(client, configured / "main.cf", "biff = no\n")
    assert "PAR013" not in _codes(client, uri)
    silenced = "# pflint: disable=PAR005 -- being migrated\nsmtpd_use_tls = yes\n"
    uri = await _open(client, plain / "sub" / "main.cf", silenced)
    assert "PAR005" not in _codes(client, uri)


@pytest.mark.asyncio
async def test_positions_are_in_the_clients_units(client: LanguageClient, tmp_path: Path):
    """pflint counts characters; a character outside the BMP is two UTF-16 units (the
    protocol's default) and four UTF-8 ones, whichever the client asked for."""
    text = "smtpd_banner = \U0001d11e $myhostnme ESMTP\n"
    uri = await _open(client, tmp_path / "main.cf", text)
    (found,) = [d for d in client.diagnostics[uri] if d.code == "PAR004"]
    chosen = client.encoding  # type: ignore[attr-defined]
    units = {None: 2, types.PositionEncodingKind.Utf16: 2, types.PositionEncodingKind.Utf8: 4,
             types.PositionEncodingKind.Utf32: 1}[chosen]  # fmt: skip
    assert found.range.start.character == 16 + units
    assert found.range.end.character == 16 + units + len("$myhostnme")


def test_a_failing_lint_is_logged_not_fatal(monkeypatch):
    """A bug in a rule must not end the server: the client's log says what failed."""
    from pfconf.lsp import server as module

    logged: list[types.LogMessageParams] = []
    instance = module.PfconfServer()

    def broken(uri: str) -> None:
        raise RuntimeError("a rule broke")

    monkeypatch.setattr(instance, "publish", broken)
    monkeypatch.setattr(instance, "window_log_message", logged.append)
    instance.publish_safely("file:///etc/postfix/main.cf")
    (message,) = logged
    assert message.type == types.MessageType.Error
    assert "RuntimeError: a rule broke" in message.message


@pytest.mark.asyncio
async def test_a_burst_of_changes_ends_with_the_last_ones_diagnostics(
    client: LanguageClient, tmp_path: Path
):
    uri = await _open(client, tmp_path / "main.cf", "biff = no\n")
    texts = ["biff = no\nsmtpd_use_tls = yes\n", "biff = no\n"] * 3 + ["smtpd_use_tls = yes\n"]
    for version, text in enumerate(texts, start=2):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    assert await _until(lambda: "PAR005" in _codes(client, uri))
    await asyncio.sleep(0.2)  # nothing later may replace them
    assert "PAR005" in _codes(client, uri)
    (found,) = [d for d in client.diagnostics[uri] if d.code == "PAR005"]
    assert found.range.start.line == 0  # the last text's line, not an earlier one's


def test_hover_keeps_the_case_of_names():
    """'flags=X' and 'smtpd_tls_CAfile' must not come out as 'flags=x' or 'cafile'."""
    from pfconf.lsp.analysis import hover

    shown = hover("lmtp_assume_final = yes\nsmtpd_tls_CAfile = /etc/ssl/ca.pem\n", "main",
                  "/tmp/h/main.cf", 1, 2)  # fmt: skip
    assert shown is not None and "flags=X in the lmtp service" in shown.markdown
    shown = hover("smtpd_tls_CAfile = /etc/ssl/ca.pem\n", "main", "/tmp/h/main.cf", 1, 2)
    assert shown is not None and "**smtpd_tls_CAfile**" in shown.markdown


def test_settings_postfix_version_auto_is_the_installed_release(tmp_path):
    """As pflint reads it: ``postfix-version = "auto"`` judges for the Postfix installed."""
    from pfconf.kb import parse_version
    from pfconf.lsp.analysis import options_for
    from pfconf.postfix import installed_version

    (tmp_path / ".pflint.toml").write_text('postfix-version = "auto"\n')
    options, notes = options_for(str(tmp_path / "main.cf"))
    assert notes == [] and options.target == parse_version(installed_version())
    (tmp_path / ".pflint.toml").write_text('postfix-version = "3.4"\n')
    assert options_for(str(tmp_path / "main.cf"))[0].target == (3, 4)


def test_a_doubled_dollar_is_no_reference():
    """``$$`` is a literal dollar for Postfix: no hover, no definition there."""
    from pfconf.lsp.analysis import definition, hover

    text = "myorigin = example.org\nsmtpd_banner = $$b $myorigin\n"
    assert hover(text, "main", "/tmp/d/main.cf", 2, 17) is None
    assert definition(text, "main", "/tmp/d/main.cf", 2, 17) is None
    found = definition(text, "main", "/tmp/d/main.cf", 2, 21)
    assert found is not None and found[1].line == 1
