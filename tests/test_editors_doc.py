"""docs/editors.md's set-up snippets start pfconf-lsp, and their file patterns take the
files the server answers for (pfconf.lsp.analysis.kind_of_path) and no others."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest

from pfconf import _toml
from pfconf.lsp.analysis import kind_of_path

DOC = Path(__file__).resolve().parent.parent / "docs" / "editors.md"

#: Names every snippet must take, and names none may.
TAKEN = ["main.cf", "master.cf", "main.cf.proto", "master.cf.dist", "main.cf-2024"]
LEFT = ["main.c", "main.cfg", "notes.txt", "domain.cf", "master.cfg.bak", "main.py"]


def _block(language: str, after: str) -> str:
    text = DOC.read_text()
    start = text.index(after)
    found = re.search(rf"```{language}\n(.*?)```", text[start:], re.DOTALL)
    assert found, f"no {language} block after {after!r}"
    return found.group(1)


def _check(matches) -> None:  # type: ignore[no-untyped-def]
    for name in TAKEN:
        assert kind_of_path(name) is not None
        assert matches(name), f"{name} should be taken"
    for name in LEFT:
        assert kind_of_path(name) is None
        assert not matches(name), f"{name} should be left alone"


def test_the_server_recognises_the_names():
    assert [kind_of_path(n) for n in TAKEN] == ["main", "master", "main", "master", "main"]
    assert kind_of_path("/etc/postfix/postfix-main.cf") == "main"


def test_helix():
    config = _toml.loads(_block("toml", "## Helix"))
    assert config["language-server"]["pfconf-lsp"]["command"] == "pfconf-lsp"
    globs = [t["glob"] for lang in config["language"] for t in lang["file-types"]]
    assert all(lang["language-servers"] == ["pfconf-lsp"] for lang in config["language"])
    _check(lambda name: any(fnmatch.fnmatchcase(name, g) for g in globs))


def test_vs_code():
    settings = json.loads(_block("json", "## VS Code"))
    assert settings["glspc.server.command"] == "pfconf-lsp"
    languages = set(settings["glspc.server.languageId"])
    associations = settings["files.associations"]
    assert set(associations.values()) <= languages
    _check(lambda name: any(fnmatch.fnmatchcase(name, g) for g in associations))


def _lua_pattern(pattern: str) -> re.Pattern[str]:
    # the Lua pattern items the snippet uses: %. and character classes, . and .*
    return re.compile(pattern.replace("%.", r"\."))


def test_neovim():
    lua = _block("lua", "## Neovim")
    assert 'cmd = { "pfconf-lsp" }' in lua
    names = re.findall(r'\["([^"]+)"\] = "pf(?:main|master)"', lua)
    exact = [n for n in names if "*" not in n and "%" not in n]
    patterns = [_lua_pattern(n) for n in names if n not in exact]
    assert exact and patterns
    _check(lambda name: name in exact or any(p.fullmatch("/etc/postfix/" + name) for p in patterns))


def _emacs_regexp(text: str) -> re.Pattern[str]:
    # the Emacs regexp syntax the snippet uses, as Python's
    for emacs, python in (("\\\\(?:", "(?:"), ("\\\\|", "|"), ("\\\\)", ")"), ("\\\\'", r"\Z"),
                          ("\\\\.", r"\.")):  # fmt: skip
        text = text.replace(emacs, python)
    return re.compile(text)


def test_emacs():
    elisp = _block("elisp", "## Emacs")
    assert '"pfconf-lsp"' in elisp
    (regexp,) = re.findall(r"'\(\"(.+?)\" \. postfix-cf-mode\)", elisp)
    pattern = _emacs_regexp(regexp)
    _check(lambda name: pattern.search("/etc/postfix/" + name) is not None)


@pytest.mark.parametrize("heading", ["## Neovim", "## Helix", "## Emacs", "## VS Code"])
def test_every_editor_is_documented(heading):
    assert heading in DOC.read_text()
