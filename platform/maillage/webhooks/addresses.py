"""Where a webhook may point: an http(s) URL whose host resolves to public addresses only.

A hook is an invitation to make the server POST wherever someone says (SSRF): to its own
loopback services (Redis, PostgreSQL's neighbours), the cloud's metadata address
(169.254.169.254), the office's network. So every address the host resolves to must be
global unicast, checked at registration and again before each try, and the try connects to
the address checked, not to a second resolution (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class Refused(ValueError):
    """The URL may not be a webhook's; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its host name, its port and the address to connect to."""

    scheme: str
    host: str
    port: int
    address: str

    @property
    def netloc(self) -> str:
        """The address as a URL's authority (an IPv6 address in brackets)."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast or address.is_reserved


def check(url: str, *, allow_private: bool = False) -> Target:
    """Return where `url` leads, once its every address is checked; `Refused` otherwise.

    https only, unless `allow_private` (WEBHOOK_ALLOW_PRIVATE, for tests and development),
    which also lets it lead to loopback and private addresses.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Refused(f"Not a URL: {error}.") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise Refused("A webhook's URL must begin with https://.")
    if not parts.hostname:
        raise Refused("The URL names no host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL may not hold a user name or a password.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"The host {parts.hostname} does not resolve.") from None
    addresses = [str(info[4][0]).split("%")[0] for info in found]
    if not addresses:
        raise Refused(f"The host {parts.hostname} does not resolve.")
    if not allow_private:
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address)):
                raise Refused(f"The host {parts.hostname} resolves to {address}, a loopback, "
                              "private, link-local, multicast or reserved address.")
    return Target(parts.scheme, parts.hostname, port, addresses[0])
