"""Ask the installed Postfix (postconf) how it reads a main.cf or master.cf.

Every call copies the text into a fresh directory beside an empty partner file, as
shared/corpus-real/ORACLE.tsv was made, and parses what postconf prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import attrs
import pytest

from pfconf import postfix
from pfconf.postfix import find_program

T = TypeVar("T")
R = TypeVar("R")


def require_postconf() -> str:
    """The postconf path; skip the test without it, except in CI where that is a failure."""
    path = find_program("postconf")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("postconf is not installed, and CI must run the comparisons with Postfix")
        pytest.skip("postconf is not installed (apt-get install postfix)")
    return path


@attrs.frozen
class Reading:
    accepted: bool
    error: str
    error_line: int | None
    values: dict  # name -> value as postconf shows it
    raw: dict  # name -> value from "unused parameter" warnings (non-printables as "?")
    warnings: tuple


_UNUSED = re.compile(
    r"^\S*postconf: warning: .*?/(?:main|master)\.cf: "
    r"(?:unused parameter|read-only parameter assignment): ([^=]*)=(.*)$"
)
_LINE = re.compile(r"line (\d+)")


def _run(args: list[str], files: dict) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="pfconf-oracle-") as directory:
        for name, data in files.items():
            path = os.path.join(directory, name)
            with open(path, "wb") as handle:
                handle.write(data)
            # Postfix rereads a file modified within the last second until it "cools down"
            # (dict_load_file_xt), 300 ms at a time: date it in the past.
            os.utime(path, (0, 0))
        require_postconf()
        proc = postfix.run("postconf", args, config_dir=directory, timeout=60)
        proc.directory = directory  # type: ignore[attr-defined]
        return proc


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _lines(text: str) -> list[str]:
    """postconf's output lines, empty ones left out: it ends each with "\n" and nothing else,
    while str.splitlines() would also break a value at "\f", "\v", "\x1c" or "\x85"."""
    return [line for line in text.split("\n") if line]


def read_main(data: bytes) -> Reading:
    proc = _run(["-n"], {"main.cf": data, "master.cf": b""})
    stderr = _decode(proc.stderr)
    values: dict = {}
    directory = proc.directory  # type: ignore[attr-defined]
    for line in _lines(_decode(proc.stdout)):
        name, _, value = line.partition(" =")
        values[name] = value.removeprefix(" ")
    if values.get("config_directory") == directory:
        del values["config_directory"]
    raw: dict = {}
    warnings = []
    error = ""
    for line in stderr.split("\n"):
        match = _UNUSED.match(line)
        if match:
            raw[match.group(1)] = match.group(2)
        elif line:
            warnings.append(line.replace(directory, "D"))
        if "fatal:" in line:
            error = line.replace(directory, "D")
    error_line = int(_LINE.search(error).group(1)) if _LINE.search(error) else None
    return Reading(proc.returncode == 0, error, error_line, values, raw, tuple(warnings))


def read_master(data: bytes, what: str) -> tuple[int, str, list[str]]:
    """(exit status, stderr, stdout lines) of ``postconf -F`` or ``-P`` on a master.cf."""
    proc = _run([what], {"main.cf": b"", "master.cf": data})
    directory = proc.directory  # type: ignore[attr-defined]
    return (
        proc.returncode,
        _decode(proc.stderr).replace(directory, "D"),
        _lines(_decode(proc.stdout)),
    )


def fold(value: str) -> str:
    """postconf -n's display: runs of blanks folded to one space, ends trimmed."""
    return " ".join(re.split(r"[ \t\r\n]+", value)).strip(" ")


def printable(value: str) -> str:
    """How postconf's warnings print a raw value: every byte outside ASCII 32-126 as "?"."""
    data = value.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if 32 <= b < 127 else "?" for b in data)


# ------------------------------------------------------------------ pfconf against postconf


def main_as_postconf_shows_it(doc, reading: Reading) -> dict:
    """pfconf's effective values in postconf's display: -n's folding for the names -n lists,
    the warnings' "?" rendering for the others."""
    return {
        printable(name): (fold(value) if name in reading.values else printable(value))
        for name, value in doc.effective().items()
    }


def assert_main_reads_like_postconf(data: bytes, reading: Reading | None = None) -> None:
    """pfconf and postconf agree on a main.cf: both accept it with the same values, or both
    reject it at the same line.  ``reading``: postconf's, when the caller has it already."""
    import pfconf

    reading = reading or read_main(data)
    try:
        doc = pfconf.loads(data, "main")
    except pfconf.ParseError as exc:
        assert not reading.accepted, f"pfconf rejects what postconf accepts: {exc}"
        assert exc.line == reading.error_line, (str(exc), reading.error)
        return
    assert reading.accepted, f"postconf rejects what pfconf accepts: {reading.error}"
    assert main_as_postconf_shows_it(doc, reading) == {**reading.values, **reading.raw}


def fields_as_postconf_shows_them(doc) -> list:
    """``postconf -F`` lines for every service of a MasterCf."""
    from pfconf.show import command_line

    lines = []
    for service in doc.services:
        for field, value in zip(
            ("service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit"),
            (service.name, service.type, service.private, service.unprivileged, service.chroot,
             service.wakeup, service.process_limit),
        ):  # fmt: skip
            lines.append(f"{service.key}/{field} = {value}")
        lines.append(f"{service.key}/command = {command_line(service)}")
    return lines


def overrides_as_postconf_shows_them(doc) -> list:
    """``postconf -P`` lines for every service of a MasterCf."""
    return [
        fold(f"{service.key}/{name} = {service.overrides[name]}")
        for service in doc.services
        for name in sorted(service.overrides)
    ]


def assert_master_reads_like_postconf(data: bytes, command_too: bool = True) -> None:
    """pfconf and postconf agree on a master.cf: fields (-F) and overrides (-P), or both
    reject it."""
    import pfconf

    status, stderr, fields = read_master(data, "-F")
    try:
        doc = pfconf.loads(data, "master")
    except pfconf.ParseError as exc:
        assert status != 0, f"pfconf rejects what postconf accepts: {exc}"
        match = re.search(r"line (\d+)", stderr)
        if match:
            assert int(match.group(1)) == exc.line, (str(exc), stderr)
        return
    assert status == 0, f"postconf rejects what pfconf accepts: {stderr}"
    mine = fields_as_postconf_shows_them(doc)
    if not command_too:
        mine = [line for line in mine if "/command = " not in line]
        fields = [line for line in fields if "/command = " not in line]
    assert mine == fields
    _, _, params = read_master(data, "-P")
    assert overrides_as_postconf_shows_them(doc) == params


def in_parallel(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(item) for item in items]``, with the postconf runs side by side.

    postconf sleeps a second before it exits on a fatal error (msg_fatal), so a test that
    asks it about many broken files asks about all of them at once.
    """
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(items)))) as pool:
        return list(pool.map(function, items))
