"""Shared test fixtures: where the real-world corpus and the team's corpus live."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS_REAL = SHARED / "corpus-real"
CORPUS = ROOT / "corpus"

sys.path.insert(0, str(Path(__file__).resolve().parent))


def real_files(kind: str) -> list[Path]:
    """The real-world files of one kind, read in place (never copied into the project)."""
    folder = CORPUS_REAL / kind
    if not folder.is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"{folder} is missing: CI runs with shared/ beside the checkout")
        return []
    return sorted(folder.glob("*.cf"))


def oracle_table() -> dict[str, tuple[str, str]]:
    """ORACLE.tsv: file -> (accepted, first_error), as recorded with Postfix 3.7.11."""
    table = {}
    path = CORPUS_REAL / "ORACLE.tsv"
    if path.is_file():
        for row in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
            fields = row.split("\t")
            table[fields[0]] = (fields[1], fields[2] if len(fields) > 2 else "")
    return table


@pytest.fixture(scope="session")
def oracle_rows() -> dict[str, tuple[str, str]]:
    return oracle_table()
