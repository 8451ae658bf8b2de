"""Live rules about the programs Postfix runs and the directories it delivers into: master.cf's
commands in daemon_directory, pipe(8)'s ``argv=`` commands, local(8)'s mailbox_command, and
the mailbox directories of virtual(8) and local(8).

Which services run, what reaches them and which of local(8)'s delivery methods counts is the
model's (semantics.services, semantics.commands, Postfix.delivers_with).  Where a path leads
is worked out here as the program finds it (its chroot, working directory and PATH), and
looked at through the Host.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

import attrs

from ....live import Host
from ....live.host import PathInfo
from ....model import Span
from ....semantics import Postfix
from ....semantics.commands import PipeCommand, command_program, mailbox_methods, pipe_command
from ....semantics.configuration import Configuration
from ....semantics.services import Daemon
from ... import location as at
from ...context import Context
from ...location import File, Location
from ...rule import register
from .common import LiveRule

#: Any execute bit: what lets root (master(8), and the check here) run a file.  Whether the
#: user a pipe(8) or local(8) command runs as may run it is not looked at.
_EXECUTE_BITS = 0o111


@attrs.frozen
class Jail:
    """Where a process's paths lead on this host: ``root``, the host directory that is its
    ``/`` (the host's own, or queue_directory for a chrooted service), and ``cwd``, its
    working directory as the process names it."""

    root: str
    cwd: str

    @classmethod
    def of(cls, daemon: Daemon) -> Jail:
        """A daemon after its skeleton's set-up: in queue_directory, chrooted there when
        master.cf's chroot column says so (master/single_server.c, single_server_main():
        chdir(var_queue_dir), then chroot_uid(), which changes to the new ``/``)."""
        queue = (daemon.config.value("queue_directory") or "").strip() or "/"
        return cls(queue, "/") if daemon.chroot else cls("/", queue)

    def host(self, path: str) -> str:
        """The host path of ``path`` as the process opens it."""
        full = path if path.startswith("/") else posixpath.join(self.cwd, path)
        if self.root == "/":
            return full
        return self.root.rstrip("/") + "/" + full.lstrip("/")

    def chroot(self, path: str) -> Jail:
        """After chroot_uid(path): its root is ``path``, its working directory ``/``."""
        return Jail(self.host(path), "/")

    def chdir(self, path: str) -> Jail:
        return Jail(self.root, path if path.startswith("/") else posixpath.join(self.cwd, path))

    @property
    def chrooted(self) -> bool:
        return self.root != "/"


@attrs.frozen
class Lookup:
    """A program looked for: the host ``path`` that decides (the file found, or the first
    that is there but unusable, or the first missing one), ``problem`` (None: it runs),
    ``denied``: pflint may not look."""

    path: str
    problem: str | None = None
    denied: bool = False
    #: what the message names: the path, or the bare name found nowhere
    shown: str = ""


def program_problem(info: PathInfo) -> str | None:
    """Why the file at ``info`` cannot be run (as root), in words a message ends with."""
    if info.problem is not None:
        return info.problem
    if info.kind != "file":
        return f"is {info.what}, not a program"
    if not info.permissions & _EXECUTE_BITS:
        return f"is not executable (mode {info.permissions:04o})"
    return None


def find_program(host: Host, jail: Jail, word: str, search: tuple[str, ...]) -> Lookup:
    """execvp()'s search for ``word`` in ``jail``: a word with a ``/`` is the path itself;
    a bare name is tried in each directory of ``search``, the first executable file
    winning (a file found but not executable only lets the search go on)."""
    if "/" in word:
        info = host.inspect(jail.host(word))
        return Lookup(info.path, program_problem(info), info.denied, info.path)
    first: Lookup | None = None
    for directory in search:
        info = host.inspect(jail.host(posixpath.join(directory, word)))
        problem = program_problem(info)
        if problem is None:
            return Lookup(info.path, shown=info.path)
        if info.denied:
            return Lookup(info.path, problem, True, info.path)
        if first is None or (first.problem == "does not exist" and problem != "does not exist"):
            first = Lookup(info.path, problem, shown=info.path)
    assert first is not None
    if first.problem == "does not exist":
        where = ", ".join(jail.host(d) for d in search)
        return Lookup(first.path, f"is in none of {where}", shown=word)
    return first


def _search_note(search: tuple[str, ...]) -> str:
    return (
        f" (looked up in PATH {':'.join(search)}: _PATH_DEFPATH, which Postfix sets for "
        "every command it runs, whatever export_environment says)"
    )


class ProgramRule(LiveRule):
    """A live rule on programs and delivery directories: reports once per place and
    message (one main.cf setting serves several services)."""

    def check(self, ctx: Context) -> None:
        self._seen: set[tuple[object, ...]] = set()
        self.check_programs(ctx)

    def check_programs(self, ctx: Context) -> None:
        raise NotImplementedError

    def once(self, where: Location, message: str) -> None:
        key = (where.file, where.span, message)
        if key not in self._seen:
            self._seen.add(key)
            self.report(where, message)

    def reached(self, ctx: Context, program: str) -> Iterator[Daemon]:
        """The services master(8) runs with ``program`` (not disabled, not an earlier
        duplicate, which master ignores: master/master_conf.c, master_config()) that mail
        may reach (Postfix.delivers_with)."""
        model = self.model(ctx)
        for daemon in model.running(program):
            if _runs(model, daemon) and model.delivers_with(daemon.name):
                yield daemon

    def search_path(self, ctx: Context, word: str) -> tuple[str, ...] | None:
        """The PATH a bare command name is looked up in; None (with a note) where pflint
        does not know the C library's _PATH_DEFPATH."""
        search = Host.command_search_path()
        if search is None:
            self.host(ctx).note(
                f"--live: {self.code}: the PATH Postfix gives commands is not known for this "
                f"system: {word!r} and other bare command names are not looked for"
            )
        return search


def _runs(model: Postfix, daemon: Daemon) -> bool:
    return daemon.started and model.daemon(daemon.name, daemon.type) is daemon


def _where(config: Configuration, parameter: str, daemon: Daemon) -> Location:
    return at.setting(config, parameter) or at.unwritten(parameter, daemon)


def _jail_words(jail: Jail) -> str:
    return f" (inside the chroot {jail.root})" if jail.chrooted else ""


@register
class ServiceProgramMissing(ProgramRule):
    """
    ## What it finds
    A master.cf service that master(8) runs (not commented out, not disabled by
    `master_service_disable`, not an earlier duplicate) whose command is not a program in
    `daemon_directory`: the file `$daemon_directory/command` does not exist, is a
    directory or another non-file, or has no execute permission.  master puts
    daemon_directory (as main.cf gives it, else the installed Postfix's default) in front
    of every command, an absolute one included.

    ## Why it matters
    master starts the program when the service is first needed: the exec fails, the
    process exits, master logs "fatal: ... exec ...: No such file or directory" and
    throttles the service.  Mail that needs it (a delivery transport, the SMTP port)
    waits in the queue or is refused.  A command written as a full path
    (`/usr/lib/dovecot/deliver`) never works: that program belongs in a `pipe` service's
    `argv=`.

    ## Postfix source
    - `src/master/master_ent.c`, `get_master_ent()`: the path is `concatenate(var_daemon_dir,
      "/", command)`; disabled services are skipped there.
    - `src/master/master_spawn.c`, `master_spawn()`: `execvp()` of that path, "exec %s: %m"
      when it fails.
    - `src/master/master_conf.c`, `master_config()`: of duplicate entries the last is used.

    ## Example
    ```
    dovecot   unix  -       n       n       -       -       /usr/lib/dovecot/deliver
    ```

    ## Use instead
    ```
    dovecot   unix  -       n       n       -       -       pipe
      flags=DRhu user=vmail:vmail argv=/usr/lib/dovecot/deliver -d ${recipient}
    ```

    ## Fix
    None: install the missing program, or correct the command or daemon_directory.
    """

    code = "LIVE020"
    name = "service-program-missing"
    severity = "error"
    summary = "a master.cf command is not an executable program in daemon_directory"

    def check_programs(self, ctx: Context) -> None:
        if ctx.master_is_stock:
            return  # Postfix's stock master.cf stands in: its services are not this host's
        model = self.model(ctx)
        host = self.host(ctx)
        # master reads main.cf alone: a service's -o cannot move daemon_directory
        directory = (model.config.main_view().value("daemon_directory") or "").strip()
        if not directory:
            return
        queue = (model.config.value("queue_directory") or "").strip() or "/"
        for daemon in model.daemons:
            command = daemon.service.command
            if not _runs(model, daemon) or command == "-":
                continue
            # master runs in queue_directory (master/master.c): a relative daemon_directory
            # is taken from there
            path = Host.resolve(f"{directory}/{command}", queue_directory=queue)
            info = host.inspect(path)
            problem = program_problem(info)
            if problem is None:
                continue
            where = at.field(daemon, "command")
            subject = f"{daemon.key}: command {command}"
            if self.cannot_look(where, subject, path, info.denied):
                continue
            absolute = (
                "; master puts daemon_directory before an absolute command too"
                if command.startswith("/") else ""
            )  # fmt: skip
            self.once(
                where,
                f"{subject}: master runs {path}, which {problem}{absolute}: the service "
                "cannot start, and mail that needs it waits",
            )


def _argv_where(command: PipeCommand) -> Location:
    """The program's text inside the ``argv=`` word, when it is written as read on one
    line; else the whole word."""
    daemon = command.daemon
    where = at.word(daemon, command.index)
    argument = daemon.service.arguments[command.index]
    span = argument.span
    if argument.text.startswith("{") or span.line != span.end_line or not command.program:
        return where
    start = span.column + command.offset
    return at.span(
        File.MASTER,
        Span(span.line, start, span.line, start + len(command.program)),
        service=daemon.key,
    )


@register
class PipeCommandMissing(ProgramRule):
    """
    ## What it finds
    A pipe(8) service that master(8) runs and mail can reach (a transport setting or
    `content_filter` names it, or a transport table is set, whose contents pflint does
    not read) whose command, the first word after `argv=`, is not an executable file:
    missing, a directory, or without execute permission.  The path is taken as pipe
    takes it: inside queue_directory when the service runs chrooted, inside the
    `chroot=` attribute's directory when it has one, a relative name from the
    `directory=` attribute or queue_directory, and a bare name (no `/`) from the PATH
    Postfix gives every command (`/usr/bin:/bin` with glibc, FreeBSD and macOS; on other
    systems bare names are not looked for, and `pflint -v` says so).  A command with a
    `$` macro, which pipe fills in per delivery, is left alone.

    ## Why it matters
    Every delivery through the service fails: the exec fails, and pipe reports the
    command's failure for each message ("Command died with status 1" or similar), which
    bounces or defers the mail depending on the status.

    ## Postfix source
    - `src/pipe/pipe.c`, `get_service_attr()`: the attributes `chroot=`, `directory=` and
      `argv=` (the last, the words after it are the command's arguments);
      `expand_argv()` fills in `$recipient` and the other macros; `deliver_message()`
      passes the command, directory and chroot to `pipe_command()`.
    - `src/global/pipe_command.c`, `pipe_command()`: `chroot_uid()` into the `chroot=`
      directory, `chdir()` to `directory=`, PATH set to `_PATH_DEFPATH` after
      `clean_env()`, then `execvp()` of the command.
    - `src/master/single_server.c`, `single_server_main()`: the daemon changes to
      queue_directory and, when chrooted, into it before it serves.

    ## Example
    ```
    maildrop  unix  -       n       n       -       -       pipe
      flags=DRXhu user=vmail argv=/usr/local/bin/maildrop -d ${recipient}
    ```
    with main.cf's `virtual_transport = maildrop` and no /usr/local/bin/maildrop.

    ## Use instead
    Install the program, or write its real path after `argv=`.

    ## Fix
    None.
    """

    code = "LIVE021"
    name = "pipe-command-missing"
    severity = "error"
    summary = "a pipe(8) service's argv= command is not an executable file"

    def check_programs(self, ctx: Context) -> None:
        host = self.host(ctx)
        for daemon in self.reached(ctx, "pipe"):
            command = pipe_command(daemon)
            if command is None or command.expanded:
                continue
            where = _argv_where(command)
            word = command.program
            if not word:
                self.once(
                    where,
                    f"{daemon.key}: nothing follows argv= in its word: pipe(8) runs a "
                    "command with an empty name, and every delivery fails",
                )
                continue
            jail = Jail.of(daemon)
            if command.chroot:
                jail = jail.chroot(command.chroot)
            if command.directory:
                jail = jail.chdir(command.directory)
            note = ""
            search: tuple[str, ...] = ()
            if "/" not in word:
                found_search = self.search_path(ctx, word)
                if found_search is None:
                    continue
                search = found_search
                note = _search_note(search)
            found = find_program(host, jail, word, search)
            if found.problem is None:
                continue
            subject = f"{daemon.key}: argv={word}"
            if self.cannot_look(where, subject, found.path, found.denied):
                continue
            self.once(
                where,
                f"{subject}: pipe(8) runs {found.shown}{_jail_words(jail)}, which "
                f"{found.problem}{note}: every delivery through this service fails",
            )


@register
class MailboxCommandMissing(ProgramRule):
    """
    ## What it finds
    A `mailbox_command` whose program is not an executable file, when local(8) uses it:
    a local service runs and mail reaches it, and no method that comes first in local's
    order takes every user (`mailbox_transport`, or a `static:` table in
    `mailbox_transport_maps` or `mailbox_command_maps`; other tables take only the users
    they list, so mailbox_command still serves the rest).  The program is the command's
    first word when local runs it directly (no shell metacharacters), or the first word
    of the `/bin/sh -c` command line when that word is plain text; a word the shell
    expands (`$HOME/bin/x`, quotes), an assignment or a shell built-in is left alone.
    With `local_command_shell` set, local runs that shell instead, and its program is
    the one looked for.  A bare name is looked for in the PATH Postfix gives commands
    (`/usr/bin:/bin` with glibc, FreeBSD and macOS; elsewhere bare names are not looked
    for), a relative one from `command_execution_directory` or queue_directory.

    ## Why it matters
    Every delivery to a local mailbox fails: the exec fails (or the shell says "not
    found"), and local bounces or defers the mail by the command's exit status.

    ## Postfix source
    - `src/local/mailbox.c`, `deliver_mailbox()`: mailbox_transport_maps,
      mailbox_transport, mailbox_command_maps, mailbox_command, home_mailbox, then the
      mail spool, in that order.
    - `src/local/command.c`, `deliver_command()`: the command goes to `pipe_command()` with
      `local_command_shell` and the command_execution_directory.
    - `src/global/pipe_command.c`, `pipe_command()`: PATH set to `_PATH_DEFPATH`; a
      command with a shell set runs through it, else through `exec_command()`.
    - `src/util/exec_command.c`, `exec_command()`: without shell metacharacters the first
      word is run with `execvp()` (a bare name it cannot find goes to the shell after
      all), else `/bin/sh -c` runs the command.

    ## Example
    ```
    mailbox_command = /usr/bin/procmail -a "$EXTENSION"
    ```
    on a host without procmail.

    ## Use instead
    Install the program, correct its path, or leave mailbox_command empty to deliver to
    the mail spool.

    ## Fix
    None.
    """

    code = "LIVE022"
    name = "mailbox-command-missing"
    severity = "error"
    summary = "local(8) delivers through a mailbox_command whose program is missing"

    def check_programs(self, ctx: Context) -> None:
        for daemon in self.reached(ctx, "local"):
            config = daemon.config
            methods = mailbox_methods(config)
            if not any(m.parameter == "mailbox_command" for m in methods):
                continue
            command = config.value("mailbox_command") or ""
            jail = Jail.of(daemon)
            directory = (config.value("command_execution_directory") or "").strip()
            relative_known = "$" not in directory
            if directory and relative_known:
                jail = jail.chdir(directory)
            shell = (config.value("local_command_shell") or "").strip()
            if shell:
                parameter, word = "local_command_shell", shell.split()[0]
                how = "local(8) runs mailbox_command through this shell,"
            else:
                program = command_program(command)
                if program.word is None:
                    continue
                parameter, word = "mailbox_command", program.word
                how = (
                    "local(8) hands the command to /bin/sh -c (it has shell "
                    "metacharacters), which runs"
                    if program.shell
                    else "local(8) runs the program"
                )
            if "/" in word and not word.startswith("/") and not relative_known:
                continue
            self._look(ctx, daemon, config, parameter, word, jail, how)

    def _look(
        self,
        ctx: Context,
        daemon: Daemon,
        config: Configuration,
        parameter: str,
        word: str,
        jail: Jail,
        how: str,
    ) -> None:
        search: tuple[str, ...] = ()
        note = ""
        if "/" not in word:
            found_search = self.search_path(ctx, word)
            if found_search is None:
                return
            search = found_search
            note = _search_note(search)
        found = find_program(self.host(ctx), jail, word, search)
        if found.problem is None:
            return
        where = _where(config, parameter, daemon)
        if self.cannot_look(where, f"{parameter}: {word}", found.path, found.denied):
            return
        self.once(
            where,
            f"{parameter}: {how} {found.shown}{_jail_words(jail)}, which {found.problem}{note}: "
            "every delivery to a local mailbox fails",
        )


@register
class DeliveryDirectoryMissing(ProgramRule):
    """
    ## What it finds
    A directory mail is delivered into that is missing or is not a directory:

    - `virtual_mailbox_base`, when a virtual(8) service runs and mail reaches it
      (`virtual_transport` names it and `virtual_mailbox_domains` lists a domain, or
      another transport setting or a transport table can send mail there);
    - `mail_spool_directory`, when a local(8) service runs, mail reaches it, and local
      delivers to the spool: no `mailbox_transport`, `mailbox_command` or `home_mailbox`,
      nor a `static:` table in `mailbox_transport_maps` or `mailbox_command_maps`, comes
      first.

    Each is taken inside queue_directory when the service runs chrooted.  `home_mailbox`
    is not looked at: it is relative to each user's home directory, which pflint cannot
    list.

    ## Why it matters
    Mailbox files are created inside the directory, which must be there: every delivery
    fails ("create mailbox file ...: No such file or directory").  For a maildir, the
    program tries to create the missing directories with the recipient's rights, which
    fails unless the recipient may write the parent, as is seldom so for these places.

    ## Postfix source
    - `src/virtual/mailbox.c`, `deliver_mailbox()`: the mailbox is
      `virtual_mailbox_base/` plus the table's result; `src/virtual/maildir.c`,
      `deliver_maildir()` creates missing maildir directories with `make_dirs()` as the
      recipient.
    - `src/local/mailbox.c`, `deliver_mailbox()`: the order of the methods;
      `deliver_mailbox_file()`: the spool file `mail_spool_directory/user`, opened with
      `mbox_open()`.

    ## Example
    ```
    virtual_mailbox_domains = example.com
    virtual_mailbox_maps = hash:/etc/postfix/vmailbox
    virtual_mailbox_base = /var/mail/vhosts
    ```
    with no /var/mail/vhosts.

    ## Use instead
    Create the directory, owned as the mailboxes in it need (for virtual(8), by the uid
    virtual_uid_maps gives).

    ## Fix
    None.
    """

    code = "LIVE023"
    name = "delivery-directory-missing"
    severity = "error"
    summary = "virtual_mailbox_base or the mail spool directory mail is delivered into is missing"

    def check_programs(self, ctx: Context) -> None:
        for daemon in self.reached(ctx, "virtual"):
            base = (daemon.config.value("virtual_mailbox_base") or "").strip()
            # empty or relative: virtual(8) stops (a static matter)
            if base.startswith("/"):
                self._look(ctx, daemon, "virtual_mailbox_base", base,
                           "virtual(8) delivers below it")  # fmt: skip
        for daemon in self.reached(ctx, "local"):
            methods = mailbox_methods(daemon.config)
            spool = [m for m in methods if m.parameter == "mail_spool_directory"]
            if spool:
                how = "maildirs" if spool[0].maildir else "mailbox files"
                self._look(ctx, daemon, "mail_spool_directory", spool[0].value,
                           f"local(8) delivers {how} in it (no mailbox_transport, "
                           "mailbox_command or home_mailbox comes first)")  # fmt: skip

    def _look(self, ctx: Context, daemon: Daemon, parameter: str, value: str, how: str) -> None:
        jail = Jail.of(daemon)
        path = jail.host(value.rstrip("/") or "/")
        info = self.host(ctx).inspect(path)
        if info.problem is None and info.kind == "directory":
            return
        problem = info.problem or f"is {info.what}, not a directory"
        where = _where(daemon.config, parameter, daemon)
        subject = f"{parameter}: {how}"
        if self.cannot_look(where, subject, path, info.denied):
            return
        self.once(
            where,
            f"{subject}; {path}{_jail_words(jail)} {problem}: every delivery there fails",
        )
