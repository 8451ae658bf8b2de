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
from .configuration import Configuration

#: What stands for a client-dependent name while the code is checked: a reply that starts
#: with it is not judged.
_UNKNOWN = "\x01"


@attrs.frozen
class RblTemplate:
    """A reply template and what rbl_reject_reply() makes of it: ``error`` is why
    mac_expand() fails (a syntax error, or a name smtpd does not define), ``code_error``
    why the expanded reply is not a 4xx/5xx reply (then smtpd sends "450 4.7.1 Service
    unavailable" instead); ``stops`` when the error is one that stops smtpd at once (a
    comparison's number too large for a long, Postfix 3.2 and later)."""

    text: str
    error: str | None = None
    code_error: str | None = None
    stops: bool = False


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
    if expansion.fatal is not None and version[:2] < (3, 2):
        return RblTemplate(text)  # atol() before 3.2: no stop, a result not known here
    if expansion.errors:
        fatal = expansion.errors[0] == expansion.fatal
        return RblTemplate(text, error=expansion.errors[0], stops=fatal)
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


#: The names smtpd fills in in smtpd_reject_footer (smtpd/smtpd_expand.c,
#: smtpd_expand_lookup() and smtpd_expand_addr(); the same since Postfix 2.8): no main.cf
#: parameter, ``server_name`` stands for $myhostname.
SMTPD_FOOTER_MACROS = frozenset({
    "server_name", "client", "client_port", "client_address", "client_name",
    "reverse_client_name", "helo_name", "sender", "sender_name", "sender_domain",
    "recipient", "recipient_name", "recipient_domain", "localtime",
})  # fmt: skip
#: The names postscreen fills in in postscreen_reject_footer (postscreen/postscreen_expand.c,
#: psc_expand_lookup()).
POSTSCREEN_FOOTER_MACROS = frozenset({"server_name", "client_address", "client_port", "localtime"})


def unknown_macros(text: str, known: frozenset[str]) -> list[str]:
    """The names a reply footer template asks for that are not in ``known``, in order: each
    one makes the server log 'unknown macro name "..." in expansion request' and expands to
    nothing (global/smtp_reply_footer.c: mac_expand() without recursion).  Both outcomes of
    each ``${name?...}``/``${name:...}`` are explored, as a client's values decide which is
    taken."""
    found: list[str] = []
    for value in ("x", ""):

        def lookup(name: str, value: str = value) -> str | None:
            if name in known:
                return value
            if name not in found:
                found.append(name)
            return None

        expand(text, lookup, recurse=False)
    return found


def postscreen_footer(config: Configuration) -> tuple[str, str]:
    """postscreen's reject footer template as it uses it, and the parameter it comes from:
    postscreen_reject_footer, or the parameter it names alone (``$name``, and from Postfix
    3.11 ``${name}``), whose value postscreen puts in once at start-up when main.cf or
    postscreen defines that name (postscreen/postscreen.c, post_jail_init(); 3.11:
    contains_only_parameter())."""
    raw = config.raw("postscreen_reject_footer") or ""
    name: str | None = None
    if raw.startswith("${") and raw.endswith("}") and config.version[:2] >= (3, 11):
        name = raw[2:-1]
    elif raw.startswith("$") and not raw.startswith("${"):
        name = raw[1:]
    if name is not None and (
        name in ("smtpd_reject_footer", "postscreen_reject_footer") or config.is_set(name)
    ):
        return config.raw(name) or "", name
    return raw, "postscreen_reject_footer"
