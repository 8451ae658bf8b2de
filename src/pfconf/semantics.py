"""What the running Postfix makes of a main.cf and master.cf pair: the one model rules ask.

This first layer answers "what value does parameter X have": the last definition in main.cf,
else the default the target Postfix release compiles in (which may itself be an expression
of ``compatibility_level``, as Postfix 3.x's compatibility defaults are), then expanded as
Postfix expands it (pfconf.expand).  A few defaults are computed by Postfix at start-up
(``myhostname`` from the host's name, ``mynetworks`` from its interfaces); the model does
not guess them: they are undefined unless the caller supplies them in ``runtime``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from .expand import Expansion, expand
from .kb import KnowledgeBase, Version
from .model import MainCf, MasterCf
from .values import split_list


@attrs.frozen
class MatchList:
    """A parameter read by match_list_parse() (util/match_list.c): its expanded value split at
    commas and blanks, ``{...}`` kept whole, up to the first word that starts with ``#``.
    Postfix drops that word and the rest (``ignored``) and logs "comment at end of line is
    not supported" each time a program reads the list."""

    name: str
    items: tuple[str, ...]
    ignored: str | None = None


#: DEF_MYDOMAIN (global/mail_params.h): the domain of a host whose name has no dot.
DEFAULT_MYDOMAIN = "localdomain"


class Configuration:
    """A main.cf (and master.cf) as a given Postfix release reads them."""

    def __init__(
        self,
        main: MainCf,
        master: MasterCf | None = None,
        version: Version | None = None,
        runtime: Mapping[str, str] | None = None,
        hostname: str | None = None,
    ) -> None:
        self.main = main
        self.master = master
        self.kb = KnowledgeBase(version)
        self.version = self.kb.target
        self.runtime = dict(runtime or {})
        #: the machine's name as gethostname() gives it; None when unknown
        self.hostname = hostname
        self._defined = main.effective()
        self._computing: set[str] = set()

    def raw(self, name: str) -> str | None:
        """The value before expansion: main.cf's, else what ``runtime`` says of this machine
        (a value computed at start-up, or a default its build chose), else the default the
        target release compiles in; None when the name has no value (unknown to the release
        and not defined, or computed at start-up and not supplied)."""
        if name in self._defined:
            return self._defined[name]
        if name in self.runtime:
            return self.runtime[name]
        if not self.kb.known(name, self.version):
            return None
        if name in ("myhostname", "mydomain"):
            # computed from each other at start-up; asked again while computing (mydomain =
            # $myhostname, and a short host name), Postfix finds nothing yet
            if name in self._computing:
                return None
            self._computing.add(name)
            try:
                return self._myhostname() if name == "myhostname" else self._mydomain()
            finally:
                self._computing.discard(name)
        return self.kb.compiled_default(name, self.version)

    def _myhostname(self) -> str | None:
        """check_myhostname() in global/mail_params.c: the machine's name, with ``.$mydomain``
        (or ``.localdomain``) appended when it has no dot."""
        if self.hostname is None:
            return None
        if "." in self.hostname:
            return self.hostname
        domain = self.value("mydomain") if "mydomain" in self._defined else None
        return f"{self.hostname}.{domain if domain is not None else DEFAULT_MYDOMAIN}"

    def _mydomain(self) -> str | None:
        """check_mydomainname(): what follows the first dot of $myhostname, else
        ``localdomain``."""
        host = self.value("myhostname")
        if host is None:
            return None
        return host.split(".", 1)[1] if "." in host else DEFAULT_MYDOMAIN

    def expansion(self, name: str) -> Expansion | None:
        """The value of ``name`` expanded as ``postconf -x`` shows it, with the undefined
        names it used and Postfix's syntax warnings; None when the name has no value."""
        raw = self.raw(name)
        if raw is None:
            return None
        info = self.kb.parameter(name) or {}
        if info.get("raw") and name not in self.runtime:
            # a "raw" parameter (CONFIG_RAW_TABLE): daemons read it without expansion, and
            # fill in its $names per use (default_rbl_reply's $rbl_code, for instance)
            return Expansion(raw)
        return expand(raw, self.raw)

    def value(self, name: str) -> str | None:
        """The expanded value of ``name`` (None when it has none)."""
        found = self.expansion(name)
        return None if found is None else found.text

    def match_list(self, name: str) -> MatchList | None:
        """``name`` as a match list (mydestination, relay_domains, mynetworks...): the items
        Postfix matches against; None when it has no value."""
        value = self.value(name)
        if value is None:
            return None
        items: list[str] = []
        for token in split_list(value):
            if token.text.startswith("#"):
                return MatchList(name, tuple(items), value[token.start :])
            items.append(token.text)
        return MatchList(name, tuple(items))

    def reads_as_match_list(self, name: str) -> bool:
        """Whether Postfix reads ``name`` with match_list_parse() (the knowledge base, from
        the *_list_init() calls in Postfix's source)."""
        return (self.kb.parameter(name) or {}).get("reading") == "match_list"


# -- the SMTP server's TLS -------------------------------------------------------------------

#: Where smtpd finds a server certificate (tls/tls_server.c, tls_server_init: with none of
#: them set, smtpd logs that TLS is off and offers no STARTTLS).
SERVER_CERTIFICATES = (
    "smtpd_tls_chain_files",
    "smtpd_tls_cert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_dcert_file",
)


@attrs.frozen
class ServerTls:
    """What an smtpd offers: ``none`` (no STARTTLS at all), ``optional`` (STARTTLS offered,
    plain text allowed) or ``required`` (STARTTLS before mail, or TLS from the first byte in
    wrapper mode), and why, in Postfix's words."""

    state: str
    why: str


def yes(value: str | None) -> bool:
    """A Postfix boolean: ``yes`` in any case is true, anything else false (get_mail_conf_bool
    in global/mail_conf_bool.c accepts only yes and no, and the default stands for no)."""
    return (value or "").strip().lower() == "yes"


def server_tls(value: Callable[[str], str | None]) -> ServerTls:
    """The TLS an smtpd offers, from its effective values (``value(name)``: main.cf with the
    service's -o overrides, defaults as None).  smtpd.c (pre_jail_init) decides the level:
    smtpd_tls_security_level when set, else the legacy smtpd_enforce_tls / smtpd_use_tls;
    wrapper mode requires TLS whatever the level; and TLS needs a certificate."""
    if yes(value("smtpd_tls_wrappermode")):
        return ServerTls("required", "smtpd_tls_wrappermode = yes")
    level = (value("smtpd_tls_security_level") or "").strip().lower()
    why = f"smtpd_tls_security_level = {level}"
    if not level:
        if yes(value("smtpd_enforce_tls")):
            level, why = "encrypt", "smtpd_enforce_tls = yes"
        elif yes(value("smtpd_use_tls")):
            level, why = "may", "smtpd_use_tls = yes"
        else:
            return ServerTls("none", "smtpd_tls_security_level is not set")
    if level not in ("may", "encrypt"):
        return ServerTls("none", why)
    if not any((value(name) or "").strip() for name in SERVER_CERTIFICATES):
        return ServerTls("none", f"{why}, but no server certificate is set")
    return ServerTls("required" if level == "encrypt" else "optional", why)
