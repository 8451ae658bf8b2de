"""pflint's engine: rules, findings, suppressions, baselines and configuration.

``pfconf.lint.lint(paths)`` is the library entry point (``lint_documents`` for documents in
memory); the CLI in pfconf.cli.pflint is a thin layer over it.
"""

from __future__ import annotations

from .engine import Options, Run, lint, lint_documents
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
]
