"""The local API server in a background thread, for tests that call it over real HTTP."""

from __future__ import annotations

import threading

from local.api_server import ApiServer


def start_in_thread(server: ApiServer) -> threading.Thread:
    """Serve ``server`` until the process ends (a daemon thread); stop it with ``shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, name="tap-local-api", daemon=True)
    thread.start()
    return thread
