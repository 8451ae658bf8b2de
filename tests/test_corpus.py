"""The configurations we wrote (corpus/): each reads exactly as Postfix reads it.

corpus/main and corpus/master hold files Postfix accepts: they round-trip byte for byte and
pfconf's values, fields and overrides equal postconf's.  corpus/broken holds one situation
Postfix refuses per file, listed in EXPECTED.tsv with the line both must report.
"""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS
from oracle import (
    assert_main_reads_like_postconf,
    assert_master_reads_like_postconf,
    in_parallel,
    read_main,
    read_master,
)

import pfconf

GOOD_MAIN = sorted((CORPUS / "main").glob("*.cf")) + [CORPUS / "demo" / "main.cf"]
GOOD_MASTER = sorted((CORPUS / "master").glob("*.cf")) + [CORPUS / "demo" / "master.cf"]
BROKEN = CORPUS / "broken"


def _expected() -> list[tuple[str, int, str]]:
    table = BROKEN / "EXPECTED.tsv"
    if not table.is_file():
        return []
    rows = []
    for row in table.read_text(encoding="utf-8").splitlines()[1:]:
        if row.strip():
            name, line, message = row.split("\t")
            rows.append((name, int(line), message))
    return rows


def _id(path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_corpus_covers_both_files_and_errors():
    assert len(GOOD_MAIN) >= 10 and len(GOOD_MASTER) >= 5 and len(_expected()) >= 8


@pytest.mark.parametrize("path", GOOD_MAIN, ids=_id)
def test_main(path):
    data = path.read_bytes()
    assert pfconf.dumps(pfconf.loads(data, "main")) == data
    reading = read_main(data)
    assert reading.accepted, reading.error
    assert_main_reads_like_postconf(data, reading)


@pytest.mark.parametrize("path", GOOD_MASTER, ids=_id)
def test_master(path):
    data = path.read_bytes()
    assert pfconf.dumps(pfconf.loads(data, "master")) == data
    assert_master_reads_like_postconf(data)


@pytest.mark.parametrize("name, line, message", _expected(), ids=lambda v: str(v))
def test_broken(name, line, message):
    """pfconf refuses each file at the line EXPECTED.tsv records (postconf's, checked below)."""
    path = BROKEN / name
    kind = "master" if name.startswith("master") else "main"
    with pytest.raises(pfconf.ParseError) as info:
        pfconf.loads(path.read_bytes(), kind, path=str(path))
    assert info.value.line == line
    assert message in str(info.value)


def _postconf_verdict(row: tuple[str, int, str]) -> tuple[str, bool, int | None]:
    """(file, accepted, line of the fatal error) as postconf sees a broken file."""
    name, _, _ = row
    data = (BROKEN / name).read_bytes()
    if name.startswith("master"):
        status, stderr, _ = read_master(data, "-M")
        match = re.search(r"line (\d+)", stderr)
        if match:
            return name, status == 0, int(match.group(1))
        # a bad field is reported with the entry it is in, not its line: find that entry
        match = re.search(r' in "(.+)"$', stderr.strip())
        lines = data.decode("utf-8", "surrogateescape").split("\n")
        found = [
            n for n, text in enumerate(lines, 1)
            if match and text.strip() and match.group(1).startswith(text.rstrip("\r"))
        ]
        return name, status == 0, found[0] if found else None
    reading = read_main(data)
    return name, reading.accepted, reading.error_line


def test_postconf_refuses_the_broken_files_where_recorded():
    """EXPECTED.tsv's lines are postconf's own: every file, asked at once (each fatal error
    costs postconf a second's sleep)."""
    rows = _expected()
    verdicts = in_parallel(_postconf_verdict, rows)
    assert verdicts == [(name, False, line) for name, line, _ in rows]
