"""No quadratic paths (issue #10): the work that grows with a file's size is counted here,
never timed.

Each test counts calls of the expensive step (a look-up in the known names, the names handed
to difflib, a parse, a full read of the document) at two sizes and insists the count per unit
stays the same.  benchmarks/scaling.py prints the times.
"""

from __future__ import annotations

import difflib
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


# ------------------------------------------------------------------------------ the spelling


def test_hints_are_still_found(tmp_path):
    run = lint([str(_lint_case(tmp_path / "hints", 3))])
    messages = [f.message for f in run.findings]
    assert any("did you mean relay_clas_1_destination?" in m for m in messages), messages
    assert any("did you mean reject_unknown_client_hostname?" in m for m in messages), messages


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
