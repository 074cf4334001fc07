"""Local servers: a free loopback port for one to listen on, and waiting until it answers."""

from __future__ import annotations

import socket
import time

import requests


def free_port() -> int:
    """Return a loopback TCP port free at this moment, for a server the caller starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    """Wait until `url` answers without a server error; raise after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")
