"""The real-world corpus (shared/corpus-real), read in place: pfconf must read it as Postfix does.

Every file round-trips byte for byte; main.cf values equal postconf -n (plus its warnings for
names it does not know); master.cf fields and overrides equal postconf -F and -P; where
postconf rejects a file, pfconf rejects it at the same line.
"""

from __future__ import annotations

import re

import pytest
from conftest import real_files
from oracle import fold, printable, read_main, read_master

import pfconf
from pfconf.show import command_line

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
    try:
        doc = pfconf.loads(data, "main")
    except pfconf.ParseError as exc:
        assert not reading.accepted, f"pfconf rejects what postconf accepts: {exc}"
        assert exc.line == reading.error_line, (str(exc), reading.error)
        return
    assert reading.accepted, f"postconf rejects what pfconf accepts: {reading.error}"
    effective = doc.effective()
    for name, value in effective.items():
        if name in reading.values:
            assert fold(value) == reading.values[name], name
        else:
            assert printable(name) in reading.raw, f"postconf does not list {name}"
            assert printable(value) == reading.raw[printable(name)], name
    shown = {printable(name) for name in effective}
    assert set(reading.values) | set(reading.raw) <= shown | {
        printable(n) for n in reading.values if n in effective
    }


def _fields_as_postconf(doc) -> list[str]:
    lines = []
    for service in doc.services:
        for index, field in enumerate(pfconf.model.FIELD_NAMES[:7]):
            lines.append(
                f"{service.key}/{field} = {getattr(service, field if field != 'service' else 'name')}"
            )
        lines.append(f"{service.key}/command = {command_line(service)}")
    return lines


@pytest.mark.parametrize("path", MASTER, ids=_id)
def test_master_fields_and_overrides_equal_postconf(path):
    data = path.read_bytes()
    status, stderr, fields = read_master(data, "-F")
    try:
        doc = pfconf.loads(data, "master")
    except pfconf.ParseError as exc:
        assert status != 0, f"pfconf rejects what postconf accepts: {exc}"
        match = re.search(r"line (\d+)", stderr)
        assert match and int(match.group(1)) == exc.line, (str(exc), stderr)
        return
    assert status == 0, f"postconf rejects what pfconf accepts: {stderr}"
    assert _fields_as_postconf(doc) == fields
    status, stderr, params = read_master(data, "-P")
    mine = [
        fold(f"{service.key}/{name} = {service.overrides[name]}")
        for service in doc.services
        for name in sorted(service.overrides)
    ]
    assert mine == params
