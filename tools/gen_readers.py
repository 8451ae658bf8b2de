#!/usr/bin/env python3
"""Generate rules/readers.toml: which Postfix programs read each main.cf parameter.

Usage:  python tools/gen_readers.py [POSTFIX_GIT_DIR]

POSTFIX_GIT_DIR is a clone (bare is fine) of github.com/vdukhovni/postfix.  For every minor
release from 2.0 (its newest patch tag, as tools/gen_parameters.py takes them) and the
snapshot at HEAD, the script works out what each program reads the way its build links it:

- A program is built from the objects its directory's Makefile.in lists in ``OBJS`` (smtp's
  directory builds one binary that reads smtp_params.c's tables when it runs as ``smtp``
  and lmtp_params.c's as ``lmtp``: smtp.c, main()), and the libraries (src/global,
  src/util, src/tls, src/dns, src/milter, src/xsasl, and the server skeletons
  ``LIB_OBJ`` of src/master).
- A function reads the parameters of the configuration tables (``CONFIG_STR_TABLE``,
  ``CONFIG_INT_TABLE``, ``CONFIG_BOOL_TABLE``, ``CONFIG_TIME_TABLE``, ``CONFIG_NINT_TABLE``,
  ``CONFIG_NBOOL_TABLE``, ``CONFIG_RAW_TABLE``, ``CONFIG_LONG_TABLE`` and the ``_FN``
  ones) it declares, whether it passes them to its server skeleton (main()) or to
  get_mail_conf_*_table() itself, and of its direct get_mail_conf_*(VAR_...) and
  mail_conf_lookup_eval(VAR_...) calls (mail_params_init()'s mail_conf_lookup(VAR_...)
  only asks whether a name is set, for a compatibility warning the name's readers log).  A table declared outside any function counts for
  the functions that name it.
- A program reads what every function it reaches reads: all functions of its own objects,
  and, transitively, every library function whose name one of them mentions (a call, or a
  pointer handed to a skeleton).  Every daemon reaches mail_params_init()
  (src/global/mail_params.c) through its skeleton; smtpd, smtp, tlsproxy and postscreen
  reach tls_param_init() and tls_pre_jail_init() (src/tls/tls_misc.c).  Taking every
  mention for a call errs towards more readers, never fewer.

Names built at run time are not parameters of the tables: a program that calls
get_mail_conf_*2(name, _SUFFIX) (or qmgr_feedback_init(..., name, _SUFFIX)) reads
``<transport><suffix>`` for any transport (``*``) or, when the prefix is its own service
name, ``<service><suffix>`` (``{service}``): those go to [dynamic].  bounce(8) also reads
any parameter its templates name (bounce_template.c, bounce_template_lookup(), with
mail_conf_lookup_eval()), and smtpd each restriction class; those names are the user's.

Output (rules/readers.toml; its header comment documents the format): [programs] (daemon,
master or command), [dynamic] (run-time name patterns), [open] (programs that read names
the configuration chooses) and [parameters] (name -> readers by release).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_parameters import _TABLE_START, DEFAULT_MIRROR, git, releases, scan

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rules" / "readers.toml"

#: Directories whose objects go into the libraries every program links (src/master adds
#: the skeletons, its Makefile.in's LIB_OBJ).
LIBRARY_DIRS = ("global", "util", "tls", "dns", "milter", "xsasl", "master")

#: Program directories left out: postconf reads every parameter to show it, the others are
#: test and benchmark tools.
SKIPPED_DIRS = ("postconf", "posttls-finger", "smtpstone", "fsstone", "ptest", "testing")

#: One directory, two programs: smtp.c's main() takes smtp_params.c's tables when its
#: process name is "smtp" and lmtp_params.c's when it is "lmtp".
SPLIT = {
    "smtp": {"smtp": "smtp/lmtp_params.c", "lmtp": "smtp/smtp_params.c"},
}

#: Programs that read parameters whose names the configuration chooses, beyond [parameters]
#: and [dynamic]: a reader asking about one of these gets "not known" for a name the
#: program does not read by name.
OPEN = {
    "bounce": "src/bounce/bounce_template.c, bounce_template_lookup(): a $name in a bounce "
    "template is looked up as a parameter (mail_conf_lookup_eval())",
}

_SKELETON = re.compile(r"\b(?:single|multi|trigger|event|dgram)_server_main\s*\(")
#: A direct read.  Not mail_conf_lookup(VAR_X): mail_params_init() asks it only whether X
#: is set, to log a compatibility-level warning in the programs that read X (smtp.c,
#: tlsproxy_client.c...), which read X through their tables.
_DIRECT = re.compile(r"\b(?:get_mail_conf_[a-z_]+|mail_conf_lookup_eval)\(\s*(VAR_[A-Z0-9_]+)\b")
_DYNAMIC = re.compile(
    r"\b(?:get_mail_conf_[a-z]+2|qmgr_feedback_init)\((?:[^;]*?,)?\s*(\w+)\s*,\s*"
    r"(_[A-Z][A-Z0-9_]*)\s*,"
)
_TOKEN = re.compile(r"\b[A-Za-z_]\w*\b")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'")
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")
_KEYWORDS = frozenset({
    "if", "while", "for", "switch", "return", "sizeof", "do", "else", "case", "default",
    "static", "const", "void", "int", "char", "long", "unsigned", "short", "struct", "union",
    "enum", "typedef", "extern", "volatile", "register",
})  # fmt: skip


class Function(NamedTuple):
    name: str
    path: str
    static: bool
    reads: frozenset[str]
    tokens: frozenset[str]
    dynamic: frozenset[tuple[str, str]]  # (prefix argument, suffix macro)


def _code(text: str) -> str:
    """C text without comments (a string's ``/*`` is rare enough in Postfix to ignore)."""
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)


def _table_reads(text: str, macros: dict[str, str]) -> set[str]:
    """The parameter names in the configuration tables of ``text``."""
    found: set[str] = set()
    for match in _TABLE_START.finditer(text):
        end = text.find("};", match.end())
        for var in re.findall(r"\bVAR_[A-Z0-9_]+\b", text[match.end() : end]):
            if var in macros:
                found.add(macros[var])
    return found


def _reads(text: str, macros: dict[str, str]) -> set[str]:
    found = _table_reads(text, macros)
    found.update(macros[v] for v in _DIRECT.findall(text) if v in macros)
    return found


def functions(path: str, text: str, macros: dict[str, str], library: bool) -> list[Function]:
    """The functions of one C file, and a pseudo-function per configuration table declared
    outside them (named by its array, so that whoever names the array reads it)."""
    code = _code(text)
    if library:
        # library files end with a test driver (its own main()) under #ifdef TEST
        test = re.search(r"^#\s*ifdef\s+TEST\b", code, re.MULTILINE)
        if test:
            code = code[: test.start()]
    found: list[Function] = []
    outside: list[str] = []
    lines = code.split("\n")
    header: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("{"):
            header.append(line)
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        body = "\n".join(lines[index : end + 1])
        head = "\n".join(h for h in header if not h.lstrip().startswith("#"))
        head = head[max(head.rfind(";"), head.rfind("}")) + 1 :]
        names = [n for n in _CALLED.findall(head) if n not in _KEYWORDS]
        if names:
            name = names[0]
            static = bool(re.match(r"\s*static\b", head))
            found.append(_function(name, path, static, body, macros))
        else:
            outside.append(body)
        outside.append("\n".join(header))
        header = []
        index = end + 1
    outside.append("\n".join(header))
    rest = "\n".join(outside)
    for match in _TABLE_START.finditer(rest):
        array = re.search(r"(\w+)\s*\[\]\s*=\s*\{$", match.group(0))
        end = rest.find("};", match.end())
        if array:
            found.append(
                _function(array.group(1), path, False, rest[match.start() : end + 2], macros)
            )
    return found


def _function(name: str, path: str, static: bool, body: str, macros: dict[str, str]) -> Function:
    plain = _STRING.sub('""', body)
    return Function(
        name,
        path,
        static,
        frozenset(_reads(plain, macros)),
        frozenset(_TOKEN.findall(plain)),
        frozenset(_DYNAMIC.findall(plain)),
    )


def _make_list(makefile: str, variable: str) -> list[str]:
    """The words of ``VARIABLE = ...`` in a Makefile.in, continuation lines joined."""
    text = makefile.replace("\\\n", " ")
    match = re.search(rf"^{variable}\s*=(.*)$", text, re.MULTILINE)
    return match.group(1).split() if match else []


class Readers(NamedTuple):
    reads: dict[str, set[str]]  # program -> parameters it reads
    daemons: set[str]  # the programs master(8) runs
    dynamic: dict[str, set[str]]  # program -> run-time name patterns


def scan_readers(mirror: str, ref: str) -> Readers:
    """What every program of one release reads (see the module's docstring)."""
    release = scan(mirror, ref)
    texts, macros = release.texts, release.macros
    directories: dict[str, list[str]] = {}
    for path in texts:
        parts = path.split("/")
        if len(parts) == 4 and path.endswith(".c"):
            directories.setdefault(parts[2], []).append(path)
    makefiles = read_makefiles(mirror, ref, sorted(directories))
    library: list[Function] = []
    master_lib = {
        f"postfix/src/master/{o[:-2]}.c" for o in _make_list(makefiles.get("master", ""), "LIB_OBJ")
    }
    programs: dict[str, list[Function]] = {}
    for directory, paths in sorted(directories.items()):
        if directory in SKIPPED_DIRS:
            continue
        if directory in LIBRARY_DIRS:
            for path in paths:
                if directory == "master" and path not in master_lib:
                    continue
                if path.endswith(("_test.c", "_tester.c")):
                    continue
                library.extend(functions(path, texts[path], macros, True))
        objects = _make_list(makefiles.get(directory, ""), "OBJS")
        if not objects or not _make_list(makefiles.get(directory, ""), "PROG"):
            continue
        own = [f"postfix/src/{directory}/{o[:-2]}.c" for o in objects if o.endswith(".o")]
        if directory == "smtp":
            own += [f"postfix/src/smtp/{n}" for n in ("smtp_params.c", "lmtp_params.c")]
        found = [
            function
            for path in own
            if path in texts
            for function in functions(path, texts[path], macros, False)
        ]
        split = SPLIT.get(directory, {})
        if not all(f"postfix/src/{path}" in texts for path in split.values()):
            split = {}  # before 2.3, lmtp(8) had a directory of its own
        for program, excluded in (split or {directory: ""}).items():
            programs[program] = [f for f in found if f.path != f"postfix/src/{excluded}"]
    public: dict[str, list[Function]] = {}
    private: dict[tuple[str, str], list[Function]] = {}
    for function in library:
        if function.name == "main":
            continue
        if function.static:
            private.setdefault((function.path, function.name), []).append(function)
        else:
            public.setdefault(function.name, []).append(function)
    result = Readers({}, set(), {})
    for program, own_functions in programs.items():
        reached = reach(own_functions, public, private)
        reads: set[str] = set()
        dynamic: set[str] = set()
        for function in reached:
            reads |= function.reads
            for prefix, suffix in function.dynamic:
                value = macros.get(suffix)
                if value and re.fullmatch(r"_[a-z0-9_]+", value):
                    dynamic.add(("{service}" if prefix == "service" else "*") + value)
        result.reads[program] = reads
        if dynamic:
            result.dynamic[program] = dynamic
        if any(_SKELETON.search(_STRING.sub('""', texts[f.path])) for f in own_functions
               if f.name == "main"):  # fmt: skip
            result.daemons.add(program)
    return result


def reach(
    own: list[Function],
    public: dict[str, list[Function]],
    private: dict[tuple[str, str], list[Function]],
) -> list[Function]:
    """Every function a program reaches from its own ones (see the module's docstring)."""
    seen: set[int] = set()
    order: list[Function] = []
    stack = list(own)
    while stack:
        function = stack.pop()
        # id(): a file may define a function twice, under #ifdef and #else
        key = id(function)
        if key in seen:
            continue
        seen.add(key)
        order.append(function)
        for token in function.tokens:
            stack.extend(private.get((function.path, token), ()))
            stack.extend(public.get(token, ()))
    return order


def read_makefiles(mirror: str, ref: str, directories: Iterable[str]) -> dict[str, str]:
    from gen_parameters import read_files

    paths = {d: f"postfix/src/{d}/Makefile.in" for d in directories}
    texts = read_files(mirror, ref, list(paths.values()))
    return {d: texts[p] for d, p in paths.items() if p in texts}


def _span(present: list[str], order: list[str], known: list[str]) -> list[tuple[str, str | None]]:
    """The releases of ``order`` where a program reads a name (``present``), as (first,
    first release without) runs, against the releases that know the name (``known``)."""
    runs: list[tuple[str, str | None]] = []
    start: str | None = None
    for version in known:
        if version in present and start is None:
            start = version
        elif version not in present and start is not None:
            runs.append((start, version))
            start = None
    if start is not None:
        runs.append((start, None))
    return runs


def main() -> int:
    mirror = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MIRROR
    head = git(mirror, "rev-parse", "HEAD").strip()
    versions = releases(mirror)
    order = [v for v, _ in versions]
    # name -> program -> releases it reads it; name -> releases that know it
    readers: dict[str, dict[str, list[str]]] = {}
    known: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}  # program -> daemon or command (the newest release says)
    dynamic: dict[str, set[str]] = {}
    for version, ref in versions:
        found = scan_readers(mirror, ref)
        daemons = found.daemons
        every = set.intersection(*(found.reads[d] for d in daemons)) if daemons else set()
        for program, names in found.reads.items():
            kinds[program] = (
                "master" if program == "master"
                else "daemon" if program in daemons
                else "command"
            )  # fmt: skip
            for name in names:
                # a name every daemon reads is "*", whoever else reads it (the commands
                # call mail_params_init() too)
                program_key = "*" if name in every else program
                seen = readers.setdefault(name, {}).setdefault(program_key, [])
                if not seen or seen[-1] != version:
                    seen.append(version)
        for name in set().union(*found.reads.values()):
            known.setdefault(name, []).append(version)
        if ref == "HEAD":
            dynamic = {p: set(d) for p, d in found.dynamic.items()}
        print(f"{version:>5} {ref:<8} {len(found.reads)} programs, "
              f"{len(every)} read by every daemon", file=sys.stderr)  # fmt: skip
    parameters: dict[str, list[str]] = {}
    for name in sorted(readers):
        words: list[str] = []
        for program in sorted(readers[name], key=lambda p: (p != "*", p)):
            for first, until in _span(readers[name][program], order, known[name]):
                word = program if first == known[name][0] else f"{program}@{first}"
                words.append(word if until is None else f"{word}..{until}")
        parameters[name] = words
    document = {
        "meta": {
            "generated_by": "tools/gen_readers.py",
            "postfix_source": f"github.com/vdukhovni/postfix at {head}",
            "postfix_versions": order,
            "tags": [ref if ref != "HEAD" else f"HEAD({head[:8]})" for _, ref in versions],
        },
        "programs": dict(sorted(kinds.items())),
        "dynamic": {p: sorted(d) for p, d in sorted(dynamic.items())},
        "open": OPEN,
    }
    # one line per parameter: tomli_w would give every list a line per word
    lines = [f"{name} = {json.dumps(words)}" for name, words in parameters.items()]
    header = HEADER.format(head=head[:8])
    OUT.write_text(header + tomli_w.dumps(document) + "\n[parameters]\n" + "\n".join(lines) + "\n")
    print(f"wrote {OUT} with {len(parameters)} parameters", file=sys.stderr)
    return 0


HEADER = """\
# Generated by tools/gen_readers.py; do not edit by hand (see rules/SOURCES.md).
#
# Which Postfix programs read each main.cf parameter, from the Postfix source
# (github.com/vdukhovni/postfix, the newest patch tag of every minor release from 2.0 and
# HEAD {head}): a program reads the parameters of the configuration tables of every
# function its objects (its directory's Makefile.in OBJS) reach, its own and the libraries'
# (src/global, util, tls, dns, milter, xsasl and the skeletons of src/master), and of
# their get_mail_conf_*(VAR_...) and mail_conf_lookup_eval(VAR_...) calls.  smtp(8) is two
# programs: smtp with smtp_params.c's tables, lmtp with lmtp_params.c's (smtp.c, main()).
#
# [programs]   program -> "daemon" (master(8) runs it: a *_server_main() skeleton),
#              "master", or "command" (people and scripts run it)
# [open]       programs that also read parameters the configuration names (why, where)
# [dynamic]    program -> names it builds at run time: "*_suffix" for any transport (qmgr:
#              get_mail_conf_int2(transport, suffix)), "{{service}}_suffix" for its own
#              master.cf service name (pipe, spawn: <service>_time_limit)
# [parameters] name -> readers: "*" every daemon (what all of them read: mail_params_init()
#              and the skeletons; the commands read most of it too); "PROGRAM" in every
#              release that has the name; "PROGRAM@X.Y" from X.Y on; "PROGRAM@X.Y..U.V"
#              from X.Y up to, not including, U.V ("PROGRAM..U.V": up to U.V).  postconf,
#              posttls-finger and test programs are left out.  Taking every function a
#              program's code names for one it calls errs towards more readers, not fewer:
#              smtp and lmtp reach tls_pre_jail_init(), which reads tls_server_sni_maps
#              only for servers.
"""


if __name__ == "__main__":
    raise SystemExit(main())
