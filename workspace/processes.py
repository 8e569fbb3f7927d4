"""Processes, ports and logs: free ports, pids, stopping, a logged child process, log tails."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
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


def wait_port_free(port: int, seconds: float = 10.0) -> bool:
    """Wait until ``port`` can be bound again; False if it is still taken after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_bindable(port):
            return True
        time.sleep(0.2)
    return False


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


def cmdline(pid: int) -> str:
    """A process's command line, or '' when it cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def runs(pid: int, marker: str) -> bool:
    """Whether ``pid`` is alive and its command line names ``marker`` (not a recycled pid)."""
    return pid_alive(pid) and marker in cmdline(pid)


def stop_process(pid: int, grace: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds; True if the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if _wait_gone(pid, grace):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    return _wait_gone(pid, 5.0)


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            # Reap it if it is our child; another process's child is reaped by its parent.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return True
        time.sleep(0.1)
    return False


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, indented, or a note that it is empty."""
    try:
        text = path.read_text(errors="replace").rstrip("\n")
    except OSError:
        return "    (no log)"
    picked = text.splitlines()[-lines:]
    return "\n".join("    | " + line for line in picked) if picked else "    (log is empty)"


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
            _interrupt(process)
            out.write(f"\n[tap-stack] stopped after the {timeout:.0f} s time limit\n")
            return -1
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (same process group): give it time to stop cleanly,
            # so Terraform writes its state and releases its lock.
            _interrupt(process, already_signalled=True)
            raise


def _interrupt(process: subprocess.Popen[Any], already_signalled: bool = False) -> None:
    try:
        if not already_signalled:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        process.kill()
        process.wait()
