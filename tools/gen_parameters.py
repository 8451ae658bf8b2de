#!/usr/bin/env python3
"""Generate rules/parameters.toml from the Postfix source history (facts only, no Postfix text).

Usage:  python tools/gen_parameters.py [POSTFIX_GIT_DIR]

POSTFIX_GIT_DIR is a clone (bare is fine) of github.com/vdukhovni/postfix.  For every minor
release from 2.0 to the newest tag, and for the snapshot at HEAD, the script finds the
parameter names that release knows the way Postfix's own build does: the configuration
tables (``CONFIG_BOOL_TABLE``, ``CONFIG_TIME_TABLE``...) in the C sources name ``VAR_*``
macros, which the headers define as the parameter names.  From those sets it derives when
each parameter appeared and disappeared; the table type gives its kind; proto/postconf.proto
gives its default; the min and max of each entry give the limits each program puts on the
value ("limits"); src/postconf/postconf_unused.c (3.9 and later) gives deprecations.  The
words of fixed-choice and set-valued parameters ("choices", "words") come from the name
tables that rules/parameter_tables.toml points to, read at every release.  What the source
cannot tell (other enumerations, renames before 3.9) is merged from the hand-written
rules/parameter_overrides.toml, where each fact names its source.

Kind refinement of string parameters, by name: ``*_restrictions`` restriction_list;
``*_maps``, ``*_checks``, ``alias_database`` table_list; ``*_directory``, ``*_file``,
``*_path`` (except SASL paths) path; ``*_domains``, ``*_networks``, ``*_interfaces``,
``*_clients``, ``*_list``, ``*_classes`` list; everything else text.  ``LONG`` tables and
``*_size_limit`` names are sizes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = "/work/.mirror/vdukhovni+postfix/repo"
OUT = ROOT / "rules" / "parameters.toml"
OVERRIDES = ROOT / "rules" / "parameter_overrides.toml"

TABLE_KIND = {
    "BOOL": "boolean",
    "NBOOL": "boolean",
    "INT": "integer",
    "NINT": "integer",
    "LONG": "size",
    "TIME": "time",
    "STR": "string",
    "STR_FN": "string",
    "RAW": "raw",
    "NAMED_INT": "integer",
}
_TABLE_START = re.compile(
    r"\b(?:static\s+)?(?:const\s+)?CONFIG_([A-Z_]+?)_TABLE\s+\w+\[\]\s*=\s*\{"
)
_VAR = re.compile(r"\b(VAR_[A-Z0-9_]+)\b")
_DEFINE = re.compile(
    r'^#define[ \t]+([A-Z_][A-Z0-9_]*)[ \t]+'
    r'((?:"(?:[^"\\\n]|\\.)*"|[A-Z_][A-Z0-9_]*|[0-9]+\b|[-+*/() \t])+)',
    re.MULTILINE,
)
_DEF_DEFINE = re.compile(r'^#define\s+(DEF_[A-Z0-9_]+)\s+"([^"]*)"', re.MULTILINE)
_LIST_INIT = re.compile(
    r"\b(?:string|domain|namadr|addr_match)_list_init\(\s*(VAR_[A-Z0-9_]+)"
)
_PARAM = re.compile(r"^%PARAM[ \t]+(\S+)[ \t]*(.*)$", re.MULTILINE)
_LEGACY = re.compile(r'\{"([a-z0-9_]+)",\s*""\}')


def git(mirror: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", mirror, *args], check=True, capture_output=True, text=True, errors="replace"
    ).stdout


def read_files(mirror: str, ref: str, paths: list[str]) -> dict[str, str]:
    """Read many files at one ref with a single ``git cat-file --batch``."""
    if not paths:
        return {}
    request = "".join(f"{ref}:{p}\n" for p in paths).encode()
    out = subprocess.run(
        ["git", "-C", mirror, "cat-file", "--batch"], input=request, check=True, capture_output=True
    ).stdout
    result: dict[str, str] = {}
    pos = 0
    for path in paths:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if header[-1] == b"missing":
            pos = header_end + 1
            continue
        size = int(header[2])
        body = out[header_end + 1 : header_end + 1 + size]
        result[path] = body.decode("utf-8", "replace")
        pos = header_end + 1 + size + 1
    return result


def releases(mirror: str) -> list[tuple[str, str]]:
    """(version, ref) for the newest tag of every minor release, then HEAD as the next one."""
    tags = git(mirror, "tag").split()
    first: dict[tuple[int, int], tuple[tuple[int, ...], str]] = {}
    for tag in tags:
        match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", tag)
        if not match:
            continue
        version = tuple(int(x) for x in match.groups())
        if version < (2, 0, 0):
            continue
        key = (version[0], version[1])
        # the newest patch release: stable branches receive backported parameters
        if key not in first or version > first[key][0]:
            first[key] = (version, tag)
    result = [(f"{k[0]}.{k[1]}", first[k][1]) for k in sorted(first)]
    head_version = git(mirror, "log", "-1", "--format=%s", "HEAD").strip()
    match = re.match(r"postfix-(\d+)\.(\d+)", head_version)
    if match:
        result.append((f"{match.group(1)}.{match.group(2)}", "HEAD"))
    return result


class Release(NamedTuple):
    """What one release's source says about its parameters."""

    kinds: dict[str, str]  # name -> table kind
    defaults: dict[str, str]  # name -> default from DEF_ macros
    proto: dict[str, str]  # name -> default from proto/postconf.proto
    match_lists: set[str]  # the names read as match lists
    bounds: dict[str, set[Bound]]  # name -> (program, min, max) where a reader sets a limit
    texts: dict[str, str]  # path -> the text of each C source and header
    macros: dict[str, str]  # macro -> its value, resolved through the headers


#: (program, minimum, maximum) of one configuration-table entry or get_mail_conf_*() call;
#: 0 means no limit, as in check_mail_conf_int() and friends.
Bound = tuple[str, int, int]


def scan(mirror: str, ref: str) -> Release:
    """The facts one release's source gives (see Release)."""
    listing = git(mirror, "ls-tree", "-r", "--name-only", ref, "postfix/src")
    sources = [p for p in listing.split() if p.endswith(".c")]
    headers = [p for p in listing.split() if p.endswith(".h")]
    texts = read_files(mirror, ref, sources + headers + ["postfix/proto/postconf.proto"])
    # util/sys_defs.h is one block per platform; what it settles for the Linux build
    # Debian ships is written down in LINUX_BUILD instead of being preprocessed
    raw_defines: dict[str, str] = dict(LINUX_BUILD)
    for path in headers:
        if path.endswith("util/sys_defs.h"):
            continue
        # a backslash at the end of a line joins it to the next, as in C (also inside a
        # string: "./\\\nabc" is "./abc")
        text = texts.get(path, "").replace("\\\n", "")
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)  # comments are not values
        for var, body in _defines(text, raw_defines):
            raw_defines[var] = body
    names = _resolve(raw_defines)
    def_values = {k: _unescape(v) for k, v in names.items() if k.startswith("DEF_")}
    kinds: dict[str, str] = {}
    defaults: dict[str, str] = {}
    builtin = texts.get("postfix/src/postconf/postconf_builtin.c", "")
    legacy = builtin[builtin.find("pcf_legacy_str_table") :]
    for name in _LEGACY.findall(
        legacy[: legacy.find("};")] if "pcf_legacy_str_table" in builtin else ""
    ):
        kinds.setdefault(name, "legacy")
    for path in sources:
        text = texts.get(path, "")
        if "CONFIG_" not in text:
            continue
        for match in _TABLE_START.finditer(text):
            table = match.group(1)
            kind = TABLE_KIND.get(table)
            if kind is None:
                continue
            end = text.find("};", match.end())
            body = text[match.end() : end]
            for line in body.split("\n"):
                found = _VAR.search(line)
                if not found or found.group(1) not in names:
                    continue
                name = names[found.group(1)]
                kinds.setdefault(name, kind)
                def_macro = re.search(r"\b(DEF_[A-Z0-9_]+)\b", line)
                if def_macro and def_macro.group(1) in def_values:
                    defaults.setdefault(name, def_values[def_macro.group(1)])
    proto = {
        name: value.strip()
        for name, value in _PARAM.findall(texts.get("postfix/proto/postconf.proto", ""))
    }
    # parameters that a program hands to match_list_init() through string_list_init(),
    # domain_list_init(), namadr_list_init() or addr_match_list_init(): read with
    # match_list_parse(), where a word that starts with "#" ends the list
    match_lists = {
        names[var]
        for path in sources
        for var in _LIST_INIT.findall(texts.get(path, ""))
        if var in names
    }
    bounds: dict[str, set[Bound]] = {}
    for path in sources:
        program = program_of(path)
        text = texts.get(path, "")
        if program is None or "CONFIG_" not in text and "get_mail_conf_" not in text:
            continue
        for name, low, high in _bounded_entries(text, names):
            if low or high:
                bounds.setdefault(name, set()).add((program, low, high))
    return Release(kinds, defaults, proto, match_lists, bounds, texts, names)


#: Source files whose configuration tables are read by more than the program of their
#: directory, or by another one: mail_params_init() runs in every Postfix program; the TLS
#: library's tables (tls_param_init) in every program that uses TLS; the SMTP client's
#: directory builds one program that reads smtp_params.c as smtp and lmtp_params.c as lmtp.
PROGRAM_OF_FILE = {
    "global/mail_params.c": "all",
    "tls/tls_misc.c": "tls",
    "smtp/smtp_params.c": "smtp",
    "smtp/lmtp_params.c": "lmtp",
    "master/master_vars.c": "master",
}


def program_of(path: str) -> str | None:
    """The program that reads the configuration tables in ``path`` (postfix/src/DIR/FILE.c),
    or None for test programs, postconf's own tables and library files that only a test
    driver reads."""
    relative = path.removeprefix("postfix/src/")
    if relative in PROGRAM_OF_FILE:
        return PROGRAM_OF_FILE[relative]
    directory, _, name = relative.partition("/")
    if name.endswith(("_test.c", "_tester.c")) or directory in (
        "postconf", "global", "util", "tls", "dns", "testing", "smtpstone", "fsstone",
    ):
        return None
    return directory


_ENTRY_FIELDS = {"INT": 5, "NINT": 5, "LONG": 5, "TIME": 5, "STR": 5, "STR_FN": 5, "RAW": 5}
_DIRECT_CALL = re.compile(
    r"\bget_mail_conf_(int|long|nint|time|str|raw)\(\s*(VAR_[A-Z0-9_]+)\s*,([^;]*?)\)\s*[;)]"
)


def _number(token: str, macros: dict[str, str]) -> int | None:
    """A C integer constant or a macro that resolves to one (MIN_DELAY_MAX_RES)."""
    token = token.strip().strip("()").strip()
    if re.fullmatch(r"-?\d+[lLuU]*", token):
        return int(token.rstrip("lLuU"))
    value = macros.get(token)
    if value is not None and re.fullmatch(r"-?\d+", value):
        return int(value)
    return _arithmetic(token) if re.fullmatch(r"[-+*/() 0-9]+", token) else None


def _bounded_entries(text: str, macros: dict[str, str]) -> list[tuple[str, int, int]]:
    """(parameter name, min, max) of every entry of the CONFIG_{INT,NINT,LONG,TIME,STR,
    STR_FN,RAW}_TABLE tables in a C file, and of its direct get_mail_conf_X(VAR_..., default,
    min, max) calls.  An entry is VAR_NAME, DEF_NAME (or a function), &var_name, min, max;
    entries whose limits are not constants are left out."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    found: list[tuple[str, int, int]] = []
    for match in _TABLE_START.finditer(text):
        fields = _ENTRY_FIELDS.get(match.group(1))
        if fields is None:
            continue
        body = text[match.end() : text.find("};", match.end())]
        body = "\n".join(
            line for line in body.splitlines() if not line.lstrip().startswith("#")
        )
        tokens = [t.strip() for t in body.replace("{", ",").replace("}", ",").split(",")]
        tokens = [t for t in tokens if t]
        for index, token in enumerate(tokens):
            if not re.fullmatch(r"VAR_[A-Z0-9_]+", token) or token not in macros:
                continue
            entry = tokens[index : index + fields]
            if len(entry) < fields or not entry[2].startswith("&"):
                continue
            low, high = _number(entry[3], macros), _number(entry[4], macros)
            if low is not None and high is not None:
                found.append((macros[token], low, high))
    for match in _DIRECT_CALL.finditer(text):
        var = match.group(2)
        arguments = [a.strip() for a in match.group(3).split(",")]
        if var not in macros or len(arguments) != 3:
            continue
        low, high = _number(arguments[1], macros), _number(arguments[2], macros)
        if low is not None and high is not None:
            found.append((macros[var], low, high))
    return found


TABLES = ROOT / "rules" / "parameter_tables.toml"
_STRINGIFY = re.compile(r"^#define[ \t]+(\w+)\((\w+)\)[ \t]+#\2\s*,", re.MULTILINE)


def name_table(texts: dict[str, str], macros: dict[str, str], spec: str | list[str]) -> list[str] | None:
    """The words of a NAME_CODE / NAME_MASK style table, ``"DIR/FILE.c:ARRAY"`` (or a list of
    places: the first that exists wins), in table order; None when no place has the table."""
    pairs = name_table_pairs(texts, macros, spec)
    return None if pairs is None else [word for word, _ in pairs]


def name_table_pairs(
    texts: dict[str, str], macros: dict[str, str], spec: str | list[str]
) -> list[tuple[str, str | None]] | None:
    """The (word, value as written) pairs of a name table (see name_table()); the value is
    None where a stringifying macro names the word and its value at once.

    A table is a list of pairs, name then value, that ends at a null name: ``"name", CODE,``
    or ``{NAME_MACRO, CODE},`` or ``NAMEBUG(X),`` where NAMEBUG stringifies its argument.
    Lines of the preprocessor are skipped, so both branches of an ``#ifdef`` count (the
    Linux build has every lock style and syslog facility the tables list)."""
    for place in [spec] if isinstance(spec, str) else spec:
        path, _, array = place.partition(":")
        text = texts.get(f"postfix/src/{path}")
        if text is None:
            continue
        match = re.search(rf"\b{re.escape(array)}\s*\[\s*\]\s*=\s*\{{", text)
        if match is None:
            continue
        stringify = set(_STRINGIFY.findall(text))
        body = text[match.end() : text.find("};", match.end())]
        body = re.sub(r"/\*.*?\*/", " ", body, flags=re.DOTALL)
        body = "\n".join(l for l in body.splitlines() if not l.lstrip().startswith("#"))
        tokens = [t.strip() for t in re.split(r"[,{}]", body)]
        tokens = [t for t in tokens if t]
        words: list[tuple[str, str | None]] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            call = re.fullmatch(r"(\w+)\((\w+)\)", token)
            if call and any(call.group(1) == m for m, _ in stringify):
                words.append((call.group(2), None))
                index += 1
                continue
            if token in ("0", "NULL", "(char *) 0", "(const char *) 0"):
                break
            value = tokens[index + 1] if index + 1 < len(tokens) else None
            if token.startswith('"'):
                word = _unescape("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', token)))
                words.append((word, value))
            elif token in macros:
                words.append((macros[token], value))
            else:
                raise ValueError(f"{place}: cannot read the name {token!r}")
            index += 2
        return words
    return None


# What util/sys_defs.h defines for LINUX2..LINUX6 (the section Debian builds) that
# mail_params.h defaults depend on; everything else there is about system calls.
LINUX_BUILD = {"PREFERRED_RAND_SOURCE": '"dev:/dev/urandom"', "HAS_IPV6": "1", "USE_TLS": "1"}


def _defines(text: str, known: dict[str, str]) -> list[tuple[str, str]]:
    """The ``#define`` lines a C preprocessor would keep: ``#if 0``/``#if 1`` and
    ``#ifdef``/``#ifndef`` of a macro seen so far are decided; other conditions keep
    both branches, and the later definition (usually the portable ``#else``) wins."""
    kept: list[tuple[str, str]] = []
    defined = set(known)
    # one entry per open conditional: True/False when decided, None when not
    stack: list[bool | None] = []
    for line in text.splitlines():
        directive = line.strip()
        if not directive.startswith("#"):
            continue
        words = directive[1:].split()
        if not words:
            continue
        keyword, argument = words[0], (words[1] if len(words) > 1 else "")
        if keyword in ("if", "ifdef", "ifndef"):
            decided: bool | None = None
            if keyword == "if" and argument in ("0", "1") and len(words) == 2:
                decided = argument == "1"
            elif keyword == "ifdef" and argument in defined:
                decided = True
            elif keyword == "ifndef" and argument in defined:
                decided = False
            stack.append(decided)
        elif keyword in ("else", "elif") and stack:
            stack[-1] = None if stack[-1] is None or keyword == "elif" else not stack[-1]
        elif keyword == "endif" and stack:
            stack.pop()
        elif keyword == "define" and all(state is not False for state in stack):
            match = _DEFINE.match(directive.replace("# define", "#define"))
            if match:
                kept.append((match.group(1), match.group(2)))
                defined.add(match.group(1))
            elif len(words) > 1:
                defined.add(words[1].split("(")[0])
    return kept


def _unescape(text: str) -> str:
    """A C string literal's escapes (``\\t``, ``\\"``, ``\\\\``) as the characters they stand for."""
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), m.group(1)), text)


def _resolve(raw_defines: dict[str, str]) -> dict[str, str]:
    """Evaluate ``#define VAR_X "prefix_" VAR_Y "_suffix"`` chains into plain names, and
    number macros (``((DEF_PROC_LIMIT + 1) / 2)``) into numbers, as the C compiler would."""
    resolved: dict[str, str] = {}
    numeric: set[str] = set()

    def value(var: str, depth: int = 0) -> str | None:
        if var in resolved:
            return resolved[var]
        body = raw_defines.get(var)
        if body is None or depth > 10:
            return None
        tokens = re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]*)|([0-9]+|[-+*/()])', body)
        if len(tokens) == 1 and tokens[0][1]:
            # an alias (#define DEF_DEF_TRANSPORT MAIL_SERVICE_SMTP): whatever it names
            inner = value(tokens[0][1], depth + 1)
            if inner is not None:
                resolved[var] = inner
                if tokens[0][1] in numeric:
                    numeric.add(var)
            return inner
        if not any(t[0] for t in tokens) and any(t[1] or t[2] for t in tokens):
            expression = []
            for string, name, other in tokens:
                if name:
                    inner = value(name, depth + 1)
                    if inner is None or name not in numeric:
                        return None
                    expression.append(inner)
                else:
                    expression.append(other)
            number = _arithmetic("".join(expression))
            if number is None:
                return None
            resolved[var] = str(number)
            numeric.add(var)
            return resolved[var]
        parts = []
        for string, name, other in tokens:
            if other:
                return None  # text and arithmetic mixed: not something we can evaluate
            if name:
                inner = value(name, depth + 1)
                if inner is None:
                    return None
                parts.append(inner)
            else:
                parts.append(string)
        resolved[var] = "".join(parts)
        return resolved[var]

    for var in raw_defines:
        value(var)
    return resolved


def _arithmetic(text: str) -> int | None:
    """The value of an integer expression of C's + - * / and parentheses, or None."""
    import ast

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None

    def evaluate(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return evaluate(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -evaluate(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = evaluate(node.left), evaluate(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div) and right:
                return int(left / right)  # C truncates toward zero
        raise ValueError(text)

    try:
        return evaluate(tree)
    except ValueError:
        return None


def service_suffixes(mirror: str, ref: str) -> dict[str, list[str]]:
    """program -> suffixes that make ``<service name><suffix>`` a parameter (postconf_service.c)."""
    listing = git(mirror, "ls-tree", "-r", "--name-only", ref, "postfix/src")
    headers = [p for p in listing.split() if p.endswith(".h")]
    path = "postfix/src/postconf/postconf_service.c"
    texts = read_files(mirror, ref, headers + [path])
    raw: dict[str, str] = {}
    for header in [*headers, path]:
        for macro, body in _DEFINE.findall(texts.get(header, "")):
            raw[macro] = body
    values = _resolve(raw)
    text = texts.get(path, "")
    arrays: dict[str, list[str]] = {}
    for match in re.finditer(r"PCF_STRING_NV (\w+)\[\] = \{(.*?)\};", text, re.DOTALL):
        body = re.sub(r"/\*.*?\*/", "", match.group(2), flags=re.DOTALL)
        entries = [m for m in re.findall(r"^\s*(_[A-Z0-9_]+),", body, re.MULTILINE)]
        arrays[match.group(1)] = [values[m] for m in entries if m in values]
    # "#define service_params (pipe_params + 1)": every suffix but the first one
    if "pipe_params" in arrays:
        arrays["service_params"] = arrays["pipe_params"][1:]
    result: dict[str, list[str]] = {}
    defs = text[text.find("service_defs[]") :]
    for program, params in re.findall(r"(MAIL_PROGRAM_[A-Z]+),\s*(\w+),", defs[: defs.find("};")]):
        if program in values and params in arrays:
            result[values[program]] = sorted(arrays[params])
    return result


def deprecations(mirror: str, ref: str) -> dict[str, str]:
    """name -> replacement hint, from postconf's deprecation table (3.9 and later)."""
    try:
        text = git(mirror, "show", f"{ref}:postfix/src/postconf/postconf_unused.c")
    except subprocess.CalledProcessError:
        return {}
    start = text.find("pcf_depr_param_info[]")
    if start < 0:
        return {}
    body = text[start : text.find("};", start)]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.DOTALL)
    # entries under "#if 0 ..." are not compiled: postconf does not know them as deprecated
    body = re.sub(r"^#if\s+0\b.*?^#endif[^\n]*", "", body, flags=re.DOTALL | re.MULTILINE)
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"\s*,\s*"((?:[^"\\]|\\.)*)"', body)
    result = {}
    for name, hint in strings:
        if name.startswith("deleted-test"):
            continue
        hint = hint.replace('\\"', '"')
        match = re.search(r'"([a-z0-9_]+)', hint) or re.fullmatch(r"([a-z0-9_]+)", hint)
        result[name] = match.group(1) if match else "leave it at its default"
    return result


def refine(name: str, kind: str) -> str:
    if kind in ("boolean", "time"):
        return kind
    if kind == "integer":
        return "size" if name.endswith("size_limit") else "integer"
    if kind == "size":
        return "size"
    if name.endswith("_restrictions"):
        return "restriction_list"
    if name.endswith(("_maps", "_checks")) or name in ("alias_database",):
        return "table_list"
    if name.endswith(("_directory", "_file")) or (name.endswith("_path") and "sasl" not in name):
        return "path"
    if name.endswith(("_domains", "_networks", "_interfaces", "_clients", "_list", "_classes")):
        return "list"
    return "text"


def _limit(bound: Bound) -> dict[str, object]:
    program, low, high = bound
    return {"program": program, **({"min": low} if low else {}), **({"max": high} if high else {})}


def version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def main() -> int:
    mirror = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MIRROR
    head = git(mirror, "rev-parse", "HEAD").strip()
    versions = releases(mirror)
    known: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    raw: set[str] = set()
    match_lists: dict[str, tuple[str, str]] = {}  # name -> (first release, its tag)
    defaults: dict[str, tuple[str, str]] = {}
    # name -> [(version, compiled-in default, source)], an entry each time it changes
    history: dict[str, list[tuple[str, str | None, str]]] = {}
    deprecated: dict[str, tuple[str, str, str]] = {}
    # name -> [(version, its limits in that release)], an entry each time they change
    limits: dict[str, list[tuple[str, tuple[Bound, ...]]]] = {}
    with open(TABLES, "rb") as handle:
        from pfconf import _toml

        tables = _toml.load(handle)
    # ("choices" or "sets", name) -> [(version, words or None, the words that set no bit)],
    # an entry each time they change (the last only for sets with "none_set")
    words: dict[tuple[str, str], list[tuple[str, tuple[str, ...] | None, tuple[str, ...]]]] = {}
    for version, ref in versions:
        release = scan(mirror, ref)
        table_kinds, def_defaults, proto, release_lists = (
            release.kinds, release.defaults, release.proto, release.match_lists,
        )  # fmt: skip
        tag = ref if ref != "HEAD" else f"HEAD({head[:8]})"
        for name in table_kinds:
            bounds = tuple(sorted(release.bounds.get(name, ())))
            seen = limits.setdefault(name, [])
            if (seen and seen[-1][1] != bounds) or (not seen and bounds):
                seen.append((version, bounds))
        for section in ("choices", "sets"):
            for group in tables.get(section, []):
                pairs = name_table_pairs(release.texts, release.macros, group["table"])
                value = tuple(dict.fromkeys(w for w, _ in pairs)) if pairs is not None else None
                # words whose mask is a literal 0: known, but they set nothing
                inert = (
                    tuple(dict.fromkeys(w for w, v in pairs or () if v == "0"))
                    if "none_set" in group
                    else ()
                )
                for name in group["parameters"]:
                    seen_words = words.setdefault((section, name), [])
                    if (seen_words and seen_words[-1][1:] != (value, inert)) or (
                        not seen_words and value is not None
                    ):
                        seen_words.append((version, value, inert))
        for name in release_lists:
            match_lists.setdefault(name, (version, tag))
        for name, kind in table_kinds.items():
            known.setdefault(name, []).append(version)
            if kind != "legacy" or name not in kinds:
                kinds[name] = "string" if kind == "legacy" else kind
            if kind == "raw":
                raw.add(name)
            elif name in raw and kind != "raw":
                raw.discard(name)
            if name in proto:
                defaults[name] = (proto[name], f"proto/postconf.proto@{tag}")
            elif name in def_defaults and name not in defaults:
                defaults[name] = (def_defaults[name], f"src/global/mail_params.h@{tag}")
            # what this release compiles in (None: computed at run time, like myhostname)
            compiled = def_defaults.get(name)
            if compiled in ("0", "1") and kind == "boolean":
                compiled = "yes" if compiled == "1" else "no"  # C's 1 and 0; postconf's words
            changes = history.setdefault(name, [])
            if not changes or changes[-1][1] != compiled:
                changes.append((version, compiled, f"DEF_* in src/*/*.h@{tag}"))
        for name, replacement in deprecations(mirror, ref).items():
            if name not in deprecated:
                deprecated[name] = (version, replacement, f"src/postconf/postconf_unused.c@{tag}")
        print(f"{version:>5} {ref:<8} {len(table_kinds)} parameters", file=sys.stderr)

    order = [v for v, _ in versions]
    refs = dict(versions)
    with open(OVERRIDES, "rb") as handle:
        overrides = _toml.load(handle)

    parameters: dict[str, dict[str, object]] = {}
    for name in sorted(known):
        present = known[name]
        introduced = present[0]
        info: dict[str, object] = {
            "kind": refine(name, "string" if kinds[name] == "raw" else kinds[name]),
            "introduced": introduced,
        }
        if name in raw:
            info["raw"] = True
        if name in match_lists:
            info["reading"] = "match_list"
        last = present[-1]
        if last != order[-1]:
            info["removed"] = order[order.index(last) + 1]
        if name in defaults:
            info["default"] = defaults[name][0]
        sources = [f"configuration tables in src/*/*.c@{refs[introduced]}"]
        if name in defaults:
            sources.append(defaults[name][1])
        if name in deprecated:
            since, replacement, source = deprecated[name]
            # one status per release: from the release that drops the name it is removed,
            # not deprecated ("deprecated and removed as of 3.12" in postconf_unused.c)
            if "removed" not in info or version_key(since) < version_key(str(info["removed"])):
                info["deprecated"] = since
            info["replacement"] = replacement
            sources.append(source)
        changes = history.get(name, [])
        if any(value is not None for _, value, _ in changes):
            # the default each release compiles in, from the release that set it; a value
            # without "value" is computed at run time (postconf -d shows it)
            info["defaults"] = [
                {"since": version, **({"value": value} if value is not None else {})}
                for version, value, _ in changes
            ]
            sources.append(changes[-1][2].replace(f"@{refs[changes[-1][0]]}", "") + " per release")
        if name in match_lists:
            sources.append(f"*_list_init(VAR_...) in src/*/*.c@{match_lists[name][1]}")
        if info["kind"] == "time":
            unit = re.search(r"([smhdw])$", str(info.get("default", "")))
            info["unit"] = unit.group(1) if unit else "s"
        if limits.get(name):
            # what each program that reads the parameter accepts, from the release that set
            # it (an entry without "program": no limits from that release on)
            info["limits"] = [
                {"since": version, **_limit(bound)} if bound else {"since": version}
                for version, bounds in limits[name]
                for bound in (bounds or (None,))
            ]
            sources.append("min and max of the configuration tables in src/*/*.c per release")
        info["sources"] = sources
        parameters[name] = info

    for section in ("choices", "sets"):
        for group in tables.get(section, []):
            for name in group["parameters"]:
                param = parameters.get(name)
                history_words = words.get((section, name), [])
                if param is None or not history_words:
                    continue
                steps = [
                    {
                        "since": version,
                        **({"values": list(value)} if value is not None else {}),
                        **({"inert": list(inert)} if inert else {}),
                    }
                    for version, value, inert in history_words
                ]
                if section == "choices":
                    param["kind"] = "enum"
                    param["values"] = next(
                        step["values"] for step in reversed(steps) if "values" in step
                    )
                    param["choices"] = steps
                else:
                    param["words"] = steps
                    # the newest words, as MST002 asks them ("values" of a "multiple" one)
                    param["multiple"] = True
                    param["values"] = next(
                        step["values"] for step in reversed(steps) if "values" in step
                    )
                    param["unknown_words"] = group["unknown"]
                    param["read_by"] = group["programs"]
                    if group.get("numbers"):
                        param["numbers"] = True
                    if "none_set" in group:
                        param["none_set"] = group["none_set"]
                if group.get("case") == "exact":
                    param["exact_case"] = True
                sources_list = param["sources"]
                assert isinstance(sources_list, list)
                sources_list.append(f"name table {group['table']} per release; {group['read']}")

    for name, extra in overrides.get("parameters", {}).items():
        info = parameters.setdefault(name, {"introduced": "2.0", "sources": []})
        for key, value in extra.items():
            if key == "source":
                sources_list = info.setdefault("sources", [])
                assert isinstance(sources_list, list)
                sources_list.append(value)
            elif value is False:
                info.pop(key, None)  # an override can retract a derived fact
            else:
                info[key] = value

    suffixes = service_suffixes(mirror, versions[-1][1])
    document = {
        "services": {
            "note": "master.cf services running these programs make <service><suffix> a parameter",
            "source": f"src/postconf/postconf_service.c@HEAD({head[:8]})",
            "suffixes": suffixes,
        },
        "meta": {
            "generated_by": "tools/gen_parameters.py",
            "note": "generated from the Postfix source history; edit rules/parameter_overrides.toml instead",
            "postfix_source": f"github.com/vdukhovni/postfix at {head}",
            "postfix_versions": order,
        },
        "compatibility": overrides.get("compatibility", {}),
        "parameters": parameters,
    }
    header = "# Generated by tools/gen_parameters.py; do not edit by hand (see rules/SOURCES.md).\n"
    OUT.write_text(header + tomli_w.dumps(document))
    print(f"wrote {OUT} with {len(parameters)} parameters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
