"""pflint and pfedit on the command line: every exit path, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from conftest import deny_reading, invoke

from pfconf.cli.pfedit import cli as pfedit
from pfconf.cli.pflint import cli as pflint

MAIN = "compatibility_level = 3.11\nmyhostname = mail.example.com\nmydestination = $myhostname,\n  localhost\nmy_own = x\n"
MASTER = (
    "smtp inet n - y - - smtpd\n  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n"
)


def run(command, args, expect):  # type: ignore[no-untyped-def]
    return invoke(command, args, expect)


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(MASTER)
    return tmp_path


def test_show(confdir):
    result = run(pfedit, ["-c", str(confdir), "show"], 0)
    lines = result.output.splitlines()
    assert "mydestination = $myhostname, localhost" in lines
    assert "my_own = x" in lines
    assert "smtp/inet/smtpd_client_restrictions = permit_mynetworks, reject" in lines
    assert any(line.startswith("smtp       inet  n       -       y") for line in lines)


def test_show_json(confdir):
    result = run(pfedit, ["-c", str(confdir), "show", "--json"], 0)
    data = json.loads(result.output)
    assert data["main"]["mydestination"] == "$myhostname,  localhost"
    assert data["master"][0]["overrides"] == {
        "smtpd_client_restrictions": "permit_mynetworks, reject"
    }


def test_show_undecodable_bytes(tmp_path):
    (tmp_path / "main.cf").write_bytes(b"smtpd_banner = caf\xe9\n")
    result = run(pfedit, ["-c", str(tmp_path), "show"], 0)
    assert result.stdout_bytes.splitlines()[-1] == b"smtpd_banner = caf\xe9"


def test_show_parse_error_is_one_line(tmp_path):
    (tmp_path / "main.cf").write_text("myhostname = a\nbogus\n")
    result = run(pfedit, ["-c", str(tmp_path), "show"], 2)
    assert (
        result.output.strip() == f"{tmp_path}/main.cf:2: missing '=' after parameter name \"bogus\""
    )


def test_show_missing_directory(tmp_path):
    result = run(pfedit, ["-c", str(tmp_path / "nope"), "show"], 2)
    assert "no such directory" in result.output


def test_show_empty_directory(tmp_path):
    result = run(pfedit, ["-c", str(tmp_path), "show"], 2)
    assert result.output == f"{tmp_path}: neither main.cf nor master.cf found\n"


def test_lint_clean(confdir):
    (confdir / "main.cf").write_text(MAIN.replace("my_own = x\n", ""))
    result = run(pflint, ["--select", "SYN,PFL", str(confdir)], 0)
    assert result.output == ""


def test_lint_syntax_error_with_position(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("myhostname = a\nbogus value\n")
    (tmp_path / "master.cf").write_text("smtp inet n - y - -\n")
    result = run(pflint, ["--select", "SYN", str(tmp_path)], 1)
    assert result.output.splitlines() == [
        f"{path}:2:7: SYN001 error missing '=' after parameter name \"bogus\"",
        "  bogus value",
        "        ^",
        f"{tmp_path}/master.cf:1:1: SYN001 error service entry has 7 fields, 8 expected",
        "  smtp inet n - y - -",
        "  ^",
    ]


def test_lint_orphan_lines(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("  stray = 1\nmyhostname = a\n")
    result = run(pflint, ["--select", "SYN", str(path)], 1)
    assert result.output.startswith(f"{path}:1:1: SYN002 warning ")


def test_lint_missing_path(tmp_path):
    result = run(pflint, [str(tmp_path / "nope.cf")], 2)
    assert "no such file or directory" in result.output


def test_lint_directory_without_files(tmp_path):
    result = run(pflint, [str(tmp_path)], 2)
    assert result.output == f"{tmp_path}: no main.cf or master.cf in this directory\n"


def test_lint_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "main.cf"
    path.write_text("a = b\n")
    deny_reading(monkeypatch, path)  # root could read a mode-0 file
    result = run(pflint, [str(path)], 2)
    assert result.output.strip() == f"{path}: permission denied"


def test_lint_read_error(tmp_path, monkeypatch):
    path = tmp_path / "main.cf"
    path.write_text("a = b\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("pfconf.lint.engine.load", refuse)
    result = run(pflint, [str(path)], 2)
    assert result.output.strip() == f"{path}: Permission denied"


def test_lint_master_by_content(tmp_path):
    path = tmp_path / "services"
    path.write_text("smtp inet n - y - - smtpd\n")
    run(pflint, ["--select", "SYN", str(path)], 0)


def test_usage_error():
    result = run(pflint, ["--no-such-option"], 2)
    assert "--no-such-option" in result.output and "Usage:" in result.output
