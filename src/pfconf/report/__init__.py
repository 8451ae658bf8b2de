"""Writing findings out: text for people, json for programs, SARIF for code scanning, GitHub annotations.

Each writer takes the findings and returns the whole output as a string; none decides exit
status or reads files other than the sources it quotes.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import ReadError
from ..io import decode, read_config
from ..lint.finding import (
    Applicability,
    Finding,
    Fix,
    RenameParameter,
    ReplaceListItem,
    SetParameter,
)
from ..lint.rule import Rule, all_rules

FORMATS = ("text", "json", "sarif", "github")

_COLORS = {"error": "31", "warning": "33", "info": "36"}


def _source_line(path: str, line: int, cache: dict[str, list[str]]) -> str | None:
    if path not in cache:
        try:
            cache[path] = decode(read_config(path)).split("\n")
        except ReadError:
            cache[path] = []  # replaced since it was linted: the finding stands without a quote
    lines = cache[path]
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip("\r")
    return None


def text(findings: list[Finding], color: bool = False, show_source: bool = True) -> str:
    """``path:line:col: CODE severity message``, then the source line and a marker under the span."""
    out: list[str] = []
    cache: dict[str, list[str]] = {}
    for f in findings:
        severity = f.severity
        code = f.code
        if color:
            severity = f"\x1b[{_COLORS[f.severity]}m{severity}\x1b[0m"
            code = f"\x1b[1m{code}\x1b[0m"
        out.append(f"{f.path}:{f.line}:{f.column}: {code} {severity} {f.message}")
        if not show_source:
            continue
        source = _source_line(f.path, f.line, cache)
        if source is None:
            continue
        shown = source.expandtabs(1)  # one column per character keeps the marker aligned
        end = f.end_column if f.end_line == f.line else len(source) + 1
        width = max(1, end - f.column)
        marker = " " * (f.column - 1) + "^" * width
        if color:
            marker = f"\x1b[{_COLORS[f.severity]}m{marker}\x1b[0m"
        out.append(f"  {shown}")
        out.append(f"  {marker}")
    return "\n".join(out) + ("\n" if out else "")


def as_dicts(findings: list[Finding]) -> list[dict[str, object]]:
    return [
        {
            "code": f.code,
            "severity": f.severity,
            "message": f.message,
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "end_line": f.end_line,
            "end_column": f.end_column,
            "parameter": f.parameter,
            "service": f.service,
            "fix": None if f.fix is None else _fix(f.fix),
        }
        for f in findings
    ]


def _fix(fix: Fix) -> dict[str, object]:
    """A fix in words, with the parameter its edit changes and the value it gives (the new
    name of a renamed parameter, the item that replaces another)."""
    edit = fix.edit
    value: str | None = None
    if isinstance(edit, SetParameter):
        value = edit.value
    elif isinstance(edit, RenameParameter):
        value = edit.new_name
    elif isinstance(edit, ReplaceListItem):
        value = edit.replacement
    return {
        "description": fix.description,
        "safe": fix.applicability is Applicability.SAFE,
        "parameter": edit.parameter if edit is not None else None,
        "value": value,
        "applicability": fix.applicability.value,
    }


def as_json(findings: list[Finding]) -> str:
    import json  # only the JSON and SARIF formats need it

    return _clean(json.dumps(as_dicts(findings), indent=2, ensure_ascii=False)) + "\n"


def _clean(text: str) -> str:
    # Undecodable bytes from a file travel as surrogate escapes; JSON must be valid UTF-8.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    if relative.startswith(".."):
        relative = os.path.abspath(path)
        return "file://" + relative.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


def sarif(findings: list[Finding], version: str) -> str:
    """SARIF 2.1.0: one run, rule metadata for every rule, relative file URIs."""
    rules: list[type[Rule]] = all_rules()
    index = {cls.code: i for i, cls in enumerate(rules)}
    driver = {
        "name": "pflint",
        "informationUri": "https://github.com/pfconf/pfconf",
        "version": version,
        "rules": [
            {
                "id": cls.code,
                "name": cls.name,
                "shortDescription": {"text": cls.summary},
                "fullDescription": {"text": cls.sections().get("What it finds", cls.summary)},
                "help": {"text": cls.doc(), "markdown": cls.doc()},
                "defaultConfiguration": {"level": _SARIF_LEVEL[cls.severity]},
            }
            for cls in rules
        ],
    }
    results = []
    for f in findings:
        result: dict[str, object] = {
            "ruleId": f.code,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_column, f.column + 1)
                            if f.end_line == f.line
                            else f.end_column,
                        },
                    }
                }
            ],
            "partialFingerprints": {
                "pflint/v1": f"{f.code}:{f.parameter or ''}:{f.service or ''}",
            },
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        results.append(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "results": results, "columnKind": "unicodeCodePoints"}
        ],
    }
    import json

    return _clean(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...::message``."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    out = []
    for f in findings:
        props = (
            f"file={_escape_property(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_escape_property(f.code)}"
        )
        out.append(f"::{level[f.severity]} {props}::{_escape_data(f'{f.code} {f.message}')}")
    return _clean("\n".join(out) + ("\n" if out else ""))


WRITERS: dict[str, Callable[..., str]] = {"json": as_json, "github": github}
