"""Close spellings for "did you mean ...?" hints: difflib's choice, without a pass over every name.

A NameIndex is built once per set of names (the parameters a Postfix version knows, the names a
main.cf defines) and hands difflib only the names that could reach the cutoff.  It must not
change which name difflib picks, except when more than LIMIT names could (see candidates()).
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable

#: The most names one lookup in one index hands to difflib.  A hint is worth a bounded cost:
#: without a bound, a main.cf of ten thousand names that differ only in a number would make
#: each of its ten thousand misspelt references cost a pass over all of them.  Misspellings
#: of Postfix's own names never come near it (17 parameters, 28 restrictions at most, in a
#: sample of 5,000), so the bound changes no hint there.
LIMIT = 32

#: The most names one lookup examines (those that share a rare piece with the word, so may
#: qualify); in the same sample, examining no more than 128 changed no hint either.
LOOK_LIMIT = 4 * LIMIT


def _pieces(word: str) -> list[str]:
    """Each two-character piece of ``word``, a repeated one numbered (``ab``, ``ab1``...).

    Numbering repeats makes a set intersection of two words' pieces count shared pieces the
    way a multiset intersection would (``aaa`` and ``aa`` share one ``aa``, not two).  Pieces
    are strings rather than tuples because a string keeps its hash once computed.
    """
    seen: Counter[str] = Counter()
    pieces = []
    for i in range(len(word) - 1):
        pair = word[i : i + 2]
        count = seen[pair]
        pieces.append(f"{pair}{count}" if count else pair)
        seen[pair] = count + 1
    return pieces


def _ratio(matches: int, total: int) -> float:
    # difflib's own formula (SequenceMatcher._calculate_ratio), so the bounds below are
    # decided by the same floating-point comparisons as get_close_matches().
    return 2.0 * matches / total if total else 1.0


@functools.cache
def _shared_needed(length: int, other: int, cutoff: float) -> int:
    """How many two-character pieces a word of ``other`` characters must share with one of
    ``length`` characters for difflib's ratio to reach ``cutoff``.

    With M matching characters in B matching blocks, each block of k characters holds k - 1
    pieces that both words have, so they share at least M - B pieces.  Consecutive blocks are
    separated by at least one unmatched character of either word, so
    B - 1 <= (length - M) + (other - M), and they share at least 3M - 1 - length - other.
    """
    total = length + other
    matches = max(0, int(cutoff * total / 2) - 1)
    while _ratio(matches, total) < cutoff:
        matches += 1
    return 3 * matches - 1 - total


class NameIndex:
    """Names indexed by length and by their two-character pieces."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names), key=lambda name: (len(name), name))
        self._lengths = [len(name) for name in self.names]
        postings: defaultdict[str, list[str]] = defaultdict(list)
        self._pieces: dict[str, frozenset[str]] = {}
        for name in self.names:
            pieces = _pieces(name)
            self._pieces[name] = frozenset(pieces)
            for piece in pieces:
                postings[piece].append(name)
        # Each piece's names, shortest first, with their lengths alongside for bisect.
        self._postings = {
            piece: (names, [len(name) for name in names]) for piece, names in postings.items()
        }

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, word: str, cutoff: float) -> list[str]:
        """The names whose difflib ratio with ``word`` may reach ``cutoff``: a superset of the
        ones that do, unless more than LIMIT names qualify (then the LIMIT of them that share
        the most two-character pieces with ``word``)."""
        length = len(word)
        pieces = _pieces(word)
        word_pieces = frozenset(pieces)
        found: list[str] = []
        needed: dict[int, int] = {}  # name length -> pieces such a name must share with word
        for other in _lengths(length, cutoff):
            count = _shared_needed(length, other, cutoff)
            if count <= 0:
                # Too short for shared pieces to tell: any name of this length may do.
                first = bisect.bisect_left(self._lengths, other)
                last = bisect.bisect_right(self._lengths, other)
                found += self.names[first : min(last, first + LOOK_LIMIT - len(found))]
            elif count <= len(pieces):
                needed[other] = count
        if needed:
            # A name that must share n of the word's pieces shares one of any
            # len(pieces) - n + 1 of them: look it up by the rarest, so that few names are
            # looked at, and by each piece only the lengths it can still reach.
            pieces.sort(key=lambda piece: (len(self._postings.get(piece, ((),))[0]), piece))
            # Lengths by how many of the rarest pieces reach them, most first, and the
            # shortest and longest of each leading run of them.
            order = sorted(needed, key=lambda other: (needed[other], other))
            shortest = list(itertools.accumulate(order, min))
            longest = list(itertools.accumulate(order, max))
            reach = len(order)
            gathered: set[str] = set()
            for rank, piece in enumerate(pieces):
                while reach and rank > len(pieces) - needed[order[reach - 1]]:
                    reach -= 1
                if not reach or len(gathered) >= LOOK_LIMIT:
                    break
                if piece not in self._postings:
                    continue
                names, lengths = self._postings[piece]
                first = bisect.bisect_left(lengths, shortest[reach - 1])
                last = bisect.bisect_right(lengths, longest[reach - 1])
                gathered.update(names[first : min(last, first + LOOK_LIMIT - len(gathered))])
            found += [
                name
                for name in gathered
                if needed.get(len(name), 0)
                and len(self._pieces[name] & word_pieces) >= needed[len(name)]
            ]
        if len(found) > LIMIT:
            # The names that share the most pieces with the word are the likeliest to be
            # closest.
            found.sort(key=lambda name: (-len(self._pieces[name] & word_pieces), name))
        return found[:LIMIT]


def _lengths(length: int, cutoff: float) -> range:
    """The name lengths whose real_quick_ratio() with a word of ``length`` reaches ``cutoff``."""
    shortest = max(0, int(length * cutoff / (2 - cutoff)) - 1)
    longest = int(length * (2 - cutoff) / cutoff) + 1
    while shortest <= longest and _ratio(min(length, shortest), length + shortest) < cutoff:
        shortest += 1
    while longest >= shortest and _ratio(length, length + longest) < cutoff:
        longest -= 1
    return range(shortest, longest + 1)


def closest(word: str, indexes: Iterable[NameIndex], cutoff: float) -> str | None:
    """The name of ``indexes`` that difflib.get_close_matches(word, names, n=1, cutoff) picks:
    the highest ratio, the greater name on a tie.

    get_close_matches() works out the ratio of every name that passes its quick checks;
    here the names go in order of quick_ratio(), which no ratio exceeds, and the search
    stops when that bound falls below the best ratio found (a tie still counts).
    """
    names: dict[str, None] = {}
    for index in indexes:
        names.update(dict.fromkeys(index.candidates(word, cutoff)))
    import difflib  # only a name that is not known needs a hint

    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    bounded = []
    for name in names:
        matcher.set_seq1(name)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            bounded.append((matcher.quick_ratio(), name))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, name in bounded:
        if best is not None and bound < best[0]:
            break
        matcher.set_seq1(name)
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, name) > best):
            best = (score, name)
    return best[1] if best else None
