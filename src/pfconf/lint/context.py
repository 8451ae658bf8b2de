"""What a rule looks at: one Postfix configuration (main.cf, master.cf) and the target version.

Rules put their questions to the model of the running configuration (``ctx.postfix``,
pfconf.semantics) and report through Rule.report; the Context holds the files, the model and
the knowledge base, and turns a Location into a finding.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from .. import load
from ..kb import KnowledgeBase, Version, version_text
from ..model import MainCf, MasterCf, Override, Parameter
from ..resources import rules_dir
from ..semantics import Configuration, Daemon, Postfix
from .finding import Finding, Fix
from .location import File, Location

if TYPE_CHECKING:
    from ..live import Host
    from .rule import Rule


def stock_master() -> MasterCf:
    """Postfix's own master.cf, assumed when a main.cf has none beside it."""
    doc = load(str(rules_dir() / "stock-master.cf"), "master")
    assert isinstance(doc, MasterCf)
    return doc


Origin = Parameter | Override | None

#: How many days before a certificate expires LIVE013 starts to warn, unless the command
#: line (--certificate-expiry-days) or the settings (certificate-expiry-days) say otherwise.
CERTIFICATE_EXPIRY_DAYS = 30

#: The parameters whose default the builder of Postfix chooses ("make makefiles
#: name=value"; makedefs, the list in its comment and its *_macro settings): the install
#: paths, whose compiled-in default (daemon_directory = /usr/libexec/postfix) a
#: distribution changes (Debian: /usr/lib/postfix/sbin).  config_directory is left out:
#: ``-c`` gives it.
BUILD_CHOSEN = frozenset({
    "command_directory", "daemon_directory", "data_directory", "html_directory",
    "mail_spool_directory", "mailq_path", "manpage_directory", "meta_directory",
    "newaliases_path", "queue_directory", "readme_directory", "sendmail_path",
    "shlib_directory", "openssl_path", "default_database_type", "default_cache_db_type",
})  # fmt: skip


@attrs.define
class Context:
    """One configuration as pflint sees it.

    ``main_path``/``master_path`` name the files; ``master_is_stock`` says that no master.cf
    was found and Postfix's stock one stands in.  ``kb`` answers for the target version.
    ``host`` is the machine under ``pflint --live`` (pfconf.live), None otherwise: only live
    rules use it.
    """

    main: MainCf | None
    master: MasterCf | None
    main_path: str | None
    master_path: str | None
    kb: KnowledgeBase
    master_is_stock: bool = False
    host: Host | None = None
    #: LIVE013 warns about a certificate that expires within this many days
    certificate_expiry_days: int = CERTIFICATE_EXPIRY_DAYS

    @property
    def target(self) -> Version:
        return self.kb.target

    @functools.cached_property
    def postfix(self) -> Postfix:
        """The model of what the running Postfix makes of these files (pfconf.semantics):
        its daemons, SMTP servers and clients, address classes."""
        return Postfix(self.main or MainCf(()), self.master, self.target)

    @functools.cached_property
    def host_postfix(self) -> Postfix:
        """The model as this host's Postfix runs the files (``pflint --live``): the installed
        release, and its build's defaults where the release leaves them to the build
        (``postconf -d``: alias_maps, default_database_type, the install paths of
        BUILD_CHOSEN...); the target release and no
        build defaults when Postfix cannot be asked."""
        if self.host is None:
            raise RuntimeError("host_postfix is for live rules (pflint --live)")
        version = self.host.postfix_version()
        if version is None:
            version = self.target
            self.host.note(f"--live: Postfix cannot be asked; judging as {version_text(version)}")
        else:
            self.host.note(
                f"--live: the files as this host's Postfix {version_text(version)} runs them"
            )
        kb = KnowledgeBase(version)
        runtime = {
            name: value
            for name, value in self.host.compiled_defaults().items()
            if kb.known(name, version)
            and (kb.compiled_default(name, version) is None or name in BUILD_CHOSEN)
        }
        return Postfix(self.main or MainCf(()), self.master, version, runtime)

    @property
    def configuration(self) -> Configuration:
        """The model's parameter values (main.cf and defaults, no service's overrides)."""
        return self.postfix.config

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
