"""The real-world corpus (shared/corpus-real), read in place: pfconf must read it as Postfix does.

Every file round-trips byte for byte; main.cf values equal postconf -n (plus its warnings for
names it does not know); master.cf fields and overrides equal postconf -F and -P; where
postconf rejects a file, pfconf rejects it at the same line.
"""

from __future__ import annotations

import re

import pytest
from conftest import real_files
from oracle import (
    assert_main_reads_like_postconf,
    assert_master_reads_like_postconf,
    in_parallel,
    read_main,
    read_master,
)

import pfconf

MAIN = real_files("main")
MASTER = real_files("master")

# main/102 names a host in inet_interfaces; postconf resolves it and these machines have no
# DNS (shared/corpus-real/README.md), so Postfix's verdict on it says nothing about syntax.
NEEDS_DNS = {"main/102.cf"}


def _id(path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_corpus_is_there():
    assert len(MAIN) >= 100 and len(MASTER) >= 60, "shared/corpus-real is missing or incomplete"


@pytest.mark.parametrize("path", MAIN + MASTER, ids=_id)
def test_round_trip(path, oracle_rows):
    data = path.read_bytes()
    kind = path.parent.name
    accepted, _ = oracle_rows.get(_id(path), ("yes", ""))
    try:
        doc = pfconf.loads(data, kind)
    except pfconf.ParseError:
        assert accepted == "no", f"{_id(path)} is accepted by Postfix"
        return
    assert pfconf.dumps(doc) == data
    assert pfconf.dumps(pfconf.loads(data.decode("utf-8", "surrogateescape"), kind)) == data.decode(
        "utf-8", "surrogateescape"
    )


def _recorded_line(error: str) -> int | None:
    match = re.search(r"line (\d+)", error)
    return int(match.group(1)) if match else None


def _refused(path, oracle_rows) -> bool:  # type: ignore[no-untyped-def]
    """Whether ORACLE.tsv records that Postfix refuses this file (checked against the
    installed postconf by test_refused_files_are_still_refused)."""
    return oracle_rows.get(_id(path), ("yes", ""))[0] == "no"


@pytest.mark.parametrize("path", MAIN, ids=_id)
def test_main_values_equal_postconf(path, oracle_rows):
    data = path.read_bytes()
    if _id(path) in NEEDS_DNS:
        assert "host not found" in oracle_rows[_id(path)][1]
        doc = pfconf.loads(data, "main")
        assert "inet_interfaces" in doc.effective()
        return
    if _refused(path, oracle_rows):
        with pytest.raises(pfconf.ParseError) as info:
            pfconf.loads(data, "main")
        assert info.value.line == _recorded_line(oracle_rows[_id(path)][1])
        return
    assert_main_reads_like_postconf(data)


@pytest.mark.parametrize("path", MASTER, ids=_id)
def test_master_fields_and_overrides_equal_postconf(path, oracle_rows):
    data = path.read_bytes()
    if _refused(path, oracle_rows):
        with pytest.raises(pfconf.ParseError) as info:
            pfconf.loads(data, "master")
        assert info.value.line == _recorded_line(oracle_rows[_id(path)][1])
        return
    assert_master_reads_like_postconf(data)


def test_refused_files_are_still_refused(oracle_rows):
    """The installed postconf refuses what ORACLE.tsv says it refuses, with the same first
    error (all at once: each fatal error costs postconf a second's sleep)."""
    refused = [p for p in MAIN + MASTER if _refused(p, oracle_rows)]
    assert len(refused) >= 4

    def first_error(path) -> str:  # type: ignore[no-untyped-def]
        data = path.read_bytes()
        if path.parent.name == "main":
            return read_main(data).error
        _, stderr, _ = read_master(data, "-M")
        return next(line for line in stderr.splitlines() if "fatal:" in line)

    def fatal(line: str) -> str:  # postconf names itself as it was started: drop that
        return line[line.index("fatal:") :]

    errors = in_parallel(first_error, refused)
    assert [fatal(e) for e in errors] == [fatal(oracle_rows[_id(p)][1]) for p in refused]
