"""No quadratic paths (issue #10): the work that grows with a file's size is counted here,
never timed.

Each test counts calls of the expensive step (a look-up in the known names, the names handed
to difflib, a parse, a full read of the document) at two sizes and insists the count per unit
stays the same.  benchmarks/scaling.py prints the times.
"""

from __future__ import annotations

import difflib
import itertools
from pathlib import Path

import pytest

from pfconf.kb import KnowledgeBase
from pfconf.lint import lint

# ------------------------------------------------------------------------------------ pflint


def _lint_case(directory: Path, count: int) -> Path:
    """A main.cf with ``count`` misspelt parameters, each referring to a misspelt name, and a
    restriction list of ``count`` misspelt restrictions.

    The names differ only in a number, so every one of them is close to every other: the
    worst case for "did you mean" hints, which look among the defined names too.
    """
    directory.mkdir()
    lines = [f"relay_clas_{n}_destination = $relay_clas_{n}_destinaton\n" for n in range(count)]
    items = ", ".join(f"reject_unknown_clent_hostname{n}" for n in range(count))
    lines.append(f"smtpd_recipient_restrictions = {items}\n")
    (directory / "main.cf").write_text("".join(lines))
    (directory / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return directory / "main.cf"


def test_hints_compare_a_bounded_number_of_names(tmp_path, monkeypatch):
    """Each "did you mean" hint compares the unknown name with a bounded number of names,
    whatever the number of known or defined names (it was every one of them: a main.cf of
    n misspelt references cost n x (n + 900) comparisons)."""
    compared: list[int] = []  # per hint: names compared with the unknown one
    set_seq2 = difflib.SequenceMatcher.set_seq2
    real_quick_ratio = difflib.SequenceMatcher.real_quick_ratio

    def new_word(matcher, word):  # type: ignore[no-untyped-def]
        compared.append(0)
        return set_seq2(matcher, word)

    def one_more(matcher):  # type: ignore[no-untyped-def]
        compared[-1] += 1  # difflib's first, cheapest test of each name
        return real_quick_ratio(matcher)

    monkeypatch.setattr(difflib.SequenceMatcher, "set_seq2", new_word)
    monkeypatch.setattr(difflib.SequenceMatcher, "real_quick_ratio", one_more)
    for count in (20, 200):
        compared.clear()
        run = lint([str(_lint_case(tmp_path / str(count), count))])
        assert sum(f.code == "PAR004" for f in run.findings) == count  # the hints were asked
        assert len(compared) >= 3 * count
        # two indexes (main.cf's names, Postfix's) of at most pfconf.spelling.LIMIT names
        assert max(compared) <= 64, f"{count} names: up to {max(compared)} compared"


def test_known_names_are_listed_once_per_run(tmp_path, monkeypatch):
    """The names a Postfix version knows are worked out once per lint run, not once per
    unknown parameter (each time a pass over the 900-odd parameters of rules/)."""
    calls = 0
    real = KnowledgeBase.known

    def counting(self, name, version=None):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(self, name, version)

    monkeypatch.setattr(KnowledgeBase, "known", counting)
    made = {}
    for count in (20, 200):
        calls = 0
        lint([str(_lint_case(tmp_path / str(count), count))])
        made[count] = calls
    # a few look-ups per entry are fine; a pass over the knowledge base per entry is not
    per_entry = (made[200] - made[20]) / 180
    assert per_entry < 20, f"{per_entry:.0f} look-ups of a known name per added entry"


# ------------------------------------------------------------------------------------ pfedit


class _Reads:
    """Counts what is handed to the parser (calls and characters) and how many entries are read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import pfconf.model
        from pfconf.syntax import parser

        self.parses = 0
        self.characters = 0
        self.longest = 0
        self.entries = 0
        parse = parser._parse
        split_nameval = pfconf.model.split_nameval

        def counting_parse(source, *args, **kw):  # type: ignore[no-untyped-def]
            self.parses += 1
            self.characters += len(source)
            self.longest = max(self.longest, len(source))
            return parse(source, *args, **kw)

        def counting_split(logical):  # type: ignore[no-untyped-def]
            self.entries += 1
            return split_nameval(logical)

        monkeypatch.setattr(parser, "_parse", counting_parse)
        monkeypatch.setattr(pfconf.model, "split_nameval", counting_split)

    def reset(self) -> None:
        self.parses = self.characters = self.longest = self.entries = 0


def _restrictions(count: int, suffix: str = "") -> list[str]:
    return [f"check_client_access hash:/etc/postfix/c{n}{suffix}" for n in range(count)]


def _list_file(count: int) -> str:
    """A main.cf with a restriction list of ``count`` items, one per line."""
    items = ",\n    ".join(_restrictions(count))
    return f"myhostname = mx.example.com\nsmtpd_recipient_restrictions = {items}\nbiff = no\n"


@pytest.mark.parametrize("count", [25, 250])
def test_setting_a_long_list_reads_the_file_once(monkeypatch, count):
    """A new value for a list laid out one item per line is written in one rewrite, read
    back once (it was an item at a time, each time the whole file: quadratic in the list)."""
    from pfconf import loads
    from pfconf.edit import MainEditor

    reads = _Reads(monkeypatch)
    editor = MainEditor(loads(_list_file(count)))
    # every other item replaced, one added: the worst case for difflib's SequenceMatcher too
    items = [
        item if n % 2 else f"reject_rbl_client zen{n}.example"
        for n, item in enumerate(_restrictions(count))
    ]
    reads.reset()
    editor.set("smtpd_recipient_restrictions", ", ".join([*items, "reject"]))
    assert reads.parses == 1
    lines = editor.text.splitlines()
    assert len(lines) == count + 3  # still one item per line
    assert lines[-2] == "    reject" and lines[-1] == "biff = no"


@pytest.mark.parametrize("count", [1_000, 10_000])
def test_an_edit_reads_again_only_the_lines_around_it(monkeypatch, count):
    """Setting one parameter of a large file parses a few lines and reads a few entries,
    however large the file (every edit used to parse and read the whole file again)."""
    from pfconf import loads
    from pfconf.edit import MainEditor

    text = "".join(f"relay_class_{n}_limit = {n}\n# note {n}\n" for n in range(count))
    reads = _Reads(monkeypatch)
    editor = MainEditor(loads(text))
    edits = [
        ("set in place", lambda: editor.set(f"relay_class_{count // 2}_limit", "7")),
        ("add next to its relatives", lambda: editor.set(f"relay_class_{count // 3}_x", "y")),
        ("unset", lambda: editor.unset(f"relay_class_{count // 4}_limit")),
        ("comment out", lambda: editor.comment(f"relay_class_{count // 5}_limit")),
    ]
    for what, edit in edits:
        reads.reset()
        assert edit()
        assert reads.characters < 200, f"{what}: {reads.characters} characters parsed"
        assert reads.entries <= 10, f"{what}: {reads.entries} entries read"
    # one line added, one removed, and the marker line "comment" writes above what it commented
    assert editor.text.count("\n") == 2 * count + 1
    fresh = loads(editor.text)
    assert fresh.nodes == editor.doc.nodes and _lines(fresh.nodes) == _lines(editor.doc.nodes)


def test_a_large_file_is_read_in_one_pass(monkeypatch):
    """The parser makes nodes as it goes (no tree of the whole file first, which once took
    gigabytes for a 50 MB main.cf): one call, and every line in its place."""
    from pfconf import loads

    text = "".join(f"relay_class_{n}_limit = {n}\n    , {n}\n" for n in range(40_000))
    reads = _Reads(monkeypatch)
    doc = loads(text)
    assert reads.parses == 1
    assert doc.dumps() == text and doc.nodes[-1].line == 80_000 - 1


def test_pieces_read_like_the_whole():
    """Cut before every entry, every file of the corpus reads as in one piece, line numbers
    and errors included: the editor re-reads a window of lines that starts with an entry."""
    from conftest import CORPUS

    from pfconf import ParseError, loads
    from pfconf.syntax.parser import parse_lines

    paths = sorted(CORPUS.rglob("*.cf"))
    assert paths
    for path in paths:
        kind = "master" if "master" in path.name else "main"
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        lines = text.splitlines(keepends=True)
        try:
            whole: object = (loads(text, kind).nodes, _lines(loads(text, kind).nodes))
        except ParseError as exc:
            whole = (str(exc), exc.line, exc.column)
        cuts = [n for n, line in enumerate(lines) if line[:1] not in tuple(" \t\v\f\r\n#")]
        cuts = sorted({0, *cuts, len(lines)})
        nodes: list[object] = []
        pieces: object
        try:
            for start, end in itertools.pairwise(cuts):
                nodes += parse_lines("".join(lines[start:end]), kind, None, start + 1)
            doc = loads("", kind)
            doc = type(doc)(tuple(nodes))
            doc.validate()
            pieces = (doc.nodes, _lines(doc.nodes))
        except ParseError as exc:
            pieces = (str(exc), exc.line, exc.column)
        assert pieces == whole, path


def _lines(nodes):  # type: ignore[no-untyped-def]
    return [(n.line, [i.line for i in getattr(n, "inner", ())]) for n in nodes]


# ------------------------------------------------------------------------------ the spelling


def test_hints_are_still_found(tmp_path):
    run = lint([str(_lint_case(tmp_path / "hints", 3))])
    messages = [f.message for f in run.findings]
    assert any("did you mean relay_clas_1_destination?" in m for m in messages), messages
    assert any("did you mean reject_unknown_client_hostname?" in m for m in messages), messages


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
