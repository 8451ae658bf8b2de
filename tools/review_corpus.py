"""The precision review of issue #11: pflint's warnings and errors on 40 real files, each with
a verdict a person gave after reading the Postfix source.

    python tools/review_corpus.py            # list findings that have no verdict yet
    python tools/review_corpus.py --update   # add them to docs/real-corpus-review.tsv
                                             # (verdict "?"), drop rows no longer reported,
                                             # and rewrite the counts in the .md

The 40 files are fixed (sample()): every fourth main.cf from the first and every seventh
master.cf from the seventh of shared/corpus-real, none of which a test pins.  Each is
linted as an administrator would run pflint on the directory it came from: with its
partner file from the same directory of
the same repository when the corpus has one, else alone (a main.cf then gets Postfix's
stock master.cf; for a master.cf alone pflint skips the rules that need main.cf's
settings: an empty main.cf beside it would stand for a configuration nobody runs).  Info
findings are not reviewed.

A verdict is ``right`` (what Postfix does, and it matters), ``false`` (Postfix does not do
this) or ``no-effect`` (true, but changes nothing for this configuration, or the wrong
severity, line or advice).  tests/test_real_corpus_review.py fails when a reported finding
has no verdict or a verdict is ``?``, and checks the targets: no false finding, and at most
1 in 20 without effect.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus-real"
TSV = ROOT / "docs" / "real-corpus-review.tsv"
MD = ROOT / "docs" / "real-corpus-review.md"
COLUMNS = ("file", "line", "column", "code", "severity", "message", "verdict", "reason")
VERDICTS = ("right", "false", "no-effect")


def sample() -> list[str]:
    """The 40 reviewed files, as ``main/NNN.cf`` and ``master/NNN.cf``."""
    mains = sorted(p.name for p in (CORPUS / "main").glob("*.cf"))
    masters = sorted(p.name for p in (CORPUS / "master").glob("*.cf"))
    chosen = [f"main/{n}" for n in mains[::4]] + [f"master/{n}" for n in masters[6::7]]
    return chosen[:40]


def partners() -> dict[str, str]:
    """Each file's partner: the other kind from the same directory of the same repository."""
    by_dir: dict[tuple[str, str], list[str]] = {}
    with open(CORPUS / "SOURCES.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            directory = os.path.dirname(row["path"])
            by_dir.setdefault((row["repo"], directory), []).append(row["file"])
    found: dict[str, str] = {}
    for files in by_dir.values():
        mains = [f for f in files if f.startswith("main/")]
        masters = [f for f in files if f.startswith("master/")]
        if len(mains) == 1 and len(masters) == 1:
            found[mains[0]] = masters[0]
            found[masters[0]] = mains[0]
    return found


def findings() -> list[dict[str, str]]:
    """pflint's warnings and errors on the sample, as rows without verdicts."""
    sys.path.insert(0, str(ROOT / "src"))
    from pfconf.lint.engine import lint

    pairs = partners()
    rows = []
    for name in sample():
        with tempfile.TemporaryDirectory(prefix="pflint-review-") as scratch:
            kind = name.split("/")[0]
            target = Path(scratch) / f"{kind}.cf"
            shutil.copyfile(CORPUS / name, target)
            partner = pairs.get(name)
            if partner is not None:
                other = Path(scratch) / ("master.cf" if kind == "main" else "main.cf")
                shutil.copyfile(CORPUS / partner, other)
            for finding in lint([str(target)]).findings:
                if finding.severity == "info":
                    continue
                rows.append(
                    {
                        "file": name,
                        "line": str(finding.line),
                        "column": str(finding.column),
                        "code": finding.code,
                        "severity": finding.severity,
                        "message": finding.message.replace("\t", " ").replace("\n", " "),
                    }
                )
    return rows


def _key(row: dict[str, str]) -> tuple[str, ...]:
    """What identifies a finding: a changed message or severity needs a new verdict."""
    return tuple(row[c] for c in ("file", "line", "column", "code", "severity", "message"))


@dataclass
class Review:
    """The current findings against the recorded verdicts."""

    #: every current finding, with its recorded verdict and reason ("?" and "" when new)
    rows: list[dict[str, str]]
    #: current findings with no recorded verdict
    new: list[dict[str, str]]
    #: recorded rows pflint no longer reports
    gone: list[dict[str, str]]


def merge(current: list[dict[str, str]], reviewed: list[dict[str, str]]) -> Review:
    """Pair each current finding with its recorded verdict."""
    recorded = {_key(r): r for r in reviewed}
    rows, new = [], []
    for row in current:
        old = recorded.get(_key(row))
        if old is None:
            row = {**row, "verdict": "?", "reason": ""}
            new.append(row)
        else:
            row = {**row, "verdict": old["verdict"], "reason": old["reason"]}
        rows.append(row)
    reported = {_key(r) for r in current}
    gone = [r for r in reviewed if _key(r) not in reported]
    return Review(rows, new, gone)


def read_review() -> list[dict[str, str]]:
    if not TSV.exists():
        return []
    with open(TSV, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_review(rows: list[dict[str, str]]) -> None:
    with open(TSV, "w", encoding="utf-8", newline="") as handle:
        # messages quote Postfix's replies ("454 4.7.0 ..."): no quoting at all, as read
        writer = csv.DictWriter(
            handle, COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None,
            lineterminator="\n",
        )  # fmt: skip
        writer.writeheader()
        writer.writerows(rows)


def counts_table(rows: list[dict[str, str]]) -> str:
    """The per-rule counts of verdicts, as the Markdown table the .md carries."""
    per_rule: dict[str, Counter[str]] = {}
    for row in rows:
        per_rule.setdefault(row["code"], Counter())[row["verdict"]] += 1
    lines = ["| rule | findings | right | false | no effect |", "|---|---:|---:|---:|---:|"]
    total: Counter[str] = Counter()
    for code in sorted(per_rule):
        c = per_rule[code]
        total.update(c)
        lines.append(
            f"| {code} | {sum(c.values())} | {c['right']} | {c['false']} | {c['no-effect']} |"
        )
    lines.append(
        f"| **total** | **{sum(total.values())}** | **{total['right']}** | "
        f"**{total['false']}** | **{total['no-effect']}** |"
    )
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- counts: tools/review_corpus.py -->\n", "<!-- end of counts -->\n"


def expected_md(text: str, rows: list[dict[str, str]]) -> str:
    """``text`` (the .md) with the counts between its markers made from ``rows``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{MD}: the counts markers are missing")
    return text[: start + len(BEGIN)] + counts_table(rows) + text[end:]


def update_md(rows: list[dict[str, str]]) -> None:
    MD.write_text(expected_md(MD.read_text(encoding="utf-8"), rows), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    review = merge(findings(), read_review())
    for row in review.new:
        print(f"{row['file']}:{row['line']}:{row['column']}: {row['code']} {row['severity']} "
              f"{row['message']}")  # fmt: skip
    print(f"{len(review.rows)} findings, {len(review.new)} without a verdict, "
          f"{len(review.gone)} reviewed rows gone", file=sys.stderr)  # fmt: skip
    if args.update:
        write_review(review.rows)
        update_md(review.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
