#!/usr/bin/env python3
"""Write a pip constraints file that pins every dependency to the floor pyproject.toml declares.

    python tools/lowest_versions.py [--pyproject PATH] [--extra NAME ...] [-o FILE]

Reads [project].dependencies and the optional-dependency groups named by --extra (default:
"test"), and writes one line per requirement that has a floor: ">=X" (or "~=X", or "==X")
becomes "name==X", with the requirement's environment marker kept.  Constraints files cannot
carry extras, so "lark[interegular]>=1.1.9" is pinned as "lark==1.1.9"; the packages such an
extra pulls in are pinned to their own floors too when the distribution that declares the extra
is installed in the running interpreter (its metadata says what the extra needs), so run it a
second time with the interpreter of the environment the first constraints built
(tools/test-lowest.sh does).  A requirement without a floor is reported on stderr and left to
pip.

Standard library only; runs on Python 3.10 (tomli when installed, else a small reader of the
arrays of strings this needs) and later (tomllib).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# PEP 508 without URL requirements: name, [extras], version specifiers (bare or in
# parentheses), "; marker".
_REQUIREMENT = re.compile(
    r"""^\s*
    (?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*
    (?:\[(?P<extras>[^\]]*)\])?\s*
    (?P<specifiers>\(?[^;@]*?\)?)\s*
    (?:;\s*(?P<marker>.*?))?\s*$""",
    re.VERBOSE,
)
_SPECIFIER = re.compile(r"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*(?P<version>[^\s,]+)\s*$")
# One "extra == 'name'" clause in a dependency's marker, with the "and" that joins it.
_EXTRA_CLAUSE = r"""extra\s*==\s*(?P<q>["']){name}(?P=q)"""


@dataclass(frozen=True)
class Requirement:
    name: str
    extras: tuple[str, ...]
    specifiers: tuple[tuple[str, str], ...]
    marker: str

    @property
    def floor(self) -> str | None:
        """The lowest version the specifiers allow, when they name one."""
        for op, version in self.specifiers:
            if op in (">=", "~=", "==", "===") and "*" not in version:
                return version
        return None

    def pinned(self, version: str) -> str:
        line = f"{self.name}=={version}"
        return f"{line}; {self.marker}" if self.marker else line


def canonical(name: str) -> str:
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> Requirement:
    if "@" in text.split(";", 1)[0]:
        raise ValueError(f"{text!r}: a URL requirement has no version floor")
    match = _REQUIREMENT.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a requirement this tool reads")
    specifiers: list[tuple[str, str]] = []
    spec_text = match["specifiers"].strip()
    if spec_text.startswith("(") and spec_text.endswith(")"):
        spec_text = spec_text[1:-1]
    for part in filter(None, (piece.strip() for piece in spec_text.split(","))):
        spec = _SPECIFIER.match(part)
        if spec is None:
            raise ValueError(f"{text!r}: cannot read the version specifier {part!r}")
        specifiers.append((spec["op"], spec["version"]))
    extras = tuple(e.strip() for e in (match["extras"] or "").split(",") if e.strip())
    return Requirement(match["name"], extras, tuple(specifiers), (match["marker"] or "").strip())


# -- reading pyproject.toml ------------------------------------------------------------------


def _load_toml(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    module: Any = None
    if sys.version_info >= (3, 11):
        import tomllib

        module = tomllib
    else:
        try:
            import tomli  # type: ignore[import-not-found, unused-ignore]

            module = tomli
        except ImportError:
            module = None
    if module is not None:
        loaded: dict[str, Any] = module.loads(data.decode("utf-8"))
        return loaded
    return _read_string_arrays(data.decode("utf-8"))


def _read_string_arrays(text: str) -> dict[str, Any]:
    """Without a TOML library (Python 3.10 without tomli): the tables' arrays of strings, which
    is all this tool reads.  Handles [table] headers, key = [ "..." , '...' ] over several
    lines, and comments; other values are skipped."""
    root: dict[str, Any] = {}
    table = root
    lines = iter(text.splitlines())
    for line in lines:
        stripped = _strip_comment(line).strip()
        if not stripped:
            continue
        header = re.fullmatch(r"\[\s*([^\[\]]+?)\s*\]", stripped)
        if header:
            table = root
            for key in (k.strip().strip("\"'") for k in header[1].split(".")):
                table = table.setdefault(key, {})
            continue
        assignment = re.match(r"""("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*\[(.*)$""", stripped)
        if assignment is None:
            continue
        key = assignment[1].strip("\"'")
        body = assignment[2]
        while not _array_closed(body):
            try:
                body += "\n" + _strip_comment(next(lines))
            except StopIteration:
                raise ValueError(f"pyproject.toml: the array {key!r} is never closed") from None
        table[key] = _strings(body)
    return root


_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'""")


def _strip_comment(line: str) -> str:
    # A "#" outside a string starts a comment.
    out, position = [], 0
    while position < len(line):
        char = line[position]
        if char == "#":
            break
        if char in "\"'":
            match = _STRING.match(line, position)
            if match is None:
                break
            out.append(match[0])
            position = match.end()
            continue
        out.append(char)
        position += 1
    return "".join(out)


def _array_closed(body: str) -> bool:
    return "]" in _STRING.sub("", body)


def _strings(body: str) -> list[str]:
    closed = _STRING.sub(lambda m: "\0" * len(m[0]), body).index("]")
    values = []
    for match in _STRING.finditer(body[:closed]):
        if match[1] is not None:
            values.append(match[1].encode("latin-1", "backslashreplace").decode("unicode_escape"))
        else:
            values.append(match[2])
    return values


def requirements(pyproject: Path, extras: Sequence[str]) -> list[str]:
    data = _load_toml(pyproject)
    project = data.get("project", {})
    found: list[str] = list(project.get("dependencies", []))
    groups = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in groups:
            raise ValueError(f"{pyproject}: no [project.optional-dependencies] {extra!r}")
        found.extend(groups[extra])
    return found


# -- the extras' own requirements ------------------------------------------------------------


def extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What requirement's extras add, read from the installed distribution's metadata; nothing
    when it is not installed in this interpreter."""
    try:
        declared = importlib.metadata.requires(requirement.name) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    added = []
    for extra in requirement.extras:
        clause = re.compile(_EXTRA_CLAUSE.format(name=re.escape(extra)))
        for text in declared:
            parsed = parse_requirement(text)
            if not clause.search(parsed.marker):
                continue
            marker = clause.sub("", parsed.marker)
            marker = re.sub(r"^\s*and\s+|\s+and\s*$|\s+and(?=\s+and\s)", "", marker).strip()
            if requirement.marker:
                marker = f"({requirement.marker}) and ({marker})" if marker else requirement.marker
            added.append(Requirement(parsed.name, parsed.extras, parsed.specifiers, marker))
    return added


def constraints(texts: Iterable[str], warn: Any = sys.stderr) -> list[str]:
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    queue: list[Requirement] = []
    for text in texts:
        if "@" in text.split(";", 1)[0]:
            print(f"lowest_versions: {text!r} is a URL requirement; left as it is", file=warn)
        else:
            queue.append(parse_requirement(text))
    while queue:
        requirement = queue.pop(0)
        queue.extend(extra_requirements(requirement))
        floor = requirement.floor
        if floor is None:
            print(f"lowest_versions: {requirement.name} has no floor; left to pip", file=warn)
            continue
        key = (canonical(requirement.name), requirement.marker)
        if key in seen:
            continue
        seen.add(key)
        lines.append(requirement.pinned(floor))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--pyproject",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "pyproject.toml",
    )
    parser.add_argument(
        "--extra",
        action="append",
        dest="extras",
        help="an optional-dependency group to include (repeatable; default: test)",
    )
    parser.add_argument("-o", "--output", type=Path, help="the constraints file (default: stdout)")
    args = parser.parse_args(argv)
    try:
        lines = constraints(requirements(args.pyproject, args.extras or ["test"]))
    except (OSError, ValueError) as error:
        print(f"lowest_versions: {error}", file=sys.stderr)
        return 2
    text = (
        f"# The declared floors of {args.pyproject.name}, written by tools/lowest_versions.py\n"
        + "".join(f"{line}\n" for line in lines)
    )
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
