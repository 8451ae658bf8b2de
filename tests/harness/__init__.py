"""End-to-end test harness: real Postfix instances and the servers around them, in a sandbox.

Everything runs in a private network namespace entered by the test's own thread
(:mod:`.sandbox`), so nothing leaves the machine and clients can come from outside
``mynetworks`` (``sandbox.foreign_address``).  Components, each started with
``sandbox.start(component)`` and always stopped:

- :class:`ScratchPostfix` (:mod:`.postfix`): a Postfix instance from a test's main.cf and
  master.cf, changed for the sandbox by pfconf's own editor (the module says exactly how);
- :class:`SmtpSink` (:mod:`.smtp_sink`): where outbound mail goes, envelopes recorded;
- :class:`FakeDns` (:mod:`.dns`): the DNS server Postfix asks (blocklists, PTR).

A new component (Dovecot, for SASL) needs ``start()`` and ``stop()``; a scratch Postfix
prepared with ``start=False`` tells where its socket belongs (``sasl_socket(service)``).
The pytest fixtures are in :mod:`.fixtures`.
"""

from __future__ import annotations

from .dns import FakeDns, reversed_name
from .postfix import PostfixStartError, ScratchPostfix
from .sandbox import FOREIGN_ADDRESS, Component, HarnessError, Sandbox
from .smtp_sink import Envelope, SmtpSink

__all__ = [
    "FOREIGN_ADDRESS",
    "Component",
    "Envelope",
    "FakeDns",
    "HarnessError",
    "PostfixStartError",
    "Sandbox",
    "ScratchPostfix",
    "SmtpSink",
    "reversed_name",
]
