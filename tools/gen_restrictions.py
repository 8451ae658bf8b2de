#!/usr/bin/env python3
"""Generate rules/restrictions.toml: every smtpd restriction name by Postfix version.

Usage:  python tools/gen_restrictions.py [POSTFIX_GIT_DIR]

For each release (the same releases as tools/gen_parameters.py) the script reads
src/smtpd/smtpd_check.c and collects the names smtpd compares a restriction against
(``strcasecmp(name, REJECT_RBL_CLIENT)``, ``is_map_command(state, name, CHECK_CLIENT_ACL,
...)``), resolving the macros through the headers.  That gives when each name appeared and
disappeared.  What a restriction takes as argument and where it may be used follows from its
family (check_*_access take a table, reject_rbl_client a DNS zone, ...), encoded below; the
renames and removals come from rules/restriction_overrides.toml with their sources.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_parameters import _DEFINE, DEFAULT_MIRROR, _resolve, git, read_files, releases

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rules" / "restrictions.toml"
OVERRIDES = ROOT / "rules" / "restriction_overrides.toml"

_CALLS = re.compile(r"\(state, name, ([A-Z_0-9]+)|cmp\(name, ([A-Z_0-9]+)\)")
_NOT_RESTRICTIONS = {
    "CHECK_ADDR_MAP",
    "SMTPD_NAME_CLIENT",
    "SMTPD_NAME_HELO",
    "SMTPD_NAME_RECIPIENT",
}

# Which SMTP stage a restriction looks at; it may be used in that stage's list and in every
# later one (client < helo < sender < recipient), and in the relay, data and end-of-data lists.
GENERIC = {
    "permit", "reject", "defer", "defer_if_permit", "defer_if_reject", "warn_if_reject",
    "check_policy_service", "reject_multi_recipient_bounce", "reject_plaintext_session",
    "reject_unauth_pipelining", "sleep",
}  # fmt: skip
STAGES = ("client", "helo", "sender", "recipient")
LISTS = {
    "client": ["client", "helo", "sender", "recipient", "relay", "data", "end_of_data", "etrn"],
    "helo": ["helo", "sender", "recipient", "relay", "data", "end_of_data", "etrn"],
    "sender": ["sender", "recipient", "relay", "data", "end_of_data"],
    "recipient": ["recipient", "relay", "data", "end_of_data"],
    "etrn": ["etrn"],
    "generic": ["client", "helo", "sender", "recipient", "relay", "data", "end_of_data", "etrn"],
}


def stage(name: str) -> str:
    if name in GENERIC:
        return "generic"
    if name == "check_etrn_access":
        return "etrn"
    if "helo" in name or name in (
        "reject_invalid_hostname",
        "reject_unknown_hostname",
        "reject_non_fqdn_hostname",
    ):
        return "helo"
    if "sender" in name or name in ("reject_unlisted_sender", "reject_unverified_sender"):
        return "sender"
    if "recipient" in name or "rcpt" in name or name in (
        "permit_auth_destination", "permit_mx_backup", "reject_unauth_destination",
        "defer_unauth_destination", "check_recipient_maps", "check_relay_domains",
    ):  # fmt: skip
        return "recipient"
    return "client"


def argument(name: str) -> str:
    if name.startswith("check_") and name.endswith("_access"):
        return "table"
    if name in (
        "reject_rbl_client",
        "reject_rbl",
        "permit_dnswl_client",
        "permit_rhswl_client",
    ) or name.startswith("reject_rhsbl_"):
        return "dns_zone"
    if name == "reject_maps_rbl":
        return "none"
    if name == "check_policy_service":
        return "policy_service"
    if name == "sleep":
        return "time"
    if name == "warn_if_reject":
        return "restriction"
    return "none"


def scan(mirror: str, ref: str) -> set[str]:
    listing = git(mirror, "ls-tree", "-r", "--name-only", ref, "postfix/src")
    headers = [p for p in listing.split() if p.endswith(".h")]
    texts = read_files(mirror, ref, headers + ["postfix/src/smtpd/smtpd_check.c"])
    raw: dict[str, str] = {}
    for path in headers:
        # mail_params.h continues some restriction names on the next line with a backslash
        text = re.sub(r"\\\n[ \t]*", " ", texts.get(path, ""))
        for macro, body in _DEFINE.findall(text):
            raw[macro] = body
    values = _resolve(raw)
    names = set()
    for a, b in _CALLS.findall(texts.get("postfix/src/smtpd/smtpd_check.c", "")):
        macro = a or b
        if macro in _NOT_RESTRICTIONS or macro not in values:
            continue
        names.add(values[macro])
    return names


def main() -> int:
    mirror = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MIRROR
    head = git(mirror, "rev-parse", "HEAD").strip()
    versions = releases(mirror)
    order = [v for v, _ in versions]
    refs = dict(versions)
    present: dict[str, list[str]] = {}
    for version, ref in versions:
        for name in scan(mirror, ref):
            present.setdefault(name, []).append(version)
        print(f"{version:>5} {ref}", file=sys.stderr)
    from pfconf import _toml

    with open(OVERRIDES, "rb") as handle:
        overrides = _toml.load(handle).get("restrictions", {})
    restrictions: dict[str, dict[str, object]] = {}
    for name in sorted(present):
        seen = present[name]
        info: dict[str, object] = {
            "argument": argument(name),
            "stage": stage(name),
            "lists": LISTS[stage(name)],
            "introduced": seen[0],
        }
        if seen[-1] != order[-1]:
            info["removed"] = order[order.index(seen[-1]) + 1]
        ref = refs[seen[0]] if refs[seen[0]] != "HEAD" else f"HEAD({head[:8]})"
        info["sources"] = [f"src/smtpd/smtpd_check.c@{ref}"]
        for key, value in overrides.get(name, {}).items():
            if key == "source":
                sources = info["sources"]
                assert isinstance(sources, list)
                sources.append(value)
            else:
                info[key] = value
        restrictions[name] = info
    document = {
        "meta": {
            "generated_by": "tools/gen_restrictions.py",
            "postfix_source": f"github.com/vdukhovni/postfix at {head}",
            "postfix_versions": order,
        },
        "restrictions": restrictions,
    }
    header = (
        "# Generated by tools/gen_restrictions.py; do not edit by hand (see rules/SOURCES.md).\n"
    )
    OUT.write_text(header + tomli_w.dumps(document))
    print(f"wrote {OUT} with {len(restrictions)} restrictions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
