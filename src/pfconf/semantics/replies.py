"""Reply templates smtpd fills in per client, read as smtpd_check.c rbl_reject_reply() reads
them: default_rbl_reply and the templates of rbl_reply_maps.

The template is expanded when a DNS list rejects a client, with the rbl_* names and the
client's names (rules/smtpd.toml, rbl_macros); an undefined name or a syntax error makes
mac_expand() fail, and the reply must then start with a 4xx or 5xx code and a blank.
"""

from __future__ import annotations

import attrs

from ..expand import expand
from ..kb import Version, load_table, parse_version

#: What stands for a client-dependent name while the code is checked: a reply that starts
#: with it is not judged.
_UNKNOWN = "\x01"


@attrs.frozen
class RblTemplate:
    """A reply template and what rbl_reject_reply() makes of it: ``error`` is why
    mac_expand() fails (a syntax error, or a name smtpd does not define), ``code_error``
    why the expanded reply is not a 4xx/5xx reply (then smtpd sends "450 4.7.1 Service
    unavailable" instead)."""

    text: str
    error: str | None = None
    code_error: str | None = None


def rbl_macros(version: Version) -> frozenset[str]:
    """The names an RBL reply template may use in Postfix ``version``."""
    table = load_table("smtpd").get("rbl_macros", {})
    return frozenset(
        name for name, since in table.items() if version[:2] >= parse_version(str(since))[:2]
    )


def rbl_template(text: str, version: Version, rbl_code: str | None) -> RblTemplate:
    """Read ``text`` as rbl_reject_reply() does; ``rbl_code`` is maps_rbl_reject_code (None
    when it is not a number: PAR010's business)."""
    names = rbl_macros(version)

    def lookup(name: str) -> str | None:
        if name == "rbl_code" and rbl_code is not None:
            return rbl_code
        return _UNKNOWN if name in names else None

    # MAC_EXP_FLAG_NONE: the names' values are not expanded again
    expansion = expand(text, lookup, recurse=False)
    if expansion.errors:
        return RblTemplate(text, error=expansion.errors[0])
    if expansion.undefined:
        return RblTemplate(text, error=f'unknown macro name "{expansion.undefined[0]}"')
    reply = expansion.text
    if reply.startswith(_UNKNOWN):
        return RblTemplate(text)
    head = reply[:4]
    if (
        len(head) < 4
        or head[0] not in "45"
        or not (head[1].isascii() and head[1].isdigit())
        or not (head[2].isascii() and head[2].isdigit())
        or head[3] != " "
    ):
        shown = reply.replace(_UNKNOWN, "...")[:40]
        return RblTemplate(
            text, code_error=f'the reply "{shown}" does not start with a 4xx or 5xx code'
        )
    return RblTemplate(text)
