"""Processes, ports and logs: free ports, pids and pid files, stopping, serving until a
signal, a logged child process, log tails."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import socketserver
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"


def port_bindable(port: int, host: str = HOST) -> bool:
    """Whether a server could bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port the kernel has just handed out as free on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], seconds: float, interval: float = 0.1) -> bool:
    """Poll ``check`` until it holds (True) or ``seconds`` have passed (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def wait_port_free(port: int, seconds: float = 10.0) -> bool:
    """Wait until ``port`` can be bound again; False if it is still taken after ``seconds``."""
    return wait_until(lambda: port_bindable(port), seconds, 0.2)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def runs(pid: int, marker: str) -> bool:
    """Whether ``pid`` is alive and its command line names ``marker`` (not a recycled pid).

    Without ``/proc`` (not Linux) there is no command line to read and a live pid counts.
    """
    if not pid_alive(pid):
        return False
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc/self").exists()


def read_pid_file(path: Path, marker: str) -> tuple[int, int] | None:
    """(pid, port) from a pid file (``{"pid": …, "port": …}``) whose process still runs ``marker``."""
    try:
        data = json.loads(path.read_text())
        pid, port = int(data["pid"]), int(data["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (pid, port) if runs(pid, marker) else None


def stop_process(pid: int, grace: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds; True if the process is gone."""

    def gone() -> bool:
        if pid_alive(pid):
            return False
        # Reap it if it is our child; another process's child is reaped by its parent.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return True

    for signum, seconds in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return True
        if wait_until(gone, seconds):
            return True
    return False


def serve_until_stopped(server: socketserver.BaseServer) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the server and restore the signal handlers.

    Ctrl-C stops it even when SIGINT was inherited as ignored (a background job, nohup).
    """

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def quoted(lines: Sequence[str]) -> str:
    """``lines`` indented as a quote (``    | …``), for the details of an error."""
    return "\n".join("    | " + line for line in lines)


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, quoted, or a note that it is empty."""
    try:
        text = path.read_text(errors="replace").rstrip("\n")
    except OSError:
        return "    (no log)"
    return quoted(text.splitlines()[-lines:]) or "    (log is empty)"


def run_logged(argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path, timeout: float) -> int:
    """Run ``argv`` with its output going to ``log``; stop it gracefully on timeout (-1) or Ctrl-C."""
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            _wait_or_kill(process)
            out.write(f"\n[tap-stack] stopped after the {timeout:.0f} s time limit\n")
            return -1
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (same process group): give it time to stop cleanly,
            # so Terraform writes its state and releases its lock.
            _wait_or_kill(process)
            raise


def _wait_or_kill(process: subprocess.Popen[Any]) -> None:
    try:
        process.wait(timeout=60)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # KeyboardInterrupt: a second Ctrl-C
        process.kill()
        process.wait()
