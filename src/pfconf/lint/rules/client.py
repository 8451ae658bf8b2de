"""TLS of the SMTP and LMTP clients (and server settings smtpd ignores): levels that cannot
work with wrapper mode, fingerprints, SNI names, unix-domain LMTP, and TLS settings that
switch TLS off or are ignored.
"""

from __future__ import annotations
