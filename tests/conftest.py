"""Shared test fixtures: where the real-world corpus and the team's corpus live."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS_REAL = SHARED / "corpus-real"
CORPUS = ROOT / "corpus"

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The knowledge base's cache (pfconf.cache) goes to a directory of this run, for the tests'
# own processes and the pflint and pfedit they start: never into the user's home.
if "PFCONF_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["PFCONF_CACHE_DIR"] = tempfile.mkdtemp(prefix="pfconf-test-cache-")
    atexit.register(shutil.rmtree, os.environ["PFCONF_CACHE_DIR"], True)

# The end-to-end harness's fixtures (sandbox, fake_dns, smtp_sink, scratch_postfix).
pytest_plugins = ["harness.fixtures"]


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


def invoke(command: Any, args: list[Any], expect: int, **kw: Any) -> Any:
    """Run a click command as a user would and insist on its exit status.

    A Python exception inside the command is re-raised, so a crash can never pass for exit
    status 1 ("findings"); on a wrong status the output is in the assertion message.
    """
    from click.testing import CliRunner

    result = CliRunner().invoke(command, [str(a) for a in args], **kw)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == expect, (
        f"exit status {result.exit_code}, expected {expect}; output:\n{result.output}"
    )
    return result


def deny_reading(monkeypatch: pytest.MonkeyPatch, path: Any) -> None:
    """Make opening ``path`` fail as a mode-000 file does for anyone but root.

    The tests run as root, whom permission bits do not stop, so the refusal is simulated
    where pfconf opens files (pfconf.io.read_config).
    """
    import pfconf.io

    denied = os.path.realpath(path)
    real_open = os.open

    def guarded_open(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.realpath(name) == denied:
            raise PermissionError(13, "Permission denied", os.fspath(name))
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(pfconf.io.os, "open", guarded_open)


# Under CI=1 nothing may skip: a skipped comparison with postconf would pass for a checked one.
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("CI"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED:
        print(f"\nCI=1: {len(_SKIPPED)} test(s) skipped, which CI does not allow:")
        for nodeid in _SKIPPED:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
