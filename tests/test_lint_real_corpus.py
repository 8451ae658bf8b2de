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
