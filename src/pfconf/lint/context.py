"""What a rule looks at: one Postfix configuration (main.cf, master.cf) and the target version.

Rules judge smtpd settings per service: main.cf plus that service's ``-o`` overrides, the way
Postfix runs them.  The Context builds those views and turns syntax positions into findings.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from .. import load
from ..kb import KnowledgeBase, Version
from ..model import Item, MainCf, MasterCf, Override, Parameter, Service, Span
from ..resources import rules_dir
from ..semantics import Configuration, Daemon, Postfix, Written
from . import location as at
from .finding import Finding, Fix
from .location import File, Location

if TYPE_CHECKING:
    from .rule import Rule


def stock_master() -> MasterCf:
    """Postfix's own master.cf, assumed when a main.cf has none beside it."""
    doc = load(str(rules_dir() / "stock-master.cf"), "master")
    assert isinstance(doc, MasterCf)
    return doc


Origin = Parameter | Override | None


@attrs.define
class ServiceConfig:
    """The settings one master.cf service runs with: its overrides, then main.cf."""

    service: Service
    main: MainCf | None

    @property
    def key(self) -> str:
        return self.service.key

    def origin(self, name: str) -> Origin:
        """Where ``name`` is set for this service: an Override, a main.cf Parameter, or None."""
        override = self.service.override(name)
        if override is not None:
            return override
        if self.main is not None:
            return self.main.get(name)
        return None

    def value(self, name: str) -> str | None:
        """The value set for this service, or None when Postfix's default applies."""
        origin = self.origin(name)
        return origin.value if origin is not None else None

    @property
    def port(self) -> str | None:
        """The port an inet service listens on (``submission`` for ``127.0.0.1:submission``)."""
        if self.service.type != "inet":
            return None
        return self.service.name.rsplit(":", 1)[-1]


@attrs.define
class Context:
    """One configuration as pflint sees it.

    ``main_path``/``master_path`` name the files; ``master_is_stock`` says that no master.cf
    was found and Postfix's stock one stands in.  ``kb`` answers for the target version.
    """

    main: MainCf | None
    master: MasterCf | None
    main_path: str | None
    master_path: str | None
    kb: KnowledgeBase
    master_is_stock: bool = False

    @property
    def target(self) -> Version:
        return self.kb.target

    @functools.cached_property
    def postfix(self) -> Postfix:
        """The model of what the running Postfix makes of these files (pfconf.semantics):
        its daemons, SMTP servers and clients, address classes."""
        return Postfix(self.main or MainCf(()), self.master, self.target)

    @property
    def configuration(self) -> Configuration:
        """The model's parameter values (main.cf and defaults, no service's overrides)."""
        return self.postfix.config

    @functools.cached_property
    def services(self) -> tuple[ServiceConfig, ...]:
        if self.master is None:
            return ()
        return tuple(ServiceConfig(service, self.main) for service in self.master.services)

    @property
    def smtpd_services(self) -> tuple[ServiceConfig, ...]:
        """Services that run smtpd(8), the SMTP server the restriction and TLS rules are about."""
        return tuple(s for s in self.services if os.path.basename(s.service.command) == "smtpd")

    @property
    def smtpd_configs(self) -> list[ServiceConfig | None]:
        """The smtpd services, or ``[None]`` (main.cf alone) when there are none."""
        return list(self.smtpd_services) or [None]

    @property
    def client_configs(self) -> list[ServiceConfig | None]:
        """The services that run the SMTP client, smtp(8), or ``[None]`` (main.cf alone)."""
        services = [s for s in self.services if os.path.basename(s.service.command) == "smtp"]
        return list(services) or [None]

    def origin(self, config: ServiceConfig | None, name: str) -> Origin:
        """Where ``name`` is set for ``config`` (main.cf alone when None)."""
        if config is not None:
            return config.origin(name)
        return self.main.get(name) if self.main else None

    def value(self, config: ServiceConfig | None, name: str) -> str | None:
        """The value of ``name`` for ``config`` (main.cf alone when None); None: the default."""
        origin = self.origin(config, name)
        return origin.value if origin is not None else None

    def where_set(self, config: ServiceConfig | None, name: str) -> Location | None:
        """Where ``name`` is set for ``config`` (main.cf alone when None): its ``-o``, or its
        main.cf entry's value; None when it is not set."""
        return at.origin(self.origin(config, name), config)

    # -- building findings -------------------------------------------------------------------

    def path(self, file: File) -> str:
        """The path findings in ``file`` carry (``<stock master.cf>`` when none was found)."""
        path = self.main_path if file is File.MAIN else self.master_path
        return path or "<unknown>"

    def finding(
        self,
        rule: type[Rule],
        where: Location,
        message: str,
        *,
        fix: Fix | None = None,
        severity: str | None = None,
    ) -> Finding:
        """The one way a finding is made: the rule's code and default severity, the path of
        the file ``where`` is in."""
        span = where.span
        return Finding(
            rule.code,
            severity or rule.severity,
            message,
            self.path(where.file),
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            parameter=where.parameter,
            service=where.service,
            fix=fix,
        )

    # The helpers rules used before Rule.report: each one a Location and ctx.finding.  Kept
    # so that a rule written that way still runs; new rules report through Rule.report.

    def _legacy(
        self, rule: type[Rule], where: Location, message: str, kw: dict[str, Any]
    ) -> Finding:
        where = attrs.evolve(
            where,
            parameter=kw.pop("parameter", where.parameter),
            service=kw.pop("service", where.service),
        )
        return self.finding(rule, where, message, **kw)

    def at_name(self, rule: type[Rule], entry: Parameter, message: str, **kw: Any) -> Finding:
        """A finding on a main.cf entry's name."""
        return self._legacy(rule, at.name(entry), message, kw)

    def at_entry(self, rule: type[Rule], entry: Parameter, message: str, **kw: Any) -> Finding:
        """A finding on a main.cf entry's whole head line."""
        return self._legacy(rule, at.line(entry), message, kw)

    def at_value(self, rule: type[Rule], entry: Parameter, message: str, **kw: Any) -> Finding:
        return self._legacy(rule, at.value(entry), message, kw)

    def at_item(
        self, rule: type[Rule], entry: Parameter, item: Item, message: str, **kw: Any
    ) -> Finding:
        """A finding on one item of a main.cf list value, on the physical line it sits on."""
        return self._legacy(rule, at.item(entry, item), message, kw)

    def at_span(
        self, rule: type[Rule], path: str | None, span: Span, message: str, **kw: Any
    ) -> Finding:
        file = File.MASTER if path is not None and path == self.master_path else File.MAIN
        finding = self._legacy(rule, at.span(file, span), message, kw)
        return attrs.evolve(finding, path=path or "<unknown>")

    def at_override(
        self, rule: type[Rule], config: ServiceConfig, override: Override, message: str, **kw: Any
    ) -> Finding:
        return self._legacy(rule, at.override(config, override), message, kw)

    def at_service(self, rule: type[Rule], service: Service, message: str, **kw: Any) -> Finding:
        return self._legacy(rule, at.service(service), message, kw)

    def at_origin(
        self, rule: type[Rule], config: ServiceConfig | None, name: str, message: str, **kw: Any
    ) -> Finding | None:
        """A finding where ``name`` is set for ``config``: its override, or its main.cf entry
        (None when it is not set, or when nothing says where)."""
        where = self.where_set(config, name)
        return self._legacy(rule, where, message, kw) if where is not None else None

    def at_written(
        self, rule: type[Rule], written: Written, message: str, **kw: Any
    ) -> Finding | None:
        """A finding where the model says a word is written (pfconf.semantics.Written): its
        span in main.cf or in a master.cf ``-o``, else the whole value that holds it; None
        when nothing is written (a default)."""
        where = at.written(written)
        return self._legacy(rule, where, message, kw) if where is not None else None

    def entries(self) -> Iterator[Parameter]:
        if self.main is not None:
            yield from self.main.entries

    # -- the settings that take effect, as the model reads them -------------------------------

    def effective_entries(self) -> Iterator[Parameter]:
        """The main.cf entries whose value Postfix uses: the last definition of each name (the
        model's origin).  An earlier definition is dead, which PAR003 says; nothing else
        about it has an effect."""
        config = self.configuration
        for entry in self.entries():
            if config.origin(entry.name) is entry:
                yield entry

    def effective_overrides(self) -> Iterator[tuple[Daemon, Override]]:
        """Every master.cf ``-o`` a daemon runs with (the last one of a name in its service),
        with the daemon whose view it is in; none when the master.cf is Postfix's stock one
        standing in for a missing file."""
        if self.master_is_stock:
            return
        for daemon in self.postfix.daemons:
            # the daemon's own reading of its command line (its getopt), not postconf's
            for override in daemon.overrides:
                if daemon.config.origin(override.name) is override:
                    yield daemon, override
