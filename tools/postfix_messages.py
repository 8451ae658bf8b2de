"""Keep docs/postfix-messages.md's counts in step with its table, docs/postfix-messages.tsv.

    python tools/postfix_messages.py          # exit 1 and say what is stale
    python tools/postfix_messages.py --write  # rewrite the counts

The sweep's table has one row per configuration-caused Postfix message, with a verdict:
``rule`` (and the pflint codes that report its cause), ``host`` or ``runtime`` (why no
static check can), or ``todo``.  The .md counts them per directory and names the codes the
``rule`` rows use; this tool recomputes both from the table and the rule registry.  The
other columns (call sites, distinct messages, panics) come from reading the source and are
left as they are.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "docs" / "postfix-messages.tsv"
MD = ROOT / "docs" / "postfix-messages.md"
COLUMNS = ("message", "source", "function", "kind", "verdict", "rule", "trigger", "since")
VERDICTS = ("rule", "todo", "host", "runtime")
#: the columns of the counts table recomputed here, by header
COUNTED = ("config rows", "rule", "todo", "host", "runtime")


def rows() -> list[dict[str, str]]:
    with open(TSV, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert tuple(reader.fieldnames or ()) == COLUMNS, reader.fieldnames
        return list(reader)


def codes_of(row: dict[str, str]) -> list[str]:
    return [c.strip() for c in re.split(r"[,\s]+", row["rule"]) if c.strip()]


def directory_of(row: dict[str, str]) -> str:
    top = row["source"].split("/", 1)[0]
    return "util (selected)" if top == "util" else top


def _ranges(codes: list[str]) -> str:
    """``PAR008, PAR009, PAR010`` as ``PAR008-PAR010``."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) > 2:
            parts.append(f"{run[0]}-{run[-1]}")
        else:
            parts.extend(run)
        run.clear()

    for code in codes:
        if run:
            prefix, number = re.match(r"([A-Z]+)(\d+)", code).groups()  # type: ignore[union-attr]
            last_prefix, last = re.match(r"([A-Z]+)(\d+)", run[-1]).groups()  # type: ignore[union-attr]
            if prefix != last_prefix or int(number) != int(last) + 1:
                flush()
        run.append(code)
    flush()
    return ", ".join(parts)


def expected_md(text: str, table: list[dict[str, str]], registered: list[str]) -> str:
    """``text`` with the counts table and the codes sentence recomputed."""
    per_dir: dict[str, Counter[str]] = {}
    for row in table:
        counter = per_dir.setdefault(directory_of(row), Counter())
        counter["config rows"] += 1
        counter[row["verdict"]] += 1
    lines = text.split("\n")
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| directory |"))
    header = [cell.strip() for cell in lines[header_at].strip("|").split("|")]
    total: Counter[str] = Counter()
    i = header_at + 2
    while i < len(lines) and lines[i].startswith("|"):
        cells = [cell.strip() for cell in lines[i].strip("|").split("|")]
        name = cells[0].strip("*")
        if name == "total":
            counts = total
        else:
            counts = per_dir.get(name, Counter())
            total.update(counts)
        for column in COUNTED:
            at = header.index(column)
            value = str(counts[column])
            cells[at] = f"**{value}**" if name == "total" else value
        lines[i] = "| " + " | ".join(cells) + " |"
        i += 1
    text = "\n".join(lines)
    used = sorted({c for row in table if row["verdict"] == "rule" for c in codes_of(row)})
    sentence = (
        f"The `rule` rows use {len(used)} of the {len(registered)} existing codes: {_ranges(used)}"
    )
    return re.sub(
        r"The `rule` rows use \d+ of the \d+ existing codes: [A-Z0-9,\s-]*?[A-Z]+\d{3}(?=\s*[\n(.])",
        lambda _: _wrap(sentence),
        text,
        count=1,
    )


def _wrap(sentence: str, width: int = 89) -> str:
    words, lines, line = sentence.split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def registered_codes() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from pfconf.lint.rule import all_rules

    return [cls.code for cls in all_rules()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = MD.read_text(encoding="utf-8")
    wanted = expected_md(text, rows(), registered_codes())
    if wanted == text:
        return 0
    if args.write:
        MD.write_text(wanted, encoding="utf-8")
        return 0
    print(f"{MD} is stale: run python tools/postfix_messages.py --write", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
