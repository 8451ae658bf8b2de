"""Editing master.cf: one ``-o`` override at a time, and whole services.

Unlike postconf -P, which reprints the whole entry (and moves the comments inside it), an
override is changed in place: only the ``name=value`` word, or one new ``-o`` line (or, when
a plain argument shares a line with what comes before it, a new ``-o`` just before it).  Values
with blanks are written as ``-o { name = value }`` (Postfix 3.0 and later).  A service that
the stock master.cf ships commented out (submission, submissions/smtps) is re-enabled where
it is rather than added a second time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from .. import loads
from ..errors import ParseError
from ..kb import Version, newest_version
from ..model import MasterCf, Override, Service, Span
from ..semantics.programs import CommandLine, command_line
from .base import Change, EditError, Editor, split_lines
from .main import _cut_eol, is_list, list_items

_PLAIN = re.compile(r"^[^\s{}]*$")


def override_word(name: str, value: str) -> str:
    """How ``-o name=value`` is written: plain when it can be, braced when it has blanks."""
    if _PLAIN.match(value) and not value.startswith("{"):
        return f"{name}={value}"
    if "}" in value and value.count("{") != value.count("}"):
        raise EditError(f"{name}: unbalanced braces in {value!r}")
    return "{ " + f"{name} = {value}" + " }"


def _end(span: Span) -> tuple[int, int]:
    """Where a word ends: the same for the ``name=value`` of ``-oname=value`` in postconf's
    reading and in the daemon's, also when the word spans lines."""
    return span.end_line, span.end_column


#: What a master.cf says, service by service: key, the eight fields, the -o overrides.
State = list[tuple[str, tuple[str, ...], dict[str, str]]]


def daemon_overrides(service: Service, version: Version) -> tuple[Override, ...]:
    """The ``-o`` overrides the service's daemon reads (the model's reading, see
    pfconf.semantics.programs), in order; postconf's reading when master itself would refuse
    the line."""
    line = command_line(service, version)
    return line.overrides if line is not None else service.override_list


def _state(doc: MasterCf, version: Version) -> State:
    """Each service as its daemon runs it: its key, its fields, and the overrides its daemon
    reads, the last one of a name winning."""
    return [
        (s.key, tuple(a.text for a in s.arguments[:8]),
         {o.name: o.value for o in daemon_overrides(s, version)})
        for s in doc.services
    ]  # fmt: skip


def _other_words(service: Service, version: Version) -> tuple[str, ...] | None:
    """What the daemon reads besides its overrides: its other options with their values, and
    its plain arguments (None when master would refuse the line)."""
    line = command_line(service, version)
    if line is None:
        return None
    options = tuple(f"-{o.letter}{'' if o.value is None else ' ' + o.value}"
                    for o in line.options if o.letter != "o")  # fmt: skip
    return (*options, "--" if line.ends_at_dashes else "", *(line.words[i] for i in line.plain))


class MasterEditor(Editor[MasterCf]):
    """Changes to one master.cf, each verified before it is kept (see pfconf.edit)."""

    kind = "master"
    file_label = "master.cf"

    def __init__(self, doc: MasterCf, version: Version | None = None) -> None:
        super().__init__(doc)
        #: the release whose daemons read the overrides (their getopt letters differ a little
        #: from release to release); the newest one pfconf knows by default
        self.version: Version = version or newest_version()

    def _find(self, key: str) -> Service:
        name, _, type_ = key.rpartition("/")
        service = self.doc.service(name, type_) if name else None
        if service is None:
            raise EditError(f"master.cf has no service {key}")
        return service

    def _span(self, service: Service) -> tuple[int, int]:
        start = service.line - 1
        return start, start + len(split_lines(service.node.dump()))

    def _snapshot(self) -> State:
        return _state(self.doc, self.version)

    def _becomes(self, wanted: State, problem: str) -> Callable[[MasterCf], str | None]:
        """A check: the daemons of the edited master.cf read exactly ``wanted``, else
        ``problem``."""
        return lambda doc: None if _state(doc, self.version) == wanted else problem

    def _expect(self, key: str, overrides: dict[str, str]) -> Callable[[MasterCf], str | None]:
        """A check: every service as before, except ``key`` whose overrides become these;
        its daemon's other options and arguments stay as they are."""
        wanted = [(k, f, overrides if k == key else o) for k, f, o in self._snapshot()]
        words = _other_words(self._find(key), self.version)
        problem = "the edit would change master.cf in an unintended way"

        def check(doc: MasterCf) -> str | None:
            name, _, type_ = key.rpartition("/")
            service = doc.service(name, type_)
            if service is None or _other_words(service, self.version) != words:
                return problem
            return self._becomes(wanted, problem)(doc)

        return check

    def _overrides(self, service: Service) -> tuple[Override, ...]:
        return daemon_overrides(service, self.version)

    def _override(self, service: Service, name: str) -> Override | None:
        """The override of ``name`` the daemon uses (the last one), or None."""
        found = None
        for override in self._overrides(service):
            if override.name == name:
                found = override
        return found

    # -- overrides -----------------------------------------------------------------------------

    def get_override(self, key: str, name: str) -> str | None:
        """The value the daemon of ``key`` reads for ``-o name``, or None."""
        override = self._override(self._find(key), name)
        return override.value if override is not None else None

    def set_override(self, key: str, name: str, value: str, reason: str = "") -> bool:
        """Set ``-o name=value`` on the service ``key`` (``submission/inet``)."""
        service = self._find(key)
        current = {o.name: o.value for o in self._overrides(service)}
        old = current.get(name)
        if old == value or (old is not None and is_list(name) and list_items(old) == list_items(value)):
            # a list that already holds these items in this order reads the same, however
            # it is spaced or braced: rewriting it would change bytes, not meaning
            return False
        wanted = {**current, name: value}
        word = override_word(name, value)
        change = Change(self.file_label, "set", f"{key}: -o {name}", old, value, reason)
        start, end = self._span(service)
        lines = self.lines[start:end]
        override = self._override(service, name)
        in_place = [override] if override is not None else []
        shown = self._also_shown(service, name, in_place)
        if shown is not None:
            in_place.append(shown)
        for replaced in sorted(in_place, key=lambda o: _end(o.argument), reverse=True):
            # Replace the name=value word where it is; its "-o" and its neighbours stay.
            span = replaced.argument
            if span.line != span.end_line:
                raise EditError(f"{key}: -o {name} spans lines; change it by hand")
            row = span.line - service.line
            body, eol = _cut_eol(lines[row])
            written = word
            if span.column > 1 and body[span.column - 2] not in " \t" and word.startswith("{"):
                # "-oname=value": master strips braces only from a whole word
                written = " " + word
            lines[row] = body[: span.column - 1] + written + body[span.end_column - 1 :] + eol
        if override is None:
            row, column = self._insert_point(service)
            if column is not None:
                body, eol = _cut_eol(lines[row])
                lines[row] = f"{body[: column - 1]}-o {word} {body[column - 1 :]}{eol}"
            else:
                lines.insert(row, f"{self._indent(service)}-o {word}{self.eol}")
                if row == len(lines) - 1 and not lines[row - 1].endswith("\n"):
                    lines[row - 1] += self.eol
                    lines[row] = lines[row][: -len(self.eol)]
        self._commit(start, end, lines, self._expect(key, wanted), change)
        return True

    def _also_shown(self, service: Service, name: str, replaced: list[Override]) -> Override | None:
        """The ``-o name=...`` postconf -P shows for the service, when it is not among the
        ``replaced`` ones the daemon reads: another word the daemon reads too (before a
        ``-s 2`` that stops postconf), which is then replaced as well so that both readings
        agree.  An EditError when the daemon does not read it (after a lone ``-``, which
        postconf takes as an option with a value and reads past, or after ``-n`` whose value
        the daemon takes it to be): no ``-o`` the daemon reads can come after it, so postconf
        -P would show a value the daemon does not use."""
        shown = service.override(name)
        if shown is None or any(_end(o.argument) == _end(shown.argument) for o in replaced):
            return None
        if any(_end(o.argument) == _end(shown.argument) for o in self._overrides(service)):
            return shown
        raise EditError(
            f"{service.key}: postconf -P reads -o {shown.text} where the daemon's getopt does "
            f"not (past a lone '-' or an option's value, see MST007), and no place for -o "
            f"{name} reads alike in both; change the command line by hand"
        )

    def unset_override(self, key: str, name: str, reason: str = "") -> bool:
        """Remove every ``-o name=...`` of the service ``key``."""
        service = self._find(key)
        current = {o.name: o.value for o in self._overrides(service)}
        if name not in current:
            return False
        # every one the daemon reads goes; one that only postconf -P shows would stay
        self._also_shown(service, name, list(self._overrides(service)))
        old = current[name]
        wanted = {k: v for k, v in current.items() if k != name}
        start, end = self._span(service)
        lines = self.lines[start:end]
        for override in reversed([o for o in self._overrides(service) if o.name == name]):
            first, last = override.option, override.argument
            if first.line != last.end_line:
                raise EditError(f"{key}: -o {name} spans lines; change it by hand")
            row = first.line - service.line
            body, eol = _cut_eol(lines[row])
            cut_from, cut_to = first.column - 1, last.end_column - 1
            rest = body[:cut_from] + body[cut_to:]
            if row > 0 and not rest.strip():
                del lines[row]
                continue
            # drop the blanks the pair leaves behind, but keep the line's own indentation
            if body[cut_to:].strip():
                right = body[cut_to:].lstrip(" \t")
                left = body[:cut_from]
                if left and left[-1] not in " \t":  # "-vo a=b -x": "-v" stays, then a blank
                    left += " "
            else:
                left, right = body[:cut_from].rstrip(" \t"), ""
            lines[row] = left + right + eol
        if lines and not lines[-1].endswith("\n") and end < len(self.lines):
            lines[-1] += self.eol
        self._commit(
            start, end, lines, self._expect(key, wanted),
            Change(self.file_label, "unset", f"{key}: -o {name}", old, None, reason),
        )  # fmt: skip
        return True

    def _indent(self, service: Service) -> str:
        """The indentation of the file's ``-o`` lines (two blanks when there are none)."""
        counts: Counter[str] = Counter()
        for line in self.lines:
            match = re.match(r"^([ \t]+)-o\b", line)
            if match:
                counts[match.group(1)] += 1
        return counts.most_common(1)[0][0] if counts else "  "

    def _insert_point(self, service: Service) -> tuple[int, int | None]:
        """Where a new ``-o`` goes in the entry: where both the daemon and postconf read it
        as an override.  That is after the options and before the first plain argument or
        ``--`` (getopt stops there, so a later ``-o`` would be an argument), and before the
        first option other than ``-o`` that takes a value (``-n name``): postconf takes
        ``name`` for the first plain argument, and a ``-o`` put after it would be read by the
        daemon but not by postconf, a ``-o`` put before it would become ``-n``'s value.

        (row, None): a new line at this row of the entry.  (row, column): inside that row,
        just before that word, when it shares its line with what comes before it.
        """
        arguments = service.arguments
        at = service.options_end
        line = command_line(service, self.version)
        if line is not None:
            at = min(at, line.end)
            for option in line.options:
                if option.letter != "o" and option.value_word is not None:
                    at = min(at, option.word)
                    break
        if at < len(arguments):
            first_plain = arguments[at].span
            row = first_plain.line - service.line
            body, _ = _cut_eol(self.lines[service.line - 1 + row])
            if row == 0 or body[: first_plain.column - 1].strip():
                return row, first_plain.column
            return row, None
        # after the entry's last line that holds fields or arguments
        node = service.node
        rows = [0] + [
            k + 1
            for k, inner in enumerate(node.inner)
            if type(inner).__name__ == "ContinuationLine"
        ]
        return rows[-1] + 1, None

    def set_field(self, key: str, field: str, value: str, reason: str = "") -> bool:
        """Change one of the first seven fields (``chroot``, ``process_limit``...) in place."""
        from ..model import FIELD_NAMES

        if field not in FIELD_NAMES[2:7]:
            raise EditError(f"{field!r} is not a field that can be changed in place")
        if not value or any(c.isspace() for c in value):
            raise EditError(f"{field}: {value!r} is not a field value")
        service = self._find(key)
        index = FIELD_NAMES.index(field)
        old = service.arguments[index].text
        positions = [i for i, s in enumerate(self.doc.services) if s.key == key]
        if all(self.doc.services[i].arguments[index].text == value for i in positions):
            return False
        # a service defined twice gets the field in every entry, as remove_service removes
        # every entry: otherwise the other entry would go on saying the old value
        with self._atomic():
            for position in positions:
                self._set_field_of(
                    position, index, value, f"{key}: changing {field} would change more"
                )
        self.changes.append(Change(self.file_label, "set", f"{key}: {field}", old, value, reason))
        return True

    def _set_field_of(self, position: int, index: int, value: str, problem: str) -> None:
        service = self.doc.services[position]
        old = service.arguments[index].text
        if old == value:
            return
        span = service.field_span(index)
        start, end = self._span(service)
        lines = self.lines[start:end]
        row = span.line - service.line
        body, eol = _cut_eol(lines[row])
        # keep the columns aligned when the old value was padded with blanks after it
        pad = len(old) - len(value)
        rest = body[span.end_column - 1 :]
        if pad > 0 and rest[:1] in (" ", "\t"):
            rest = " " * pad + rest
        elif pad < 0 and rest.startswith(" " * (-pad + 1)):
            rest = rest[-pad:]
        lines[row] = body[: span.column - 1] + value + rest + eol
        wanted = self._snapshot()
        key, fields, overrides = wanted[position]
        wanted[position] = (key, fields[:index] + (value,) + fields[index + 1 :], overrides)
        self._commit(start, end, lines, self._becomes(wanted, problem), None)

    # -- services ------------------------------------------------------------------------------

    def add_service(self, text: str, reason: str = "", after: str | None = None) -> bool:
        """Add a service entry (its lines as in master.cf) at the end, or after ``after``."""
        # the text's own line endings give way to the file's (no "\r\r\n")
        lines = [line.removesuffix("\r") + self.eol for line in text.rstrip("\r\n").split("\n")]
        try:
            probe = loads("".join(lines), "master")
        except ParseError as exc:
            raise EditError(f"not a master.cf service entry: {exc}") from exc
        if len(probe.services) != 1:
            raise EditError("add_service takes exactly one service entry")
        new = probe.services[0]
        if self.doc.service(new.name, new.type) is not None:
            return False
        at = len(self.lines)
        if after is not None:
            at = self._span(self._find(after))[1]
        before = self._snapshot()
        index = sum(1 for s in self.doc.services if s.line - 1 < at)
        added = _state(probe, self.version)[0]
        check = self._becomes(
            before[:index] + [added] + before[index:], "adding the service would change others"
        )

        self._commit(
            at,
            at,
            lines,
            check,
            Change(self.file_label, "add service", new.key, None, None, reason),
        )
        return True

    def remove_service(self, key: str, reason: str = "") -> bool:
        """Remove the service ``key``: every entry of it (its head, continuation and inner
        comment lines), as unset removes every definition of a parameter, so that no other
        copy takes its place."""
        name, _, type_ = key.rpartition("/")
        if self.doc.service(name, type_) is None:
            return False
        with self._atomic():
            self._remove_entries(key)
        self.changes.append(Change(self.file_label, "remove service", key, None, None, reason))
        return True

    def _remove_entries(self, key: str) -> None:
        while True:
            entries = [s for s in self.doc.services if s.key == key]
            if not entries:
                break
            last = entries[-1]
            start, end = self._span(last)
            before = self._snapshot()
            index = next(i for i, s in enumerate(self.doc.services) if s is last)
            check = self._becomes(
                before[:index] + before[index + 1 :], "removing the service would change others"
            )
            self._commit(start, end, [], check, None)

    def enable_service(
        self, key: str, overrides: dict[str, str] | None = None, reason: str = ""
    ) -> bool:
        """Turn a commented-out service (``#submission inet n - y - - smtpd``) back on.

        The head line loses its ``#``; of the commented ``#  -o name=value`` lines after it,
        those whose name is in ``overrides`` are uncommented with the new value, the others
        stay comments.  Overrides not found there are added as new ``-o`` lines.  False when
        there is no such comment; an EditError when the service is already active.

        What pfedit commented out (under its marker line) comes back whole instead, its
        ``-o`` lines included, before the overrides are set.
        """
        name, _, type_ = key.rpartition("/")
        overrides = dict(overrides or {})
        if self.doc.service(name, type_) is not None:
            raise EditError(f"{key} is already defined")
        with self._atomic():
            if self._restore_marked(key, reason):
                for oname, value in overrides.items():
                    self.set_override(key, oname, value, reason)
                return True
        head = re.compile(r"^#\s*" + re.escape(name) + r"\s+" + re.escape(type_) + r"\s")
        option = re.compile(r"^#([ \t]+)-o[ \t]+(\{[^}]*\}|\S+)")
        lines = self.lines
        found = None
        for index, line in enumerate(lines):
            if head.match(line):
                found = index
                break
        if found is None:
            return False
        new = [re.sub(r"^#\s*", "", lines[found])]
        end = found + 1
        used = set()
        while end < len(lines):
            match = option.match(lines[end])
            if not match:
                break
            word = match.group(2)
            inner = word[1:-1] if word.startswith("{") else word
            oname = inner.split("=", 1)[0].strip()
            if oname in overrides and oname not in used:
                _body, eol = _cut_eol(lines[end])
                new.append(f"{match.group(1)}-o {override_word(oname, overrides[oname])}{eol}")
                used.add(oname)
            else:
                new.append(lines[end])
            end += 1
        # Every word of every other service, not only its fields: an indented line after the
        # commented block continues the entry above it today, and would continue the enabled
        # service instead (Postfix joins it to whatever entry precedes it)
        def whole(doc: MasterCf) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
            return [
                (s.key, tuple(a.text for a in s.arguments), s.overrides)
                for s in doc.services
                if s.key != key
            ]

        before = whole(self.doc)

        def check(doc: MasterCf) -> str | None:
            service = doc.service(name, type_)
            if service is None:
                return f"uncommenting {key} did not define it"
            if whole(doc) != before:
                return f"enabling {key} would change other services"
            for k in used:
                read = self._override(service, k)
                if read is None or read.value != overrides[k]:
                    return f"{key}: -o {k} did not get its value"
            return None

        with self._atomic():
            self._commit(
                found,
                end,
                new,
                check,
                Change(self.file_label, "enable service", key, None, None, reason),
            )
            for oname in sorted(used):
                self.changes.append(
                    Change(
                        self.file_label, "set", f"{key}: -o {oname}", None, overrides[oname], reason
                    )
                )
            for oname, value in overrides.items():
                if oname not in used:
                    self.set_override(key, oname, value, reason)
        return True

    # -- commands, moved overrides, commented-out services ---------------------------------------

    def set_command(
        self,
        key: str,
        command: str,
        arguments: tuple[str, ...] | None = None,
        reason: str = "",
    ) -> bool:
        """The service ``key`` runs ``command`` (the eighth field, changed in place).

        With ``arguments``, the command's words other than its ``-o`` overrides become
        these: options (``-v``) right after the command, plain words (``argv=...``) at the
        end of the entry, where getopt has read every option.  The overrides stay where they
        are, and must mean the same to the new command's getopt.  False when the service
        already runs that command with those arguments.
        """
        _check_word("command", command)
        if command.startswith("-"):
            raise EditError(f"{key}: {command!r} is not a command")
        for word in arguments or ():
            _check_word("argument", word)
        service = self._find(key)
        line = command_line(service, self.version)
        if line is None:
            raise EditError(f"{key}: master would refuse this entry; change it by hand")
        others = _non_override_words(service, line)
        written = tuple(service.arguments[i].text for i in others)
        wanted_words = written if arguments is None else arguments
        if service.command == command and written == wanted_words:
            return False
        before = self._snapshot()
        position = next(i for i, s in enumerate(self.doc.services) if s is service)
        name, fields, overrides = before[position]
        before[position] = (name, (*fields[:7], command), overrides)
        start, end = self._span(service)
        lines = self.lines[start:end]
        # (row, first column, end column, replacement), applied from the end of the entry
        cuts: list[tuple[int, int, int, str]] = []
        if written != wanted_words:
            cuts += self._cuts(service, lines, others)
        span = service.field_span(7)
        if span.line != span.end_line:
            raise EditError(f"{key}: the command spans lines; change it by hand")
        options, plain = _split_options(wanted_words) if written != wanted_words else ([], [])
        overrides_left = any(i >= 8 and i not in others for i in range(len(service.arguments)))
        after_command = "".join(" " + w for w in options)
        if plain and not overrides_left:
            after_command += "".join(" " + w for w in plain)
            plain = []
        row = span.line - service.line
        cuts.append((row, span.column, span.end_column, command + after_command))
        for row_, first, last, text in sorted(cuts, reverse=True):
            body, eol = _cut_eol(lines[row_])
            lines[row_] = body[: first - 1] + text + body[last - 1 :] + eol
        lines = [
            line_ for number, line_ in enumerate(lines)
            if number == 0 or _cut_eol(line_)[0].strip() or number not in {c[0] for c in cuts}
        ]  # fmt: skip
        if plain:
            if not lines[-1].endswith("\n"):
                lines[-1] += self.eol
                lines.append(f"{self._indent(service)}{' '.join(plain)}")
            else:
                lines.append(f"{self._indent(service)}{' '.join(plain)}{self.eol}")
        expected = _expected_other_words(service, command, wanted_words, self.version)
        problem = f"{key}: {command} would read this entry's options otherwise; change it by hand"
        tail = [a.text for a in service.arguments[8:]]

        def check(doc: MasterCf) -> str | None:
            found = doc.service(*key.rsplit("/", 1))
            if found is None or _other_words(found, self.version) != expected:
                return problem
            if arguments is None:  # every word after the command as it was
                if [a.text for a in found.arguments[8:]] != tail:
                    return problem
            else:  # the words but the overrides are the arguments, as written
                read = command_line(found, self.version)
                try:
                    words = None if read is None else _non_override_words(found, read)
                except EditError:
                    words = None
                if words is None or tuple(found.arguments[i].text for i in words) != wanted_words:
                    return problem
            return self._becomes(before, problem)(doc)

        old = " ".join((service.command, *written))
        new = " ".join((command, *wanted_words))
        self._commit(
            start, end, lines, check,
            Change(self.file_label, "set", f"{key}: command", old, new, reason),
        )  # fmt: skip
        return True

    def _cuts(
        self, service: Service, lines: list[str], indexes: list[int]
    ) -> list[tuple[int, int, int, str]]:
        """The cuts that remove the words ``indexes`` of the entry (``lines``) with the blanks
        between them: a run of them with the blanks after it, or, when nothing follows on
        its line, with the blanks before it."""
        rows: dict[int, list[tuple[int, int]]] = {}
        for index in indexes:
            span = service.arguments[index].span
            if span.line != span.end_line:
                raise EditError(f"{service.key}: an argument spans lines; change it by hand")
            rows.setdefault(span.line - service.line, []).append((span.column, span.end_column))
        cuts = []
        for row, spans in rows.items():
            body, _ = _cut_eol(lines[row])
            runs: list[list[int]] = []
            for first, last in sorted(spans):
                if runs and not body[runs[-1][1] - 1 : first - 1].strip():
                    runs[-1][1] = last
                else:
                    runs.append([first, last])
            for first, last in runs:
                rest = body[last - 1 :]
                if rest.strip():
                    last += len(rest) - len(rest.lstrip(" \t"))
                else:
                    left = body[: first - 1]
                    first -= len(left) - len(left.rstrip(" \t"))
                    last = len(body) + 1
                cuts.append((row, first, last, ""))
        return cuts

    def move_overrides(
        self,
        source: str,
        target: str,
        names: tuple[str, ...] | None = None,
        keep: tuple[str, ...] = (),
        reason: str = "",
    ) -> bool:
        """Move ``-o`` overrides from the service ``source`` to the service ``target``: those
        in ``names`` (every one when None) but those in ``keep``.  Each is set on ``target``
        (its value there replaced) and removed from ``source``; all of them or none.  False
        when ``source`` has none of them."""
        if source == target:
            raise EditError(f"{source}: moving overrides to the same service")
        self._find(target)
        current = {o.name: o.value for o in self._overrides(self._find(source))}
        moving = [n for n in current if (names is None or n in names) and n not in keep]
        if not moving:
            return False
        count = len(self.changes)
        with self._atomic():
            for name in moving:
                self.set_override(target, name, current[name], reason)
                self.unset_override(source, name, reason)
        del self.changes[count:]
        for name in moving:
            self.changes.append(
                Change(self.file_label, "moved to", f"{source}: -o {name}", current[name],
                       target, reason)
            )  # fmt: skip
        return True

    def comment_service(self, key: str, reason: str = "") -> bool:
        """Comment out the service ``key``: a ``#`` before each line of every entry of it,
        under a line that says so and why (``# pfedit: commented out smtps/inet (3 lines
        below): replaced by submissions/inet``), which :meth:`uncomment_service` reads to
        give the lines back exactly.  False when there is no such service."""
        name, _, type_ = key.rpartition("/")
        if self.doc.service(name, type_) is None:
            return False
        note = " ".join(reason.split())
        with self._atomic():
            while True:
                entries = [s for s in self.doc.services if s.key == key]
                if not entries:
                    break
                last = entries[-1]
                start, end = self._span(last)
                block = ["#" + line for line in self.lines[start:end]]
                if not block[-1].endswith("\n") and end < len(self.lines):
                    block[-1] += self.eol
                marker = _service_marker(key, len(block), note)
                before = self._snapshot()
                index = next(i for i, s in enumerate(self.doc.services) if s is last)
                check = self._becomes(
                    before[:index] + before[index + 1 :],
                    f"commenting out {key} would change other services",
                )
                self._commit(start, end, [marker + self.eol, *block], check, None)
        self.changes.append(Change(self.file_label, "comment out", key, None, None, reason))
        return True

    def commented_service(self, key: str) -> bool:
        """Whether a commented-out entry of ``key`` is there (pfedit's, or a stock example
        like ``#submission inet ...``)."""
        name, _, type_ = key.rpartition("/")
        head = re.compile(r"^#\s*" + re.escape(name) + r"\s+" + re.escape(type_) + r"\s")
        return any(
            _service_marked_count(line, key) is not None or head.match(line) for line in self.lines
        )

    def uncomment_service(self, key: str, reason: str = "") -> bool:
        """Bring back a service: what :meth:`comment_service` commented out, byte for byte
        (the last time, when there are several), else a stock commented-out entry as
        :meth:`enable_service` does.  False when there is none, or ``key`` is defined."""
        name, _, type_ = key.rpartition("/")
        if self.doc.service(name, type_) is not None:
            return False
        return self.enable_service(key, None, reason)

    def _restore_marked(self, key: str, reason: str) -> bool:
        lines = self.lines
        found = None
        for index, line in enumerate(lines):
            count = _service_marked_count(line, key)
            block = lines[index + 1 : index + 1 + count] if count else []
            if count and len(block) == count and all(b.startswith("#") for b in block):
                found = index, count
        if found is None:
            return False
        start, count = found
        restored = [b[1:] for b in lines[start + 1 : start + 1 + count]]
        try:
            alone = loads("".join(restored), "master")
        except ParseError as exc:
            raise EditError(f"uncommenting {key} would not parse: {exc}") from None
        if [s.key for s in alone.services] != [key]:
            raise EditError(f"the lines pfedit commented out as {key} do not define it alone")
        added = _state(alone, self.version)[0]
        before = self._snapshot()
        index = sum(1 for s in self.doc.services if s.line - 1 < start)
        check = self._becomes(
            before[:index] + [added] + before[index:],
            f"uncommenting {key} would change other services",
        )
        self._commit(
            start, start + 1 + count, restored, check,
            Change(self.file_label, "uncomment", key, None, None, reason),
        )  # fmt: skip
        return True


def _check_word(what: str, word: str) -> None:
    """A word master.cf can hold as it is: no blanks unless it is ``{ braced }``."""
    braced = word.startswith("{") and word.endswith("}")
    if not word or "\n" in word or "\r" in word or (not braced and any(c.isspace() for c in word)):
        raise EditError(f"{what}: {word!r} is not one master.cf word")


def _non_override_words(service: Service, line: CommandLine) -> list[int]:
    """The indexes of the command's words that are not ``-o`` overrides: its other options
    and their values, ``--``, and its plain arguments; an EditError when a word holds both
    (``-vo name=value``)."""
    override_words: set[int] = set()
    other: set[int] = set()
    for option in line.options:
        words = {option.word} | ({option.value_word} if option.value_word is not None else set())
        (override_words if option.letter == "o" else other).update(words)
    if override_words & other:
        raise EditError(
            f"{service.key}: an -o shares a word with another option; change it by hand"
        )
    # a letter the daemon refuses is a word of its own too (and goes with the arguments)
    other.update(r.word for r in line.refused if r.word not in override_words)
    other.update(line.plain)
    if line.end < len(service.arguments) and line.words[line.end] == "--":
        other.add(line.end)
    return sorted(other)


def _split_options(words: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The options getopt reads (the words up to the first plain one or ``--``) and the
    words from there on (``--`` first, when there is one: the overrides go before it)."""
    for index, word in enumerate(words):
        if not word.startswith("-") or word in ("-", "--"):
            return list(words[:index]), list(words[index:])
    return list(words), []


def _expected_other_words(
    service: Service, command: str, arguments: tuple[str, ...], version: Version
) -> tuple[str, ...] | None:
    """What the daemon of the changed entry reads besides its overrides: the entry written
    the plain way (its fields, ``command``, the option words, the overrides, the plain
    words), read by the new command's getopt."""
    options, plain = _split_options(arguments)
    words = [
        *(a.text for a in service.arguments[:7]), command, *options,
        *(f"-o {override_word(o.name, o.value)}" for o in service.override_list), *plain,
    ]  # fmt: skip
    probe = loads(" ".join(words) + "\n", "master").services[0]
    return _other_words(probe, version)


# The key is any text without blanks, as service names and types are.
_SERVICE_MARKER = re.compile(
    r"# pfedit: commented out (\S+) \((\d+) lines? below\)(?:: .*)?\r?\n?$"
)


def _service_marker(key: str, count: int, note: str) -> str:
    text = f"# pfedit: commented out {key} ({count} line{'s' if count != 1 else ''} below)"
    return f"{text}: {note}" if note else text


def _service_marked_count(line: str, key: str) -> int | None:
    """How many lines pfedit's marker ``line`` says it commented out of the service ``key``,
    or None when the line is no such marker."""
    match = _SERVICE_MARKER.match(line)
    if match is None or match.group(1) != key:
        return None
    return int(match.group(2))
