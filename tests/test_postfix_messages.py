"""docs/postfix-messages.tsv, the sweep of Postfix's configuration-caused messages (issue
#11, item 3), in step with pflint's rules and with the counts docs/postfix-messages.md gives."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import postfix_messages

from pfconf.lint.rule import all_rules, iter_codes


def test_every_row_has_a_verdict_and_a_reason_or_a_rule():
    rows = postfix_messages.rows()
    assert len(rows) > 400
    codes = set(iter_codes())
    for number, row in enumerate(rows, start=2):
        where = f"docs/postfix-messages.tsv:{number}"
        assert row["verdict"] in postfix_messages.VERDICTS, where
        assert row["message"] and row["source"].count("/") >= 1 and row["function"], where
        named = postfix_messages.codes_of(row)
        if row["verdict"] == "rule":
            assert named, f"{where}: verdict rule names no code"
            unknown = [c for c in named if c not in codes]
            assert not unknown, f"{where}: {unknown} are not pflint rules"
        else:
            # a host or runtime verdict says why no static check can see it
            assert row["trigger"].strip(), f"{where}: no trigger or reason"


def test_the_counts_in_the_md_are_the_tables():
    text = postfix_messages.MD.read_text(encoding="utf-8")
    registered = [cls.code for cls in all_rules()]
    assert postfix_messages.expected_md(text, postfix_messages.rows(), registered) == text, (
        "docs/postfix-messages.md is stale: python tools/postfix_messages.py --write"
    )


def _recall_rows() -> list[tuple[str, str, list[str]]]:
    text = postfix_messages.MD.read_text(encoding="utf-8")
    section = text.split("## Recall on a running Postfix", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0][:1] in "ABC" and cells[0] != "Family":
            rows.append((cells[0], cells[1], [p.strip() for p in cells[2].split(",")]))
    return rows


def test_every_family_has_a_proof_on_a_running_postfix():
    """The recall table names, for every family of the sweep, a proof that exists: a corpus
    case with a runtime.toml claim, or an e2e test function; the proof is about one of the
    family's rules."""
    text = postfix_messages.MD.read_text(encoding="utf-8")
    families = set(re.findall(r"^\*\*([AB]\d+)\. ", text, re.MULTILINE)) | {"C"}
    rows = _recall_rows()
    assert {family for family, _, _ in rows} == families
    root = postfix_messages.ROOT
    for family, rules, proofs in rows:
        codes = _expanded(rules)
        for proof in proofs:
            if proof.startswith("corpus/"):
                case = root / proof
                assert (case / "runtime.toml").is_file(), f"{family}: {proof} has no claim"
                assert case.parent.name in codes, (family, proof)
                continue
            path, _, function = proof.partition("::")
            source = (root / path).read_text(encoding="utf-8")
            assert f"def {function}(" in source, f"{family}: no {proof}"
            # parametrized tests list their rules above the function: the module must name one
            named = set(re.findall(r"[A-Z]{2,4}\d{3}", source))
            assert named & codes, f"{family}: {proof} names none of {rules}"


def _expanded(rules: str) -> set[str]:
    """``PAR020-PAR023, CFG011`` as the set of codes it names."""
    codes: set[str] = set()
    for part in rules.split(","):
        first, _, last = part.strip().partition("-")
        if not last:
            codes.add(first)
            continue
        prefix = first.rstrip("0123456789")
        for number in range(int(first[len(prefix):]), int(last[len(prefix):]) + 1):
            codes.add(f"{prefix}{number:03d}")
    return codes
