"""The SMTP and LMTP clients: at which TLS level they talk, and whether they authenticate.

One program, smtp(8), is both: run as ``lmtp`` (master.cf's command name) it reads the
``lmtp_`` parameters instead of the ``smtp_`` ones (smtp.c: ``smtp_mode``).
"""

from __future__ import annotations

import attrs

from .configuration import Configuration, yes
from .services import Daemon

#: TLS levels from weakest to strongest as tls_level_lookup() knows them (tls/tls_level.c).
TLS_LEVELS = ("none", "may", "dane", "encrypt", "fingerprint", "dane-only", "verify", "secure")
#: Levels at which the client refuses to send without TLS (smtp.c pre_init()).
ENFORCING_LEVELS = ("encrypt", "fingerprint", "dane-only", "verify", "secure")


@attrs.frozen
class ClientTls:
    """The default TLS level of a client (``policy_maps``, when set, can change it per
    destination), and why."""

    level: str
    why: str
    wrapper_mode: bool = False
    policy_maps: str | None = None

    @property
    def enforced(self) -> bool:
        return self.level in ENFORCING_LEVELS


@attrs.frozen
class ClientSasl:
    """Whether a client authenticates, and from which password table it takes credentials
    (the destinations listed there are the ones that get SASL)."""

    enabled: bool
    password_maps: str | None
    security_options: str | None
    tls_security_options: str | None


@attrs.frozen(eq=False)
class SmtpClient:
    """One delivery client: an smtp or lmtp service of master.cf, or main.cf alone."""

    config: Configuration
    daemon: Daemon | None = None
    #: ``smtp`` or ``lmtp``: the prefix of the parameters it reads
    protocol: str = "smtp"

    @property
    def key(self) -> str | None:
        return self.daemon.key if self.daemon is not None else None

    def parameter(self, suffix: str) -> str:
        """The name this client reads for ``suffix`` (``tls_security_level`` ...)."""
        return f"{self.protocol}_{suffix}"

    def value(self, suffix: str) -> str | None:
        return self.config.value(self.parameter(suffix))

    @property
    def tls(self) -> ClientTls:
        """smtp.c pre_init() and smtp_tls_policy.c: the level when set, else the legacy
        switches (``enforce_tls``: encrypt, or verify with ``tls_enforce_peername``;
        ``use_tls``: may), else none."""
        wrapper = yes(self.value("tls_wrappermode"))
        policy = (self.value("tls_policy_maps") or "").strip() or None
        level = (self.value("tls_security_level") or "").strip().lower()
        name = self.parameter("tls_security_level")
        if level:
            return ClientTls(level, f"{name} = {level}", wrapper, policy)
        if yes(self.value("enforce_tls")):
            level = "verify" if yes(self.value("tls_enforce_peername")) else "encrypt"
            return ClientTls(level, f"{self.parameter('enforce_tls')} = yes", wrapper, policy)
        if yes(self.value("use_tls")):
            return ClientTls("may", f"{self.parameter('use_tls')} = yes", wrapper, policy)
        return ClientTls("none", f"{name} is not set", wrapper, policy)

    @property
    def sasl(self) -> ClientSasl:
        return ClientSasl(
            yes(self.value("sasl_auth_enable")),
            (self.value("sasl_password_maps") or "").strip() or None,
            self.value("sasl_security_options"),
            self.value("sasl_tls_security_options"),
        )


def smtp_clients(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[SmtpClient, ...]:
    """Every smtp and lmtp service, or an smtp client on main.cf alone when there is none."""
    found = tuple(
        SmtpClient(d.config, d, d.program) for d in daemons if d.program in ("smtp", "lmtp")
    )
    return found or (SmtpClient(config),)
