"""The language server's answers never fail, whatever is being typed: every function of
pfconf.lsp.analysis on generated text and positions returns (or returns nothing)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfconf.lsp import analysis

PIECES = [
    "smtpd_use_tls", "myhostname", " = ", "=", "$", "${", "}", "$(", ")", "{", " ", "\t",
    "\n", "\n", "\n  ", "#", ",", "-o ", "smtp inet n - y - - smtpd", "hash:", "reject_",
    "permit_mynetworks", "\x00", "\r\n", "é", "\U0001d11e", "smtpd_recipient_restrictions",
    "relay_transport", "unix:", "yes", "[x]:25",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(PIECES), max_size=30),
    st.sampled_from(["main", "master"]),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=0, max_value=40),
)
def test_answers_never_fail(pieces, kind, line, column):
    text = "".join(pieces)
    path = f"/etc/postfix/{kind}.cf"
    sibling = "smtp inet n - y - - smtpd\n" if kind == "main" else "myhostname = mx\n"
    analysis.diagnose(path, kind, text, sibling)
    analysis.hover(text, kind, path, line, column, sibling)
    analysis.completions(text, kind, line, column)
    analysis.definition(text, kind, path, line, column, sibling)
    doc = analysis.read(text, kind, path)
    if doc is not None:
        analysis.symbols(doc)
    if kind == "main":
        findings = analysis.diagnose(path, kind, text, sibling)
        analysis.quick_fixes(text, path, findings, 1, 1000)
