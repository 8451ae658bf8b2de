"""pfconf-lsp, the language server for main.cf and master.cf (see pfconf.lsp.server).

Its answers come from pfconf.lsp.analysis, which speaks no protocol; pygls and lsprotocol
are needed only to serve (``pip install pfconf[lsp]``).
"""

from __future__ import annotations

import sys


def main() -> None:
    """The ``pfconf-lsp`` command."""
    try:
        from .server import main as serve
    except ImportError as exc:  # pygls is an extra
        print(
            f"pfconf-lsp: {exc.name} is not installed: pip install 'pfconf[lsp]'", file=sys.stderr
        )
        raise SystemExit(2) from None
    serve()
