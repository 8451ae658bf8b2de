"""The first layer of the model: what value each parameter has.

It answers "what value does parameter X have": the last definition in main.cf,
else the default the target Postfix release compiles in (which may itself be an expression
of ``compatibility_level``, as Postfix 3.x's compatibility defaults are), then expanded as
Postfix expands it (pfconf.expand).  A few defaults are computed by Postfix at start-up
(``myhostname`` from the host's name, ``mynetworks`` from its interfaces); the model does
not guess them: they are undefined unless the caller supplies them in ``runtime``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..expand import Expansion, expand
from ..kb import KnowledgeBase, Version
from ..model import MainCf, MasterCf, Override, Parameter, Service
from ..values import split_list

#: Where a value comes from: a master.cf ``-o`` override, a main.cf definition, or nothing
#: written (the release's default, or a value computed at start-up).
Origin = Override | Parameter | None


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
        service: Service | None = None,
        overrides: Sequence[Override] | None = None,
    ) -> None:
        self.main = main
        self.master = master
        self.kb = KnowledgeBase(version)
        self.version = self.kb.target
        self.runtime = dict(runtime or {})
        #: the machine's name as gethostname() gives it; None when unknown
        self.hostname = hostname
        #: the master.cf service whose ``-o`` overrides this view includes; None: main.cf's
        self.service = service
        #: the service's ``-o`` overrides the daemon reads, in order (``overrides``, the
        #: daemon's reading from semantics.programs; by default postconf's, Service's own)
        self.overrides: tuple[Override, ...] = (
            tuple(overrides) if overrides is not None
            else service.override_list if service is not None
            else ()
        )  # fmt: skip
        self._defined = main.effective()
        if service is not None:
            # master(8) passes each -o to the daemon, which stores it in its copy of main.cf's
            # dictionary before it reads any parameter (mail_conf_update() in the skeletons'
            # option loop): every value, and every $name in other values, sees the override
            self._defined.update({o.name: o.value for o in self.overrides})
        #: what a daemon knows of itself: master.cf's service name (master passes it with
        #: -n) and its program's name (process_name)
        self._daemon: dict[str, str] = {}
        if service is not None:
            self._daemon = {
                "service_name": service.name,
                "process_name": service.command.rsplit("/", 1)[-1],
            }
        self._computing: set[str] = set()
        # Each name's expansion, worked out once per view: rules ask the same view for the
        # same names many times.  Not kept while myhostname or mydomain is being worked out
        # (an answer given then is not the final one).
        self._expansions: dict[str, Expansion | None] = {}
        # the last -o of each name (the one that counts), and main.cf's view, made once
        self._last_override = {o.name: o for o in self.overrides}
        self._main_view: Configuration | None = None

    def for_service(
        self, service: Service, overrides: Sequence[Override] | None = None
    ) -> Configuration:
        """The configuration a daemon of ``service`` runs with: main.cf with the service's
        ``-o`` overrides (``overrides`` as the daemon reads them; by default as postconf
        reads them)."""
        view = Configuration(
            self.main, self.master, self.version, self.runtime, self.hostname, service, overrides
        )
        # every service's view shares main.cf's (master and the daemons' own settings read it)
        view._main_view = self.main_view()
        return view

    def main_view(self) -> Configuration:
        """main.cf alone, as master(8) and programs without overrides read it."""
        if self.service is None:
            return self
        if self._main_view is None:
            self._main_view = Configuration(
                self.main, self.master, self.version, self.runtime, self.hostname
            )
        return self._main_view

    def origin(self, name: str) -> Origin:
        """Where the value of ``name`` is written: the service's override, main.cf's last
        definition, or None (a default)."""
        override = self._last_override.get(name)
        return override if override is not None else self.main.get(name)

    def is_set(self, name: str) -> bool:
        """Whether ``name`` is written in main.cf or an override of this view's service."""
        return name in self._defined

    def raw(self, name: str) -> str | None:
        """The value before expansion: main.cf's, else what ``runtime`` says of this machine
        (a value computed at start-up, or a default its build chose), else the default the
        target release compiles in; None when the name has no value (unknown to the release
        and not defined, or computed at start-up and not supplied)."""
        if name in self._defined:
            return self._defined[name]
        if name in self._daemon:
            return self._daemon[name]
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
        found = self._expansion(name)
        return None if found is None else found.copy()

    def _expansion(self, name: str) -> Expansion | None:
        # the one kept for this view: callers that only read it need no copy
        if name in self._expansions:
            return self._expansions[name]
        found = self._expand(name)
        if not self._computing:
            self._expansions[name] = found
        return found

    def _expand(self, name: str) -> Expansion | None:
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
        found = self._expansion(name)
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


def yes(value: str | None) -> bool:
    """A Postfix boolean: ``yes`` in any case is true, anything else false (get_mail_conf_bool
    in global/mail_conf_bool.c accepts only yes and no, and the default stands for no)."""
    return (value or "").strip().lower() == "yes"


# -- a parameter's default where main.cf sets it (rules that ignore a default written out) ---


def default_value(config: Configuration, name: str) -> str | None:
    """The value ``name`` would have in ``config`` if neither main.cf nor the service set it:
    the target release's default, compatibility-level expressions and ``$name`` expanded
    with the configuration's other values; None when the release has no default."""
    raw = config.kb.compiled_default(name, config.version)
    if raw is None:
        return None
    info = config.kb.parameter(name) or {}
    if info.get("raw"):
        return raw
    return expand(raw, config.raw).text
