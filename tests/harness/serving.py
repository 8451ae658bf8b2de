"""Running a socketserver in a thread of the test, for the harness's own servers (the SMTP
sink, the Milter): started in the sandbox, stopped without waiting on a client."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve ``server`` in a daemon thread (polling for shutdown every 0.1 s)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(
    server: socketserver.BaseServer,
    thread: threading.Thread | None,
    hang_up: Callable[[], None] | None = None,
) -> None:
    """Stop accepting, end open sessions (``hang_up``), close, and wait a little for the
    thread."""
    server.shutdown()
    if hang_up is not None:
        hang_up()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)
