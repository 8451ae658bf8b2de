"""Generated documentation stays in step with the code and data it comes from."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _check(tool: str) -> None:
    """``tools/TOOL --check``: the generated text is what the tool would write now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / tool), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_rule_docs_are_current():
    _check("gen_rule_docs.py")


def test_recipe_examples_are_current():
    """docs/editing.md's diffs are what each recipe does to its example today."""
    _check("gen_recipe_docs.py")


def test_every_recipe_with_an_end_to_end_test_shows_its_transcripts():
    """A recipe proven on a running Postfix shows what the test saw (docs/transcripts/,
    written by `make transcripts`)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_recipe_docs

    from pfconf.edit.recipes import builtin_recipes

    for name in builtin_recipes():
        assert name in gen_recipe_docs.EXAMPLES, f"{name}: no example in gen_recipe_docs"
        test = ROOT / "tests" / "e2e" / f"test_recipe_{name.replace('-', '_')}.py"
        if test.exists():
            assert gen_recipe_docs.transcripts_of(name), f"{name}: run make transcripts"
