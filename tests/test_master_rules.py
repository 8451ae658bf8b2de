"""What the master.cf rules say, beyond where they point (tests/test_rule_cases.py checks that):
the words of MST002's "unused parameter" and its suggestions, and the knowledge-base values
they rest on."""

from __future__ import annotations

import pytest

from pfconf import loads
from pfconf.kb import parse_version
from pfconf.lint.engine import Options, lint_documents
from pfconf.model import MainCf, MasterCf

HEAD = "127.0.0.1:10025 inet n - n - - smtpd\n  -o content_filter=\n"


def _messages(
    code: str, master_cf: str, main_cf: str = "compatibility_level = 3.11\n"
) -> list[str]:
    main = loads(main_cf, "main")
    master = loads(master_cf, "master")
    assert isinstance(main, MainCf) and isinstance(master, MasterCf)
    run = lint_documents(main, master, options=Options(target=parse_version("3.11")))
    return [f.message for f in run.findings if f.code == code]


@pytest.mark.parametrize(
    ("override", "said"),
    [
        # a value of receive_override_options written as a parameter (global/input_transp.c)
        (
            "no_address_mappings=yes",
            "no_address_mappings is a value of receive_override_options: write -o "
            + "receive_override_options=no_address_mappings",
        ),
        (
            "no_address_mappings=no",
            "no_address_mappings is a value of receive_override_options, not a parameter",
        ),
        # a misspelt parameter
        ("smtpd_tls_securty_level=encrypt", "did you mean smtpd_tls_security_level?"),
    ],
)
def test_mst002_says_unused_and_suggests(override: str, said: str) -> None:
    (message,) = _messages("MST002", HEAD + f"  -o {override}\n")
    assert message.startswith(
        f"-o {override.split('=')[0]} on 127.0.0.1:10025/inet: unused parameter"
    )
    assert "does not know" not in message
    assert message.endswith(said)


def test_mst002_adds_to_the_values_the_service_has() -> None:
    (message,) = _messages(
        "MST002",
        HEAD + "  -o receive_override_options=no_header_body_checks\n  -o no_milters=yes\n",
    )
    assert message.endswith("write -o receive_override_options=no_header_body_checks,no_milters")


def test_mst002_names_the_release_that_removed_a_parameter() -> None:
    (message,) = _messages("MST002", "smtp inet n - n - - smtpd -o extract_recipient_limit=10\n")
    removed = message.split("(removed in Postfix ")[1].split(")")[0]
    assert parse_version(removed) <= (3, 11)
    assert message.startswith("-o extract_recipient_limit on smtp/inet: unused parameter")


def test_receive_override_options_takes_only_its_values() -> None:
    """name_mask() stops the daemon on a word outside its table: PAR028 reports it."""
    messages = _messages(
        "PAR028", "smtp inet n - n - - smtpd\n",
        "compatibility_level = 3.11\nreceive_override_options = no_address_mapping\n",
    )  # fmt: skip
    assert len(messages) == 1 and "'no_address_mapping'" in messages[0]
    assert not _messages(
        "PAR028", "smtp inet n - n - - smtpd\n",
        "receive_override_options = no_unknown_recipient_checks, no_milters\n",
    )  # fmt: skip
