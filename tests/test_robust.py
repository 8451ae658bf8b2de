"""Bad input never gets a traceback, a hang or unbounded memory: a one-line error naming the
file, exit status 2 (issue #10).  Files that are not regular files (FIFOs, /dev/zero,
directories, symbolic link loops) are real here; each run has a time and memory guard, so
that a regression fails the test instead of hanging it or filling the machine."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import deny_reading, invoke

import pfconf
import pfconf.io
from pfconf.cli.pfedit import cli as pfedit
from pfconf.cli.pflint import cli as pflint
from pfconf.errors import MissingFile, ReadError
from pfconf.io import read_config

MAIN = "compatibility_level = 3.11\nmyhostname = mail.example.com\n"
MASTER = "smtp inet n - n - - smtpd\n"
#: SYN002 in it: --config and the settings files can be seen to take effect
ORPHAN_MAIN = "  stray = 1\ncompatibility_level = 3.11\nmyhostname = a\n"


@pytest.fixture(autouse=True)
def guard() -> Iterator[None]:
    """Fail a test that blocks for 20 s (a FIFO) or takes 2 GiB more memory (/dev/zero)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("still running after 20 s: blocked on a FIFO?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + 2 * 1024**3, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def one_line_error(result, text: str) -> None:  # type: ignore[no-untyped-def]
    """The output is exactly one line, holding ``text``."""
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert text in lines[0], result.output


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    directory = tmp_path / "postfix"
    directory.mkdir()
    (directory / "main.cf").write_text(MAIN)
    (directory / "master.cf").write_text(MASTER)
    return directory


# -- 7. pflint --config FILE reads FILE ------------------------------------------------------


@pytest.mark.parametrize(
    "name, text",
    [
        ("pyproject.toml", '[tool.pflint]\nignore = ["SYN002"]\n'),
        (".pflint.toml", 'ignore = ["SYN002"]\n'),
        ("team-settings.toml", 'ignore = ["SYN002"]\n'),
    ],
)
def test_config_reads_exactly_that_file(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "main.cf").write_text(ORPHAN_MAIN)
    # a settings file the search would find, which --config must not read
    (tmp_path / "etc" / ".pflint.toml").write_text("selectt = []\n")
    (tmp_path / "settings").mkdir()
    settings = tmp_path / "settings" / name
    settings.write_text(text)
    if name != ".pflint.toml":
        # nor one beside FILE, which a search from FILE's directory finds first
        (tmp_path / "settings" / ".pflint.toml").write_text("selectt = []\n")
    invoke(pflint, ["--select", "SYN", "--config", settings, tmp_path / "etc"], 0)
    result = invoke(pflint, ["-v", "--select", "SYN", "--config", settings, tmp_path / "etc"], 0)
    assert f"settings from {settings}" in result.output


def test_config_pyproject_without_pflint_table(tmp_path: Path, confdir: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 99\n")
    result = invoke(pflint, ["--config", tmp_path / "pyproject.toml", confdir], 2)
    one_line_error(result, f"{tmp_path / 'pyproject.toml'}: no [tool.pflint] table in this file")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: os.mkfifo(p), "is a named pipe (FIFO)"),
        (lambda p: p.write_bytes(b'ignore = ["\xff"]\n'), "not UTF-8 text (line 1)"),
        (lambda p: p.write_text("ignore = [\n"), "not valid TOML"),
        (lambda p: p.write_text("ignore = 3\n"), "ignore must be a list of rule codes"),
        (lambda p: p.write_text("[tool]\npflint = 3\n"), "tool.pflint must be a table"),
    ],
    ids=["missing", "directory", "fifo", "not-utf8", "not-toml", "bad-value", "bad-table"],
)
def test_config_file_errors(tmp_path: Path, confdir: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "settings.toml"
    make(path)
    result = invoke(pflint, ["--config", path, confdir], 2)
    one_line_error(result, f"{path}: {message}")


@pytest.mark.parametrize("name", [".pflint.toml", "pyproject.toml"])
@pytest.mark.parametrize(
    "data, message",
    [
        (b'[tool.pflint]\nignore = ["SYN002\xe9"]\n', "not UTF-8 text (line 2)"),
        (b"[tool.pflint\n", "not valid TOML"),
    ],
    ids=["not-utf8", "not-toml"],
)
def test_settings_file_found_by_search_is_checked(
    confdir: Path, name: str, data: bytes, message: str
) -> None:
    (confdir / name).write_bytes(data)
    result = invoke(pflint, [confdir], 2)
    one_line_error(result, f"{confdir / name}: {message}")


def test_settings_fifo_found_by_search(confdir: Path) -> None:
    os.mkfifo(confdir / ".pflint.toml")
    result = invoke(pflint, [confdir], 2)
    one_line_error(result, f"{confdir / '.pflint.toml'}: is a named pipe (FIFO)")


# -- 8. main.cf and master.cf that are not regular files ------------------------------------

SASL_TLS = ["--postfix-version", "3.9", "--cert", "/etc/ssl/c.pem", "--key", "/etc/ssl/k.pem"]
#: Every command that reads the configuration, with the files it needs.
COMMANDS = {
    "pflint DIR": (pflint, ["{d}"]),
    "pflint FILE": (pflint, ["{d}/main.cf"]),
    "pflint --fix": (pflint, ["--fix", "{d}"]),
    "pfedit show": (pfedit, ["-c", "{d}", "show"]),
    "pfedit get": (pfedit, ["-c", "{d}", "get", "myhostname"]),
    "pfedit set": (pfedit, ["-c", "{d}", "set", "myhostname=x", "--diff"]),
    "pfedit service list": (pfedit, ["-c", "{d}", "service", "list"]),
    # (pfedit apply --list and --explain read recipes only: test_pfedit.py)
    "pfedit apply tls-hardening": (
        pfedit,
        ["-c", "{d}", "apply", "tls-hardening", "--diff", "--postfix-version", "3.9"],
    ),
    "pfedit apply sasl-tls": (pfedit, ["-c", "{d}", "apply", "sasl-tls", "--diff", *SASL_TLS]),
}
#: The commands that read master.cf too (get reads main.cf alone, service list master.cf alone).
READS_MASTER = [c for c in COMMANDS if c != "pfedit get"]
READS_MAIN = [c for c in COMMANDS if c != "pfedit service list"]


def _run(command: str, directory: Path, expect: int):  # type: ignore[no-untyped-def]
    cli, args = COMMANDS[command]
    return invoke(cli, [a.format(d=directory) for a in args], expect)


def _settle(directory: Path) -> None:
    """Back-date the files: postconf (run by pfedit set to check its edit) waits for a file
    changed within the last second to settle, which under load can take a while."""
    when = time.time() - 60
    for name in ("main.cf", "master.cf"):
        os.utime(directory / name, (when, when))


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    os.symlink("/dev/zero", path)


def _directory(path: Path) -> None:
    path.mkdir()


def _loop(path: Path) -> None:
    os.symlink(path.name, path)


def _dangling(path: Path) -> None:
    os.symlink("/nonexistent/main.cf", path)


NOT_REGULAR = {
    "fifo": (_fifo, "is a named pipe (FIFO), not a regular file"),
    "dev-zero": (_dev_zero, "is a character device, not a regular file"),
    "directory": (_directory, "is a directory"),
    "symlink-loop": (_loop, "symbolic link loop"),
    "dangling-symlink": (_dangling, "dangling symbolic link to /nonexistent/main.cf"),
}


@pytest.mark.parametrize("kind", NOT_REGULAR)
@pytest.mark.parametrize("command", READS_MAIN)
def test_main_cf_not_a_regular_file(confdir: Path, command: str, kind: str) -> None:
    make, message = NOT_REGULAR[kind]
    (confdir / "main.cf").unlink()
    make(confdir / "main.cf")
    result = _run(command, confdir, 2)
    one_line_error(result, f"{confdir / 'main.cf'}: {message}")


@pytest.mark.parametrize("kind", NOT_REGULAR)
@pytest.mark.parametrize("command", READS_MASTER)
def test_master_cf_not_a_regular_file(confdir: Path, command: str, kind: str) -> None:
    make, message = NOT_REGULAR[kind]
    (confdir / "master.cf").unlink()
    make(confdir / "master.cf")
    result = _run(command, confdir, 2)
    one_line_error(result, f"{confdir / 'master.cf'}: {message}")


def test_pflint_names_a_directory_called_main_cf(confdir: Path) -> None:
    (confdir / "main.cf").unlink()
    (confdir / "main.cf").mkdir()
    result = invoke(pflint, [confdir / "main.cf"], 2)
    one_line_error(result, f"{confdir / 'main.cf'}: is a directory")


@pytest.mark.parametrize("command", READS_MAIN)
def test_main_cf_unreadable(confdir: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    deny_reading(monkeypatch, confdir / "main.cf")
    result = _run(command, confdir, 2)
    one_line_error(result, f"{confdir / 'main.cf'}: permission denied")


@pytest.mark.parametrize(
    "command",
    ["pflint DIR", "pfedit show", "pfedit get", "pfedit set", "pfedit apply tls-hardening"],
)
def test_empty_and_nul_files_are_read(confdir: Path, command: str) -> None:
    """A 0-byte main.cf is an empty configuration; NUL bytes are what Postfix makes of them."""
    (confdir / "main.cf").write_bytes(b"")
    # pflint's one finding: below compatibility level 1 smtpd has no relay check and stops
    # (RLY003; corpus/rules/RLY003/fire-defaults proves it on a running Postfix)
    result = _run(command, confdir, 1 if command in ("pfedit get", "pflint DIR") else 0)
    if command == "pflint DIR":
        assert [line.split()[1] for line in result.output.splitlines() if ": " in line] == [
            "RLY003"
        ]
    (confdir / "main.cf").write_bytes(b"myhostname = a\x00b\n\x00\x00\n")
    result = _run(command, confdir, 1 if command == "pflint DIR" else 2)
    assert "main.cf:2" in result.output  # Postfix: "line 2: missing attribute name"


@pytest.mark.parametrize("command", ["pflint DIR", "pfedit show", "pfedit get", "pfedit set"])
def test_empty_directory(tmp_path: Path, command: str) -> None:
    result = _run(command, tmp_path, 2)
    assert len(result.output.splitlines()) == 1


def test_file_over_the_size_limit(confdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pfconf.io, "MAX_CONFIG_SIZE", 1024)
    (confdir / "main.cf").write_text(MAIN + "# padding\n" * 200)
    for command in ("pflint DIR", "pfedit show", "pfedit set"):
        result = _run(command, confdir, 2)
        one_line_error(result, f"{confdir / 'main.cf'}: larger than 1024 bytes")


def test_size_limit_holds_when_the_size_lies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose fstat size is small (as /proc files say 0) is still read no further."""
    path = tmp_path / "main.cf"
    path.write_bytes(b"#" * 5000)
    real_fstat = os.fstat

    def small(fd: int) -> os.stat_result:
        info = list(real_fstat(fd))
        info[6] = 10  # st_size
        return os.stat_result(info)

    monkeypatch.setattr(pfconf.io.os, "fstat", small)
    with pytest.raises(ReadError, match="larger than 1000 bytes"):
        read_config(path, 1000)
    assert read_config(path, 5000) == b"#" * 5000


def test_read_config_errors() -> None:
    with pytest.raises(MissingFile) as missing:
        read_config("/nonexistent/main.cf")
    assert str(missing.value) == "/nonexistent/main.cf: no such file"
    assert isinstance(missing.value, FileNotFoundError)  # optional files are caught as such
    with pytest.raises(ReadError, match="^/dev/zero: is a character device"):
        pfconf.load("/dev/zero")


# -- 8. files given to options, and files pfedit writes --------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(bytes(range(256)) * 4), "not UTF-8 text"),
        (lambda p: p.write_bytes(b"version = 1\n# caf\xe9\n"), "not UTF-8 text (line 2)"),
        (lambda p: p.write_text("finding = 3\n"), "finding must be an array of tables"),
        (lambda p: os.mkfifo(p), "is a named pipe (FIFO)"),
    ],
    ids=["directory", "binary", "not-utf8", "bad-shape", "fifo"],
)
def test_bad_baseline(tmp_path: Path, confdir: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "baseline.toml"
    make(path)
    result = invoke(pflint, ["--baseline", path, confdir], 2)
    one_line_error(result, f"{path}: {message}")


def test_write_baseline_to_missing_directory(tmp_path: Path, confdir: Path) -> None:
    path = tmp_path / "nope" / "baseline.toml"
    result = invoke(pflint, ["--write-baseline", path, confdir], 2)
    one_line_error(result, f"{path}: cannot write: no such directory {tmp_path / 'nope'}")


def test_write_baseline_to_a_directory(tmp_path: Path, confdir: Path) -> None:
    result = invoke(pflint, ["--write-baseline", tmp_path, confdir], 2)
    one_line_error(result, f"{tmp_path}: cannot write: is a directory")


@pytest.mark.parametrize(
    "error, message",
    [
        (PermissionError(errno.EACCES, "Permission denied"), "cannot write: permission denied"),
        (OSError(errno.EROFS, "Read-only file system"), "cannot write: read-only file system"),
    ],
    ids=["read-only-directory", "read-only-file-system"],
)
def test_fix_in_a_read_only_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, message: str
) -> None:
    """As root, chmod 555 does not stop a write: the refusal is simulated where the temporary
    file (main.cf.tmp, Postfix's edit lock) is made, and the message names main.cf."""
    (tmp_path / "main.cf").write_text("compatibility_level = 3.11\nsmtp_use_tls = yes\n")
    real_open = os.open

    def refuse(path: str, flags: int, *args: int, **kwargs: object) -> int:
        if str(path).endswith(".tmp"):
            error.filename = str(path)
            raise error
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pfconf.io.os, "open", refuse)
    result = invoke(pflint, ["--fix", tmp_path], 2)
    one_line_error(result, f"pflint: {tmp_path / 'main.cf'}: {message} (nothing was changed)")
    assert "smtp_use_tls" in (tmp_path / "main.cf").read_text()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: os.mkfifo(p), "is a named pipe (FIFO)"),
        (lambda p: os.symlink("/dev/zero", p), "is a character device"),
    ],
    ids=["fifo", "dev-zero"],
)
def test_bad_password_file(tmp_path: Path, confdir: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "password"
    make(path)
    args = [
        "-c", confdir, "apply", "relay-client", "--relayhost", "[smtp.example.net]:587",
        "--user", "me", "--password-file", path, "--diff",
    ]  # fmt: skip
    result = invoke(pfedit, args, 2)
    one_line_error(result, f"{path}: {message}")


def test_password_file_not_utf8_is_kept_byte_for_byte(tmp_path: Path, confdir: Path) -> None:
    (tmp_path / "password").write_bytes(b"p\xe4ss\n")
    args = [
        "-c", confdir, "apply", "relay-client", "--relayhost", "[smtp.example.net]:587",
        "--user", "me", "--password-file", tmp_path / "password", "--postfix-version", "3.9",
    ]  # fmt: skip
    invoke(pfedit, args, 0)
    assert (confdir / "sasl_passwd").read_bytes() == b"[smtp.example.net]:587 me:p\xe4ss\n"


def test_file_a_recipe_writes_is_a_fifo(tmp_path: Path, confdir: Path) -> None:
    os.mkfifo(confdir / "sasl_passwd")
    args = [
        "-c", confdir, "apply", "relay-client", "--relayhost", "[smtp.example.net]:587",
        "--user", "me", "--diff", "--postfix-version", "3.9",
    ]  # fmt: skip
    result = invoke(pfedit, args, 2, env={"PFEDIT_RELAY_PASSWORD": "pw"})
    one_line_error(result, f"pfedit: {confdir / 'sasl_passwd'}: is a named pipe (FIFO)")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: os.mkfifo(p), "is a named pipe (FIFO)"),
        (lambda p: p.write_bytes(b'[recipe]\nname = "caf\xe9"\n'), "not UTF-8 text (line 2)"),
        (lambda p: p.write_text("[recipe\n"), "not valid TOML"),
    ],
    ids=["fifo", "not-utf8", "not-toml"],
)
def test_bad_recipe_file(tmp_path: Path, confdir: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "recipe.toml"
    make(path)
    result = invoke(pfedit, ["-c", confdir, "apply", "--recipe-file", path, "--diff"], 2)
    one_line_error(result, f"pfedit: {path}: {message}")


# -- 8. values nested deeper than Postfix goes -----------------------------------------------


def _nest(depth: int, inner: str, wrap: str) -> str:
    text = inner
    for _ in range(depth):
        text = wrap % text
    return text


DEEP_VALUES = {
    "conditional": _nest(400, "x", "${b?{%s}}"),
    "unbraced": _nest(400, "x", "${b?%s}"),
    "parentheses": _nest(400, "x", "$(b:%s)"),
    "relational": _nest(400, "x", "${{$b} == {1} ? {%s} : {y}}"),
}


@pytest.mark.parametrize("kind", DEEP_VALUES)
def test_deep_nesting_is_a_finding(confdir: Path, kind: str) -> None:
    value = DEEP_VALUES[kind]
    (confdir / "main.cf").write_text(f"{MAIN}b = 1\nsmtpd_banner = {value}\n")
    (confdir / "master.cf").write_text(f"{MASTER}  -o smtpd_banner={value}\n")
    _settle(confdir)
    invoke(pflint, [confdir], 1)  # every rule that looks for $name references copes
    result = invoke(pflint, ["--select", "SYN", "--format", "json", confdir], 1)
    found = [(f["path"], f["code"], f["line"], f["column"]) for f in json.loads(result.output)]
    assert found == [
        (str(confdir / "main.cf"), "SYN005", 4, 16),
        (str(confdir / "master.cf"), "SYN005", 2, 6),
    ]
    for command in ("pfedit show", "pfedit get", "pfedit service list"):
        _run(command, confdir, 0)
    _run("pfedit set", confdir, 0)


@pytest.mark.parametrize(
    "value",
    [
        "proxy:" * 3000 + "hash:/etc/postfix/virtual",
        _nest(400, "hash:/etc/postfix/virtual", "pipemap:{%s}"),
        _nest(400, "hash:/etc/postfix/virtual", "unionmap:{%s, hash:/etc/postfix/other}"),
    ],
    ids=["proxy", "pipemap", "unionmap"],
)
def test_deep_tables(confdir: Path, value: str) -> None:
    """Postfix reads tables inside tables to any depth (postmap -q answers through 400
    pipemaps); pflint reads the first levels and does not crash on the rest."""
    (confdir / "main.cf").write_text(f"{MAIN}virtual_alias_maps = {value}\n")
    (confdir / "master.cf").write_text(f"{MASTER}  -o virtual_alias_maps={value}\n")
    invoke(pflint, ["--select", "SYN,PAR", confdir], 0)
    _run("pfedit show", confdir, 0)
