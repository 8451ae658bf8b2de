"""Generated documentation stays in step with the code and data it comes from."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_rule_docs_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_rule_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
