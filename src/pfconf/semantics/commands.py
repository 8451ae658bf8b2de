"""The external commands Postfix's delivery agents run, and how each starts its program.

pipe(8) runs the ``argv=`` words of its master.cf entry (pipe/pipe.c, get_service_attr())
with execvp(); local(8) runs mailbox_command through global/pipe_command.c, which hands a
command string to util/exec_command.c: directly when it has no shell metacharacter, else
through ``/bin/sh -c``.  local(8)'s order of mailbox delivery methods (local/mailbox.c,
deliver_mailbox()) is here too.  This module reads the configuration only: where the
programs and directories are on a host is for pflint --live (pfconf.live).
"""

from __future__ import annotations

import attrs

from ..values import find_tables
from .configuration import Configuration
from .services import Daemon

#: The characters exec_command() accepts in a command it runs without a shell (its
#: ``ok_chars``, util/exec_command.c): any other character is a shell metacharacter.
PLAIN_COMMAND_CHARS = frozenset(
    "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t"
)

#: Words a POSIX shell runs itself (reserved words, special and regular built-ins): a
#: command starting with one needs no program of that name.
SHELL_WORDS = frozenset({
    "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in",
    "then", "until", "while", ".", ":", "alias", "bg", "break", "cd", "command", "continue",
    "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs", "kill",
    "newgrp", "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "[",
    "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait", "echo",
})  # fmt: skip

#: Where a shell word ends: a blank, or an operator character.
_WORD_ENDS = frozenset(" \t\n;&|<>()")


@attrs.frozen
class CommandProgram:
    """The program a command string starts: ``word`` as it is looked up (an absolute or
    relative path, or a bare name found through PATH), or None with ``why`` when it is
    known only at delivery; ``shell``: the string goes to ``/bin/sh -c``."""

    command: str
    word: str | None
    shell: bool
    why: str | None = None


def command_program(command: str) -> CommandProgram:
    """What exec_command() (util/exec_command.c) starts for ``command``.

    Without a shell metacharacter it splits the command at blanks and execvp()s the first
    word; a bare name execvp() does not find is handed to the shell after all, which runs
    it when it is a shell built-in.  With a metacharacter, ``/bin/sh -c`` runs the string,
    and its first word is a program only when it is plain text: a word with quotes, ``$``,
    ``~`` or a wildcard, an assignment or a redirection is the shell's at delivery time.
    """
    text = command.strip(" \t")
    if not text:
        return CommandProgram(command, None, False, "the command is empty")
    plain = all(ch in PLAIN_COMMAND_CHARS for ch in text)
    end = 0
    while end < len(text) and text[end] not in _WORD_ENDS:
        end += 1
    word = text[:end]
    after = text[end : end + 1]
    if plain:
        # execvp() fails on a bare name it does not find, and the shell gets the command
        if word in SHELL_WORDS:
            return CommandProgram(command, None, False, f"{word!r} is a shell built-in")
        if "=" in word and "/" not in word:
            return CommandProgram(command, None, False, "it starts with a variable assignment")
        return CommandProgram(command, word, False)
    if not word or any(ch not in PLAIN_COMMAND_CHARS for ch in word):
        return CommandProgram(command, None, True, "the shell expands its first word")
    if "=" in word.split("/", 1)[0]:
        return CommandProgram(command, None, True, "it starts with a variable assignment")
    if after in ("<", ">") and word.isdigit():
        return CommandProgram(command, None, True, "it starts with a redirection")
    if word in SHELL_WORDS:
        return CommandProgram(command, None, True, f"{word!r} is a shell word")
    return CommandProgram(command, word, True)


# -- pipe(8) ----------------------------------------------------------------------------------


@attrs.frozen
class PipeCommand:
    """The command of a pipe(8) service: ``program``, the word after ``argv=`` (its
    execvp() argv[0], looked up through PATH when it has no ``/``), held by the entry's
    word ``index`` (Service.arguments) from character ``offset`` on; and the ``chroot=``
    and ``directory=`` attributes, which decide where it is found."""

    daemon: Daemon
    program: str
    index: int
    offset: int
    chroot: str | None = None
    directory: str | None = None

    @property
    def expanded(self) -> bool:
        """Whether pipe(8) fills in ``$name`` macros in the word per delivery
        (pipe.c, expand_argv()), so that it is known only then."""
        return "$" in self.program


def pipe_command(daemon: Daemon) -> PipeCommand | None:
    """The command a pipe(8) service runs, as get_service_attr() (pipe/pipe.c) reads the
    arguments after the options: attribute names in any case, ``argv=`` last (the words
    after it are the command's arguments).  None for another program, or when there is
    no ``argv=`` (pipe stops on such an entry: a static rule's business)."""
    line = daemon.command_line
    if daemon.program != "pipe" or line is None:
        return None
    chroot = directory = None
    for index in line.plain:
        word = line.words[index]
        lowered = word.lower()
        if lowered.startswith("chroot="):
            chroot = word[len("chroot=") :]
        elif lowered.startswith("directory="):
            directory = word[len("directory=") :]
        elif lowered.startswith("argv="):
            return PipeCommand(daemon, word[len("argv=") :], index, len("argv="),
                               chroot, directory)  # fmt: skip
    return None


# -- local(8)'s mailbox delivery ----------------------------------------------------------------


@attrs.frozen
class MailboxMethod:
    """One way local(8) may deliver to a local user's mailbox: the ``parameter`` that asks
    for it and its value; ``every_user``: it takes every recipient that reaches it, so the
    methods after it are never used.  A per-user table takes only the users it lists."""

    parameter: str
    value: str
    every_user: bool

    @property
    def maildir(self) -> bool:
        """home_mailbox or mail_spool_directory ending in ``/``: a maildir."""
        return self.value.endswith("/")


def _answers_every_user(value: str) -> bool:
    """Whether a table list finds every key: it holds a ``static:`` table, whose one
    result answers any lookup (util/dict_static.c)."""
    return any(table.type == "static" for table in find_tables(value))


def mailbox_methods(config: Configuration) -> tuple[MailboxMethod, ...]:
    """The mailbox delivery methods local(8) may use, in deliver_mailbox()'s order
    (local/mailbox.c): mailbox_transport_maps, mailbox_transport, mailbox_command_maps,
    mailbox_command, home_mailbox, mail_spool_directory; each one set, up to and including
    the first that takes every user.  ``config`` is the local service's own view."""
    found: list[MailboxMethod] = []
    for parameter in (
        "mailbox_transport_maps",
        "mailbox_transport",
        "mailbox_command_maps",
        "mailbox_command",
        "home_mailbox",
        "mail_spool_directory",
    ):
        value = (config.value(parameter) or "").strip()
        if not value:
            continue
        every = not parameter.endswith("_maps") or _answers_every_user(value)
        found.append(MailboxMethod(parameter, value, every))
        if every:
            break
    return tuple(found)
