"""Every rule against its corpus cases (corpus/rules/CODE/CASE/), checked exactly.

A case is a directory of configuration files; lines of the form ``#: CODE:LINE`` or
``#: CODE:LINE:COLUMN`` (legal Postfix comments) say which findings pflint must report in
that file.  For the codes a case names, plus the rule under test, the findings must be
exactly those.  Every rule needs at least one case whose name starts with ``fire`` (it
reports something) and one starting with ``quiet`` (it reports nothing).  ``#! version: X.Y``
sets the target Postfix version.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CORPUS

from pfconf.kb import parse_version
from pfconf.lint.engine import Options, lint
from pfconf.lint.rule import all_rules

CASES = CORPUS / "rules"
_EXPECT = re.compile(r"^#:\s*([A-Z]+\d{3}):(\d+)(?::(\d+))?\s*$")
_VERSION = re.compile(r"^#!\s*version:\s*(\S+)\s*$")


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if p.is_dir())


def _expectations(case: Path):
    expected = set()
    version = None
    for path in sorted(case.iterdir()):
        if not path.is_file():
            continue
        for line in path.read_bytes().decode("utf-8", "surrogateescape").split("\n"):
            line = line.rstrip("\r")
            match = _EXPECT.match(line)
            if match:
                code, number, column = match.groups()
                expected.add((path.name, code, int(number), int(column) if column else None))
            match = _VERSION.match(line)
            if match:
                version = parse_version(match.group(1))
    return expected, version


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_firing_and_quiet_cases(rule):
    names = [p.name for p in (CASES / rule.code).iterdir()] if (CASES / rule.code).is_dir() else []
    assert any(n.startswith("fire") for n in names), f"{rule.code} has no firing case"
    assert any(n.startswith("quiet") for n in names), f"{rule.code} has no quiet case"


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case):
    code = case.parent.name
    expected, version = _expectations(case)
    files = sorted(str(p) for p in case.iterdir() if p.is_file() and p.suffix == ".cf")
    run = lint(files, Options(target=version))
    codes = {code} | {e[1] for e in expected}
    columns = {(e[0], e[1], e[2]): e[3] for e in expected}
    found = set()
    for f in run.findings:
        if f.code not in codes:
            continue
        name = Path(f.path).name
        column = columns.get((name, f.code, f.line))
        found.add((name, f.code, f.line, f.column if column is not None else None))
    assert found == expected
    if case.name.startswith("fire"):
        assert any(e[1] == code for e in expected), "a firing case must expect the rule's code"
    else:
        assert not any(e[1] == code for e in expected), (
            "a quiet case must not expect the rule's code"
        )
