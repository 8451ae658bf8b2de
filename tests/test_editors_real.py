"""docs/editors.md's Emacs set-up in a real Emacs: eglot starts pfconf-lsp and shows its
diagnostics (Debian's emacs-nox and elpa-eglot, which .ci/run installs; batch mode)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "editors.md"

pytestmark = pytest.mark.slow

DRIVER = r"""
;; run in batch mode: open the file, let eglot connect, print flymake's diagnostics
(find-file (car command-line-args-left))
;; eglot-ensure connects once the command loop has run: run its hook by hand
(run-hooks 'post-command-hook)
(let ((deadline (+ (float-time) 60)) (found nil))
  (while (and (not found) (< (float-time) deadline))
    (accept-process-output nil 0.2)
    (setq found (flymake-diagnostics)))
  (princ (format "mode: %s\n" major-mode))
  (dolist (d found)
    (princ (format "%d: %s\n" (line-number-at-pos (flymake-diagnostic-beg d))
                   (flymake-diagnostic-text d)))))
(kill-emacs 0)
"""


def _snippet() -> str:
    text = DOC.read_text()
    start = text.index("## Emacs")
    found = re.search(r"```elisp\n(.*?)```", text[start:], re.DOTALL)
    assert found
    return found.group(1)


def test_emacs_with_eglot_shows_the_diagnostics(tmp_path):
    emacs = shutil.which("emacs")
    if emacs is None and not os.environ.get("CI"):
        pytest.skip("emacs is not installed (apt-get install emacs-nox elpa-eglot)")
    assert emacs is not None, "CI installs emacs-nox and elpa-eglot (.ci/run)"
    # Emacs 29 has eglot built in; Debian 12's Emacs 28 has it from elpa-eglot
    setup = "(require 'package)\n(package-initialize)\n(require 'eglot)\n" + _snippet()
    (tmp_path / "check.el").write_text(setup + DRIVER)
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "main.cf").write_text("myhostname = mx.example.org\nsmtpd_use_tls = yes\n")
    env = dict(os.environ, HOME=str(tmp_path))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        [emacs, "--batch", "-l", str(tmp_path / "check.el"), str(conf / "main.cf")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    shown = done.stdout
    assert "mode: postfix-cf-mode" in shown, done.stderr[-2000:]
    assert "2: pflint [PAR005]: smtpd_use_tls is deprecated" in shown, done.stderr[-2000:]
