"""The built wheel works on its own: installed into a fresh virtual environment outside the
checkout, it finds its grammars and rules and parses a file."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile

import pytest
from conftest import ROOT


@pytest.mark.slow  # builds a wheel and installs it with its dependencies: about 15 s
def test_wheel_installs_and_parses(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("pfconf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pfconf/grammar/main.lark" in names
    assert "pfconf/grammar/master.lark" in names
    assert "pfconf/grammar/common.lark" in names
    assert any(name.startswith("pfconf/rules/") for name in names)

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = env_dir / "bin" / "python"
    # Dependencies come from the running environment's wheels cache or the index; --no-index is
    # not possible on a fresh machine, so let pip resolve them as a user would.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True
    )

    sample = tmp_path / "elsewhere" / "main.cf"
    sample.parent.mkdir()
    sample.write_bytes(
        b"compatibility_level = 3.11\r\nmyhostname = mail.example.com\r\n"
        b"mydestination = $myhostname,\r\n  localhost"
    )
    script = (
        "import sys, pfconf; d = pfconf.load(sys.argv[1]); "
        "assert pfconf.dumps(d) == open(sys.argv[1], 'rb').read(); "
        "print(pfconf.__file__); print(repr(d.effective()['mydestination']))"
    )
    out = subprocess.run(
        [str(python), "-c", script, str(sample)],
        check=True,
        capture_output=True,
        text=True,
        cwd=str(sample.parent),
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.splitlines()
    assert str(env_dir) in out[0], "the installed copy, not the checkout, was imported"
    assert out[1] == repr("$myhostname,\r  localhost")
    lint = subprocess.run(
        [str(env_dir / "bin" / "pflint"), str(sample)], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
