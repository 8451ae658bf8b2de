"""pflint's engine: rules, findings, suppressions, baselines and configuration.

``pfconf.lint.lint(paths)`` is the library entry point (``lint_documents`` for documents in
memory, ``lint_texts`` for unsaved text); the CLI in pfconf.cli.pflint and the language
server in pfconf.lsp are thin layers over it.
"""

from __future__ import annotations

from .engine import Options, Run, lint, lint_documents, lint_texts
from .finding import SEVERITIES, Applicability, Finding, Fix

__all__ = [
    "SEVERITIES",
    "Applicability",
    "Finding",
    "Fix",
    "Options",
    "Run",
    "lint",
    "lint_documents",
    "lint_texts",
]
