"""The parser's tables are grammar/'s, and the driver reads text exactly as Lark does.

pfconf.syntax.parser drives LALR tables that tools/gen_parser.py makes with Lark from
grammar/*.lark.  Here Lark itself parses the same texts with the same grammars (the corpus,
then generated ones), and every line must land in the same place: in the same entry,
service or orphan, or on its own.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import lark
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfconf.errors import ParseError
from pfconf.syntax import _tables
from pfconf.syntax.nodes import BlankLine, CommentLine, Orphan
from pfconf.syntax.parser import parse_lines

ROOT = Path(__file__).resolve().parent.parent


def _gen_parser():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_parser", ROOT / "tools" / "gen_parser.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tables_are_made_from_the_grammar_as_it_is():
    assert _tables.GRAMMAR_SHA256 == _gen_parser().grammar_hash(), "run tools/gen_parser.py"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_parser.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


_LARK: dict[str, lark.Lark] = {}


def _lark(kind: str) -> lark.Lark:
    if kind not in _LARK:
        _LARK[kind] = _gen_parser().build(kind)
    return _LARK[kind]


def _by_lark(text: str, kind: str) -> object:
    """Each node as (what, its lines' text), Lark's entries split like the driver's: the
    comment and blank lines after an entry's last continuation line stand on their own."""
    source = text if text.endswith("\n") else text + "\n"
    try:
        tree = _lark(kind).parse(source)
    except lark.exceptions.UnexpectedInput as exc:
        return ("error", exc.line)
    out: list[tuple[str, list[str]]] = []
    for child in tree.children:
        if isinstance(child, lark.Token):
            out.append((child.type, [str(child)]))
            continue
        tokens = list(child.children)
        last = max(n for n, t in enumerate(tokens) if t.type in ("CONT", "HEAD") or n == 0)
        what = "orphan" if child.data == "orphan" else "entry"
        out.append((what, [str(t) for t in tokens[: last + 1]]))
        out += [(t.type, [str(t)]) for t in tokens[last + 1 :]]
    return _unappend(out, text)


def _unappend(out: list[tuple[str, list[str]]], text: str) -> object:
    if not text.endswith("\n") and out:
        _what, lines = out[-1]
        lines[-1] = lines[-1][:-1]
    return out


def _by_driver(text: str, kind: str) -> object:
    try:
        nodes = parse_lines(text, kind)
    except ParseError as exc:
        return ("error", exc.line)
    out: list[tuple[str, list[str]]] = []
    for node in nodes:
        if isinstance(node, CommentLine):
            out.append(("COMMENT", [node.dump()]))
        elif isinstance(node, BlankLine):
            out.append(("BLANK", [node.dump()]))
        else:
            what = "orphan" if isinstance(node, Orphan) else "entry"
            inner = [n.dump() for n in node.inner]
            head = [] if isinstance(node, Orphan) else [node.dump()[: -len("".join(inner)) or None]]
            out.append((what, head + inner))
    return out


def _same(text: str, kind: str) -> None:
    assert _by_driver(text, kind) == _by_lark(text, kind), repr(text)


@pytest.mark.parametrize("kind", ["main", "master"])
def test_the_corpus_reads_as_lark_reads_it(kind):
    from conftest import CORPUS, real_files

    paths = [p for p in sorted(CORPUS.rglob("*.cf")) if ("master" in p.name) == (kind == "master")]
    paths += real_files(kind)
    assert paths
    for path in paths:
        _same(path.read_bytes().decode("utf-8", "surrogateescape"), kind)


_PIECES = ["a", "b", "=", " ", "\t", "\r", "\n", "\n", "#", "\x00", "{", ",", "\v", "\f", "é"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=24), st.sampled_from(["main", "master"]))
def test_generated_text_reads_as_lark_reads_it(pieces, kind):
    _same("".join(pieces), kind)
