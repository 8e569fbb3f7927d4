"""One loopback test for every setting that must stay on this machine."""

from __future__ import annotations

import pytest

from workspace.loopback import is_loopback_host, is_loopback_url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4566", "http://127.8.9.10:1", "http://localhost:8080", "http://[::1]:4566"]
)
def test_loopback_urls_pass(url: str) -> None:
    assert is_loopback_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:4566",  # the emulator speaks plain HTTP
        "http://127.0.0.1",  # no port
        "http://127.0.0.1:99999",
        "http://127.0.0.1:4566/path",
        "http://user@127.0.0.1:4566",
        "http://10.0.0.1:4566",
        "http://example.com:4566",
        "http://::1:4566",  # an IPv6 host needs brackets
        "",
    ],
)
def test_other_urls_fail(url: str) -> None:
    assert not is_loopback_url(url)


def test_hosts() -> None:
    assert all(is_loopback_host(h) for h in ("localhost", "127.0.0.1", "127.255.0.1", "::1", "[::1]"))
    assert not any(is_loopback_host(h) for h in ("0.0.0.0", "10.1.2.3", "example.com", "", "::"))
