"""Fuzz targets for the reader, the linter, ``--fix``, the editors and the recipes: Hypothesis
strategies that mix real structure with junk, and the invariants every generated input must keep.

tests/test_fuzz.py runs each target briefly inside the suite; tools/fuzz.py runs them at scale.
Nothing here fixes what it finds: a broken invariant raises :class:`Failure` (or the foreign
exception itself), and docs/fuzzing.md says how known failures are recorded.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
from hypothesis import strategies as st

import pfconf
from pfconf import MainCf, MasterCf, PfconfError, postfix
from pfconf.edit import MainEditor, MasterEditor
from pfconf.edit.recipes import apply_recipe, load_recipe
from pfconf.edit.workspace import Workspace
from pfconf.io import LINE_BREAK_LOOKALIKES, decode, encode
from pfconf.kb import KnowledgeBase
from pfconf.values import ISSPACE, split_list

ROOT = Path(__file__).resolve().parent.parent
SRC = str(ROOT / "src" / "pfconf")

# =============================================================================================
# Known failures the generators step around
# =============================================================================================

#: Bugs these targets found that are not fixed yet, by the trigger the generators leave out
#: while each is open (tests/test_fuzz.py keeps a strict xfail reproducer for each).  Once a
#: bug is fixed, its reproducer fails as XPASS: remove its mark there and its entry here.
KNOWN: dict[str, str] = {}

#: What the generators leave out: every known trigger.  ``tools/fuzz.py --include-known``
#: passes an empty set instead, to see whether the bugs are still there.
DEFAULT_AVOID: frozenset[str] = frozenset(KNOWN)

#: The triggers the check running now steps around (set by :func:`run_check`).
_avoiding: frozenset[str] = DEFAULT_AVOID


def avoiding(trigger: str) -> bool:
    """Whether the check running now leaves out the trigger of the known bug ``trigger``."""
    return trigger in _avoiding


# =============================================================================================
# Vocabulary
# =============================================================================================

#: Characters that break lines for Python's str.splitlines() but not for Postfix.
LINE_BREAKS_NOT_POSTFIX = ["\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
#: Those, bytes that are not UTF-8 (as surrogate escapes: "\udce9" is the byte 0xe9), a BOM,
#: NUL, and the characters Postfix gives a meaning.
JUNK = [
    *LINE_BREAKS_NOT_POSTFIX, "\x1f", "\x00", "\ufeff", "\udce9", "\udc85", "\udcff", "\xe9",
    "\u00a0", "{", "}", "{}", "$", "${", "#", "=", ",", " ", "\t", "\n", "\r\n", "\n ", "\n#",
    "\\", "(", ")", ":",
]  # fmt: skip

MAIN_NAMES = [
    # lists
    "smtpd_recipient_restrictions", "smtpd_relay_restrictions", "smtpd_client_restrictions",
    "mydestination", "mynetworks", "alias_maps", "virtual_alias_maps",
    # text and others
    "myhostname", "mydomain", "smtpd_banner", "relayhost", "compatibility_level",
    "inet_interfaces", "biff", "mailbox_size_limit", "recipient_delimiter",
    # TLS
    "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_security_level",
    "smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols",
    "smtpd_tls_ciphers", "smtpd_tls_mandatory_ciphers", "smtpd_tls_auth_only",
    "smtp_tls_security_level", "tls_preempt_cipherlist",
    # obsolete ones that fixes and recipes rename
    "smtpd_use_tls", "smtp_use_tls", "smtpd_enforce_tls", "smtp_enforce_tls",
    "smtpd_sasl_application_name",
    # SASL
    "smtpd_sasl_auth_enable", "smtpd_sasl_type", "smtpd_sasl_path",
    "smtpd_sasl_security_options", "broken_sasl_auth_clients", "smtp_sasl_auth_enable",
    "smtp_sasl_password_maps",
    # not Postfix's
    "foo_bar", "my_own_1", "x",
]  # fmt: skip

RESTRICTIONS = [
    "permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination",
    "defer_unauth_destination", "reject_unauth_destinaton", "reject_invalid_hostname",
    "reject_non_fqdn_hostname", "reject_unknown_client", "reject_rbl_client zen.spamhaus.org",
    "reject_rbl_client list.dsbl.org", "reject_rbl_client sbl.spamhaus.org=127.0.0.2",
    "reject_rhsbl_sender dbl.spamhaus.org", "check_client_access hash:/etc/postfix/access",
    "check_policy_service unix:private/policy", "permit", "reject",
]  # fmt: skip

#: Values that make the rules, fixes and recipes do something.
NAME_VALUES: dict[str, list[str]] = {
    "mydestination": ["$myhostname, localhost.$mydomain, localhost", "", "example.com"],
    "mynetworks": ["127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128", "0.0.0.0/0", "10.0.0.0/8,"],
    "alias_maps": ["hash:/etc/aliases", "hash:/etc/aliases, nis:mail.aliases"],
    "virtual_alias_maps": ["hash:/etc/postfix/virtual", "${a?{hash:/x}}"],
    "myhostname": ["mail.example.com", "$myhostname", "localhost"],
    "mydomain": ["example.com"],
    "smtpd_banner": ["$myhostname ESMTP $mail_name", "$myhostname ESMTP # hello", "a, b"],
    "relayhost": ["", "[smtp.example.net]:587", "relay.example.com"],
    "compatibility_level": ["3.6", "2", "${{$compatibility_level} <level {3.6} ? {3.6} : {2}}"],
    "inet_interfaces": ["all", "loopback-only", "127.0.0.1, [::1]"],
    "biff": ["no", "yes"],
    "mailbox_size_limit": ["0", "51200000"],
    "recipient_delimiter": ["+", "+-"],
    "smtpd_tls_cert_file": ["/etc/ssl/certs/mail.pem", ""],
    "smtpd_tls_key_file": ["/etc/ssl/private/mail.key", "$smtpd_tls_cert_file"],
    "smtpd_tls_security_level": ["may", "encrypt", "none"],
    "smtpd_tls_protocols": ["!SSLv2, !SSLv3", ">=TLSv1", "TLSv1.2 TLSv1.3", "!SSLv2"],
    "smtpd_tls_mandatory_protocols": ["!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", ">=TLSv1.3", "SSLv3"],
    "smtp_tls_protocols": ["!SSLv2,!SSLv3", ">=TLSv1.2"],
    "smtpd_tls_ciphers": ["low", "export", "medium", "high"],
    "smtpd_tls_mandatory_ciphers": ["low", "high"],
    "smtpd_tls_auth_only": ["no", "yes"],
    "smtp_tls_security_level": ["may", "encrypt", "dane"],
    "tls_preempt_cipherlist": ["yes", "no"],
    "smtpd_use_tls": ["yes", "no"],
    "smtp_use_tls": ["yes", "no"],
    "smtpd_enforce_tls": ["yes", "no"],
    "smtp_enforce_tls": ["yes"],
    "smtpd_sasl_application_name": ["smtpd"],
    "smtpd_sasl_auth_enable": ["yes", "no"],
    "smtpd_sasl_type": ["dovecot", "cyrus"],
    "smtpd_sasl_path": ["private/auth", "smtpd"],
    "smtpd_sasl_security_options": ["noanonymous", "noanonymous, noplaintext"],
    "broken_sasl_auth_clients": ["yes"],
    "smtp_sasl_auth_enable": ["yes"],
    "smtp_sasl_password_maps": ["hash:/etc/postfix/sasl_passwd"],
}

WORDS = [
    "a", "b,", "yes", "$myhostname", "${mydomain}", "$(x)", "${a?b}", "${a:{c d}}", "{ k = v }",
    "{a", "b}", "#", "x#y", "hash:/etc/postfix/x", "inline:{ k=v }", "\xe9", "1", "!SSLv2",
    ">=TLSv1.2", *RESTRICTIONS,
]  # fmt: skip

# master.cf
SERVICE_NAMES = [
    "smtp", "submission", "submissions", "smtps", "relay", "127.0.0.1:10025", "dovecot",
    "pickup", "amavis",
]  # fmt: skip
SERVICE_TYPES = ["inet", "unix", "pass", "fifo", "unix-dgram"]
COMMANDS = ["smtpd", "smtp", "pipe", "cleanup", "pickup", "lmtp", "local"]
OVERRIDE_NAMES = [
    "syslog_name", "smtpd_tls_security_level", "smtpd_sasl_auth_enable", "smtpd_tls_wrappermode",
    "smtpd_client_restrictions", "smtpd_recipient_restrictions", "content_filter",
    "milter_macro_daemon_name", "x",
]  # fmt: skip
OVERRIDE_VALUES = [
    "postfix/submission", "encrypt", "yes", "permit_sasl_authenticated,reject",
    "permit_sasl_authenticated reject", "$mua_client_restrictions", "",
    "smtp-amavis:[127.0.0.1]:10024", "{ a b }", "a}b", "x=y",
]  # fmt: skip
ARGS = [
    "-o a=b", "-o smtpd_tls_security_level=encrypt", "-o { x = y z }", "-o {k=v}", "-ofoo=bar",
    "-vo c=d", "-v", "-o syslog_name=postfix/$service_name", "flags=R",
    "argv=/bin/x ${recipient}", "user=vmail", "{ a b }", "-o e=", "--", "-", "-o",
]  # fmt: skip


def _read_seeds(patterns: Sequence[str]) -> list[str]:
    texts = []
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            texts.append(decode(path.read_bytes()))
    return texts


#: Real files to start from (the project's corpus): the generators mutate them.
MAIN_SEEDS = _read_seeds(["corpus/main/*.cf", "corpus/demo/main.cf", "corpus/rules/*/*/main.cf"])
MASTER_SEEDS = _read_seeds(
    ["corpus/master/*.cf", "corpus/demo/master.cf", "corpus/rules/*/*/master.cf",
     "rules/stock-master.cf"]
)  # fmt: skip

# =============================================================================================
# Strategies
# =============================================================================================
# The helpers below take Hypothesis's ``draw`` and are plain functions, not strategies: building
# a strategy object per draw costs more than the check of a small input.  The strategies they
# draw from are built once, here.

_SAMPLED: dict[tuple[str, ...], st.SearchStrategy[str]] = {}
_RANGES: dict[tuple[int, int], st.SearchStrategy[int]] = {}


def _pick(draw: st.DrawFn, choices: Sequence[str]) -> str:
    key = tuple(choices)
    if key not in _SAMPLED:
        _SAMPLED[key] = st.sampled_from(key)
    return draw(_SAMPLED[key])


def _int(draw: st.DrawFn, low: int, high: int) -> int:
    if (low, high) not in _RANGES:
        _RANGES[(low, high)] = st.integers(low, high)
    return draw(_RANGES[(low, high)])


def _one_in(draw: st.DrawFn, n: int) -> bool:
    return _int(draw, 0, n - 1) == 0


EOLS = ["\n", "\n", "\n", "\n", "\r\n"]
BLANKS = ["", " ", " ", "  ", "\t", " \t "]
INDENTS = [" ", "  ", "    ", "\t", " \t"]


def _junk(avoid: frozenset[str]) -> list[str]:
    """The junk the generators may use (less, while a bug is open, its trigger)."""
    return JUNK


def _scrub(text: str, avoid: frozenset[str]) -> str:
    """Take the triggers of avoided bugs out of text that came from elsewhere (the corpus)."""
    return text


def _sprinkle(draw: st.DrawFn, text: str, avoid: frozenset[str], most: int = 3) -> str:
    """``text`` with up to ``most`` pieces of junk put in at drawn places."""
    junk = _junk(avoid)
    for _ in range(_int(draw, 0, most)):
        at = _int(draw, 0, len(text))
        text = text[:at] + _pick(draw, junk) + text[at:]
    return text


def _big(draw: st.DrawFn, avoid: frozenset[str]) -> str:
    """Something very long, with very many items, or very deeply nested, from few drawn bytes."""
    count = _int(draw, 1, 3000)
    shape = _pick(draw, ["nest", "nest:", "nest$", "braces", "parens", "long", "words", "items"])
    if shape.startswith("nest"):
        if shape == "nest$":
            return "${" * count + "a" + "}" * count
        return ("${x?{" if shape == "nest" else "${x:{") * count + "y" + "}}" * count
    if shape == "braces":
        return "{" * count + "z" + "}" * count
    if shape == "parens":
        return "$(" * count + "a" + ")" * count
    if shape == "long":
        return _pick(draw, ["a", "$b", "\xe9", "{"]) * (count * 7)
    if shape == "words":
        return "xy " * count
    return ", ".join(f"item{i}" for i in range(count))


_SEPARATORS = [" ", ", ", ",", "  ", "\t", " ,"]


def _value(draw: st.DrawFn, avoid: frozenset[str], name: str | None = None) -> str:
    """A parameter value: one the parameter often has, or words and separators, maybe junk."""
    choice = _int(draw, 0, 19)
    if name in NAME_VALUES and choice < 8:
        text = _pick(draw, NAME_VALUES[name])
    elif choice < 11 and (name or "").endswith("restrictions"):
        items = [_pick(draw, RESTRICTIONS) for _ in range(_int(draw, 0, 5))]
        text = _pick(draw, [", ", " ", ","]).join(items)
    elif choice == 19:
        text = _big(draw, avoid)
    else:
        words = [_pick(draw, WORDS) for _ in range(_int(draw, 0, 4))]
        text = "".join(w + _pick(draw, _SEPARATORS) for w in words).rstrip(" ,\t")
    if _one_in(draw, 4):
        text = _sprinkle(draw, text, avoid, 2)
    return text


def _continuation(draw: st.DrawFn) -> str:
    """The lines that continue a value: indented text, with comment and blank lines among them."""
    text = ""
    for _ in range(_int(draw, 1, 3)):
        if _one_in(draw, 4):
            text += _pick(draw, ["#  note", "# x = y", "", "  ", "\t# inside"]) + _pick(draw, EOLS)
        text += _pick(draw, INDENTS) + _pick(draw, WORDS) + _pick(draw, ["", ",", " ,"])
        text += _pick(draw, EOLS)
    return text


_MAIN_LINE_KINDS = ["entry"] * 6 + ["comment", "blank", "commented"]


def _main_line(draw: st.DrawFn, avoid: frozenset[str], rough: bool) -> str:
    """One piece of a main.cf: an entry (maybe continued), a comment, a blank line, a
    commented-out entry, or (``rough``) a line of junk."""
    kind = _pick(draw, _MAIN_LINE_KINDS + (["junk"] if rough else []))
    if kind == "entry":
        name = _pick(draw, MAIN_NAMES)
        if rough and _one_in(draw, 8):
            name = _sprinkle(draw, name, avoid, 1)
        text = name + _pick(draw, BLANKS) + "=" + _pick(draw, BLANKS) + _value(draw, avoid, name)
        text += _pick(draw, ["", "", " ", "\t"]) + _pick(draw, EOLS)
        if _one_in(draw, 4):
            text += _continuation(draw)
        return text
    if kind == "comment":
        text = _pick(draw, ["# TLS", "# SASL", "# restrictions", "#", "# caf\xe9", "  #"])
        return text + _pick(draw, EOLS)
    if kind == "blank":
        return _pick(draw, ["", " ", "\t"]) + _pick(draw, EOLS)
    if kind == "commented":
        name = _pick(draw, MAIN_NAMES)
        text = _pick(draw, ["#", "# ", "#\t", "#  "]) + name + " = " + _value(draw, avoid, name)
        text += _pick(draw, EOLS)
        for _ in range(_int(draw, 0, 2)):
            text += _pick(draw, ["#\t", "#  ", "#    ", "# "]) + _pick(draw, RESTRICTIONS) + ","
            text += _pick(draw, EOLS)
        return text
    return _sprinkle(draw, "", avoid, 4) + _pick(draw, EOLS)


def _mutated_seed(
    draw: st.DrawFn, seeds: list[str], avoid: frozenset[str], line: Callable[[], str]
) -> str:
    """A corpus file with lines deleted, repeated or added (by ``line``), and junk put in."""
    lines = _scrub(draw(st.sampled_from(seeds)), avoid).split("\n")
    for _ in range(_int(draw, 0, 4)):
        at = _int(draw, 0, len(lines))
        what = _pick(draw, ["delete", "repeat", "add", "junk"])
        if what == "delete" and at < len(lines):
            del lines[at]
        elif what == "repeat" and at < len(lines):
            lines.insert(at, lines[at])
        elif what == "add":
            lines.insert(at, line().rstrip("\n"))
        elif at < len(lines):
            lines[at] = _sprinkle(draw, lines[at], avoid, 2)
    return "\n".join(lines)


def _finish(draw: st.DrawFn, text: str, avoid: frozenset[str]) -> bytes:
    """Bytes of ``text``, sometimes without its final newline, with a BOM, or in Latin-1."""
    if _one_in(draw, 5) and text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r") and draw(st.booleans()):
            text = text[:-1]
    data = encode(_scrub(text, avoid))
    if _one_in(draw, 10):
        data = data.replace("\xe9".encode(), b"\xe9")  # Latin-1, not UTF-8
    if _one_in(draw, 15):
        data = b"\xef\xbb\xbf" + data
    return data


def _main_cf(draw: st.DrawFn, avoid: frozenset[str], rough: bool) -> bytes:
    """A main.cf: a mutated corpus file or generated lines; ``rough``: with junk in it."""
    if MAIN_SEEDS and _one_in(draw, 4):
        text = _mutated_seed(draw, MAIN_SEEDS, avoid, lambda: _main_line(draw, avoid, rough))
    else:
        text = "".join(_main_line(draw, avoid, rough) for _ in range(_int(draw, 0, 10)))
        if _one_in(draw, 15):
            text = _pick(draw, INDENTS) + "orphan = 1" + _pick(draw, EOLS) + text
    if rough and _one_in(draw, 5):
        text = _sprinkle(draw, text, avoid, 3)
    return _finish(draw, text, avoid)


@st.composite
def main_cf(draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID) -> bytes:
    """A main.cf as bytes, with junk in it."""
    return _main_cf(draw, avoid, rough=True)


_FLAGS = ["n", "y", "-"]
_WAKEUPS = ["-", "60", "1000?"]
_LIMITS = ["-", "0", "100"]


def _service(draw: st.DrawFn, avoid: frozenset[str], rough: bool) -> str:
    """One master.cf service entry, its arguments on the head line and on ``-o`` lines."""
    fields = [
        _pick(draw, SERVICE_NAMES), _pick(draw, SERVICE_TYPES), _pick(draw, _FLAGS),
        _pick(draw, _FLAGS), _pick(draw, _FLAGS), _pick(draw, _WAKEUPS), _pick(draw, _LIMITS),
        _pick(draw, COMMANDS),
    ]  # fmt: skip
    if rough and _one_in(draw, 10):
        at = _int(draw, 0, 7)
        fields[at] = _sprinkle(draw, fields[at], avoid, 1)
    seps = [" ", "  ", "\t", "      "]
    text = "".join(f + _pick(draw, seps) for f in fields[:-1]) + fields[-1]
    for _ in range(_int(draw, 0, 2)):
        text += " " + _pick(draw, ARGS)
    text += _pick(draw, ["", " "]) + _pick(draw, EOLS)
    for _ in range(_int(draw, 0, 3)):
        if _one_in(draw, 5):
            text += _pick(draw, ["#  note", "", "  # -o x=y"]) + _pick(draw, EOLS)
        if draw(st.booleans()):
            arg = f"-o {_pick(draw, OVERRIDE_NAMES)}={_pick(draw, _PLAIN_OVERRIDE_VALUES)}"
        else:
            arg = _pick(draw, ARGS)
        text += _pick(draw, INDENTS) + arg + _pick(draw, EOLS)
    return text


_PLAIN_OVERRIDE_VALUES = [v for v in OVERRIDE_VALUES if " " not in v]
_MASTER_LINE_KINDS = ["service"] * 5 + ["comment", "blank", "commented"]


def _master_line(draw: st.DrawFn, avoid: frozenset[str], rough: bool) -> str:
    kind = _pick(draw, _MASTER_LINE_KINDS + (["junk"] if rough else []))
    if kind == "service":
        return _service(draw, avoid, rough)
    if kind == "comment":
        text = _pick(draw, ["# ====", "#", "# service type  private", "#  -o a=b"])
        return text + _pick(draw, EOLS)
    if kind == "blank":
        return _pick(draw, ["", " "]) + _pick(draw, EOLS)
    if kind == "commented":
        # as Postfix's stock master.cf ships submission and smtps
        name = _pick(draw, ["submission", "submissions", "smtps", "relay"])
        text = f"#{name} inet n       -       y       -       -       smtpd" + _pick(draw, EOLS)
        for _ in range(_int(draw, 0, 3)):
            text += _pick(draw, ["#  -o ", "#\t-o ", "# -o "]) + _pick(draw, OVERRIDE_NAMES)
            text += "=" + _pick(draw, _PLAIN_OVERRIDE_VALUES) + _pick(draw, EOLS)
        return text
    return _sprinkle(draw, "", avoid, 4) + _pick(draw, EOLS)


def _master_cf(draw: st.DrawFn, avoid: frozenset[str], rough: bool) -> bytes:
    """A master.cf: a mutated corpus file or generated lines; ``rough``: with junk in it."""
    if MASTER_SEEDS and _one_in(draw, 3):
        text = _mutated_seed(draw, MASTER_SEEDS, avoid, lambda: _master_line(draw, avoid, rough))
    else:
        text = "".join(_master_line(draw, avoid, rough) for _ in range(_int(draw, 0, 8)))
    if rough and _one_in(draw, 5):
        text = _sprinkle(draw, text, avoid, 3)
    return _finish(draw, text, avoid)


@st.composite
def master_cf(draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID) -> bytes:
    """A master.cf as bytes, with junk in it."""
    return _master_cf(draw, avoid, rough=True)


_JUNK_ALPHABET = [*JUNK, "a", "b", "_", "smtp", "inet", "-o", "=", "${x?{"]


@st.composite
def junk_bytes(draw: st.DrawFn) -> bytes:
    """Text made of the characters that matter to a line reader, or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    return encode("".join(_pick(draw, _JUNK_ALPHABET) for _ in range(_int(draw, 0, 80))))


# -- operations ---------------------------------------------------------------------------------

#: One edit: the method's name and its arguments, as plain data a reproducer can print.
Op = tuple[Any, ...]


def _found(pattern: str, text: str) -> list[str]:
    return sorted(set(re.findall(pattern, text, re.MULTILINE)))


def _aim(draw: st.DrawFn, found: list[str], vocabulary: list[str]) -> str:
    """Mostly something the file has (so that the edit does something), now and then not."""
    return _pick(draw, found) if found and not _one_in(draw, 5) else _pick(draw, vocabulary)


def _one_line(draw: st.DrawFn, avoid: frozenset[str], name: str | None = None) -> str:
    """A value for an edit: one line mostly; now and then something the editor must refuse."""
    text = _scrub(_value(draw, avoid, name), avoid)
    if _one_in(draw, 25):
        bad = ["\n", "\x00", " ", "\nb", "\r"]
        text += _pick(draw, bad)
    return text


_MAIN_VERBS = [
    "set", "set", "set", "unset", "comment", "uncomment", "comment_uncomment", "rename",
    "list_add", "list_add", "list_remove", "list_replace",
]  # fmt: skip


def _main_ops(draw: st.DrawFn, text: str, avoid: frozenset[str]) -> list[Op]:
    """Edits of the main.cf ``text``, aimed mostly at what it defines or has commented out."""
    doc = _load(text, "main")
    values = doc.effective() if isinstance(doc, MainCf) else {}
    defined = sorted(values)
    commented = [n for n in _found(r"^#\s*([A-Za-z0-9_.-]+)\s*=", text) if n not in values]
    ops: list[Op] = []
    for _ in range(_int(draw, 1, 4)):
        verb = _pick(draw, _MAIN_VERBS)
        name = _aim(draw, commented if verb == "uncomment" else defined, MAIN_NAMES)
        items = _items(values.get(name, ""))
        if verb == "set":
            ops.append((verb, name, _one_line(draw, avoid, name)))
        elif verb == "rename":
            new = _pick(draw, MAIN_NAMES)
            value = _one_line(draw, avoid, new) if draw(st.booleans()) else None
            ops.append((verb, name, new, value))
        elif verb == "list_add":
            item = _pick(draw, WORDS)
            place = _pick(draw, ["", "after", "before"]) or None
            ops.append(
                (verb, name, item, place, _aim(draw, items, RESTRICTIONS) if place else None)
            )
        elif verb == "list_remove":
            ops.append((verb, name, _aim(draw, items, WORDS)))
        elif verb == "list_replace":
            ops.append((verb, name, _aim(draw, items, WORDS), _pick(draw, RESTRICTIONS)))
        else:
            ops.append((verb, name))
    return ops


@st.composite
def main_edits(draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID) -> tuple[bytes, list[Op]]:
    data = _main_cf(draw, avoid, rough=_one_in(draw, 4))
    return data, _main_ops(draw, decode(data), avoid)


_MASTER_VERBS = [
    "set_override", "set_override", "unset_override", "add_service", "remove_service",
    "enable_service", "set_field", "set_command", "move_overrides", "comment_service",
    "uncomment_service",
]  # fmt: skip
_COMMANDS = ["postscreen", "smtpd", "smtp", "pipe", "a b", "-v"]
_ARGUMENTS: list[tuple[str, ...] | None] = [
    None, None, (), ("-v",), ("flags=R", "user=nobody", "argv=/bin/cat"), ("-v", "--", "x"),
    ("-n", "name"), ("-o",), ("{ a b }",),
]  # fmt: skip
_FIELD_VALUES = {
    "private": _FLAGS, "unprivileged": _FLAGS, "chroot": _FLAGS, "wakeup": _WAKEUPS,
    "process_limit": _LIMITS,
}  # fmt: skip
_ANY_FIELD_VALUE = ["n", "y", "-", "60", "1000?", "0", "100", "", "a b", "x"]


def _master_ops(draw: st.DrawFn, text: str, avoid: frozenset[str]) -> list[Op]:
    """Edits of the master.cf ``text``, aimed mostly at the services and overrides it has."""
    doc = _load(text, "master")
    services = {s.key: sorted(s.overrides) for s in doc.services} if doc else {}
    keys = sorted(services)
    commented = [f"{n}/{t}" for n, t in _found(r"^#\s*([^\s#]+)[ \t]+(\S+)[ \t]", text)]
    stock = ["submission/inet", "submissions/inet", "smtps/inet", "smtp/inet"]
    ops: list[Op] = []
    for _ in range(_int(draw, 1, 4)):
        verb = _pick(draw, _MASTER_VERBS)
        aimed = {"enable_service": commented, "uncomment_service": commented + keys}
        key = _aim(draw, aimed.get(verb, keys), stock)
        options = services.get(key, [])
        if verb == "set_override":
            value = _pick(draw, OVERRIDE_VALUES) if draw(st.booleans()) else _one_line(draw, avoid)
            ops.append((verb, key, _aim(draw, options, OVERRIDE_NAMES), value))
        elif verb == "unset_override":
            ops.append((verb, key, _aim(draw, options, OVERRIDE_NAMES)))
        elif verb == "add_service":
            after = _pick(draw, keys or stock) if draw(st.booleans()) else None
            text = _scrub(_service(draw, avoid, False), avoid)
            ops.append((verb, text, after))
        elif verb == "enable_service":
            overrides = {
                _pick(draw, OVERRIDE_NAMES): _pick(draw, OVERRIDE_VALUES)
                for _ in range(_int(draw, 0, 3))
            }
            ops.append((verb, key, overrides))
        elif verb == "set_field":
            field = _pick(draw, sorted(_FIELD_VALUES))
            value = _pick(draw, _ANY_FIELD_VALUE if _one_in(draw, 5) else _FIELD_VALUES[field])
            ops.append((verb, key, field, value))
        elif verb == "set_command":
            ops.append((verb, key, _pick(draw, _COMMANDS), _pick(draw, _ARGUMENTS)))
        elif verb == "move_overrides":
            target = _aim(draw, keys, stock)
            names = tuple(_pick(draw, options or OVERRIDE_NAMES) for _ in range(_int(draw, 0, 2)))
            how = _int(draw, 0, 2)  # every one, these names, all but these
            ops.append((verb, key, target, names if how == 1 else None, names if how == 2 else ()))
        elif verb == "comment_service":
            ops.append((verb, key, _pick(draw, ["", "not used", "a\nb  c"])))
        else:
            ops.append((verb, key))
    return ops


@st.composite
def master_edits(draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID) -> tuple[bytes, list[Op]]:
    data = _master_cf(draw, avoid, rough=_one_in(draw, 4))
    return data, _master_ops(draw, decode(data), avoid)


# -- whole configuration directories -----------------------------------------------------------

VERSIONS = [(2, 11), (3, 4), (3, 5), (3, 6), (3, 9), (3, 10)]


def _directory(draw: st.DrawFn, avoid: frozenset[str]) -> tuple[bytes, bytes | None]:
    """main.cf and master.cf (None: there is none) of a configuration directory."""
    main = _main_cf(draw, avoid, rough=_one_in(draw, 8))
    master = None if _one_in(draw, 5) else _master_cf(draw, avoid, rough=_one_in(draw, 8))
    return main, master


@st.composite
def lint_case(
    draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID
) -> tuple[bytes, bytes | None, tuple[int, int], str]:
    main, master = _directory(draw, avoid)
    # which files are named on the command line: main.cf, both, or master.cf alone
    named = _pick(draw, ["main", "main", "both", "master"])
    return main, master, draw(st.sampled_from(VERSIONS)), named


@st.composite
def fix_case(
    draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID
) -> tuple[bytes, bytes | None, bool]:
    main, master = _directory(draw, avoid)
    return main, master, draw(st.booleans())


OPTION_VALUES: dict[str, list[str]] = {
    "cert": ["/etc/ssl/certs/mail.pem", "/etc/ssl/a b.pem", "$config_directory/c.pem", ""],
    "key": ["/etc/ssl/private/mail.key", "/k{ey}", ""],
    "sasl": ["dovecot", "dovecot", "cyrus", "cyrus", "kerberos"],
    "relayhost": ["[smtp.example.net]:587", "relay.example.com", "[::1]:25", "a b"],
    "user": ["alice", "alice@example.com", "a:b"],
    "password": ["s3cret", "p a#s$s{}", "\xe9t\xe9"],
    # tables inside the scratch directory only: a recipe writes the file its option names,
    # and an absolute path would be this machine's /etc/postfix
    "password_maps": ["hash:{config_directory}/sasl_passwd", "lmdb:{config_directory}/p"],
    "milter": ["inet:127.0.0.1:8891", "unix:/run/opendkim/opendkim.sock", "{ inet:[::1]:1 }", ""],
    "default_action": ["accept", "tempfail", "quarantine", "bogus"],
    "dnsbl_sites": ["zen.spamhaus.org*3", "a=127.0.0.[2..11]*2, b*1", "x=127.0.0.2*"],
    "dnsbl_threshold": ["3", "1", "0", "x"],
    "domains": ["example.com", "example.com, example.net", "a b,c", ""],
    "mailbox_maps": ["hash:{config_directory}/vmailbox", "lmdb:{config_directory}/v", "/rel"],
    "lmtp": ["lmtp:unix:private/dovecot-lmtp", "lmtp:inet:127.0.0.1:24", "lmtp:"],
}
#: Option values that trigger known bugs, by trigger.
OPTION_TRIGGERS: dict[str, dict[str, set[str]]] = {"empty-cert": {"cert": {""}, "key": {""}}}
RECIPES = {
    "sasl-tls": ["cert", "key", "sasl"],
    "relay-client": ["relayhost", "user", "password", "password_maps"],
    "submission-only": [],
    "tls-hardening": [],
    "dane-outbound": [],
    "milter": ["milter", "default_action"],
    "postscreen": ["dnsbl_sites", "dnsbl_threshold"],
    "virtual-mailboxes": ["domains", "mailbox_maps", "lmtp"],
}


@st.composite
def recipe_case(
    draw: st.DrawFn, avoid: frozenset[str] = DEFAULT_AVOID
) -> tuple[str, dict[str, str], tuple[int, int], bytes, bytes | None, bool]:
    """A recipe, its options, the target version, the directory, and whether ``sasl/`` exists."""
    name = _pick(draw, sorted(RECIPES))
    options: dict[str, str] = {}
    for option in RECIPES[name]:
        # the required ones (and a certificate) mostly given, the others now and then
        if _int(draw, 0, 19) < (19 if option in ("relayhost", "user", "password", "milter",
                                                   "domains") else 16
                                if option in ("cert", "key") else 8):  # fmt: skip
            banned = {v for t in avoid for v in OPTION_TRIGGERS.get(t, {}).get(option, ())}
            value = _pick(draw, [v for v in OPTION_VALUES[option] if v not in banned])
            if _one_in(draw, 6):
                value = _sprinkle(draw, value, avoid, 1)
            options[option] = value
    if _one_in(draw, 20):
        options["bogus"] = "1"
    main, master = _directory(draw, avoid)
    if _one_in(draw, 3):  # what submission-only requires, and sasl-tls without --cert
        main = b"smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\n" + main
    return name, options, draw(st.sampled_from(VERSIONS)), main, master, draw(st.booleans())


# =============================================================================================
# Invariants
# =============================================================================================

INVARIANTS = {
    1: "no exception but pfconf's own (PfconfError and its subclasses)",
    2: "exact round trip: dumps(loads(x)) == x, for bytes and for str",
    3: "an edit changes only its own lines, its result parses, and means what was asked",
    4: "after an edit, postconf reads the file as pfconf does",
    5: "lint is deterministic: twice, and in another directory, the same findings",
    6: "--fix never raises, and a second pass changes nothing",
    7: "a recipe raises nothing foreign, a second run changes nothing, and only its targets change",
}


class Failure(AssertionError):
    """An invariant that did not hold, with where it broke (the part of the signature that
    tells one bug from another)."""

    def __init__(self, invariant: int, where: str, message: str) -> None:
        self.invariant = invariant
        self.where = where
        super().__init__(f"invariant {invariant} ({INVARIANTS[invariant]}): {where}: {message}")


def expect(condition: bool, invariant: int, where: str, message: str) -> None:
    if not condition:
        raise Failure(invariant, where, message)


def signature(exc: BaseException) -> str:
    """What tells this failure from others: the invariant and where it broke, or for a foreign
    exception its type and the innermost line of pfconf it came from."""
    if isinstance(exc, Failure):
        return f"invariant {exc.invariant}: {exc.where}"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(SRC)]
    where = f"{os.path.relpath(ours[-1].filename, SRC)}:{ours[-1].name}" if ours else "?"
    return f"invariant 1: {type(exc).__name__} in {where}"


# -- lines as Postfix reads them ----------------------------------------------------------------


def postfix_lines(text: str) -> list[str]:
    """Physical lines as Postfix splits them: at "\\n" only, each keeping its "\\n"."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _node_lines(node: Any) -> int:
    return len(postfix_lines(node.dump()))


def _entry_span(entry: Any) -> tuple[int, int]:
    """0-based [start, end) of an entry's or a service's physical lines."""
    start = int(entry.line) - 1
    return start, start + _node_lines(entry.node)


def _kept_around(old: list[str], new: list[str], regions: list[tuple[int, int]]) -> str | None:
    """Whether ``new`` is ``old`` with each region replaced by some lines and every line
    outside the regions kept, in order and byte for byte; None if so, else what differs."""
    regions = sorted(regions)
    gaps, position = [], 0
    for start, end in regions:
        gaps.append(old[position:start])
        position = max(position, end)
    gaps.append(old[position:])
    first, last = gaps[0], gaps[-1]
    if new[: len(first)] != first:
        return f"a line before the edited ones changed: {_first_difference(first, new)}"
    if last and new[len(new) - len(last) :] != last:
        return f"a line after the edited ones changed: {_first_difference(last, new[-len(last) :])}"
    at, stop = len(first), len(new) - len(last)
    for gap in gaps[1:-1]:
        if not gap:
            continue
        while at + len(gap) <= stop and new[at : at + len(gap)] != gap:
            at += 1
        if at + len(gap) > stop:
            return f"the lines between two edited entries changed: {gap!r}"
        at += len(gap)
    if at > stop:
        return "lines were lost"
    return None


def _inserted_once(old_text: str, new_text: str) -> str | None:
    """Whether the new text is the old one with lines inserted in one place (the last line of
    a file without a final newline may gain one); None if so."""
    old, new = postfix_lines(old_text), postfix_lines(new_text)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    last = prefix == len(old) - 1 and not old_text.endswith("\n") and prefix < len(new)
    if last and new[prefix] in (old[prefix] + "\n", old[prefix] + "\r\n"):
        prefix += 1  # the last line got the line ending the new lines need
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    if prefix + suffix < len(old):
        return f"lines changed besides the inserted ones: {_first_difference(old, new)}"
    return None


def _lone_crs(text: str) -> int:
    return len(re.findall("\r(?!\n)", text))


def _keeps_line_endings(old: str, new: str, op: Op) -> bool:
    """Whether the edit wrote no line ending of its own making: a "\r" that no "\n" follows
    (Postfix reads it as a blank, the editor's line splitting as a line break) is new only if
    the operation's own arguments brought it."""
    given = [a for a in op if isinstance(a, str)]
    given += [v for a in op if isinstance(a, dict) for v in a.values()]
    return _lone_crs(new) <= _lone_crs(old) + sum(_lone_crs(a) for a in given)


def _first_difference(old: list[str], new: list[str]) -> str:
    for index, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return f"line {index + 1}: {a!r} became {b!r}"
    return f"{len(old)} lines became {len(new)}"


# -- reading ------------------------------------------------------------------------------------


def _items(value: str) -> list[str]:
    return [token.text for token in split_list(value)]


def _load(data: bytes | str, kind: str) -> MainCf | MasterCf | None:
    """The document, or None when pfconf refuses the text (with one of its own errors)."""
    try:
        return pfconf.loads(data, kind)
    except PfconfError:
        return None


def _read_everything(doc: MainCf | MasterCf) -> None:
    """Ask the document every question readers ask, so that a crash in any answer shows."""
    from pfconf import show
    from pfconf.values import enabled_protocols, find_references, find_tables

    if isinstance(doc, MainCf):
        for entry in doc.entries:
            _ = (entry.name, entry.value, entry.items, entry.lines, entry.value_span)
            find_references(entry.value)
            find_tables(entry.value)
            enabled_protocols(entry.value)
        doc.effective()
        show.main_lines(doc)
        show.as_json(doc, None)
    else:
        for service in doc.services:
            _ = (service.key, service.arguments, service.args, service.overrides)
            _ = service.options_end
            for index in range(8):
                service.field_span(index)
        show.master_lines(doc)
        show.as_json(None, doc)


def check_reading(data: bytes, kind: str) -> None:
    """Invariants 1 and 2 on one text, as bytes and as str."""
    text = decode(data)
    try:
        doc = pfconf.loads(data, kind)
    except PfconfError:
        doc = None
    try:
        doc_str = pfconf.loads(text, kind)
    except PfconfError:
        doc_str = None
    expect((doc is None) == (doc_str is None), 2, f"{kind}: bytes and str", "read differently")
    if doc is None or doc_str is None:
        return
    out = pfconf.dumps(doc)
    expect(out == data, 2, f"{kind}: bytes", f"dumps gives {out!r}")
    out_str = pfconf.dumps(doc_str)
    expect(out_str == text, 2, f"{kind}: str", f"dumps gives {out_str!r}")
    expect(doc == doc_str, 2, f"{kind}: bytes and str", "the trees differ")
    _read_everything(doc)
    editor = MainEditor(doc) if isinstance(doc, MainCf) else MasterEditor(doc)
    expect(editor.dumps() == data, 2, f"{kind}: no-op edit", "an editor changes the text")


def check_parse_main(data: bytes) -> None:
    check_reading(data, "main")


def check_parse_master(data: bytes) -> None:
    check_reading(data, "master")


# -- main.cf edits ------------------------------------------------------------------------------


def _list_kind(name: str) -> bool:
    """Whether Postfix reads ``name`` as a list (its items count, not its layout)."""
    info = KnowledgeBase().parameter(name) or {}
    return info.get("kind") in ("list", "restriction_list", "table_list")


def _same_value(name: str, got: str | None, wanted: str) -> bool:
    """Whether ``name`` reads as ``wanted``: exactly (less the blanks around it, which Postfix
    drops and so does the editor), or item by item for a list."""
    if got == wanted.strip(" \t"):
        return True
    lenient = _list_kind(name)
    return got is not None and lenient and _items(got) == _items(wanted)


def _apply_main(editor: MainEditor, op: Op) -> bool:
    verb = op[0]
    if verb == "set":
        return editor.set(op[1], op[2])
    if verb == "rename":
        return editor.rename(op[1], op[2], value=op[3])
    if verb == "list_add":
        _, name, item, place, anchor = op
        if place == "after":
            return editor.list_add(name, item, after=anchor)
        if place == "before":
            return editor.list_add(name, item, before=anchor)
        return editor.list_add(name, item)
    method: Callable[..., bool] = getattr(editor, verb)
    return method(*op[1:])


def _main_regions(op: Op, doc: MainCf, text: str) -> list[tuple[int, int]] | None:
    """The lines ``op`` may change (0-based [start, end) ranges of the old text); None when it
    inserts new lines in one place instead."""
    verb, name = op[0], op[1]
    if verb in ("unset", "comment"):
        return [_entry_span(e) for e in doc.definitions(name)]
    if verb == "uncomment":
        lines = postfix_lines(text)
        head = re.compile(r"#\s*" + re.escape(name) + r"\s*=")
        heads = [i for i, line in enumerate(lines) if head.match(line)]
        # the editor takes the last one pfedit marked ("# pfedit: commented out NAME (N
        # lines below)", which goes too), else the only one
        marker = re.compile(
            r"# pfedit: commented out " + re.escape(name) + r" \(\d+ lines? below\)"
        )
        marked = [i for i in heads if i > 0 and marker.match(lines[i - 1])]
        if not marked and len(heads) != 1:
            return []
        found = marked[-1] if marked else heads[0]
        end = found + 1
        while end < len(lines) and lines[end].startswith("#"):
            end += 1
        return [(found - 1 if marked else found, end)]
    entry = doc.get(name)
    return [_entry_span(entry)] if entry is not None else None


def _main_meaning(op: Op, before: MainCf, after: MainCf) -> str | None:
    """Whether the edited file means what ``op`` asked; None if so, else what is wrong."""
    verb, name = op[0], op[1]
    old, new = before.effective(), after.effective()
    touched = {name, op[2]} if verb == "rename" else {name}
    others_old = {k: v for k, v in old.items() if k not in touched}
    others_new = {k: v for k, v in new.items() if k not in touched}
    if others_old != others_new:
        changed = sorted(k for k in set(others_old) | set(others_new)
                         if others_old.get(k) != others_new.get(k))  # fmt: skip
        return f"other parameters changed: {changed}"
    if verb == "set":
        if not _same_value(name, new.get(name), op[2]):
            return f"{name} is {new.get(name)!r}, not {op[2]!r}"
    elif verb in ("unset", "comment"):
        if name in new:
            return f"{name} is still {new[name]!r}"
    elif verb == "uncomment":
        if name not in new:
            return f"{name} is not defined"
    elif verb == "rename":
        wanted = op[3] if op[3] is not None else old[name]
        if not _same_value(op[2], new.get(op[2]), wanted):
            return f"{op[2]} is {new.get(op[2])!r}, not {wanted!r}"
        earlier = before.definitions(name)[:-1]
        if new.get(name) != (earlier[-1].value if earlier else None):
            return f"{name} is {new.get(name)!r} after the rename"
    elif verb.startswith("list_"):
        return _list_meaning(op, old.get(name), new.get(name))
    return None


def _list_meaning(op: Op, old: str | None, new: str | None) -> str | None:
    verb, name, item = op[0], op[1], op[2]
    if new is None:
        return f"{name} is gone"
    got = _items(new)
    words = _items(item)
    if verb == "list_add":
        if old is None:
            return None if got == words else f"{name} is {new!r}, not {item!r}"
        before = _items(old)
        for at in range(len(got) - len(words) + 1):
            if got[at : at + len(words)] == words and got[:at] + got[at + len(words) :] == before:
                return None
        return f"{name}: {item!r} added to {old!r} gave {new!r}"
    before = _items(old or "")
    lowered, target = [b.lower() for b in before], [w.lower() for w in words]
    at = next(i for i in range(len(before)) if lowered[i : i + len(target)] == target)
    rest = before[:at] + ([] if verb == "list_remove" else _items(op[3]))
    wanted = rest + before[at + len(words) :]
    return None if got == wanted else f"{name}: {verb} {item!r} in {old!r} gave {new!r}"


def _check_result(editor: MainEditor | MasterEditor, where: str) -> MainCf | MasterCf:
    """The edited text parses to the editor's document and round-trips."""
    text = editor.text
    expect(editor.doc.dumps() == text, 3, where, "the editor's text and document disagree")
    try:
        doc = pfconf.loads(text, editor.kind)
    except PfconfError as exc:
        raise Failure(3, where, f"the result does not parse: {exc}") from None
    expect(doc == editor.doc, 3, where, "the result reads back differently")
    expect(pfconf.dumps(doc) == text, 2, where, "the result does not round-trip")
    return doc


def edit_main(data: bytes, ops: list[Op]) -> MainEditor | None:
    """Apply ``ops`` one by one, checking invariants 1 and 3 after each; the editor, or None
    when the text does not parse."""
    doc = _load(data, "main")
    if not isinstance(doc, MainCf):
        return None
    editor = MainEditor(doc)
    for op in ops:
        if op[0] != "comment_uncomment":
            _edit_main_step(editor, op)
            continue
        name, before = op[1], editor.doc
        done = _edit_main_step(editor, ("comment", name))
        done = _edit_main_step(editor, ("uncomment", name)) and done
        # uncomment takes the last commented-out definition: one that was there before may be it
        commented = re.search(r"^#\s*" + re.escape(name) + r"\s*=", before.dumps(), re.MULTILINE)
        if done and not commented:
            old, new = before.effective(), editor.doc.effective()
            expect(
                old == new, 3, "comment then uncomment",
                f"{name} was {old.get(name)!r}, is {new.get(name)!r}",
            )  # fmt: skip
    return editor


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _plain(value: str | None) -> bool:
    """A value any entry can hold: one line, no NUL, none of the characters that look like a
    line break elsewhere (which set refuses), nothing Postfix would trim."""
    return (
        value is not None
        and not any(c in value for c in "\n\x00" + "".join(LINE_BREAK_LOOKALIKES))
        and (value == value.strip(ISSPACE))
    )


def _main_must_work(op: Op, doc: MainCf) -> bool:
    """Whether nothing but a bug can stop ``op``: a plain value set in place, the removal or
    commenting out of a parameter that is there, a rename to a free valid name."""
    verb, name = op[0], op[1]
    if doc.get(name) is None or not _NAME.match(name):
        return False
    if verb == "set":
        return _plain(op[2])
    if verb in ("unset", "comment"):
        return True
    if verb == "rename":
        free = doc.get(op[2]) is None and bool(_NAME.match(op[2]))
        return free and (op[3] is None or _plain(op[3]))
    return False


def _edit_main_step(editor: MainEditor, op: Op) -> bool:
    where = f"main.cf {op[0]}"
    text, doc = editor.text, editor.doc
    try:
        done = _apply_main(editor, op)
    except PfconfError as exc:
        expect(editor.text == text, 3, where, f"refused ({exc}) but changed the text")
        expect("internal error" not in str(exc), 3, where, f"the editor caught itself: {exc}")
        expect(not _main_must_work(op, doc), 3, f"{where}: refused", f"a plain edit failed: {exc}")
        return False
    new = _check_result(editor, where)
    assert isinstance(new, MainCf)
    if not done:
        expect(editor.text == text, 3, where, "returned False but changed the text")
        return False
    _check_edited(op, where, text, editor.text, _main_regions(op, doc, text))
    meaning = _main_meaning(op, doc, new)
    expect(meaning is None, 3, f"{where}: meaning", str(meaning))
    return True


def _check_edited(
    op: Op, where: str, text: str, edited: str, regions: list[tuple[int, int]] | None
) -> None:
    """Invariant 3 for any edit: only its own lines changed (or, for an insertion, the old
    text is whole around one inserted block), and no lone "\\r" appeared."""
    if regions is None:
        problem = _inserted_once(text, edited)
    else:
        problem = _kept_around(postfix_lines(text), postfix_lines(edited), regions)
    expect(problem is None, 3, f"{where}: lines kept", str(problem))
    expect(_keeps_line_endings(text, edited, op), 3, f"{where}: line endings",
           f"a lone \\r appeared: {edited!r}")  # fmt: skip


def check_edit_main(data: bytes, ops: list[Op]) -> None:
    edit_main(data, ops)


# -- master.cf edits ----------------------------------------------------------------------------

State = list[tuple[str, tuple[str, ...], dict[str, str], tuple[str, ...]]]


def _state(doc: MasterCf) -> State:
    return [
        (s.key, tuple(a.text for a in s.arguments[:8]), s.overrides, s.args) for s in doc.services
    ]


def _master_must_work(op: Op, doc: MasterCf) -> bool:
    """Whether nothing but a bug can stop ``op``: removing or commenting out a service that
    is there, or giving one of its fields a valid value."""
    if op[0] not in ("remove_service", "set_field", "comment_service") or _find(doc, op[1]) is None:
        return False
    if op[0] == "set_field":
        field, value = op[2], op[3]
        if field in ("private", "unprivileged", "chroot"):
            return value in ("y", "n", "-")
        if field == "wakeup":
            return bool(re.fullmatch(r"-|[0-9]+\??", value))
        return bool(re.fullmatch(r"-|[0-9]+", value))
    return True


def _apply_master(editor: MasterEditor, op: Op) -> bool:
    if op[0] == "add_service":
        return editor.add_service(op[1], after=op[2])
    method: Callable[..., bool] = getattr(editor, op[0])
    return method(*op[1:])


def _find(doc: MasterCf, key: str) -> Any:
    name, _, type_ = key.rpartition("/")
    return doc.service(name, type_)


def _master_regions(op: Op, doc: MasterCf, text: str) -> list[tuple[int, int]] | None:
    verb = op[0]
    if verb == "add_service":
        return None
    if verb in ("enable_service", "uncomment_service"):
        marked = [
            (i, int(m.group(2)))
            for i, line in enumerate(postfix_lines(text))
            for m in [re.match(r"# pfedit: commented out (\S+) \((\d+) lines? below\)", line)]
            if m and m.group(1) == op[1]
        ]
        if marked:  # pfedit's marker and the lines it counts (any of them: the last is taken)
            return [(marked[0][0], marked[-1][0] + 1 + marked[-1][1])]
        name, _, type_ = op[1].rpartition("/")
        head = re.compile(r"^#\s*" + re.escape(name) + r"\s+" + re.escape(type_) + r"\s")
        lines = postfix_lines(text)
        found = next((i for i, line in enumerate(lines) if head.match(line)), None)
        if found is None:
            return []
        # the commented block, and what becomes part of the entry once its head is back:
        # indented lines (with comment and blank lines among them) up to the next entry,
        # which the overrides it is given may be written into
        end = found + 1
        while end < len(lines) and lines[end][:1] in ("#", " ", "\t", "\n", "\r", "\v", "\f"):
            end += 1
        return [(found, end)]
    if verb in ("remove_service", "set_field", "comment_service"):
        return [_entry_span(s) for s in doc.services if s.key == op[1]]
    if verb == "move_overrides":
        return [_entry_span(s) for s in doc.services if s.key in (op[1], op[2])]
    service = _find(doc, op[1])
    return [_entry_span(service)] if service is not None else []


def _master_meaning(op: Op, before: MasterCf, after: MasterCf) -> str | None:
    verb = op[0]
    old, new = _state(before), _state(after)
    if verb == "add_service":
        added = _state(pfconf.loads(op[1], "master"))[0]
        at = len(old)
        if op[2] is not None:
            at = next(i for i, s in enumerate(old) if s[0] == op[2]) + 1
        wanted = old[:at] + [added] + old[at:]
        return None if new == wanted else f"services became {[s[0] for s in new]}"
    key = op[1]
    if verb == "remove_service":
        wanted = [s for s in old if s[0] != key]  # every entry of it
        return None if new == wanted else "other services changed"
    if verb == "comment_service":
        wanted = [s for s in old if s[0] != key]  # every entry of it
        return None if new == wanted else "other services changed"
    read = _daemon_reads
    if verb == "move_overrides":
        source, target = key, op[2]
        moved = {
            k: v for k, v in read(before, source).items()
            if (op[3] is None or k in op[3]) and k not in op[4]
        }  # fmt: skip
        for k, f, _, _ in old:
            now = next((n for n in new if n[0] == k), None)
            if k in (source, target) and (now is None or now[1] != f):
                return f"{k}: fields changed"
        left, got = read(after, source), read(after, target)
        if any(k in left for k in moved):
            return f"{source}: overrides left {left}"
        if any(got.get(k) != v for k, v in moved.items()):
            return f"{target}: overrides became {got}, not with {moved}"
        rest = [s for s in new if s[0] not in (source, target)]
        return None if rest == [s for s in old if s[0] not in (source, target)] else "others changed"
    if verb in ("enable_service", "uncomment_service"):
        enabled = [s for s in new if s[0] == key]
        rest = [s for s in new if s[0] != key]
        if len(enabled) != 1 or rest != old:
            return "other services changed"
        for option, value in (op[2] if verb == "enable_service" else {}).items():
            if enabled[0][2].get(option) != value:
                return f"-o {option} is {enabled[0][2].get(option)!r}, not {value!r}"
        return None
    if verb == "set_field":
        from pfconf.model import FIELD_NAMES

        # every entry of the service gets the field, as remove_service removes every entry
        at = FIELD_NAMES.index(op[2])
        wanted = [
            (k, f[:at] + (op[3],) + f[at + 1 :], o, a) if k == key else (k, f, o, a)
            for k, f, o, a in old
        ]
        wanted_fields = [s[1] for s in wanted]
        return None if [s[1] for s in new] == wanted_fields else "fields became something else"
    index = next(i for i, s in enumerate(old) if s[0] == key)
    if new[:index] + new[index + 1 :] != old[:index] + old[index + 1 :]:
        return "other services changed"
    _, fields, overrides, _ = old[index]
    _, new_fields, new_overrides, _ = new[index]
    if verb == "set_field":
        from pfconf.model import FIELD_NAMES

        at = FIELD_NAMES.index(op[2])
        wanted_fields = fields[:at] + (op[3],) + fields[at + 1 :]
        return None if new_fields == wanted_fields else f"fields became {new_fields}"
    if verb == "set_command":
        if new_fields != (*fields[:7], op[2]):
            return f"fields became {new_fields}"
        # the overrides mean the same to the new command's getopt (postconf -P may show more
        # of them once words it stopped at are gone: "-n name -o a=b" without "-n name")
        if read(after, key) != read(before, key):
            return f"the daemon's overrides became {read(after, key)}, not {read(before, key)}"
        words, rest = [], list(new[index][3])
        while rest:  # the arguments but the overrides
            word = rest.pop(0)
            if word == "-o" and rest:
                rest.pop(0)
            else:
                words.append(word)
        if op[3] is not None and words != [w.strip("{} ") for w in op[3]]:
            return f"arguments became {words}"
        return None
    if new_fields != fields:
        return f"fields became {new_fields}"
    # the daemon reads exactly what was asked; postconf -P shows the same value for the name
    # (or, where it stops before the daemon does, at "-n name", none), and the others as before
    name = op[2]
    daemon, shown = read(before, key), {k: v for k, v in overrides.items() if k != name}
    if verb == "set_override":
        daemon[name] = op[3]
        if name in new_overrides or name in overrides:
            shown[name] = op[3]
    else:
        daemon.pop(name, None)
    if read(after, key) != daemon:
        return f"the daemon's overrides became {read(after, key)}, not {daemon}"
    if new_overrides != shown:
        return f"postconf -P's overrides became {new_overrides}, not {shown}"
    return None


def _daemon_reads(doc: MasterCf, key: str) -> dict[str, str]:
    """The overrides of ``key`` as its daemon reads them (the editor's reading: after ``-n
    name`` too, not after a lone ``-``; "-ofoo=bar" is foo=bar)."""
    from pfconf.edit.master import daemon_overrides
    from pfconf.kb import newest_version

    return {o.name: o.value for o in daemon_overrides(_find(doc, key), newest_version())}


def edit_master(data: bytes, ops: list[Op]) -> MasterEditor | None:
    doc = _load(data, "master")
    if not isinstance(doc, MasterCf):
        return None
    editor = MasterEditor(doc)
    for op in ops:
        where = f"master.cf {op[0]}"
        text, before = editor.text, editor.doc
        try:
            done = _apply_master(editor, op)
        except PfconfError as exc:
            expect(editor.text == text, 3, where, f"refused ({exc}) but changed the text")
            expect("internal error" not in str(exc), 3, where, f"the editor caught itself: {exc}")
            expect(
                not _master_must_work(op, before), 3, f"{where}: refused",
                f"a plain edit failed: {exc}",
            )  # fmt: skip
            continue
        after = _check_result(editor, where)
        assert isinstance(after, MasterCf)
        if not done:
            expect(editor.text == text, 3, where, "returned False but changed the text")
            continue
        _check_edited(op, where, text, editor.text, _master_regions(op, before, text))
        meaning = _master_meaning(op, before, after)
        expect(meaning is None, 3, f"{where}: meaning", str(meaning))
    return editor


def check_edit_master(data: bytes, ops: list[Op]) -> None:
    edit_master(data, ops)


# -- with postconf ------------------------------------------------------------------------------


def postconf_installed() -> bool:
    from pfconf.postfix import find_program

    return find_program("postconf") is not None


def check_edit_main_postconf(data: bytes, ops: list[Op]) -> None:
    """Invariant 4: postconf reads the edited main.cf as pfconf does (and so, with invariant
    3, as the edits intended)."""
    from oracle import assert_main_reads_like_postconf, read_main

    editor = edit_main(data, ops)
    if editor is None or not postconf_installed():
        return
    result = encode(editor.text)
    reading = read_main(result)
    if reading.error and "main.cf, line" not in reading.error:
        # "a = $a" (macro processing error), "inet_interfaces = x" (host not found): postconf
        # refuses a value when it uses it, after it has read the file
        return
    if not reading.accepted and not reading.error:
        # postconf died without a word: Postfix 3.7's postconf -n crashes (SIGSEGV) on
        # "compatibility_level = ${{$compatibility_level} <level {3.6} ? {3.6} : {2}}"
        return
    try:
        assert_main_reads_like_postconf(result, reading)
    except AssertionError as exc:
        raise Failure(4, "main.cf", str(exc)) from None


def check_edit_master_postconf(data: bytes, ops: list[Op]) -> None:
    from oracle import assert_master_reads_like_postconf

    editor = edit_master(data, ops)
    if editor is None or not postconf_installed():
        return
    # postconf -P shows the overrides of every entry that shares a name/type under each
    doc = editor.doc
    keys = [s.key for s in doc.services]
    if len(keys) != len(set(keys)):
        return
    from pfconf.expand import expand
    from pfconf.values import too_deep

    def bad_macro(text: str) -> bool:
        # what makes postconf -P stop with "fatal: macro processing error" as it scans an
        # override: nesting past 100 (pflint's SYN005), or $-syntax mac_expand refuses;
        # both branches of a ${name?...:...} are tried
        return bool(
            too_deep(text)
            or expand(text, lambda name: "1").errors
            or expand(text, lambda name: None).errors
        )

    if any(bad_macro(o.value) for s in doc.services for o in s.override_list):
        return  # pfconf reads such a file; postconf -P cannot show it
    if any(too_deep(word.text) for s in doc.services for word in s.arguments):
        return
    try:
        assert_master_reads_like_postconf(encode(editor.text), command_too=False)
    except AssertionError as exc:
        raise Failure(4, "master.cf", str(exc)) from None


# -- lint ---------------------------------------------------------------------------------------


def _snapshot_directory(path: str) -> dict[str, tuple[bytes, int]]:
    """Every file under ``path``: its bytes and mode."""
    files = {}
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                files[os.path.relpath(full, path)] = (handle.read(), os.stat(full).st_mode)
    return files


def _write_directory(path: str, main: bytes | None, master: bytes | None) -> None:
    os.makedirs(path, exist_ok=True)
    for name, data in (("main.cf", main), ("master.cf", master)):
        if data is not None:
            with open(os.path.join(path, name), "wb") as handle:
                handle.write(data)


def _findings(directory: str, named: str, version: tuple[int, int]) -> list[tuple[Any, ...]]:
    from pfconf.lint.engine import Options, lint

    paths = {
        "main": ["main.cf"],
        "both": ["main.cf", "master.cf"],
        "master": ["master.cf"],
    }[named]
    files = [
        os.path.join(directory, p) for p in paths if os.path.exists(os.path.join(directory, p))
    ]
    if not files:
        return []
    run = lint(files, Options(target=version))
    # modulo the directory: every text the findings hold, with it written as "D"
    return [
        tuple(v.replace(directory, "D") if isinstance(v, str) else v for v in attrs.astuple(f))
        for f in run.findings
    ]


def check_lint(main: bytes, master: bytes | None, version: tuple[int, int], named: str) -> None:
    """Invariants 1 and 5: the same findings twice, and in another directory."""
    with tempfile.TemporaryDirectory(prefix="pfconf-fuzz-") as scratch:
        first = os.path.join(scratch, "etc-postfix")
        second = os.path.join(scratch, "elsewhere", "a dir", "deeper")
        _write_directory(first, main, master)
        _write_directory(second, main, master)
        once = _findings(first, named, version)
        twice = _findings(first, named, version)
        expect(once == twice, 5, "lint twice", _diff(once, twice))
        there = _findings(second, named, version)
        expect(once == there, 5, "lint elsewhere", _diff(once, there))


def _diff(a: list[Any], b: list[Any]) -> str:
    return "\n".join(difflib.unified_diff([repr(x) for x in a], [repr(x) for x in b], lineterm=""))


# -- --fix --------------------------------------------------------------------------------------


def check_fix(main: bytes, master: bytes | None, unsafe: bool) -> None:
    """Invariant 6: the fixer raises nothing (ParseError only for a file Postfix would refuse
    too), its result parses, a second pass changes nothing, and parameters no applied fix
    names keep their values."""
    from pfconf.lint.fixer import fix_directory

    parses = _load(main, "main") is not None and (master is None or _load(master, "master"))
    with tempfile.TemporaryDirectory(prefix="pfconf-fuzz-") as scratch:
        first = os.path.join(scratch, "one")
        _write_directory(first, main, master)
        try:
            run = fix_directory(first, unsafe=unsafe)
        except pfconf.ParseError as exc:
            expect(not parses, 6, "fix", f"ParseError on files that parse: {exc}")
            return
        expect(bool(parses), 6, "fix", "fixed files that do not parse")
        ws = run.workspace
        fixed = ws.main.text
        after = _load(fixed, "main")
        expect(isinstance(after, MainCf), 6, "fix", "the fixed main.cf does not parse")
        assert isinstance(after, MainCf)
        doc = ws.main.doc
        named: set[str] = set()
        for finding in run.applied:
            assert finding.fix is not None and finding.fix.edit is not None
            named.update(finding.fix.edit.parameters)
        before_doc = _load(main, "main")
        assert isinstance(before_doc, MainCf)
        old = {k: v for k, v in before_doc.effective().items() if k not in named}
        new = {k: v for k, v in doc.effective().items() if k not in named}
        expect(old == new, 6, "fix", f"parameters no fix names changed: {_dict_diff(old, new)}")
        second = os.path.join(scratch, "two")
        _write_directory(second, encode(fixed), master)
        again = fix_directory(second, unsafe=unsafe)
        expect(
            not again.applied and not again.workspace.changed, 6, "fix twice",
            f"the second pass applied {[f.code for f in again.applied]}",
        )  # fmt: skip


def _dict_diff(a: dict[str, str], b: dict[str, str]) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys)


# -- recipes ------------------------------------------------------------------------------------


def _recipe_targets(name: str) -> tuple[set[str], set[str], set[str]]:
    """What a recipe may change: main.cf parameters, master.cf services, other files."""
    recipe = load_recipe(name)
    params, services, files = set(), set(), set()
    for step in recipe.steps:
        for field in ("name", "old", "new"):
            if isinstance(getattr(step, field, None), str):
                params.add(getattr(step, field))
        for field in ("key", "source", "target"):
            if isinstance(getattr(step, field, None), str):
                services.add(getattr(step, field))
        services |= set(getattr(step, "alternatives", ()))
        path = getattr(step, "path", None)
        if isinstance(path, str):
            files.add(path)
    return params, services, files


def _owned(doc: MainCf | MasterCf, wanted: set[str]) -> set[int]:
    """0-based lines of the entries (or services) whose name (or key) is in ``wanted``."""
    lines: set[int] = set()
    things = doc.entries if isinstance(doc, MainCf) else doc.services
    for thing in things:
        if (thing.name if isinstance(doc, MainCf) else thing.key) in wanted:
            start, end = _entry_span(thing)
            lines |= set(range(start, end))
    return lines


def _commented_services(text: str, keys: set[str]) -> set[int]:
    """Lines of commented-out services in ``keys`` (``#submission inet ...`` and the ``#  -o``
    lines after it): enabling a service may change them."""
    lines = postfix_lines(text)
    found: set[int] = set()
    for key in keys:
        name, _, type_ = key.rpartition("/")
        head = re.compile(r"^#\s*" + re.escape(name) + r"\s+" + re.escape(type_) + r"\s")
        for index, line in enumerate(lines):
            if head.match(line):
                found.add(index)
                end = index + 1
                while end < len(lines) and lines[end].startswith("#"):
                    found.add(end)
                    end += 1
    return found


def _only_targets(old_text: str, new_text: str, old_own: set[int], new_own: set[int]) -> str | None:
    """Whether every line that no target owns is kept, in order and byte for byte: lines owned
    by targets may go (old) or come (new); None if so.  Old and new lines are paired as
    difflib pairs them; the last line of a file without a final newline may gain one."""
    old, new = postfix_lines(old_text), postfix_lines(new_text)
    readings = [old]
    if old and not old_text.endswith("\n"):
        # the last line as it is, or with the line ending it gained (which may land anywhere
        # in the new text: lines removed above it move it up).  Each reading is tried: the
        # same line may stand elsewhere in the file with its newline, and then finding it
        # in the new text does not show that the last line gained one
        readings += [[*old[:-1], old[-1] + eol] for eol in ("\n", "\r\n")]
    problems = [_only_targets_in(lines, new, old_own, new_own) for lines in readings]
    return None if None in problems else problems[0]


def _only_targets_in(
    old: list[str], new: list[str], old_own: set[int], new_own: set[int]
) -> str | None:
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            if i not in old_own:
                return f"line {i + 1} ({old[i]!r}) is not a target's, yet it changed"
        for j in range(j1, j2):
            if j not in new_own:
                return f"new line {j + 1} ({new[j]!r}) is not a target's"
    return None


def check_recipe(
    name: str,
    options: dict[str, str],
    version: tuple[int, int],
    main: bytes,
    master: bytes | None,
    sasl_dir: bool,
) -> None:
    """Invariant 7 (and 1): on success, only the recipe's targets change, and applying it again
    changes nothing."""
    recipe = load_recipe(name)
    params, services, files = _recipe_targets(name)
    where = f"recipe {name}"
    with tempfile.TemporaryDirectory(prefix="pfconf-fuzz-") as scratch:
        path = os.path.join(scratch, "postfix")
        _write_directory(path, main, master)
        if sasl_dir:
            os.mkdir(os.path.join(path, "sasl"))
        before_files = sorted(os.listdir(path))
        try:
            ws = Workspace(path)
        except PfconfError:
            return  # a main.cf that does not parse, say
        try:
            apply_recipe(recipe, ws, options, version)
        except PfconfError:
            ws.close()
            return
        main_text = ws.main.text
        old_main = pfconf.loads(main, "main")
        problem = _only_targets(
            decode(main), main_text, _owned(old_main, params), _owned(ws.main.doc, params)
        )
        expect(problem is None, 7, f"{where}: main.cf", str(problem))
        old_eff = {k: v for k, v in old_main.effective().items() if k not in params}
        new_eff = {k: v for k, v in ws.main.doc.effective().items() if k not in params}
        expect(old_eff == new_eff, 7, f"{where}: main.cf", _dict_diff(old_eff, new_eff))
        if ws.master is not None and master is not None:
            old_master = pfconf.loads(master, "master")
            old_own = _owned(old_master, services) | _commented_services(decode(master), services)
            problem = _only_targets(
                decode(master), ws.master.text, old_own, _owned(ws.master.doc, services)
            )
            expect(problem is None, 7, f"{where}: master.cf", str(problem))
            old_rest = [s for s in _state(old_master) if s[0] not in services]
            new_rest = [s for s in _state(ws.master.doc) if s[0] not in services]
            expect(old_rest == new_rest, 7, f"{where}: master.cf", "other services changed")
        on_disk = _snapshot_directory(path)
        try:
            written = ws.write()
        except PfconfError:
            # postmap refused the table, say (it reads main.cf, and a generated one may name
            # files this machine lacks): then nothing may have changed, all or nothing
            expect(_snapshot_directory(path) == on_disk, 7, where, "a failed write left changes")
            return
        # a table comes with its index (sasl_passwd.db), which postmap builds
        indexes = {f + s for f in files for ss in postfix.INDEX_SUFFIXES.values() for s in ss}
        allowed = {"main.cf", "master.cf", *files, *indexes}
        stray = [p for p in written if os.path.relpath(p, path) not in allowed]
        expect(not stray, 7, where, f"wrote {stray}")
        created = set(os.listdir(path)) - set(before_files)
        expect(created <= {p.split("/")[0] for p in allowed}, 7, where, f"created {created}")
        with Workspace(path) as again:
            try:
                apply_recipe(recipe, again, options, version)
            except PfconfError as exc:
                raise Failure(7, f"{where}: twice", f"the second run failed: {exc}") from None
            # a table to build again would be a pending file: again.changed covers it
            expect(
                not again.changed and not again.changes, 7, f"{where}: twice",
                f"the second run changed {[c.describe() for c in again.changes]}",
            )  # fmt: skip


# =============================================================================================
# The registry
# =============================================================================================


@attrs.frozen
class Target:
    """One fuzz target: what it feeds, what it checks, and its share of a run's examples."""

    name: str
    summary: str
    invariants: tuple[int, ...]
    strategy: Callable[[frozenset[str]], st.SearchStrategy[tuple[Any, ...]]]
    check: Callable[..., None]
    #: The known bugs (KNOWN) this target can run into, and so steps around while they are open
    steps_around: frozenset[str] = frozenset()
    #: tools/fuzz.py runs --examples // share of this target (postconf costs ~30 ms a run)
    share: int = 1
    postconf: bool = False


def _parse_inputs(kind: str) -> Callable[[frozenset[str]], st.SearchStrategy[tuple[Any, ...]]]:
    def inputs(avoid: frozenset[str]) -> st.SearchStrategy[tuple[Any, ...]]:
        structured = (main_cf if kind == "main" else master_cf)(avoid)
        return st.tuples(st.one_of(structured, structured, junk_bytes()))

    return inputs


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("parse-main", "read main.cf text: structure, corpus mutations, junk",
               (1, 2), _parse_inputs("main"), check_parse_main),
        Target("parse-master", "read master.cf text: structure, corpus mutations, junk",
               (1, 2), _parse_inputs("master"), check_parse_master),
        Target("edit-main", "set, unset, comment, uncomment, rename and list edits on main.cf",
               (1, 2, 3), main_edits, check_edit_main),
        Target("edit-master", "override, field and service edits on master.cf",
               (1, 2, 3), master_edits, check_edit_master),
        Target("edit-main-postconf", "main.cf edits, the result read by postconf -n",
               (1, 3, 4), main_edits, check_edit_main_postconf,
               share=50, postconf=True),
        Target("edit-master-postconf", "master.cf edits, the result read by postconf -F/-P",
               (1, 3, 4), master_edits, check_edit_master_postconf,
               share=50, postconf=True),
        Target("lint", "pflint on a directory: twice, and copied elsewhere",
               (1, 5), lint_case, check_lint, share=4),
        Target("fix", "pflint --fix (and --unsafe-fixes), then again on its result",
               (1, 6), fix_case, check_fix, share=10),
        Target("recipe", "every built-in recipe with its options, then again on its result",
               (1, 7), recipe_case, check_recipe, share=16),
    ]
}  # fmt: skip


@attrs.define
class Tally:
    """What one Hypothesis run of a target did: inputs checked, the last one that failed
    (after shrinking, the minimal reproducer), and the slowest one (no invariant bounds the
    time a check takes, but a slow input points at a quadratic edit)."""

    inputs: int = 0
    failing: tuple[Any, ...] | None = None
    slowest: float = 0.0
    slowest_case: tuple[Any, ...] | None = None


def run_check(target: Target, case: tuple[Any, ...], avoid: frozenset[str] = frozenset()) -> None:
    """Check one input in a fresh thread, so that it starts at the same stack depth however it
    is called (from Hypothesis, while shrinking, or from a test): a RecursionError then shows
    up at the same nesting depth every time instead of depending on the caller."""
    global _avoiding
    _avoiding = avoid
    raised: list[BaseException] = []

    def body() -> None:
        try:
            target.check(*case)
        except BaseException as exc:  # noqa: BLE001 (the calling thread raises it)
            raised.append(exc)

    thread = threading.Thread(target=body, name=f"fuzz-{target.name}")
    thread.start()
    thread.join()
    if raised:
        raise raised[0]


def hypothesis_test(
    target: Target,
    settings: Any,
    avoid: frozenset[str] = DEFAULT_AVOID,
    ignore: frozenset[str] = frozenset(),
    tally: Tally | None = None,
) -> Callable[[], None]:
    """``target`` as a Hypothesis test under ``settings``; failures whose signature is in
    ``ignore`` (found earlier in the same run) count as passes."""
    from hypothesis import given

    counts = tally if tally is not None else Tally()
    avoid = avoid & target.steps_around

    @settings
    @given(target.strategy(avoid))
    def run(case: tuple[Any, ...]) -> None:
        counts.inputs += 1
        start = time.perf_counter()
        try:
            run_check(target, case, avoid)
        except Exception as exc:
            if signature(exc) in ignore:
                return
            counts.failing = case
            raise
        finally:
            took = time.perf_counter() - start
            if took > counts.slowest:
                counts.slowest, counts.slowest_case = took, case

    return run
