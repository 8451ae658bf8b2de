#!/usr/bin/env python3
"""Run the fuzz targets of tests/fuzz_targets.py at scale (``make fuzz``), with random seeds.

For each target it prints how many inputs it checked and every distinct failure with its
smallest reproducer.  After a failure the target goes on with the rest of its examples, that
failure's signature now counted as a pass, so one run can find several bugs:

    .venv/bin/python tools/fuzz.py                        # every target, the default budget
    .venv/bin/python tools/fuzz.py --examples 2000 --target edit-main --seed 7
    .venv/bin/python tools/fuzz.py --include-known        # stop stepping around known bugs

Exit status 1 when anything failed.  Nothing is written (no Hypothesis database).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from types import ModuleType
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: A target's examples are run in chunks of at most this many, each with its own seed, so
#: that the chunks of slow targets spread over the worker processes.
CHUNK = 2500


def _targets() -> ModuleType:
    """tests/fuzz_targets.py (imported by name: tests/ is not a package)."""
    for path in (os.path.join(ROOT, "tests"), os.path.join(ROOT, "src")):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module("fuzz_targets")


def run_chunk(
    name: str, examples: int, seed: int, include_known: bool, shrink_seconds: float
) -> dict[str, Any]:
    """Run ``examples`` inputs of one target; go on past each new failure until the inputs
    are spent.  Returns counts and the failures (signature, message, reproducer)."""
    from hypothesis import HealthCheck, settings
    from hypothesis import seed as with_seed

    fuzz = _targets()
    _limit_shrinking(shrink_seconds)
    target = fuzz.TARGETS[name]
    avoid = frozenset() if include_known else fuzz.DEFAULT_AVOID
    ignore: set[str] = set()
    failures: list[dict[str, str]] = []
    inputs = 0
    slowest = (0.0, "")
    start = time.monotonic()
    attempt = 0
    while inputs < examples and len(failures) < 10:
        tally = fuzz.Tally()
        config = settings(
            max_examples=examples - inputs,
            deadline=None,
            database=None,
            derandomize=False,
            report_multiple_bugs=False,
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )
        test = fuzz.hypothesis_test(target, config, avoid, frozenset(ignore), tally)
        attempt += 1
        try:
            with_seed(seed * 1000 + attempt)(test)()
        except Exception as exc:  # noqa: BLE001 (any failure of the target: record it, go on)
            cause = _cause(exc)
            key = fuzz.signature(cause)
            failures.append(
                {"signature": key, "message": _shorten(str(cause)), "case": repr(tally.failing)}
            )
            ignore.add(key)
            inputs += max(tally.inputs, 1)
            continue
        finally:
            if tally.slowest > slowest[0]:
                slowest = (tally.slowest, _shorten(repr(tally.slowest_case), 300))
        inputs += tally.inputs
        break
    return {
        "name": name,
        "inputs": inputs,
        "seconds": time.monotonic() - start,
        "failures": failures,
        "slowest": slowest,
    }


def _limit_shrinking(seconds: float) -> None:
    """Hypothesis shrinks a failure for up to five minutes; with inputs that take a second to
    check, and many failures in a run, that is too long.  The limit is Hypothesis's internal
    constant: left alone if a later version renames it."""
    from hypothesis.internal.conjecture import engine

    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = int(seconds)


def _cause(exc: BaseException) -> BaseException:
    """The target's own exception inside Hypothesis's Flaky wrappers."""
    inner = getattr(exc, "exceptions", None)
    while inner:
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def _shorten(text: str, most: int = 2000) -> str:
    return text if len(text) <= most else text[:most] + f"... ({len(text)} characters)"


def main(argv: list[str] | None = None) -> int:
    fuzz = _targets()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=23000, metavar="N",
        help="inputs per target (the slow targets run a fraction: see --list); default 23000, about 102,000 inputs in all",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, metavar="N", help="base seed (default: random, printed)"
    )
    parser.add_argument(
        "--target", action="append", choices=sorted(fuzz.TARGETS), metavar="NAME",
        help="run this target only (repeat for more; default: all, see --list)",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
        help="worker processes (default: one per CPU)",
    )  # fmt: skip
    parser.add_argument(
        "--include-known", action="store_true",
        help="generate the triggers of known bugs too (see KNOWN in tests/fuzz_targets.py)",
    )  # fmt: skip
    parser.add_argument(
        "--shrink-seconds", type=float, default=120.0, metavar="S",
        help="stop shrinking a failure after this long (default 120)",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    args = parser.parse_args(argv)

    if args.list:
        for target in fuzz.TARGETS.values():
            share = f" (1/{target.share} of --examples)" if target.share > 1 else ""
            print(f"{target.name:22} {target.summary}{share}")
            print(f"{'':22} invariants {', '.join(map(str, target.invariants))}")
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    names = args.target or list(fuzz.TARGETS)
    if not fuzz.postconf_installed():
        skipped = [n for n in names if fuzz.TARGETS[n].postconf]
        names = [n for n in names if n not in skipped]
        if skipped:
            print(f"postconf is not installed: skipping {', '.join(skipped)}")
    chunks = []
    for name in names:
        total = max(1, args.examples // fuzz.TARGETS[name].share)
        for index, begin in enumerate(range(0, total, CHUNK)):
            chunks.append((name, min(CHUNK, total - begin), seed + index))
    print(f"seed {seed}; {len(names)} targets in {len(chunks)} chunks on {args.jobs} processes")
    sys.stdout.flush()

    totals: dict[str, dict[str, Any]] = {
        n: {"inputs": 0, "seconds": 0.0, "failures": {}, "slowest": (0.0, "")} for n in names
    }
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_chunk, name, count, chunk_seed, args.include_known,
                        args.shrink_seconds)
            for name, count, chunk_seed in chunks
        ]  # fmt: skip
        for future in as_completed(futures):
            result = future.result()
            total = totals[result["name"]]
            total["inputs"] += result["inputs"]
            total["seconds"] += result["seconds"]
            for failure in result["failures"]:
                total["failures"].setdefault(failure["signature"], failure)
            total["slowest"] = max(total["slowest"], tuple(result["slowest"]))
            print(
                f"  {result['name']}: {result['inputs']} inputs in {result['seconds']:.0f} s, "
                f"{len(result['failures'])} failure(s)"
            )
            sys.stdout.flush()

    print()
    failed = 0
    for name in names:
        total = totals[name]
        print(f"{name}: {total['inputs']} inputs, {total['seconds']:.0f} s of work")
        took, case = total["slowest"]
        print(f"  slowest input: {took:.2f} s: {case}")
        for failure in total["failures"].values():
            failed += 1
            print(f"  FAILED {failure['signature']}")
            print(f"    {failure['message']}")
            print(f"    minimal reproducer ({name}): {failure['case']}")
    inputs = sum(t["inputs"] for t in totals.values())
    print(
        f"\n{inputs} inputs in {time.monotonic() - started:.0f} s (seed {seed}); "
        f"{failed} distinct failure(s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
