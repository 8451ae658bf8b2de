"""How pfconf's costs grow with the size of what it works on, against postconf in the same run.

Three cases where the cost once grew faster than the input (issue #10, "no quadratic paths"):

  list   pfedit set: a new value for a restriction list laid out one item per line, with every
         other item replaced and one added; 250 to 8,000 items.  postconf -e sets the same.
  names  pflint on a main.cf of misspelt parameters, each referring to a misspelt name, and a
         restriction list of as many misspelt restrictions (each gets a "did you mean" hint);
         1,000 to 20,000 names.  postconf -n reads it and warns about each unknown name too.
  large  pfedit set of one parameter in a generated main.cf of 1, 5 and 15 MB (pfconf refuses
         files over 16 MiB, so the 50 MB of issue #10 is now an error, not 2.5 GB of memory).
         postconf -e sets the same.

pfconf's side runs in a child process after a warm-up (the parsers built, the knowledge base
read), doing what the command does through the library; its time and its peak memory (the
growth of its maximum resident set during the work) are printed, and for postconf its time
and maximum resident set.  "per unit" is the cost per item, name or MB relative to the
smallest size: it stays near 1 when the cost grows linearly.  Nothing here asserts a time:

    .venv/bin/python benchmarks/scaling.py [--quick] [--only list|names|large [--sizes A,B]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(__file__))
from parse_throughput import generate

LIST = "smtpd_recipient_restrictions"
SIZES = {
    "list": [250, 1_000, 2_000, 8_000],
    "names": [1_000, 5_000, 20_000],
    "large": [1, 5, 15],  # pfconf reads at most 16 MiB (pfconf.io.MAX_CONFIG_SIZE)
}
UNITS = {"list": "items", "names": "names", "large": "MB"}
WHAT = {
    "list": "pfedit set of a list laid out one item per line, every other item replaced",
    "names": "pflint on misspelt parameters, references and restrictions (hints)",
    "large": "pfedit set of one parameter in a generated main.cf",
}


# -- the files -------------------------------------------------------------------------------


def _restrictions(count: int) -> list[str]:
    # Short items: postconf -e takes the whole value as one argument, at most 128 KiB.
    return [f"check_{n:05d}" for n in range(count)]


def list_case(directory: str, count: int) -> str:
    """main.cf with a list of ``count`` items, one per line; returns the new value."""
    items = _restrictions(count)
    head = generate(200).decode()
    _write(directory, head + f"{LIST} =\n    " + ",\n    ".join(items) + "\nbiff = no\n")
    new = [item if n % 2 else f"{item}_new" for n, item in enumerate(items)]
    return ",".join([*new, "reject"])


def names_case(directory: str, count: int) -> None:
    """main.cf of ``count`` misspelt parameters (a known name less one letter, and a number),
    each referring to a misspelt name, then a list of ``count`` misspelt restrictions."""
    from pfconf.kb import KnowledgeBase

    known = [name for name in sorted(KnowledgeBase().names()) if len(name) > 12]
    lines = []
    for n in range(count):
        name = known[n % len(known)]
        cut = n % len(name)
        typo = f"{name[:cut]}{name[cut + 1 :]}_{n}"
        lines.append(f"{typo} = ${typo}x\n")
    items = ", ".join(f"reject_unknown_clent_hostname{n}" for n in range(count))
    _write(directory, "".join(lines) + f"{LIST} = {items}\n")


def large_case(directory: str, megabytes: int) -> None:
    _write(directory, generate(megabytes * 2**20 // 40).decode())


def _write(directory: str, main: str) -> None:
    with open(os.path.join(directory, "main.cf"), "w") as handle:
        handle.write(main)
    open(os.path.join(directory, "master.cf"), "w").close()


# -- pfconf, in a child process --------------------------------------------------------------


def child(scenario: str, directory: str, value: str) -> None:
    """Do what the command does, after a warm-up; print seconds and peak growth as JSON."""
    import pfconf
    from pfconf.edit.workspace import Workspace
    from pfconf.lint import lint

    warm = tempfile.mkdtemp()
    names_case(warm, 3)
    lint([os.path.join(warm, "main.cf")])
    pfconf.loads("smtp inet n - n - - smtpd\n", "master")
    shutil.rmtree(warm)

    def pflint() -> object:
        return lint([os.path.join(directory, "main.cf")])

    def pfedit_set() -> object:
        name, _, new = value.partition("=")
        workspace = Workspace(directory)
        workspace.main.set(name, new)
        return workspace.write()

    work: Callable[[], object] = pflint if scenario == "names" else pfedit_set

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak": (after - before) * 1024}))


def run_pfconf(scenario: str, directory: str, value: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", scenario, directory, value],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["seconds"]), int(result["peak"])


# -- postconf --------------------------------------------------------------------------------


def run_postconf(postconf: str, directory: str, args: list[str]) -> tuple[float, int]:
    """Time and maximum resident set of one postconf run (the best time of three)."""
    best, rss = float("inf"), 0
    for _ in range(3):
        # Postfix rereads a file changed within the last second until it cools down.
        os.utime(os.path.join(directory, "main.cf"), (0, 0))
        start = time.perf_counter()
        process = subprocess.Popen(
            [postconf, "-c", directory, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, _, usage = os.wait4(process.pid, 0)
        best = min(best, time.perf_counter() - start)
        rss = max(rss, usage.ru_maxrss * 1024)
    return best, rss


# -- the table -------------------------------------------------------------------------------


def measure(scenario: str, size: int, postconf: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        if scenario == "list":
            value = f"{LIST}={list_case(directory, size)}"
        elif scenario == "names":
            names_case(directory, size)
            value = ""
        else:
            large_case(directory, size)
            value = "relay_class_7_limit=12345"
        # the postconf run first: pfconf's rewrites the file
        theirs = (0.0, 0)
        if postconf is not None:
            args = ["-n"] if scenario == "names" else ["-e", value]
            theirs = run_postconf(postconf, directory, args)
            if scenario != "names":
                if scenario == "list":
                    list_case(directory, size)
                else:
                    large_case(directory, size)
        seconds, peak = run_pfconf(scenario, directory, value)
    return {
        "size": size,
        "seconds": seconds,
        "peak": peak,
        "pc_seconds": theirs[0],
        "pc_rss": theirs[1],
    }


def report(scenario: str, rows: list[dict[str, float]], have_postconf: bool) -> None:
    unit = UNITS[scenario]
    print(f"\n{scenario}: {WHAT[scenario]}")
    header = f"{unit:>8}  {'pfconf s':>9}  {'peak MiB':>8}  {'per unit':>8}"
    if have_postconf:
        header += f"  {'postconf s':>10}  {'max RSS MiB':>11}  {'time ratio':>10}"
    print(header)
    first = rows[0]
    for row in rows:
        per_unit = (row["seconds"] / row["size"]) / (first["seconds"] / first["size"])
        line = (
            f"{row['size']:>8,}  {row['seconds']:>9.3f}  {row['peak'] / 2**20:>8.1f}"
            f"  {per_unit:>8.2f}"
        )
        if have_postconf:
            line += (
                f"  {row['pc_seconds']:>10.3f}  {row['pc_rss'] / 2**20:>11.1f}"
                f"  {row['seconds'] / row['pc_seconds']:>9.1f}x"
            )
        print(line, flush=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out the largest size")
    parser.add_argument("--only", choices=sorted(SIZES), help="one scenario")
    parser.add_argument("--sizes", help="with --only: its sizes, such as 250,1000")
    args = parser.parse_args()
    if args.sizes and args.only:
        SIZES[args.only] = [int(size) for size in args.sizes.split(",")]
    found = shutil.which("postconf") or "/usr/sbin/postconf"
    postconf = found if os.path.exists(found) else None
    for scenario, sizes in SIZES.items():
        if args.only and scenario != args.only:
            continue
        chosen = sizes[:-1] if args.quick else sizes
        report(scenario, [measure(scenario, size, postconf) for size in chosen], bool(postconf))
    if postconf is None:
        print("postconf not found: ratios against Postfix not measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
