"""The cost of one verified edit against ``postconf -e`` on the same main.cf, in the same run.

pfconf reads the file, changes one value in place, re-reads the result and checks it (the
verification every edit does), then writes it atomically; postconf -e reads, rewrites and
renames the file.  Both run on generated files of 1,000 and 10,000 lines (the generator of
parse_throughput.py).  Printed: seconds per edit for each, and pfconf's time as a ratio of
postconf's.  Nothing here asserts a time:

    .venv/bin/python benchmarks/edit_cost.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from parse_throughput import generate

import pfconf
from pfconf.edit import MainEditor


def time_pfconf(path: str, repeat: int) -> float:
    best = float("inf")
    for i in range(repeat):
        start = time.perf_counter()
        doc = pfconf.load(path, "main")
        assert isinstance(doc, pfconf.MainCf)
        editor = MainEditor(doc)
        editor.set("relay_class_7_limit", str(100 + i))
        pfconf.dump(editor.doc, path)
        best = min(best, time.perf_counter() - start)
    return best


def time_postconf(postconf: str, directory: str, repeat: int) -> float:
    best = float("inf")
    for i in range(repeat):
        os.utime(os.path.join(directory, "main.cf"), (0, 0))
        start = time.perf_counter()
        subprocess.run(
            [postconf, "-c", directory, "-e", f"relay_class_7_limit={200 + i}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    postconf = shutil.which("postconf") or "/usr/sbin/postconf"
    have_postconf = os.path.exists(postconf)
    print(f"{'lines':>8}  {'pfconf s/edit':>14}", end="")
    print(f"  {'postconf -e s/edit':>18}  {'ratio':>7}" if have_postconf else "")
    for lines in (1_000, 10_000):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "main.cf")
            with open(path, "wb") as handle:
                handle.write(generate(lines))
            open(os.path.join(directory, "master.cf"), "wb").close()
            ours = time_pfconf(path, 3)
            print(f"{lines:>8}  {ours:>14.4f}", end="")
            if have_postconf:
                theirs = time_postconf(postconf, directory, 3)
                print(f"  {theirs:>18.4f}  {ours / theirs:>6.1f}x")
            else:
                print()
    if not have_postconf:
        print("postconf not found: ratios against Postfix not measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
