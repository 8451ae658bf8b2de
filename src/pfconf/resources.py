"""Where the grammars and the knowledge base live: inside the wheel, or at the checkout's root.

The wheel ships grammar/ and rules/ as pfconf/grammar and pfconf/rules; a source checkout
(editable install, tests) reads them from the repository root instead.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    shipped = _PACKAGE / name
    if shipped.is_dir():
        return shipped
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"pfconf is installed without its {name}/ directory")


def grammar_dir() -> Path:
    return _find("grammar")


def rules_dir() -> Path:
    return _find("rules")
