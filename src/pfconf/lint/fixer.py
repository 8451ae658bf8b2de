"""``pflint --fix``: apply the fixes findings carry, through pfconf.edit, until nothing changes.

Each round lints the configuration as it stands in the editors' documents, in memory (the
user's files are untouched until the caller writes the Workspace), applies every fix that
is allowed (safe ones; unsafe ones too with ``unsafe=True``), and starts again, because one
fix can reveal or settle another finding.  Fixes within a round are applied from the end of the
file backwards, so the positions of the ones still to come stay valid.  The caller decides
whether to print the Workspace's diff or write it.
"""

from __future__ import annotations

import attrs

from ..edit import EditError
from ..edit.workspace import Workspace
from .engine import Options, lint_documents
from .finding import Finding, Fix

#: A fix that keeps producing changes would loop; stop after this many rounds.
MAX_ROUNDS = 10


@attrs.define
class FixRun:
    workspace: Workspace
    applied: list[Finding] = attrs.field(factory=list)
    rounds: int = 0
    skipped: list[tuple[Finding, str]] = attrs.field(factory=list)


def fix_directory(
    directory: str, options: Options | None = None, *, unsafe: bool = False, lock: bool = False
) -> FixRun:
    """Fix the main.cf of ``directory`` (master.cf gives context); nothing is written.

    ``lock``: hold Postfix's edit lock from the first read on, for a caller that will write
    the result (it must write or close the workspace).
    """
    workspace = Workspace(directory, lock=lock)
    try:
        return _fix(workspace, options, unsafe)
    except BaseException:
        workspace.close()
        raise


def _fix(workspace: Workspace, options: Options | None, unsafe: bool) -> FixRun:
    run = FixRun(workspace)
    for _ in range(MAX_ROUNDS):
        run.rounds += 1
        fixes = [
            f
            for f in _lint(workspace, options)
            if f.fix is not None
            and f.fix.action is not None
            and (f.fix.safe or unsafe)
            and f.path == workspace.main_path
        ]
        fixes.sort(key=lambda f: (f.line, f.column), reverse=True)
        changed = False
        done: set[tuple[int, int]] = set()
        for finding in fixes:
            assert finding.fix is not None
            if (finding.line, finding.column) in done:
                continue  # one edit per place and round; the next round sees the result
            done.add((finding.line, finding.column))
            try:
                if _apply(workspace, finding.fix, f"{finding.code}"):
                    run.applied.append(finding)
                    changed = True
            except EditError as exc:
                run.skipped.append((finding, str(exc)))
        if not changed:
            break
    return run


def _lint(workspace: Workspace, options: Options | None) -> list[Finding]:
    """The findings on the documents as edited so far (master.cf only as context)."""
    master = workspace.master.doc if workspace.master is not None else None
    run = lint_documents(
        workspace.main.doc,
        master,
        main_path=workspace.main_path,
        master_path=workspace.master_path,
        options=options,
    )
    return run.findings


def _apply(workspace: Workspace, fix: Fix, reason: str) -> bool:
    editor = workspace.main
    name = fix.parameter or ""
    at = (fix.line, fix.column) if fix.line is not None and fix.column is not None else None
    if fix.action == "set" and fix.value is not None:
        return editor.set(name, fix.value, reason)
    if fix.action == "unset":
        return editor.unset(name, reason)
    if fix.action == "rename" and fix.value:
        return editor.rename(name, fix.value, value=fix.item, reason=reason)
    if fix.action == "remove_definition" and fix.line is not None:
        if len(editor.doc.definitions(name)) < 2:
            return False  # no longer a duplicate
        return editor.remove_definition(name, fix.line, reason)
    if fix.action == "remove_item" and fix.item:
        return editor.list_remove(name, fix.item, reason, at=at)
    if fix.action == "replace_item" and fix.item and fix.value:
        return editor.list_replace(name, fix.item, fix.value, reason, at=at)
    return False
