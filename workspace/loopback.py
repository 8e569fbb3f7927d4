"""Whether a host or an ``http://HOST:PORT`` URL stays on this machine (the loopback interface).

Standard library only: ``stacks/config.py`` checks ``TAP_EMULATOR_ENDPOINT`` with it before
the CDKTF libraries load.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


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
