"""The real-world corpus (shared/corpus-real), read in place: pfconf must read it as Postfix does.

Every file round-trips byte for byte; main.cf values equal postconf -n (plus its warnings for
names it does not know); master.cf fields and overrides equal postconf -F and -P; where
postconf rejects a file, pfconf rejects it at the same line.
"""

from __future__ import annotations

import pytest
from conftest import real_files
from oracle import assert_main_reads_like_postconf, assert_master_reads_like_postconf, read_main

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


@pytest.mark.parametrize("path", MAIN, ids=_id)
def test_main_values_equal_postconf(path):
    data = path.read_bytes()
    reading = read_main(data)
    if _id(path) in NEEDS_DNS:
        assert "host not found" in reading.error
        doc = pfconf.loads(data, "main")
        assert "inet_interfaces" in doc.effective()
        return
    assert_main_reads_like_postconf(data)


@pytest.mark.parametrize("path", MASTER, ids=_id)
def test_master_fields_and_overrides_equal_postconf(path):
    data = path.read_bytes()
    assert_master_reads_like_postconf(data)
    if _id(path) in {"master/010.cf", "master/017.cf"}:
        with pytest.raises(pfconf.ParseError):
            pfconf.loads(data, "master")
