"""The precision review of issue #11: pflint's warnings and errors on 40 real files, each with
a verdict a person gave after reading the Postfix source.

    python tools/review_corpus.py            # list findings that have no verdict yet
    python tools/review_corpus.py --update   # add them to docs/real-corpus-review.tsv
                                             # (verdict "?"), drop rows no longer reported,
                                             # and rewrite the counts in the .md

The 40 files are fixed (SAMPLE): every fourth main.cf from the first and every seventh master.cf from the seventh of
shared/corpus-real, none of which a test pins.  Each is linted as an administrator would
run pflint on the directory it came from: with its partner file from the same directory of
the same repository when the corpus has one, else alone (a main.cf then gets Postfix's
stock master.cf; a master.cf gets an empty main.cf and pflint skips the rules that need
main.cf's settings).  Info findings are not reviewed.

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
            other = Path(scratch) / ("master.cf" if kind == "main" else "main.cf")
            if partner is not None:
                shutil.copyfile(CORPUS / partner, other)
            elif kind == "master":
                other.write_bytes(b"")
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
    return (row["file"], row["line"], row["column"], row["code"], row["message"])


def read_review() -> list[dict[str, str]]:
    if not TSV.exists():
        return []
    with open(TSV, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_review(rows: list[dict[str, str]]) -> None:
    with open(TSV, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n"
        )
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


def update_md(rows: list[dict[str, str]]) -> None:
    text = MD.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{MD}: the counts markers are missing")
    MD.write_text(text[: start + len(BEGIN)] + counts_table(rows) + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    reviewed = {_key(r): r for r in read_review()}
    current = findings()
    merged = []
    missing = 0
    for row in current:
        old = reviewed.get(_key(row))
        if old is None:
            missing += 1
            row = {**row, "verdict": "?", "reason": ""}
            print(f"{row['file']}:{row['line']}:{row['column']}: {row['code']} {row['message']}")
        else:
            row = {**row, "verdict": old["verdict"], "reason": old["reason"]}
        merged.append(row)
    dropped = len(reviewed) - (len(current) - missing)
    print(f"{len(current)} findings, {missing} without a verdict, {dropped} reviewed rows gone",
          file=sys.stderr)  # fmt: skip
    if args.update:
        write_review(merged)
        update_md(merged)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
