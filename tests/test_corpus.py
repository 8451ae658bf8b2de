"""The configurations we wrote (corpus/): each reads exactly as Postfix reads it.

corpus/main and corpus/master hold files Postfix accepts: they round-trip byte for byte and
pfconf's values, fields and overrides equal postconf's.  corpus/broken holds one situation
Postfix refuses per file, listed in EXPECTED.tsv with the line both must report.
"""

from __future__ import annotations

import pytest
from conftest import CORPUS
from oracle import (
    assert_main_reads_like_postconf,
    assert_master_reads_like_postconf,
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
    assert_main_reads_like_postconf(data)


@pytest.mark.parametrize("path", GOOD_MASTER, ids=_id)
def test_master(path):
    data = path.read_bytes()
    assert pfconf.dumps(pfconf.loads(data, "master")) == data
    assert_master_reads_like_postconf(data)


@pytest.mark.parametrize("name, line, message", _expected(), ids=lambda v: str(v))
def test_broken(name, line, message):
    path = BROKEN / name
    data = path.read_bytes()
    kind = "master" if name.startswith("master") else "main"
    with pytest.raises(pfconf.ParseError) as info:
        pfconf.loads(data, kind, path=str(path))
    assert info.value.line == line
    assert message in str(info.value)
    if kind == "main":
        reading = read_main(data)
        assert not reading.accepted and reading.error_line == line, reading.error
    else:
        status, _stderr, _ = read_master(data, "-M")
        assert status != 0, "postconf accepts it"
