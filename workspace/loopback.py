"""Whether a host or an ``http://HOST:PORT`` URL stays on this machine (the loopback interface),
and the emulator ``TAP_EMULATOR_ENDPOINT`` names, which must.

Standard library only: ``stacks/config.py`` reads ``TAP_EMULATOR_ENDPOINT`` with it before
the CDKTF libraries load, the operator commands (``workspace/operator_cli.py``) for ``--env local``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

#: The emulator's port unless told otherwise (workspace/emulator.py starts it there).
DEFAULT_EMULATOR_PORT = 4566
DEFAULT_EMULATOR_ENDPOINT = f"http://127.0.0.1:{DEFAULT_EMULATOR_PORT}"


def is_loopback_host(host: str) -> bool:
    """``localhost``, any address of 127.0.0.0/8, ``::1`` (also written ``[::1]``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """``http://HOST:PORT`` with a loopback host and nothing else (no path, user or query)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.netloc.rpartition(":")[0]  # a netloc of exactly HOST:PORT: no user, no port missing
    only_host_port = parts.netloc == f"{host}:{port}" and not (parts.path or parts.query or parts.fragment)
    return parts.scheme == "http" and only_host_port and is_loopback_host(host)


def emulator_endpoint(environ: Mapping[str, str]) -> str:
    """``TAP_EMULATOR_ENDPOINT`` (default ``http://127.0.0.1:4566``) without a trailing slash;
    ValueError, naming the setting, when it is not a loopback ``http://HOST:PORT``."""
    url = environ.get("TAP_EMULATOR_ENDPOINT", DEFAULT_EMULATOR_ENDPOINT).strip().rstrip("/")
    if not is_loopback_url(url):
        raise ValueError(f"TAP_EMULATOR_ENDPOINT={url!r} must be http://127.0.0.1:PORT (loopback only)")
    return url
