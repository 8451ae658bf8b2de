"""End-to-end test harness: real Postfix instances and the servers around them, in a sandbox.

Everything runs in a private network namespace entered by the test's own thread
(:mod:`.sandbox`), so nothing leaves the machine and clients can come from outside
``mynetworks`` (``sandbox.foreign_address``).  Components, each started with
``sandbox.start(component)`` and always stopped:

- :class:`ScratchPostfix` (:mod:`.postfix`): a Postfix instance from a test's main.cf and
  master.cf, changed for the sandbox by pfconf's own editor (the module says exactly how);
- :class:`SmtpSink` (:mod:`.smtp_sink`): where outbound mail goes, envelopes recorded; with
  ``certificates`` and ``require_auth`` a provider's relay (AUTH only over STARTTLS);
- :class:`FakeDns` (:mod:`.dns`): the DNS server Postfix asks (blocklists, PTR);
- :class:`Dovecot` (:mod:`.dovecot`): Dovecot's auth service alone, its socket where smtpd
  looks for it (a scratch Postfix prepared with ``start=False`` tells where:
  ``sasl_socket(service)``), started before the instance.

Around them: :mod:`.tls` makes a CA and a server certificate with ``cryptography``;
:mod:`.smtp_client` has the SMTP clients that record transcripts (credentials masked) and
check the TLS name (``ScratchPostfix.client(..., transcript=, server_hostname=,
implicit_tls=)``).  A new component needs ``start()`` and ``stop()``.  The pytest fixtures
are in :mod:`.fixtures`.
"""

from __future__ import annotations

from .dns import FakeDns, reversed_name
from .dovecot import Dovecot
from .postfix import PostfixStartError, ScratchPostfix
from .sandbox import FOREIGN_ADDRESS, Component, HarnessError, Sandbox
from .smtp_sink import Envelope, SmtpSink

__all__ = [
    "FOREIGN_ADDRESS",
    "Component",
    "Dovecot",
    "Envelope",
    "FakeDns",
    "HarnessError",
    "PostfixStartError",
    "Sandbox",
    "ScratchPostfix",
    "SmtpSink",
    "reversed_name",
]
