"""The close-spelling index picks what difflib picks, and hands it a bounded number of names."""

from __future__ import annotations

import difflib
import random
import string

import pytest

from pfconf.kb import KnowledgeBase
from pfconf.spelling import LIMIT, NameIndex, closest


def _misspell(rng: random.Random, word: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(word) + 1)
        letter = rng.choice(string.ascii_lowercase + "_")
        kind = rng.randrange(4)
        if kind == 0 and len(word) > 1:
            word = word[:at] + word[at + 1 :]
        elif kind == 1:
            word = word[:at] + letter + word[at:]
        elif kind == 2 and at < len(word):
            word = word[:at] + letter + word[at + 1 :]
        elif at + 1 < len(word):
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word


@pytest.mark.parametrize(("pool", "cutoff"), [("parameters", 0.88), ("restrictions", 0.8)])
def test_same_answer_as_difflib(pool, cutoff):
    kb = KnowledgeBase()
    names = kb.names() if pool == "parameters" else sorted(kb.restrictions)
    index = NameIndex(names)
    rng = random.Random(10)
    words = [_misspell(rng, rng.choice(names)) for _ in range(300)]
    words += ["".join(rng.choice("ab_") for _ in range(rng.randrange(12))) for _ in range(50)]
    words += ["", "x", names[0], names[0] * 3]
    for word in words:
        expected = difflib.get_close_matches(word, names, n=1, cutoff=cutoff)
        assert closest(word, [index], cutoff) == (expected[0] if expected else None), word


def test_a_lookup_is_bounded():
    """Ten thousand names a digit apart: each could be the answer, LIMIT of them are tried."""
    index = NameIndex(f"relay_class_{n}_destination" for n in range(10_000))
    found = index.candidates("relay_class_5000_destinaton", 0.88)
    assert len(found) == LIMIT
    assert closest("relay_class_5000_destinaton", [index], 0.88) is not None


def test_several_indexes_are_one_set_of_names():
    one, other = NameIndex(["smtpd_banner", "mydomain"]), NameIndex(["myhostname", "mydomain"])
    assert closest("myhostnam", [one, other], 0.8) == "myhostname"
    assert closest("mydomian", [one, other], 0.8) == "mydomain"
    assert closest("zzz", [one, other], 0.8) is None
