"""Which addresses an `openai:MODEL@URL` endpoint may point at: public ones, or base URLs the
operator listed.

Whoever submits the reference names the URL and the worker sends requests to it, so without this
check a submitter could make the worker reach loopback services, the cloud metadata address or the
private network (server-side request forgery). The host is resolved as the connection would resolve
it and every address it resolves to must be public; the worker checks again, address by address,
as it connects (a name may resolve differently by then: DNS rebinding).

Stdlib only: the API process imports this.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes whose last 32 bits are an IPv4 address the packets end up at.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
LOW_32_BITS = 0xFFFFFFFF
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


class EndpointRefused(ValueError):
    """The endpoint is not one the worker may contact; the message says what to change and names no
    address the host resolved to (that would map the internal network for the submitter)."""


def normalize_base_url(url: str) -> str:
    return url.strip().rstrip("/")


def is_listed(base_url: str, allowed_base_urls: Sequence[str]) -> bool:
    """Exact match only: a prefix would let `http://10.0.0.5:8000/v1` admit `.../v1/../admin`."""
    wanted = normalize_base_url(base_url)
    return any(normalize_base_url(url) == wanted for url in allowed_base_urls)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4-mapped and NAT64 addresses are the IPv4 address they carry; 6to4 routes to its one.
        inner = address.ipv4_mapped
        if inner is None and address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & LOW_32_BITS)
        if inner is not None:
            return is_public(inner)
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
        if address.is_site_local:
            return False
    # is_global alone lets multicast through; reserved covers 240/4 and the IPv4-compatible ::/96.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_address(address: str | IPAddress) -> None:
    """One already-resolved address, as the worker checks it just before it connects."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError as exc:
        raise EndpointRefused("the endpoint's address is not an IP address") from exc
    if not is_public(ip):
        raise EndpointRefused(
            "the endpoint's host is not a public address (loopback, private, link-local, shared, "
            "multicast and reserved addresses are refused)"
        )


def literal_address(host: str) -> IPAddress | None:
    """An IP literal in any spelling the system resolver accepts: 127.1, 2130706433, 0x7f000001 and
    0177.0.0.1 are all 127.0.0.1 to inet_aton, so they are to the connection too."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to. localhost and .invalid names are answered without a lookup
    (RFC 6761: they are loopback and nothing, whatever a DNS server says)."""
    host = host.strip().lower()
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return list(LOOPBACK)
    if not name or name == "invalid" or name.endswith(".invalid"):
        raise EndpointRefused(f"cannot resolve the endpoint's host {host!r}")
    literal = literal_address(name)
    if literal is not None:
        return [literal]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EndpointRefused(f"cannot resolve the endpoint's host {host!r} from this server") from exc
    addresses = [
        ipaddress.ip_address(entry[4][0]) for entry in found if entry[0] in (socket.AF_INET, socket.AF_INET6)
    ]
    if not addresses:
        raise EndpointRefused(f"cannot resolve the endpoint's host {host!r} from this server")
    return list(dict.fromkeys(addresses))


def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The host's addresses, each one public, in the resolver's order (what the worker connects to)."""
    addresses = resolve_host(host, port)
    for address in addresses:
        check_address(address)
    return addresses


def check_base_url_target(base_url: str, allowed_base_urls: Sequence[str]) -> None:
    """Refuse an endpoint base URL unless every address its host resolves to is public, or the base
    URL is listed exactly in allowed_base_urls. Nothing is sent to the endpoint."""
    if is_listed(base_url, allowed_base_urls):
        return
    parts = urlsplit(normalize_base_url(base_url))
    if parts.scheme not in DEFAULT_PORTS:
        raise EndpointRefused("the endpoint must be an http:// or https:// URL")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise EndpointRefused("the endpoint's port is not a number from 1 to 65535") from exc
    if not parts.hostname:
        raise EndpointRefused("the endpoint URL names no host")
    checked_addresses(parts.hostname, port)
