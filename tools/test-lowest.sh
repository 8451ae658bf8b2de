#!/usr/bin/env bash
# Run the test suite against the lowest versions pyproject.toml allows: every dependency and
# test extra pinned to its declared floor (tools/lowest_versions.py), on the lowest supported
# Python when this machine has it.  A fresh .venv-lowest is made on every run.
#
#   tools/test-lowest.sh [pytest args...]      e.g. CI=1 tools/test-lowest.sh -x
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
trap 'echo "test-lowest: $((SECONDS - start)) s in all"' EXIT

VENV=.venv-lowest
CONSTRAINTS=$VENV/constraints.txt

# The lowest Python that requires-python allows, e.g. 3.10 from ">=3.10".
lowest=$(sed -n 's/^requires-python *= *">= *\([0-9]*\.[0-9]*\).*"/\1/p' pyproject.toml)
lowest=${lowest:-3.10}

runs() { "$@" -c 'import sys' >/dev/null 2>&1; }

python=""
if runs "python$lowest"; then
  python=$(command -v "python$lowest")
elif command -v pyenv >/dev/null 2>&1; then
  # pyenv's shim for python3.10 exists but refuses to run unless 3.10 is selected: ask pyenv
  # for its newest 3.10.x directly.
  version=$(pyenv versions --bare 2>/dev/null | grep -E "^${lowest//./\\.}\.[0-9]+$" \
    | sort -t. -k3,3n | tail -n 1 || true)
  if [ -n "$version" ] && runs "$(pyenv root)/versions/$version/bin/python$lowest"; then
    python="$(pyenv root)/versions/$version/bin/python$lowest"
  fi
fi
if [ -z "$python" ]; then
  python=$(command -v python3)
  echo "test-lowest: WARNING: python$lowest (the lowest supported Python) was not found;" \
    "using $python ($("$python" -c 'import platform; print(platform.python_version())'))," \
    "so this run does not test the lowest Python" >&2
fi
echo "test-lowest: Python $("$python" -c 'import platform; print(platform.python_version())')" \
  "($python)"

rm -rf "$VENV"
"$python" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip

# Twice: constraints files cannot name extras, so the packages an extra pulls in (lark's
# interegular) get their floors only once the package declaring the extra is installed and its
# metadata can be read.  The second install changes nothing when there are none.
"$VENV/bin/python" tools/lowest_versions.py -o "$CONSTRAINTS"
"$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" -e '.[test]'
"$VENV/bin/python" tools/lowest_versions.py -o "$CONSTRAINTS.2"
if ! cmp -s "$CONSTRAINTS" "$CONSTRAINTS.2"; then
  mv "$CONSTRAINTS.2" "$CONSTRAINTS"
  "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" -e '.[test]'
else
  rm "$CONSTRAINTS.2"
fi

echo "test-lowest: constraints ($CONSTRAINTS):"
grep -v '^#' "$CONSTRAINTS" | sed 's/^/  /'
"$VENV/bin/python" -m pip list

"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
