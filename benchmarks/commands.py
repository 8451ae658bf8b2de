"""Whole pflint and pfedit commands against postconf, side by side in the same run.

What a user waits for: the interpreter starting, the imports, reading, linting or editing,
writing.  Each command is run several times (after a warm-up run, which also fills the
knowledge base's cache: see pfconf.cache) and its median time is compared with the median of
the matching postconf command on the same files:

  floor    the interpreter alone, and importing the two libraries every command needs
           (click, attrs): what no change inside pfconf can go below
  pflint   pflint DIR on Postfix's stock main.cf and master.cf, against postconf -c DIR -n;
           also once with the cache off (PFCONF_NO_CACHE=1), as on a first run
  pfedit   pfedit -c DIR set NAME=VALUE on generated main.cf files of 1,000 and 10,000 lines,
           against postconf -c DIR -e NAME=VALUE; "per line" is the cost the extra 9,000
           lines add, per line, against postconf's
  dirs     one pflint run over 300 and 3,000 host directories (Debian's default main.cf with
           the host's name, the stock master.cf), against a loop of postconf -c DIR -n

Nothing here asserts a time: it prints, and `make bench` runs it.

    .venv/bin/python benchmarks/commands.py [--quick] [--only floor,pflint,pfedit,dirs]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from parse_throughput import generate

import pfconf

BIN = Path(sys.executable).parent
STOCK = Path("/usr/share/postfix")
PACKAGE = Path(pfconf.__file__).parent


def median_time(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    """The median wall time of ``command`` over ``runs`` runs, after one run not counted."""
    times = []
    for n in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            env=env,
        )
        if n:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_of(action: Callable[[], None], runs: int) -> float:
    times = []
    for n in range(runs + 1):
        start = time.perf_counter()
        action()
        if n:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(what: str, ours: float, theirs: float, target: str | None = None) -> None:
    ratio = ours / theirs
    verdict = ""
    if target is not None:
        limit = float(target)
        verdict = f"  target <= {target}x: {'holds' if ratio <= limit else 'MISSED'}"
    print(f"  {what:<44} {ours * 1000:9.1f} ms  {theirs * 1000:8.1f} ms  {ratio:7.2f}x{verdict}")


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<44} {'pfconf':>12}  {'postconf':>11}  {'ratio':>7}")


def backdate(directory: Path) -> None:
    # postconf rereads a file changed within the last second until it cools down
    for path in directory.iterdir():
        os.utime(path, (time.time() - 3600, time.time() - 3600))


def stock_dir(root: Path) -> Path:
    directory = root / "stock"
    directory.mkdir(parents=True)
    shutil.copy(STOCK / "main.cf.dist", directory / "main.cf")
    shutil.copy(STOCK / "master.cf.dist", directory / "master.cf")
    backdate(directory)
    return directory


def floor(postconf: str, root: Path, runs: int) -> None:
    directory = stock_dir(root / "floor")
    base = median_time([postconf, "-c", str(directory), "-n"], runs)
    header("The floor: what every pfconf command pays before any of its own code runs")
    row("python -c pass", median_time([sys.executable, "-c", "pass"], runs), base)
    row(
        "python -c 'import click, attrs'",
        median_time([sys.executable, "-c", "import click, attrs"], runs),
        base,
    )
    row(
        "python -c 'import pfconf'",
        median_time([sys.executable, "-c", "import pfconf"], runs),
        base,
    )


def pflint(postconf: str, root: Path, runs: int) -> None:
    directory = stock_dir(root / "pflint")
    base = median_time([postconf, "-c", str(directory), "-n"], runs)
    header("pflint DIR on Postfix's stock main.cf and master.cf, against postconf -c DIR -n")
    row("pflint DIR", median_time([str(BIN / "pflint"), str(directory)], runs), base, "10")
    cold = dict(os.environ, PFCONF_NO_CACHE="1")
    row(
        "pflint DIR, knowledge base cache off",
        median_time([str(BIN / "pflint"), str(directory)], runs, cold),
        base,
    )


def pfedit(postconf: str, root: Path, runs: int) -> None:
    header("pfedit set on a generated main.cf, against postconf -e (whole commands)")
    costs: dict[int, tuple[float, float]] = {}
    for lines in (1_000, 10_000):
        directory = root / f"pfedit-{lines}"
        directory.mkdir(parents=True)
        (directory / "main.cf").write_bytes(generate(lines))
        shutil.copy(STOCK / "master.cf.dist", directory / "master.cf")
        backdate(directory)
        counter = iter(range(10**6))

        def ours(directory: Path = directory, counter: Iterator[int] = counter) -> None:
            subprocess.run(
                [str(BIN / "pfedit"), "-c", str(directory), "set",
                 f"relay_class_7_limit={100 + next(counter)}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
            )  # fmt: skip

        def theirs(directory: Path = directory, counter: Iterator[int] = counter) -> None:
            subprocess.run(
                [postconf, "-c", str(directory), "-e",
                 f"relay_class_7_limit={100 + next(counter)}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
            )  # fmt: skip

        mine, base = median_of(ours, runs), median_of(theirs, runs)
        costs[lines] = (mine, base)
        row(f"pfedit set, {lines:,} lines", mine, base, "10" if lines == 1_000 else None)
    (small, small_base), (large, large_base) = costs[1_000], costs[10_000]
    per_line = (large - small) / 9_000
    per_line_base = (large_base - small_base) / 9_000
    print(
        f"  each line past 1,000 adds {per_line * 1e6:.2f} us (postconf: "
        f"{per_line_base * 1e6:.2f} us); the ratio at 10,000 lines is "
        f"{(large / large_base) / (small / small_base):.2f} times the ratio at 1,000"
    )


def host_dirs(root: Path, count: int) -> list[str]:
    template = (STOCK / "main.cf.debian").read_text()
    master = (STOCK / "master.cf.dist").read_bytes()
    paths = []
    for n in range(count):
        directory = root / f"h{n:04d}"
        directory.mkdir(parents=True)
        (directory / "main.cf").write_text(f"{template}myhostname = h{n}.example.com\n")
        (directory / "master.cf").write_bytes(master)
        backdate(directory)
        paths.append(str(directory))
    return paths


def dirs(postconf: str, root: Path, runs: int, sizes: tuple[int, ...]) -> None:
    header("one pflint run over many host directories, against a loop of postconf -n")
    for count in sizes:
        paths = host_dirs(root / f"dirs-{count}", count)
        repeat = max(1, runs // 3) if count > 1000 else runs

        def loop(paths: list[str] = paths) -> None:
            for path in paths:
                subprocess.run(
                    [postconf, "-c", path, "-n"], stdout=subprocess.DEVNULL, check=False
                )

        def one_run(paths: list[str] = paths) -> None:
            subprocess.run(
                [str(BIN / "pflint"), *paths], stdout=subprocess.DEVNULL, check=False
            )

        row(
            f"pflint, {count:,} directories (-j {_cpus()})",
            median_of(one_run, repeat),
            median_of(loop, repeat),
            "0.3",
        )


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 300 directories only")
    parser.add_argument("--only", default="floor,pflint,pfedit,dirs")
    args = parser.parse_args()
    postconf = shutil.which("postconf") or "/usr/sbin/postconf"
    if not os.path.exists(postconf) or not (STOCK / "main.cf.dist").exists():
        print("postconf and /usr/share/postfix are needed: apt-get install postfix")
        return 1
    # As a wheel's install does: pip compiles the package to bytecode, which this machine's
    # PYTHONDONTWRITEBYTECODE would otherwise keep from happening, and every run would then
    # compile pfconf's source again.
    import attr
    import attrs
    import click

    for package in (PACKAGE, *(Path(str(m.__file__)).parent for m in (attr, attrs, click))):
        compileall.compile_dir(str(package), quiet=1)
    runs = 5 if args.quick else 15
    only = set(args.only.split(","))
    print(f"medians of {runs} runs each; {_cpus()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if "floor" in only:
            floor(postconf, root, runs)
        if "pflint" in only:
            pflint(postconf, root, runs)
        if "pfedit" in only:
            pfedit(postconf, root, runs)
        if "dirs" in only:
            dirs(postconf, root, 3 if args.quick else 5, (300,) if args.quick else (300, 3_000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
