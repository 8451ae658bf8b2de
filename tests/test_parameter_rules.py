"""What the parameter and syntax rules say, checked word for word where the words are the
claim: the corpus cases pin code, place and severity; these pin what the message tells the
user Postfix does (issue #11, item 2: wording that matches Postfix)."""

from __future__ import annotations

from pfconf import loads
from pfconf.lint.engine import lint_documents
from pfconf.lint.finding import Finding
from pfconf.lint.rule import rule_for
from pfconf.model import MainCf, MasterCf


def _messages(code: str, main: str, master: str | None = None) -> list[Finding]:
    main_doc = loads(main, "main")
    master_doc = loads(master, "master") if master is not None else None
    assert isinstance(main_doc, MainCf)
    assert master_doc is None or isinstance(master_doc, MasterCf)
    run = lint_documents(main_doc, master_doc, rules=[rule_for(code)])
    return [f for f in run.findings if f.code == code]


SMTP_ONLY = "smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\nlocal unix - n n - - local\n"


def test_par001_calls_a_name_nothing_uses_unused_as_postconf_does():
    """A list meant for master.cf's -o that no service refers to, and a service setting for
    a service master.cf lacks: postconf says "unused parameter", and so does PAR001."""
    found = _messages(
        "PAR001",
        "compatibility_level = 3.11\nmua_client_restrictions = permit_sasl_authenticated, reject\n"
        "dovecot_destination_recipient_limit = 1\nsmtpd_tls_securty_level = may\n",
        SMTP_ONLY,
    )
    messages = [f.message for f in found]
    assert all(m.startswith("unused parameter ") and "unknown" not in m for m in messages)
    assert "no other setting refers to $mua_client_restrictions" in messages[0]
    assert "master.cf service dovecot, and master.cf has none" in messages[1]
    assert messages[2].endswith("did you mean smtpd_tls_security_level?")


def test_par014_lets_users_missing_from_the_lookup_tables_fall_through():
    """local/mailbox.c: a user that mailbox_command_maps does not list goes on to
    mailbox_command or home_mailbox; only mailbox_command and mailbox_transport shadow
    home_mailbox for everyone."""
    assert not _messages(
        "PAR014",
        "home_mailbox = Maildir/\nmailbox_command_maps = hash:/etc/postfix/commands\n",
    )
    (finding,) = _messages(
        "PAR014",
        "home_mailbox = Maildir/\nmailbox_command_maps = hash:/etc/postfix/commands\n"
        "mailbox_command = /usr/lib/dovecot/deliver\n",
    )
    assert "mailbox_command (main.cf line 3)" in finding.message
    assert "mailbox_command_maps" not in finding.message


def test_par016_says_virtual_alias_maps_apply_to_every_domain():
    """cleanup applies virtual_alias_maps to every recipient: a domain in mydestination and
    virtual_alias_domains keeps its aliases; what it loses is the rejection of the rest."""
    (finding,) = _messages(
        "PAR016",
        "mydestination = localhost, example.org\nvirtual_alias_domains = example.org\n",
    )
    assert finding.severity == "warning"
    assert "virtual_alias_maps still rewrite its addresses, as they do for every domain" in (
        finding.message
    )
    assert "do not work" not in finding.message


def test_par006_says_what_postfix_does_now():
    (relied_on,) = _messages("PAR006", "smtp_skip_4xx_greeting = no\n")
    assert relied_on.severity == "error"
    assert "always moves on to the next server when one greets with a 4XX code" in (
        relied_on.message
    )
    (no_effect,) = _messages("PAR006", "smtp_skip_4xx_greeting = YES\n")
    assert no_effect.severity == "warning" and "has no effect" in no_effect.message
    assert no_effect.fix is not None and no_effect.fix.applies()


def test_syn004_says_postfix_will_not_start_for_a_checked_value():
    (finding,) = _messages("SYN004", "mydomain = example.com # our domain\n")
    assert finding.severity == "error"
    assert finding.message.startswith(
        '"# our domain" is part of the value of mydomain, not a comment'
    )
    assert "every Postfix program stops, postfix start included" in finding.message
    (text,) = _messages("SYN004", "smtpd_banner = $myhostname ESMTP # hi\n")
    assert text.severity == "warning"
