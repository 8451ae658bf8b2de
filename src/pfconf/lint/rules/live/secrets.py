"""Live rules about secrets: the files of the tables that hold passwords or private keys.

Which parameters name such tables, and which of a table's files hold the secret, is data in
rules/tables.toml ``[secrets]``; the tables themselves come from LiveRule.tables(), so a
per-service ``-o`` override and a ``proxy:`` prefix are seen as Postfix sees them.
"""

from __future__ import annotations

from typing import Any

from ....kb import load_table
from ....live.host import PathInfo
from ....postfix import INDEX_SUFFIXES
from ...context import Context
from ...rule import register
from .common import LiveRule, NamedTable


def _secrets() -> dict[str, dict[str, Any]]:
    return dict(load_table("tables").get("secrets", {}))


def _files(named: NamedTable, files: str) -> list[str]:
    """The files of the table that hold the secret (``files``: "all" or "database")."""
    assert named.path is not None
    databases = [named.path + suffix for suffix in INDEX_SUFFIXES.get(named.type, ())]
    if files == "database":
        return databases
    return [named.path, *databases]


@register
class SecretTableExposed(LiveRule):
    """
    ## What it finds
    A file of a table that holds secrets which is not owned by root, or which users other
    than root can read:
    - `smtp_sasl_password_maps` and `lmtp_sasl_password_maps` (the client's user names
      and passwords): the source file and, for an indexed type such as `hash`, its
      database;
    - `tls_server_sni_maps`: the database, where `postmap -F` stores the private keys
      (its source holds only file names).

    A group read permission is reported too, except for a table read through `proxy:`:
    proxymap opens it as `mail_owner`, which usually needs the group permission.  Tables
    in a database server (`mysql:`...) are not files; their configuration's password is
    LIVE008's.  Each table named by a service's `-o` override is looked at as well.

    ## Why it matters
    Anyone who can read the file can use the relay account (often a paid or personal
    mailbox) or impersonate the server; anyone who owns it can read it whatever its
    mode.  Postfix does not need more than root's access: the SMTP and LMTP clients and
    smtpd open these tables as root, before they drop privileges.

    ## Postfix source
    - `src/smtp/smtp_sasl_glue.c`, `smtp_sasl_initialize()`, called by `pre_init()` in
      `src/smtp/smtp.c` ("pre jail"): the password table is opened as root.
    - `src/postmap/postmap.c`, `main()`: `-F` stores the files a source names in the
      database (tls_server_sni_maps in postconf(5)).
    - `src/proxymap/proxymap.c`, `proxy_map_find()`: proxymap opens a proxied table when
      a client first asks for it, long after `pre_jail_init()` ("initialization after
      privilege drop"), so with the privileges of mail_owner.
    - SASL_README, "Enabling SASL authentication in the Postfix SMTP/LMTP client": the
      password file should be readable and writable by root only.

    ## Example
    ```
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    ```
    with `-rw-r--r-- root root /etc/postfix/sasl_passwd.db`.

    ## Use instead
    ```
    chown root:root /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db
    chmod 600 /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db
    ```

    ## Fix
    None: pflint does not change owners or permissions.
    """

    code = "LIVE025"
    name = "secret-table-exposed"
    severity = "warning"
    summary = "a file of a password or private-key table is readable by others or not root's"

    def check(self, ctx: Context) -> None:
        secrets = _secrets()
        host = self.host(ctx)
        for named in self.tables(ctx):
            secret = secrets.get(named.reference.parameter)
            if secret is None or named.path is None or named.type not in _file_types():
                continue
            for path in _files(named, str(secret.get("files", "all"))):
                info = host.inspect(path)
                if info.problem is not None:
                    continue  # LIVE002 and LIVE004 report what is missing
                names = (host.user_name(info.uid), host.group_name(info.gid))
                problems = _exposure(names, info, named.reference.proxied)
                if problems:
                    self.report(
                        named.where,
                        f"{named.shown} holds {secret['holds']}: {path} {' and '.join(problems)}",
                    )


def _file_types() -> frozenset[str]:
    """The types whose name is a file on the host (not proxy:, mysql:...)."""
    files = load_table("tables").get("files", {})
    return frozenset([*files.get("indexed", ()), *files.get("text", ())])


def _exposure(names: tuple[str, str], info: PathInfo, proxied: bool) -> list[str]:
    """What is wrong with the file's owner and mode, in words; ``names``: its owner's and
    group's names."""
    owner, group = names
    mode = info.permissions
    problems = []
    if info.uid != 0:
        problems.append(f"is owned by {owner}, not root, who can read and change it")
    readers = []
    if mode & 0o040 and not proxied:
        readers.append(f"group {group}")
    if mode & 0o004:
        readers.append("every user of this host")
    if readers:
        fix = "chmod o-r" if proxied else "chmod go-rwx"
        problems.append(f"can be read by {' and '.join(readers)} (mode {mode:04o}); {fix}")
    return problems
