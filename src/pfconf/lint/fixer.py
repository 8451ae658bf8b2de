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

from ..edit import EditError, MainEditor
from ..edit.workspace import Workspace
from .engine import Options, lint_documents
from .finding import (
    Edit,
    Finding,
    RemoveDefinition,
    RemoveListItem,
    RenameParameter,
    ReplaceListItem,
    SetParameter,
    UnsetParameter,
)

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
            if f.fix is not None and f.fix.applies(unsafe=unsafe) and f.path == workspace.main_path
        ]
        fixes.sort(key=lambda f: (f.line, f.column), reverse=True)
        changed = False
        done: set[tuple[int, int]] = set()
        for finding in fixes:
            assert finding.fix is not None and finding.fix.edit is not None
            if (finding.line, finding.column) in done:
                continue  # one edit per place and round; the next round sees the result
            done.add((finding.line, finding.column))
            try:
                if _apply(workspace, finding.fix.edit, finding.code):
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


def _apply(workspace: Workspace, edit: Edit, reason: str) -> bool:
    """Make one edit of main.cf; False when there was nothing (left) to change."""
    return apply_edit(workspace.main, edit, reason)


def apply_edit(editor: MainEditor, edit: Edit, reason: str) -> bool:
    """Make one fix's edit with a main.cf editor (pflint --fix's, or the language server's
    on a buffer); False when there was nothing (left) to change."""
    if isinstance(edit, SetParameter):
        return editor.set(edit.parameter, edit.value, reason)
    if isinstance(edit, UnsetParameter):
        return editor.unset(edit.parameter, reason)
    if isinstance(edit, RenameParameter) and edit.new_name:
        return editor.rename(edit.parameter, edit.new_name, value=edit.value, reason=reason)
    if isinstance(edit, RemoveDefinition):
        if len(editor.doc.definitions(edit.parameter)) < 2:
            return False  # no longer a duplicate
        return editor.remove_definition(edit.parameter, edit.line, reason)
    if isinstance(edit, RemoveListItem) and edit.item:
        at = (edit.line, edit.column)
        return editor.list_remove(edit.parameter, edit.item, reason, at=at)
    if isinstance(edit, ReplaceListItem) and edit.item and edit.replacement:
        at = (edit.line, edit.column)
        return editor.list_replace(edit.parameter, edit.item, edit.replacement, reason, at=at)
    return False
