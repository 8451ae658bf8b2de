"""pfconf-lsp: the time from a change in the editor to its diagnostics, on a 1,000-line main.cf.

A real client (pytest-lsp's, over stdio, as tests/test_lsp.py uses) opens a generated
main.cf (parse_throughput.py's generator) with Postfix's stock master.cf beside it, then
changes one value again and again; each time it waits for the diagnostics of that version.
The figure includes the server's pause that coalesces keystrokes (pfconf.lsp.server.DEBOUNCE).
Printed: the median and the slowest of the runs, against the 100 ms target.  Nothing here
asserts a time:

    .venv/bin/python benchmarks/lsp_latency.py [--lines 1000] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from lsprotocol import types
from parse_throughput import generate
from pytest_lsp import LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "pfconf.lsp"]


async def measure(lines: int, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        text = generate(lines).decode()
        (directory / "main.cf").write_text(text)
        stock = Path("/usr/share/postfix/master.cf.dist")
        if stock.exists():
            shutil.copy(stock, directory / "master.cf")
        uri = (directory / "main.cf").as_uri()
        client = LanguageClient()
        published: dict[int, float] = {}

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                published[params.version] = time.perf_counter()

        await client.start_io(*SERVER)
        await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("neovim"))
        )
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="pfconf", version=1, text=text
                )
            )
        )
        await _until(lambda: 1 in published)
        times = []
        for version in range(2, runs + 2):
            line = 2  # "relay_class_1_destination = ...": a new value each time
            new = f"relay_class_1_destination = mail{version}.example.com, $mydomain"
            started = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line=line - 1, character=0),
                                end=types.Position(line=line, character=0),
                            ),
                            text=new + "\n",
                        )
                    ],
                )
            )
            await _until(lambda version=version: version in published)
            times.append(published[version] - started)
        await client.shutdown_session()
        return times


async def _until(check, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + seconds
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("no diagnostics from the server")
        await asyncio.sleep(0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    times = asyncio.run(measure(args.lines, args.runs))
    median = statistics.median(times)
    verdict = "holds" if median < 0.1 else "MISSED"
    print(
        f"pfconf-lsp, change to diagnostics on a {args.lines:,}-line main.cf: median "
        f"{median * 1000:.1f} ms, slowest {max(times) * 1000:.1f} ms over {len(times)} changes "
        f"(target: under 100 ms): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
