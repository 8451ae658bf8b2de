"""Every rule against its corpus cases (corpus/rules/CODE/CASE/), checked exactly.

A case is a directory holding at least one ``.cf`` file.  Each finding pflint must report is
written in the file it belongs to as a comment ``#: CODE:LINE:COLUMN SEVERITY``, for example
``#: MST007:3:59 error``: the rule's code, the 1-based line and column the finding starts at,
and its severity (info, warning or error).  All four parts are required; a ``#:`` line that
lacks one, or has anything else, fails the case instead of being skipped.

The findings are compared as a multiset, restricted to the rule under test and the codes the
case names: each one must be expected exactly as often as it is reported, so a finding
reported twice needs its annotation written twice.  Every rule needs a case whose name
starts with ``fire`` (it expects the rule's code) and one starting with ``quiet`` (it does
not).  ``#! version: X.Y`` sets the target Postfix version.

A live rule (``Rule.live``, pflint --live) judges files on the host, which a corpus case
cannot hold: its cases are test functions of tests/test_live*.py that build those files,
named ``test_<code>_fires...`` and ``test_<code>_quiet...`` (``test_live002_fires_...``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS

from pfconf.kb import Version, parse_version
from pfconf.lint.engine import Options, lint
from pfconf.lint.finding import SEVERITIES, Finding
from pfconf.lint.rule import Rule, all_rules

CASES = CORPUS / "rules"
FORMAT = "#: CODE:LINE:COLUMN SEVERITY"
# Any comment starting "#:" is meant as an expectation, so a malformed one is refused
# rather than read as an ordinary comment.
_MARKER = re.compile(r"^\s*#:")
_EXPECT = re.compile(
    r"^\s*#:\s*(?P<code>[A-Z]+\d{3}):(?P<line>[1-9]\d*):(?P<column>[1-9]\d*)"
    rf"\s+(?P<severity>{'|'.join(SEVERITIES)})\s*$"
)
_VERSION = re.compile(r"^#!\s*version:\s*(\S+)\s*$")

#: What a finding is compared by: file name, code, line, column, severity.
Key = tuple[str, str, int, int, str]


def _cases() -> list[Path]:
    return sorted(p for p in CASES.glob("*/*") if p.is_dir())


def _lines(path: Path) -> list[str]:
    # surrogateescape: some cases hold Latin-1 bytes on purpose
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    return [line.rstrip("\r") for line in text.split("\n")]


def _expectation(path: Path, number: int, line: str) -> Key:
    """The expected finding a ``#:`` line states; fails the test when it is incomplete."""
    match = _EXPECT.match(line)
    if match is None:
        pytest.fail(
            f"{path}:{number}: malformed expectation {line.strip()!r}: write {FORMAT!r} "
            f"with SEVERITY one of {', '.join(SEVERITIES)}",
            pytrace=False,
        )
    code, line_no, column, severity = match.group("code", "line", "column", "severity")
    return (path.name, code, int(line_no), int(column), severity)


def _expectations(case: Path) -> tuple[Counter[Key], Version | None]:
    """The findings a case expects (with repeats), and its target version."""
    expected: Counter[Key] = Counter()
    version = None
    for path in sorted(p for p in case.iterdir() if p.is_file()):
        for number, line in enumerate(_lines(path), start=1):
            if _MARKER.match(line):
                expected[_expectation(path, number, line)] += 1
            elif match := _VERSION.match(line):
                version = parse_version(match.group(1))
    return expected, version


def _key(finding: Finding) -> Key:
    return (Path(finding.path).name, finding.code, finding.line, finding.column, finding.severity)


def _differences(expected: Counter[Key], found: Counter[Key], messages: dict[Key, str]) -> str:
    """Each finding whose count differs, in the annotation format, with both counts."""
    lines = []
    for key in sorted(set(expected) | set(found)):
        if expected[key] == found[key]:
            continue
        name, code, line, column, severity = key
        message = messages.get(key, "")
        lines.append(
            f"  {name}: #: {code}:{line}:{column} {severity}  expected {expected[key]}x, "
            f"reported {found[key]}x" + (f"  ({message})" if message else "")
        )
    return "\n".join(lines)


#: test functions of the live rules' test files
_LIVE_TEST = re.compile(r"^def (test_[a-z]+\d{3}_(?:fires|quiet)\w*)\(", re.MULTILINE)


def _live_tests() -> set[str]:
    tests = Path(__file__).resolve().parent
    return {
        name
        for path in tests.glob("test_live*.py")
        for name in _LIVE_TEST.findall(path.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_firing_and_quiet_cases(rule: type[Rule]) -> None:
    if rule.live:
        names = _live_tests()
        code = rule.code.lower()
        assert any(n.startswith(f"test_{code}_fires") for n in names), (
            f"{rule.code} (live) has no test_{code}_fires... in tests/test_live*.py"
        )
        assert any(n.startswith(f"test_{code}_quiet") for n in names), (
            f"{rule.code} (live) has no test_{code}_quiet... in tests/test_live*.py"
        )
        return
    folder = CASES / rule.code
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    assert any(n.startswith("fire") for n in names), f"{rule.code} has no firing case"
    assert any(n.startswith("quiet") for n in names), f"{rule.code} has no quiet case"


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case: Path) -> None:
    code = case.parent.name
    files = sorted(str(p) for p in case.iterdir() if p.is_file() and p.suffix == ".cf")
    # without a .cf file nothing is linted, and a quiet case would pass for nothing
    assert files, f"{case} has no .cf file"
    expected, version = _expectations(case)
    codes = {code} | {key[1] for key in expected}
    reported = [f for f in lint(files, Options(target=version)).findings if f.code in codes]
    found = Counter(_key(f) for f in reported)
    if found != expected:
        messages = {_key(f): f.message for f in reported}
        pytest.fail(
            f"{case}: findings differ from the annotations\n"
            + _differences(expected, found, messages),
            pytrace=False,
        )
    if case.name.startswith("fire"):
        assert any(k[1] == code for k in expected), "a firing case must expect the rule's code"
    else:
        assert not any(k[1] == code for k in expected), (
            "a quiet case must not expect the rule's code"
        )
