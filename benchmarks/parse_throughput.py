"""Parse throughput of pfconf against postconf, on generated main.cf files of two sizes.

Prints lines per second for a 10,000-line and a 200,000-line main.cf side by side, the
per-line cost of the large file relative to the small one (it should stay near 1: parsing is
linear), and each figure as a ratio against ``postconf -n`` reading the same file in the same
run.  Peak memory is reported the same way (pfconf's traced peak against postconf's maximum
resident set).  Nothing here asserts a time; run it by hand or from CI logs:

    .venv/bin/python benchmarks/parse_throughput.py
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc

import pfconf

BLOCK = [
    "# {n}: settings for the {n}th relay class",
    "relay_class_{n}_destination = mail{n}.example.com, $mydomain",
    "relay_class_{n}_limit = {n}",
    "",
    "relay_class_{n}_restrictions =",
    "    permit_mynetworks,",
    "    permit_sasl_authenticated,",
    "#   reject_rbl_client old{n}.example.org,",
    "\treject_rbl_client zen.spamhaus.org=127.0.0.[2..11],",
    "    check_policy_service {{ inet:127.0.0.1:{port}, timeout=10s }},",
    "    reject_unauth_destination",
    "relay_class_{n}_banner = $myhostname ESMTP # not a comment {n}",
]


def generate(lines: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    out: list[str] = []
    n = 0
    while len(out) < lines:
        n += 1
        for template in BLOCK:
            out.append(template.format(n=n, port=10000 + rng.randrange(50000)))
    return ("\n".join(out[:lines]) + "\n").encode()


def time_pfconf(data: bytes, repeat: int) -> tuple[float, int]:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        doc = pfconf.loads(data, "main")
        doc.effective()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    doc = pfconf.loads(data, "main")
    doc.effective()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak


def time_postconf(postconf: str, data: bytes, repeat: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "main.cf")
        with open(path, "wb") as handle:
            handle.write(data)
        open(os.path.join(directory, "master.cf"), "wb").close()
        # Postfix rereads a file changed within the last second until it cools down.
        os.utime(path, (0, 0))
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(
                [postconf, "-c", directory, "-n"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            best = min(best, time.perf_counter() - start)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return best, rss_kib * 1024


def _verdict(holds: bool) -> str:
    return "holds" if holds else "MISSED"


_CHILD = """
import sys
import pfconf

def status(field):
    # VmHWM is this process's own peak (ru_maxrss may carry the parent's across fork+exec)
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0

data = sys.stdin.buffer.read()
before = status("VmRSS")
doc = pfconf.loads(data, "main")
doc.effective()
print(status("VmHWM") - before)
"""


def _rss_growth(data: bytes) -> int:
    """How much a fresh process's resident set grows reading ``data`` (the text included),
    after pfconf is imported: what tracemalloc does not see (the allocator's own overhead)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], input=data, capture_output=True, check=True
    )
    return int(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    postconf = shutil.which("postconf") or "/usr/sbin/postconf"
    have_postconf = os.path.exists(postconf)

    rows = []
    for lines in (args.small, args.large):
        data = generate(lines)
        seconds, peak = time_pfconf(data, args.repeat)
        row = {"lines": lines, "seconds": seconds, "rate": lines / seconds, "peak": peak}
        if have_postconf:
            pc_seconds, pc_rss = time_postconf(postconf, data, args.repeat)
            row.update(pc_seconds=pc_seconds, pc_rate=lines / pc_seconds, pc_rss=pc_rss)
        rows.append(row)

    print(f"{'lines':>8}  {'pfconf lines/s':>15}  {'peak MiB':>9}", end="")
    print(
        f"  {'postconf lines/s':>16}  {'time ratio':>10}  {'postconf max RSS MiB':>20}"
        if have_postconf
        else ""
    )
    for row in rows:
        print(f"{row['lines']:>8}  {row['rate']:>15,.0f}  {row['peak'] / 2**20:>9.1f}", end="")
        if have_postconf:
            print(
                f"  {row['pc_rate']:>16,.0f}  {row['seconds'] / row['pc_seconds']:>9.1f}x"
                f"  {row['pc_rss'] / 2**20:>20.1f}"
            )
        else:
            print()
    small, large = rows
    per_line_ratio = (large["seconds"] / large["lines"]) / (small["seconds"] / small["lines"])
    print(
        f"per-line cost, {large['lines']:,} lines vs {small['lines']:,}: {per_line_ratio:.2f} "
        f"(target: at most 1.5): {_verdict(per_line_ratio <= 1.5)}"
    )
    slowest = min(row["rate"] for row in rows)
    print(f"slowest rate {slowest:,.0f} lines/s (target: at least 150,000): "
          f"{_verdict(slowest >= 150_000)}")  # fmt: skip
    grown = _rss_growth(generate(args.large))
    print(
        f"memory at {large['lines']:,} lines: {large['peak'] / 2**20:.1f} MiB traced, the "
        f"process grew {grown / 2**20:.1f} MiB (target: at most 100 MiB): "
        f"{_verdict(max(large['peak'], grown) <= 100 * 2**20)}"
    )
    if not have_postconf:
        print("postconf not found: ratios against Postfix not measured", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
