"""pflint over the whole real-world corpus: no crash, no traceback, every finding well formed.

Each main.cf is linted alone (with the stock master.cf), each master.cf with an empty main.cf
beside it, as shared/corpus-real/ORACLE.tsv was made.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import real_files

from pfconf.lint.engine import lint
from pfconf.lint.finding import SEVERITIES
from pfconf.lint.rule import rule_for

FILES = real_files("main") + real_files("master")


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lints_without_crash(path, tmp_path):
    name = "main.cf" if path.parent.name == "main" else "master.cf"
    target = tmp_path / name
    shutil.copyfile(path, target)
    if name == "master.cf":
        (tmp_path / "main.cf").write_bytes(b"")
    run = lint([str(target)])
    lines = target.read_bytes().count(b"\n") + 1
    for finding in run.findings:
        rule_for(finding.code)
        assert finding.severity in SEVERITIES
        assert finding.path == str(target)
        assert 1 <= finding.line <= finding.end_line <= lines
        assert finding.column >= 1 and finding.end_column >= 1
        assert finding.message


def _accepted_masters():  # type: ignore[no-untyped-def]
    from conftest import oracle_table

    table = oracle_table()
    return [p for p in real_files("master") if table.get(f"master/{p.name}", ("",))[0] == "yes"]


@pytest.mark.parametrize("path", _accepted_masters(), ids=lambda p: p.name)
def test_unknown_overrides_are_postconfs_unused_parameters(path, tmp_path):
    """MST002 reports exactly the -o names postconf -P calls "unused parameter"."""
    import re

    from oracle import read_master, require_postconf

    require_postconf()
    data = path.read_bytes()
    status, stderr, _ = read_master(data, "-P")
    assert status == 0
    unused = set(re.findall(r"master\.cf: unused parameter: ([^=\s]+)=", stderr))
    (tmp_path / "master.cf").write_bytes(data)
    (tmp_path / "main.cf").write_bytes(b"")
    from pfconf.kb import parse_version
    from pfconf.lint.engine import Options

    run = lint([str(tmp_path / "master.cf")], Options(target=parse_version("3.7")))  # postconf's
    reported = {f.parameter for f in run.findings if f.code == "MST002"}
    assert reported == unused
