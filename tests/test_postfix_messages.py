"""docs/postfix-messages.tsv, the sweep of Postfix's configuration-caused messages (issue
#11, item 3), in step with pflint's rules and with the counts docs/postfix-messages.md gives."""

from __future__ import annotations

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
