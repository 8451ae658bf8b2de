"""Comment-preserving changes to main.cf and master.cf.

An editor wraps one parsed file.  Each operation rewrites only the physical lines it must,
re-reads the result the way Postfix does, and checks that the new file says exactly what the
operation intended and that every other line is byte-identical; if not, it raises EditError
and the editor keeps the previous text.  Nothing here writes files: callers take
:attr:`MainEditor.doc` (or ``.text``) and write it with :func:`pfconf.dump`.

    >>> from pfconf import loads
    >>> from pfconf.edit import MainEditor
    >>> editor = MainEditor(loads("# TLS\\nsmtpd_tls_auth_only = no\\n"))
    >>> editor.set("smtpd_tls_auth_only", "yes")
    >>> editor.text
    '# TLS\\nsmtpd_tls_auth_only = yes\\n'
"""

from __future__ import annotations

from .base import Change, EditError
from .main import MainEditor
from .master import MasterEditor

__all__ = ["Change", "EditError", "MainEditor", "MasterEditor"]
