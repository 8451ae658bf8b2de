"""pfconf.cache: the knowledge base from a fast form, never a stale or foreign one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pfconf import _toml
from pfconf.cache import cached


class _Maker:
    def __init__(self, data: dict[str, object]) -> None:
        self.data = data
        self.calls = 0

    def __call__(self) -> dict[str, object]:
        self.calls += 1
        return dict(self.data)


@pytest.fixture
def where(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    directory = tmp_path / "cache"
    monkeypatch.setenv("PFCONF_CACHE_DIR", str(directory))
    monkeypatch.delenv("PFCONF_NO_CACHE", raising=False)
    return directory


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".tmp-"))


def test_a_second_read_comes_from_the_cache_and_files_are_private(where):
    make = _Maker({"a": [1, "x", {"b": True}]})
    assert cached("t", b"source", make) == make.data and make.calls == 1
    assert cached("t", b"source", make) == make.data and make.calls == 1
    (entry,) = _files(where)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert not [p for p in where.iterdir() if p.name.startswith(".tmp-")]


def test_other_bytes_are_another_entry(where):
    make = _Maker({"v": 1})
    cached("t", b"one", make)
    cached("t", b"two", make)
    assert make.calls == 2 and len(_files(where)) == 2


def test_a_corrupt_entry_is_made_again(where):
    make = _Maker({"v": 1})
    cached("t", b"s", make)
    (entry,) = _files(where)
    entry.write_bytes(b"\xff\x00not marshal")
    assert cached("t", b"s", make) == {"v": 1} and make.calls == 2


def test_an_entry_others_may_write_is_not_read(where):
    make = _Maker({"v": 1})
    cached("t", b"s", make)
    (entry,) = _files(where)
    os.chmod(entry, 0o620)
    assert cached("t", b"s", make) == {"v": 1} and make.calls == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_an_entry_of_another_user_is_not_read(where):
    make = _Maker({"v": 1})
    cached("t", b"s", make)
    (entry,) = _files(where)
    os.chown(entry, 65534, 65534)
    assert cached("t", b"s", make) == {"v": 1} and make.calls == 2


def test_a_symbolic_link_is_not_followed(where, tmp_path):
    make = _Maker({"v": 1})
    cached("t", b"s", make)
    (entry,) = _files(where)
    planted = tmp_path / "planted"
    planted.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(planted)
    assert cached("t", b"s", make) == {"v": 1} and make.calls == 2


def test_an_unusable_directory_falls_back_to_making(where):
    where.parent.mkdir(exist_ok=True)
    where.write_text("a file where the directory should be")
    make = _Maker({"v": 1})
    assert cached("t", b"s", make) == {"v": 1}
    assert cached("t", b"s", make) == {"v": 1} and make.calls == 2


def test_the_cache_can_be_turned_off(where, monkeypatch):
    monkeypatch.setenv("PFCONF_NO_CACHE", "1")
    make = _Maker({"v": 1})
    cached("t", b"s", make)
    cached("t", b"s", make)
    assert make.calls == 2 and not where.exists()


def test_the_knowledge_base_reads_the_same_from_the_cache(where):
    from pfconf import kb
    from pfconf.resources import rules_dir

    for path in sorted(rules_dir().glob("*.toml")):
        expected = _toml.loads(path.read_text("utf-8"))
        for _ in range(2):  # made, then read from the cache
            kb.load_table.cache_clear()
            assert kb.load_table(path.stem) == expected, path.name
    assert len(_files(where)) == len(list(rules_dir().glob("*.toml")))
    kb.load_table.cache_clear()
