"""Every rule names the Postfix source its claims rest on (issue #11, item 4): the
"## Postfix source" section of its docstring, one bullet per claim, each naming a file of the
Postfix tree (with the function, for C), a Postfix document, or the data file of rules/.

With a Postfix git mirror at hand (POSTFIX_GIT_DIR, by default the one tools/gen_parameters.py
uses) the references are also looked up in it: the file exists, and every function a bullet
names is defined or called in a C file that bullet names."""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from pfconf.cli.pflint import cli
from pfconf.lint.rule import all_rules
from pfconf.report import sarif

ROOT = Path(__file__).resolve().parent.parent
MIRROR = os.environ.get("POSTFIX_GIT_DIR", "/work/.mirror/vdukhovni+postfix/repo")

#: A file of the Postfix tree, as `src/smtpd/smtpd_check.c` or `proto/postconf.proto`.
TREE_PATH = re.compile(r"`((?:src|proto|README_FILES|html|man|conf)/[\w./+-]+)`")
#: A Postfix document named without its path.
DOCUMENT = re.compile(
    r"\bRELEASE_NOTES(?:-\d+\.\d+)?\b|\b[A-Z][A-Z0-9_]*_README\b|\b[a-z][\w.-]*\([158]\)"
)
#: pflint's own data file, whose entries carry their public sources.
DATA = re.compile(r"`(rules/[\w-]+\.toml)`")
FUNCTION = re.compile(r"`(\w+)\(\)`")
RELEASE = re.compile(r"\b([23])\.(\d{1,2})\b")


def bullets(rule: type) -> list[str]:
    """The section's bullets, each joined into one line; a line outside any bullet is
    returned as it is, so that the shape test can point at it."""
    items: list[str] = []
    for line in rule.sections().get("Postfix source", "").splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif line.strip():
            items.append("NOT A BULLET: " + line)
    return items


RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_claim_names_its_postfix_source(rule):
    items = bullets(rule)
    assert items, f"{rule.code}: no bullets under ## Postfix source"
    for item in items:
        assert not item.startswith("NOT A BULLET"), f"{rule.code}: {item}"
        assert TREE_PATH.search(item) or DOCUMENT.search(item) or DATA.search(item), (
            f"{rule.code}: names no Postfix file, document or data file: {item}"
        )
        c_files = [p for p in TREE_PATH.findall(item) if p.endswith(".c")]
        if c_files:
            assert FUNCTION.search(item), f"{rule.code}: names {c_files} but no function: {item}"
        for data in DATA.findall(item):
            assert (ROOT / data).is_file(), f"{rule.code}: {data} does not exist"


def test_the_source_is_in_explain_docs_and_sarif():
    source = "`src/smtpd/smtpd_check.c`, `smtpd_check_init()`"
    result = CliRunner().invoke(cli, ["--explain", "RLY008"])
    assert "## Postfix source" in result.output and source in result.output
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rly008 = docs[docs.index("\n## RLY008\n") : docs.index("\n## RLY009\n")]
    assert "### Postfix source" in rly008 and source in rly008
    driver = json.loads(sarif([], "0"))["runs"][0]["tool"]["driver"]
    help_text = next(r for r in driver["rules"] if r["id"] == "RLY008")["help"]["text"]
    assert "## Postfix source" in help_text and source in help_text


# -- against the Postfix source itself ------------------------------------------------


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", MIRROR, *args],
        check=False,
        capture_output=True,
        text=True,
        errors="replace",
    )


@cache
def _show(ref: str, path: str) -> str | None:
    done = _git("show", f"{ref}:postfix/{path}")
    return done.stdout if done.returncode == 0 else None


@cache
def _tags() -> frozenset[str]:
    return frozenset(_git("tag").stdout.split())


def _refs(item: str) -> list[str]:
    """HEAD, then the first release of each Postfix version the bullet names (a file or
    function that later releases removed is looked up there)."""
    refs = ["HEAD"]
    for major, minor in RELEASE.findall(item):
        tag = f"v{major}.{minor}.0"
        if tag in _tags():
            refs.append(tag)
    return refs


def _text(item: str, path: str) -> str | None:
    for ref in _refs(item):
        found = _show(ref, path)
        if found is not None:
            return found
    return None


needs_mirror = pytest.mark.skipif(
    not Path(MIRROR).is_dir(), reason=f"no Postfix git mirror at {MIRROR} (POSTFIX_GIT_DIR)"
)


@needs_mirror
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_the_named_files_and_functions_exist(rule):
    for item in bullets(rule):
        texts = {}
        for path in TREE_PATH.findall(item):
            text = _text(item, path)
            assert text is not None, f"{rule.code}: {path} is not in the Postfix tree: {item}"
            texts[path] = text
        for document in re.findall(r"\b(RELEASE_NOTES-\d+\.\d+|[A-Z][A-Z0-9_]*_README)\b", item):
            path = document if document.startswith("RELEASE") else f"README_FILES/{document}"
            assert _text(item, path) is not None, f"{rule.code}: no {document}: {item}"
        code = [t for p, t in texts.items() if p.endswith((".c", ".h"))]
        for function in FUNCTION.findall(item):
            called = re.compile(rf"\b{function}\s*\(")
            assert any(called.search(t) for t in code), (
                f"{rule.code}: {function}() is in none of {list(texts)}: {item}"
            )
        for parameter in re.findall(r"`proto/postconf\.proto` \((\w+)\)", item):
            proto = texts["proto/postconf.proto"]
            declared = re.search(rf"^%PARAM {parameter}\b", proto, re.MULTILINE)
            assert declared, f"{rule.code}: no {parameter} in postconf.proto"
