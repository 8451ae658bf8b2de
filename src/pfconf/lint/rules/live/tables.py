"""Live rules about lookup tables: the files behind every table the configuration names.

Each rule asks LiveRule.tables() for the tables (the model's references: main.cf, ``-o``
overrides, restriction lists and classes, ``proxy:``, members of ``unionmap:{}`` and
``pipemap:{}``) and the Host for what is on disk; the facts about which types have which
files are in rules/tables.toml ``[files]``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from ....kb import load_table
from ....live.access import denied
from ....live.host import PathInfo
from ....live.tablefiles import (
    LineProblem,
    Plugin,
    cidr_problems,
    duplicate_key,
    dynamic_maps,
    postmap_warnings,
    secret_settings,
)
from ....postfix import INDEX_SUFFIXES
from ....values import find_tables
from ...context import Context
from ...rule import register
from .common import LiveRule, NamedTable

#: Postfix warns about a database older than its source only when the source has not
#: changed in the last 100 seconds (dict_db.c and the others: "except when the source file
#: changed only seconds ago"), so that a postmap running right now is not reported.
SOURCE_SETTLE_SECONDS = 100

#: The most line findings one table file gives (a file of bad lines is one mistake).
MAX_LINE_FINDINGS = 10


def _files() -> dict[str, Any]:
    return dict(load_table("tables").get("files", {}))


def _indexed() -> frozenset[str]:
    return frozenset(_files().get("indexed", ()))


def _text_types() -> frozenset[str]:
    return frozenset(_files().get("text", ()))


def _clients() -> dict[str, tuple[str, ...]]:
    return {name: tuple(secrets) for name, secrets in _files().get("clients", {}).items()}


def _alias_databases(rule: LiveRule, ctx: Context) -> frozenset[str]:
    """The tables newaliases builds (alias_database as main.cf gives it)."""
    value = rule.model(ctx).config.value("alias_database") or ""
    return frozenset(t.text for t in find_tables(value))


def _databases(named: NamedTable) -> tuple[str, ...]:
    assert named.path is not None
    return tuple(named.path + suffix for suffix in INDEX_SUFFIXES.get(named.type, ()))


def _stale(source: PathInfo, database: PathInfo, now: float) -> bool:
    """dict_db_open()'s test: the source is newer (in whole seconds) and settled."""
    if source.mtime is None or database.mtime is None:
        return False
    return (
        int(source.mtime) > int(database.mtime) and int(source.mtime) < now - SOURCE_SETTLE_SECONDS
    )


def _indexed_tables(rule: LiveRule, ctx: Context, aliases: bool) -> Iterator[NamedTable]:
    """The indexed tables programs read, those alias_database lists (``aliases``) or the
    others."""
    indexed = _indexed()
    built_by_newaliases = _alias_databases(rule, ctx)
    for named in rule.tables(ctx):
        if named.type not in indexed or named.path is None:
            continue
        if (named.text in built_by_newaliases) == aliases:
            yield named


def _missing_database(
    rule: LiveRule, ctx: Context, named: NamedTable
) -> tuple[str, str, bool] | None:
    """(database path, what is wrong, whether pflint was denied a look) for the first
    database file that is not there."""
    host = rule.host(ctx)
    for database in _databases(named):
        info = host.inspect(database)
        if info.problem is not None:
            return database, info.problem, info.denied
        if info.kind != "file":
            return database, f"is {info.what}, not a database file", False
    return None


def _out_of_date(rule: LiveRule, ctx: Context, named: NamedTable) -> tuple[str, str] | None:
    """(database path, source path) when the database the program checks is older."""
    host = rule.host(ctx)
    databases = _databases(named)
    assert named.path is not None
    source = host.inspect(named.path)
    if not databases or source.problem is not None:
        return None
    # dbm and sdbm compare the .pag file (dict_dbm.c: stat_fd is dbm_pagfno())
    database = host.inspect(databases[-1])
    if database.problem is None and _stale(source, database, time.time()):
        return databases[-1], named.path
    return None


def _source_note(rule: LiveRule, ctx: Context, named: NamedTable) -> str:
    assert named.path is not None
    info = rule.host(ctx).inspect(named.path)
    if info.problem is not None:
        return f"; its source {named.path} {info.problem} either"
    return ""


@register
class TableTypeUnsupported(LiveRule):
    """
    ## What it finds
    A lookup table whose type the Postfix installed on this host cannot open: the type is
    not among those `postconf -m` lists, or it is listed because dynamicmaps.cf registers
    it but its plugin library is missing, is not owned by root, or can be written by group
    or others (Postfix then refuses to load it).  Every table is looked at, wherever it is
    named: main.cf, a master.cf `-o`, a restriction list or class, inside `proxy:`,
    `unionmap:{}` or `pipemap:{}`.

    ## Why it matters
    Postfix does not stop: the program opens a stand-in table whose every lookup fails
    with "unsupported dictionary type", so mail that needs the table is deferred (for
    smtpd restrictions, clients get "451 4.3.5 Server configuration error").  On
    distributions that split Postfix into packages, `pcre`, `lmdb`, `cdb`, `mysql`,
    `pgsql`, `ldap`, `sqlite`... come in packages of their own, and removing one leaves
    its dynamicmaps.cf entry behind.

    ## Postfix source
    - `src/util/dict_open.c`, `dict_open3()`: a type with no open function gives a
      surrogate table ("unsupported dictionary type: %s"); `dict_mapnames()` is what
      `postconf -m` prints.
    - `src/util/dynamicmaps.c`, `dymap_read_conf()`: the types dynamicmaps.cf (and
      dynamicmaps.cf.d) in meta_directory register, relative library names under
      shlib_directory; `dymap_dict_lookup()` refuses a library that is missing, owned by
      another user than root, or writable by group or others.

    ## Example
    ```
    smtpd_client_restrictions = check_client_access pcre:/etc/postfix/client.pcre
    ```
    on a host without the postfix-pcre package.

    ## Use instead
    Install the package that adds the type, or use a type the host has (`regexp` instead
    of `pcre`, `hash` or `btree` instead of `lmdb` or `cdb`).

    ## Fix
    None: which package to install, or which type to use, is for the administrator.
    """

    code = "LIVE001"
    name = "table-type-unsupported"
    severity = "error"
    summary = "a lookup table's type is not available in the Postfix installed here"

    def check(self, ctx: Context) -> None:
        host = self.host(ctx)
        named = list(self.tables(ctx, access=None))
        if not named:
            return
        types = host.table_types()
        if types is None:
            return
        plugins = self._plugins(ctx) if any(n.type in types for n in named) else {}
        for table in named:
            if table.type not in types:
                self.report(
                    table.where,
                    f"{table.shown}: this Postfix has no {table.type!r} table type (postconf "
                    "-m does not list it): every lookup in the table fails",
                )
                continue
            plugin = plugins.get(table.type)
            if plugin is None:
                continue
            problem = self._plugin_problem(ctx, plugin)
            if problem is not None:
                self.report(
                    table.where,
                    f"{table.shown}: the {table.type!r} type comes from the plugin "
                    f"{plugin.library} ({plugin.path}, line {plugin.line}), which {problem}: "
                    "Postfix does not load it and every lookup in the table fails",
                )

    def _plugins(self, ctx: Context) -> dict[str, Plugin]:
        """The types dynamicmaps.cf and dynamicmaps.cf.d register (the first entry wins)."""
        host = self.host(ctx)
        config = self.model(ctx).config
        meta = config.value("meta_directory") or config.value("config_directory") or ""
        shlib = config.value("shlib_directory") or ""
        if not meta:
            return {}
        main = os.path.join(meta, "dynamicmaps.cf")
        paths = [main]
        listing = host.listdir(main + ".d")
        paths += [os.path.join(listing.path, n) for n in listing.names]
        found: dict[str, Plugin] = {}
        for path in paths:
            text = host.read(path)
            if text.data is None:
                continue
            for plugin in dynamic_maps(text.data, path, shlib):
                found.setdefault(plugin.type, plugin)
        return found

    def _plugin_problem(self, ctx: Context, plugin: Plugin) -> str | None:
        info = self.host(ctx).inspect(plugin.library)
        if info.problem is not None:
            return info.problem
        if info.kind != "file":
            return f"is {info.what}"
        # the daemons load plugins as root (dymap_dict_lookup: owner root or the user)
        if info.uid not in (0, os.geteuid()):
            return f"is owned by user id {info.uid}, not root"
        if info.permissions & 0o022:
            return f"can be written by group or others (mode {info.permissions:04o})"
        return None


@register
class TableNotBuilt(LiveRule):
    """
    ## What it finds
    An indexed lookup table (`hash`, `btree`, `lmdb`, `cdb`, `dbm`, `sdbm`) whose
    database file is not there: `hash:/etc/postfix/virtual` without
    `/etc/postfix/virtual.db` (`.lmdb`, `.cdb`, `.dir` and `.pag` for the other types), or
    with something else than a file in its place.  Tables that `alias_database` lists are
    LIVE009's.

    ## Why it matters
    Postfix's programs read the database, never the text file `postmap` builds it from.
    Without it, the program opens a stand-in table whose lookups all fail ("open database
    ...: No such file or directory"), and the mail that needs the table is deferred.

    ## Postfix source
    - `src/util/dict_db.c`, `dict_db_open()`: opens PATH.db and, when it cannot, returns a
      surrogate table ("open database %s: %m"); `src/util/dict_lmdb.c`, `dict_lmdb_open()`,
      `src/util/dict_cdb.c`, `dict_cdb_open()` and `src/util/dict_dbm.c`,
      `dict_dbm_open()` do the same with their own files.
    - postmap(1): builds the database from the text file, named by the same `type:name`.

    ## Example
    ```
    virtual_alias_maps = hash:/etc/postfix/virtual
    ```
    with /etc/postfix/virtual written but `postmap` never run.

    ## Use instead
    Run `postmap hash:/etc/postfix/virtual` (the type and name as main.cf writes them)
    after every change of the text file.

    ## Fix
    None: pflint does not run postmap.
    """

    code = "LIVE002"
    name = "table-not-built"
    severity = "error"
    summary = "an indexed lookup table's database file does not exist: run postmap"

    def check(self, ctx: Context) -> None:
        for named in _indexed_tables(self, ctx, aliases=False):
            missing = _missing_database(self, ctx, named)
            if missing is None:
                continue
            database, problem, denied = missing
            if self.cannot_look(named.where, named.shown, database, denied):
                continue
            self.report(
                named.where,
                f"{named.shown}: the database {database} {problem}"
                f"{_source_note(self, ctx, named)}: every lookup fails; run postmap "
                f"{named.text}",
            )


@register
class TableOutOfDate(LiveRule):
    """
    ## What it finds
    An indexed lookup table whose database file is older than the text file it is built
    from, the source having last changed more than 100 seconds ago: the text was edited
    and `postmap` not run again.  Tables that `alias_database` lists are LIVE009's.

    ## Why it matters
    Postfix keeps answering from the old database, so the change has no effect, and logs
    "database ... is older than source file ..." each time a program opens the table.

    ## Postfix source
    - `src/util/dict_db.c`, `dict_db_open()`: compares the source's modification time with
      the database's and warns "database %s is older than source file %s" unless the
      source changed in the last 100 seconds; `src/util/dict_dbm.c`, `dict_dbm_open()`
      compares with the .pag file; `src/util/dict_lmdb.c`, `dict_lmdb_open()` and
      `src/util/dict_cdb.c`, `dict_cdb_open()` warn the same way.

    ## Example
    ```
    smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
    ```
    with sasl_passwd edited yesterday and sasl_passwd.db built last month.

    ## Use instead
    Run `postmap hash:/etc/postfix/sasl_passwd` after each change.

    ## Fix
    None: pflint does not run postmap.
    """

    code = "LIVE003"
    name = "table-out-of-date"
    severity = "warning"
    summary = "an indexed lookup table's database is older than its source: run postmap"

    def check(self, ctx: Context) -> None:
        for named in _indexed_tables(self, ctx, aliases=False):
            stale = _out_of_date(self, ctx, named)
            if stale is not None:
                database, source = stale
                self.report(
                    named.where,
                    f"{named.shown}: the database {database} is older than its source "
                    f"{source}: Postfix still answers from the old contents; run postmap "
                    f"{named.text}",
                )


@register
class TableFileMissing(LiveRule):
    """
    ## What it finds
    A lookup table read from a text file (`regexp`, `pcre`, `cidr`, `texthash`) whose file
    does not exist, cannot be read, or is not a regular file (a directory, a FIFO, a
    dangling symbolic link).  Inline forms such as `regexp:{ ... }` have no file.

    ## Why it matters
    The program reads the whole file when it opens the table; when it cannot, it opens a
    stand-in table whose every lookup fails, and the mail that needs the table is
    deferred (smtpd answers "451 4.3.5 Server configuration error").

    ## Postfix source
    - `src/util/dict_regexp.c`, `dict_regexp_open()`; `src/util/dict_pcre.c`,
      `dict_pcre_open()`; `src/util/dict_cidr.c`, `dict_cidr_open()`;
      `src/util/dict_thash.c`, `dict_thash_open()`: each opens the file and returns a
      surrogate table when it cannot.

    ## Example
    ```
    smtpd_client_restrictions = check_client_access cidr:/etc/postfix/client_access.cidr
    ```
    with no /etc/postfix/client_access.cidr.

    ## Use instead
    Create the file (or correct its name).

    ## Fix
    None.
    """

    code = "LIVE004"
    name = "table-file-missing"
    severity = "error"
    summary = "a regexp, pcre, cidr or texthash table's file is missing or unreadable"

    def check(self, ctx: Context) -> None:
        text_types = _text_types()
        host = self.host(ctx)
        for named in self.tables(ctx):
            if named.type not in text_types or named.path is None:
                continue
            found = host.read(named.path)
            if found.problem is not None:
                if self.cannot_look(named.where, named.shown, named.path, found.denied):
                    continue
                self.report(
                    named.where,
                    f"{named.shown}: {named.path} {found.problem}: every lookup in the table fails",
                )


def _line_findings(
    rule: LiveRule,
    named: NamedTable,
    problems: list[LineProblem],
    prefix: str = "",
    warned: str = "Postfix warns about it",
) -> None:
    assert named.path is not None
    for problem in problems[:MAX_LINE_FINDINGS]:
        effect = "Postfix skips this line" if problem.skipped else warned
        rule.report(
            named.where,
            f"{named.shown}: {named.path}, line {problem.line}: {prefix}{problem.message}: {effect}",
        )
    if len(problems) > MAX_LINE_FINDINGS:
        rule.report(
            named.where,
            f"{named.shown}: {named.path}: {len(problems) - MAX_LINE_FINDINGS} more lines "
            "like these",
        )


@register
class CidrLineSkipped(LiveRule):
    """
    ## What it finds
    A line of a `cidr` table that Postfix skips: an address or network that does not
    parse (`192.168.1/24`, a leading zero, a prefix length over 32 or 128), a network
    with bits set beyond its prefix length (`10.1.2.3/8`), a pattern without a result,
    `ENDIF` without `IF` or with text after it; and an `IF` without `ENDIF`, which Postfix
    only warns about.  Lines are read as Postfix reads them (continuation lines joined,
    comments dropped); addresses are checked with this host's inet_pton(), as Postfix
    checks them.

    ## Why it matters
    The line's network is simply absent from the table: a client meant to be rejected or
    allowed is not, and the only trace is a warning in the log each time a program opens
    the table.

    ## Postfix source
    - `src/util/dict_cidr.c`, `dict_cidr_open()` and `dict_cidr_parse_rule()`: "cidr map
      %s, line %d: %s: skipping this rule"; IF, ENDIF and `!` from Postfix 3.2 (RELEASE_NOTES-3.2).
    - `src/util/cidr_match.c`, `cidr_match_parse()`: what an address pattern must be.
    - `src/util/readlline.c`, `readllines()`: logical lines and their numbers.

    ## Example
    ```
    # /etc/postfix/client_access.cidr
    192.168.1.1/24    REJECT
    ```

    ## Use instead
    ```
    192.168.1.0/24    REJECT
    ```

    ## Fix
    None: pflint does not edit table files.
    """

    code = "LIVE005"
    name = "cidr-line-skipped"
    severity = "warning"
    summary = "a line of a cidr table is skipped by Postfix"

    def check(self, ctx: Context) -> None:
        host = self.host(ctx)
        version = self.model(ctx).version
        for named in self.tables(ctx):
            if named.type != "cidr" or named.path is None:
                continue
            found = host.read(named.path)
            if found.data is None:
                continue  # LIVE004
            _line_findings(self, named, cidr_problems(found.data, version))


def _postmap_line_problems(
    rule: LiveRule, ctx: Context, types: tuple[str, ...]
) -> Iterator[tuple[NamedTable, list[LineProblem]]]:
    """Each table of one of ``types`` with the line warnings the installed postmap prints
    when it opens the table (``postmap -q``).  Types this Postfix lacks are LIVE001's,
    files that cannot be read LIVE004's."""
    host = rule.host(ctx)
    named = [n for n in rule.tables(ctx) if n.type in types and n.path]
    if not named:
        return
    supported = host.table_types()
    for table in named:
        assert table.path is not None
        if supported is None or table.type not in supported:
            continue  # LIVE001
        if host.read(table.path).data is None:
            continue  # LIVE004
        run = host.postmap_query(f"{table.type}:{table.path}")
        if run.problem is not None:
            continue  # noted by the Host
        yield table, postmap_warnings(run.stderr, table.type, table.path)


@register
class TableLineRejected(LiveRule):
    """
    ## What it finds
    A line of a `regexp`, `pcre` or `texthash` table that the installed Postfix complains
    about when it opens the table.  For regexp and pcre: a pattern that does not compile,
    a missing delimiter, an unknown flag, a bad `$number` in the result, `IF` without
    `ENDIF`, text it does not recognise.  For texthash: a key without a value, an
    unbalanced quote, a `key: value` line (an aliases file used as a table).  pflint does
    not reimplement these parsers: it has the installed `postmap` open the table
    (`postmap -q KEY type:FILE`) and reports the warnings it prints about the file's
    lines.  A texthash key given twice is LIVE024's; types this Postfix lacks are LIVE001's.

    ## Why it matters
    Postfix skips the line (or ignores part of it) and carries on: the check the line was
    written for never happens, and the only trace is a warning in the log each time a
    program opens the table.

    ## Postfix source
    - `src/util/dict_regexp.c`, `dict_regexp_open()` and `dict_regexp_parseline()`:
      "regexp map %s, line %d: ..." warnings, most ending "skipping this rule".
    - `src/util/dict_pcre.c`, `dict_pcre_open()` and `dict_pcre_parse_rule()`: the same
      for pcre.
    - `src/util/dict_thash.c`, `dict_thash_open()`: "%s, line %d: ... -- ignoring this
      line" for texthash.
    - postmap(1): `-q` opens the table as the daemons open it.

    ## Example
    ```
    # /etc/postfix/header_checks
    /^Subject: (win/ REJECT
    ```

    ## Use instead
    ```
    /^Subject: \\(win/ REJECT
    ```

    ## Fix
    None: pflint does not edit table files.
    """

    code = "LIVE006"
    name = "table-line-rejected"
    severity = "warning"
    summary = "postmap warns about a line of a regexp, pcre or texthash table"

    def check(self, ctx: Context) -> None:
        types = ("regexp", "pcre", "texthash")
        for table, problems in _postmap_line_problems(self, ctx, types):
            _line_findings(
                self,
                table,
                [p for p in problems if duplicate_key(p) is None],
                "postmap warns: ",
                "Postfix logs this each time it opens the table",
            )


@register
class TexthashDuplicateKey(LiveRule):
    """
    ## What it finds
    A `texthash` table that gives the same key on two lines.  The installed `postmap`
    opens the table (`postmap -q KEY texthash:FILE`) and names each line whose key came
    before; the finding points at the place in main.cf or master.cf that names the table.

    ## Why it matters
    postmap only warns about the duplicate, but the daemons open their tables without
    postmap's "warn about duplicates" flag, and dict_thash_open() then gives up on the
    whole file: the program gets a stand-in table whose every lookup fails, and mail
    that needs the table is deferred (smtpd answers "451 4.3.5 Server configuration
    error").  A `hash` table built by postmap from the same file would work, which is why
    this goes unnoticed when a table is switched to texthash.

    ## Postfix source
    - `src/util/dict_thash.c`, `dict_thash_open()`: a key seen before is a warning with
      DICT_FLAG_DUP_WARN, else the table becomes a dict_surrogate() ("duplicate entry").
    - `src/postmap/postmap.c`, `main()`: postmap sets DICT_FLAG_DUP_WARN;
      `src/global/maps.c`, `maps_create()`, and its callers such as
      `src/smtpd/smtpd_check.c`, `smtpd_check_init()`, pass no duplicate flag.

    ## Example
    ```
    # /etc/postfix/client_access (texthash:/etc/postfix/client_access)
    192.0.2.1   REJECT
    192.0.2.1   OK
    ```

    ## Use instead
    One line per key.

    ## Fix
    None: pflint does not edit table files.
    """

    code = "LIVE024"
    name = "texthash-duplicate-key"
    severity = "error"
    summary = "a texthash table repeats a key, which makes every lookup in it fail"

    def check(self, ctx: Context) -> None:
        for table, problems in _postmap_line_problems(self, ctx, ("texthash",)):
            assert table.path is not None
            duplicates = [p for p in problems if duplicate_key(p) is not None]
            if duplicates:
                first = duplicates[0]
                more = f" (and {len(duplicates) - 1} more)" if len(duplicates) > 1 else ""
                self.report(
                    table.where,
                    f"{table.shown}: {table.path}, line {first.line}: the key "
                    f'"{duplicate_key(first)}" was given before{more}: the daemons then '
                    "refuse the whole file and every lookup in the table fails",
                )


@register
class DatabaseConfigMissing(LiveRule):
    """
    ## What it finds
    A database client table (`mysql`, `pgsql`, `ldap`, `sqlite`, `memcache`, `mongodb`)
    whose configuration file is missing, unreadable or not a regular file.  Only names
    that start with `/` or `.` are files; any other name is a prefix of main.cf settings
    (`ldap:ldapsource` reads `ldapsource_server_host`...), which this rule leaves alone.

    ## Why it matters
    The program opens a stand-in table whose every lookup fails, and the mail that needs
    the table is deferred.

    ## Postfix source
    - `src/global/cfg_parser.c`, `cfg_parser_alloc()`: a name starting with `/` or `.` is
      a file loaded when the table is opened; otherwise the settings are main.cf's.
    - `src/global/dict_mysql.c`, `dict_mysql_open()` (and `dict_pgsql_open()` in
      `src/global/dict_pgsql.c`, `dict_ldap_open()` in `src/global/dict_ldap.c`): a
      configuration that cannot be loaded gives a surrogate table.

    ## Example
    ```
    virtual_mailbox_maps = proxy:mysql:/etc/postfix/mysql-virtual-mailboxes.cf
    ```
    with the file never created.

    ## Use instead
    Create the file (see mysql_table(5), pgsql_table(5), ldap_table(5)), or correct the
    name.

    ## Fix
    None.
    """

    code = "LIVE007"
    name = "database-config-missing"
    severity = "error"
    summary = "a database client table's configuration file is missing or unreadable"

    def check(self, ctx: Context) -> None:
        clients = _clients()
        host = self.host(ctx)
        for named in self.tables(ctx):
            name = named.reference.table.name
            if named.type not in clients or named.path is None or name[:1] not in "/.":
                continue
            found = host.read(named.path)
            if found.problem is not None:
                if self.cannot_look(named.where, named.shown, named.path, found.denied):
                    continue
                self.report(
                    named.where,
                    f"{named.shown}: the client configuration {named.path} {found.problem}: "
                    "every lookup in the table fails",
                )


@register
class DatabaseConfigReadable(LiveRule):
    """
    ## What it finds
    A database client configuration that holds a secret and that every user of the host
    can read (the "others" read permission): `password` in a mysql or pgsql
    configuration, `bind_pw` in an ldap one, a `uri` with `user:password@` in a mongodb
    one.  sqlite and memcache configurations hold no password and are not reported.

    ## Why it matters
    Anyone with a shell on the machine (a web application, a local user) can read the
    database password and use it directly against the database.

    ## Postfix source
    - `src/global/dict_mysql.c`, `mysql_parse_config()`: the `password` setting;
      `src/global/dict_pgsql.c`, `pgsql_parse_config()`: the same; `src/global/dict_ldap.c`,
      `dict_ldap_open()`: `bind_pw`.
    - mysql_table(5), pgsql_table(5), ldap_table(5): the settings and what they hold.

    ## Example
    ```
    -rw-r--r-- root root /etc/postfix/mysql-virtual.cf   (password = secret)
    ```

    ## Use instead
    ```
    -rw-r----- root postfix /etc/postfix/mysql-virtual.cf
    ```
    (`chmod o-r`; the group must still let Postfix read it).

    ## Fix
    None: pflint does not change permissions.
    """

    code = "LIVE008"
    name = "database-config-readable"
    severity = "warning"
    summary = "a database client configuration with a password is readable by everyone"

    def check(self, ctx: Context) -> None:
        clients = _clients()
        host = self.host(ctx)
        for named in self.tables(ctx):
            name = named.reference.table.name
            secrets = clients.get(named.type, ())
            if not secrets or named.path is None or name[:1] not in "/.":
                continue
            found = host.read(named.path)
            if found.data is None:
                continue  # LIVE007
            mode = found.info.permissions
            if not mode & 0o004:
                continue
            held = secret_settings(found.data, secrets)
            if held:
                setting, line = held[0]
                self.report(
                    named.where,
                    f"{named.shown}: {named.path} holds {setting} (line {line}) and every "
                    f"user of this host can read it (mode {mode:04o}); chmod o-r",
                )


@register
class AliasesNotBuilt(LiveRule):
    """
    ## What it finds
    An alias database that `alias_database` lists and a program reads (`alias_maps`,
    usually) whose database file is missing (an error) or older than its source file
    (a warning, when the source last changed more than 100 seconds ago).

    ## Why it matters
    local(8) reads aliases from the database only.  Without it every local delivery that
    looks up an alias is deferred; with an old one, new or changed aliases do not work.
    The tool that builds these tables is newaliases (it runs postalias on each table of
    alias_database), which is why they have a rule of their own.

    ## Postfix source
    - `src/sendmail/sendmail.c`, `main()`: newaliases runs postalias on the tables of
      alias_database.
    - `src/util/dict_db.c`, `dict_db_open()`: a missing database gives a surrogate table,
      an older one a warning "database %s is older than source file %s".

    ## Example
    ```
    alias_maps = hash:/etc/aliases
    alias_database = hash:/etc/aliases
    ```
    with /etc/aliases edited and `newaliases` not run, or never run.

    ## Use instead
    Run `newaliases` after every change of /etc/aliases.

    ## Fix
    None: pflint does not run newaliases.
    """

    code = "LIVE009"
    name = "aliases-not-built"
    severity = "error"
    summary = "an alias database is missing or older than its source: run newaliases"

    def check(self, ctx: Context) -> None:
        # without a local(8) service the readers are smtpd and proxymap (local_recipient_maps)
        local = bool(self.model(ctx).running("local"))
        effect = (
            "local delivery defers mail that needs an alias"
            if local
            else "every lookup in it fails"
        )
        for named in _indexed_tables(self, ctx, aliases=True):
            missing = _missing_database(self, ctx, named)
            if missing is not None:
                database, problem, denied = missing
                if self.cannot_look(named.where, named.shown, database, denied):
                    continue
                self.report(
                    named.where,
                    f"{named.shown}: the alias database {database} {problem}"
                    f"{_source_note(self, ctx, named)}: {effect}; run newaliases",
                )
                continue
            stale = _out_of_date(self, ctx, named)
            if stale is not None:
                database, source = stale
                self.report(
                    named.where,
                    f"{named.shown}: the alias database {database} is older than its source "
                    f"{source}: new or changed aliases do not work yet; run newaliases",
                    severity="warning",
                )


def _opened_files(named: NamedTable, path: str) -> tuple[str, ...]:
    """The files a program opens for the table whose name leads to ``path``: the database
    of an indexed type, the file of a text type or of a database client's configuration;
    none for the other types."""
    if named.type in _indexed():
        return tuple(path + suffix for suffix in INDEX_SUFFIXES.get(named.type, ()))
    if named.type in _text_types():
        return (path,)
    if named.type in _clients() and named.reference.table.name[:1] in "/.":
        return (path,)
    return ()


@register
class ProxiedTableUnreadable(LiveRule):
    """
    ## What it finds
    A table read through `proxy:` whose file proxymap cannot open: proxymap runs as
    `mail_owner` (`postfix`), so the file (the database of a `hash` table, the file of a
    `cidr` or `texthash` table, a `mysql` or `ldap` client configuration...) must let that
    user read it, and every directory above it must let that user pass.  When master.cf
    runs proxymap chrooted, the file is looked for below `queue_directory`, and a missing
    one is reported too.  A proxymap service that runs as root (`n` in the unprivileged
    column) can read anything and is not judged.

    ## Why it matters
    A file that only root may read is the usual advice for secrets, and right for the
    programs that open their tables as root; behind `proxy:` it breaks the table: every
    lookup fails, and the mail that needs it is deferred.  The typical case is a
    `mysql:` configuration made `chmod 600` to protect its password.

    ## Postfix source
    - `src/proxymap/proxymap.c`, `proxy_map_find()`: the table is opened when a client
      first asks for it, after `pre_jail_init()` ("initialization after privilege
      drop") and after any chroot; `src/master/master_ent.c`, `get_master_ent()`: the
      unprivileged and chroot columns.
    - `src/util/dict_db.c`, `dict_db_open()` (and the other types' open functions): a
      file that cannot be opened gives a stand-in table whose lookups fail.

    ## Example
    ```
    virtual_mailbox_maps = proxy:mysql:/etc/postfix/mysql-mailboxes.cf
    ```
    with `-rw------- root root /etc/postfix/mysql-mailboxes.cf`.

    ## Use instead
    ```
    chgrp postfix /etc/postfix/mysql-mailboxes.cf
    chmod 640 /etc/postfix/mysql-mailboxes.cf
    ```

    ## Fix
    None: pflint does not change owners or permissions.
    """

    code = "LIVE026"
    name = "proxied-table-unreadable"
    severity = "error"
    summary = "proxymap, which runs as mail_owner, cannot read a proxy: table's file"

    def check(self, ctx: Context) -> None:
        proxymap = self.model(ctx).daemon("proxymap", "unix")
        if proxymap is None or not proxymap.unprivileged:
            return
        host = self.host(ctx)
        owner = proxymap.config.value("mail_owner") or "postfix"
        account = host.account(owner)
        if account is None:
            host.note(f"--live: mail_owner {owner} is no user of this host")
            return
        queue = proxymap.config.value("queue_directory") or "/"
        for named in self.tables(ctx):
            name = named.reference.table.name
            if not named.reference.proxied or not name or name.startswith("{"):
                continue
            path = host.resolve(name, queue_directory=queue, chroot=proxymap.chroot)
            for opened in _opened_files(named, path):
                info = host.inspect(opened)
                if info.problem is not None:
                    if proxymap.chroot and not info.denied:
                        self.report(
                            named.where,
                            f"{named.shown}: proxymap runs chrooted and opens {opened}, "
                            f"which {info.problem}: every lookup in the table fails",
                        )
                    continue  # LIVE002, LIVE004, LIVE007
                why = denied(opened, account, host.inspect, host.owners)
                if why is not None:
                    self.report(
                        named.where,
                        f"{named.shown}: proxymap opens it as {owner}, and {why}: every "
                        "lookup in the table fails",
                    )
                    break
