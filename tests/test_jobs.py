"""pflint -j N: configurations linted in worker processes, the output the same for any N."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import CORPUS, real_files

PFLINT = [sys.executable, "-c", "from pfconf.cli.pflint import main; main()"]


def _pflint(args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [*PFLINT, *args], capture_output=True, text=True, check=False, timeout=600
    )
    return done.returncode, done.stdout, done.stderr


def _many() -> list[str]:
    """Directories of main.cf and master.cf, and files linted each on its own: the project's
    corpus and the real one, read in place (over a hundred configurations)."""
    paths = [str(CORPUS / "demo")]
    paths += [str(p) for p in sorted((CORPUS / "main").glob("*.cf"))]
    paths += [str(p) for p in sorted((CORPUS / "master").glob("*.cf"))]
    paths += [str(p) for p in real_files("main") + real_files("master")]
    return paths


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_the_output_is_the_same_for_any_number_of_jobs(output_format):
    paths = _many()
    assert len(paths) > 100
    runs = {
        jobs: _pflint(["--isolated", "--format", output_format, "-v", "-j", str(jobs), *paths])
        for jobs in (1, 2, 3, 8)
    }
    status, out, _err = runs[1]
    assert status == 1 and out.count("\n") > 500
    for jobs, run in runs.items():
        assert run == runs[1], f"-j {jobs} differs from -j 1"


def test_workers_are_used(monkeypatch):
    """Above one job and one configuration, the pairs go to other processes (and come back
    in order), not through the loop of this one."""
    from pfconf.lint import engine

    seen: list[int] = []
    real = engine._lint_pair

    def spy(*args, **kw):  # type: ignore[no-untyped-def]
        seen.append(os.getpid())
        return real(*args, **kw)

    monkeypatch.setattr(engine, "_lint_pair", spy)
    paths = [str(p) for p in sorted((CORPUS / "main").glob("*.cf"))[:6]]
    one = engine.lint(paths, jobs=1)
    assert seen and set(seen) == {os.getpid()}
    seen.clear()
    many = engine.lint(paths, jobs=3)
    assert not seen  # the workers' calls happen in the workers (fork copies the spy there)
    assert many.findings == one.findings and many.notes == one.notes


def test_an_unreadable_file_is_the_same_error_for_any_number_of_jobs(tmp_path):
    paths = [str(p) for p in sorted((CORPUS / "main").glob("*.cf"))[:5]]
    bad = tmp_path / "main.cf"
    bad.mkdir()  # a directory where main.cf should be: pflint refuses to read it
    for jobs in (1, 4):
        status, _out, err = _pflint(["--isolated", "-j", str(jobs), *paths, str(bad)])
        assert status == 2, err
        assert f"{bad}: is a directory" in err and "Traceback" not in err


def test_jobs_must_be_a_positive_number():
    status, _, err = _pflint(["-j", "0", str(CORPUS / "demo")])
    assert status == 2 and "-j" in err


def test_spawned_workers_give_the_same_run(monkeypatch):
    """A process with other threads gets spawned workers, which import pfconf afresh."""
    from pfconf.lint import engine

    monkeypatch.setattr(engine, "_start_method", lambda: "spawn")
    paths = [str(p) for p in sorted((CORPUS / "main").glob("*.cf"))[:4]]
    assert engine.lint(paths, jobs=2) == engine.lint(paths, jobs=1)
