"""HTTP clients for submitted endpoints: every connection is checked as it is made.

The API checked the endpoint's host when the reference was submitted, but a name can resolve to
another address by the time the worker connects (DNS rebinding). Here the host is resolved again
at each new connection, every address checked with `benchmarks.endpoint_guard`, and the socket
opened to a checked address itself, so no second lookup can differ from the one checked. TLS is
unchanged: httpcore takes the certificate's server name from the URL, not from the address.

Redirects are never followed (a public endpoint could otherwise bounce requests inward), and no
proxy from the environment is used: with one, the check would see the proxy, not the endpoint.
Worker only (imported by openai_lm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import anyio
import httpcore2
import httpx2

from benchmarks.endpoint_guard import EndpointRefused, checked_addresses, is_listed

Stream = TypeVar("Stream")


def first_connection(connect: Callable[[str], Stream], addresses: Sequence[object]) -> Stream:
    """Connect to the first address that answers, as the resolver's order prefers them."""
    failure: Exception | None = None
    for address in addresses:
        try:
            return connect(str(address))
        except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
            failure = exc
    assert failure is not None  # checked_addresses returns at least one address
    raise failure


class CheckingBackend(httpcore2.NetworkBackend):
    """The synchronous socket backend, connecting only to addresses the guard checked."""

    def __init__(self) -> None:
        self._sockets = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        def connect(address: str) -> httpcore2.NetworkStream:
            return self._sockets.connect_tcp(address, port, timeout, local_address, socket_options)

        return first_connection(connect, checked_addresses(host, port))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        raise EndpointRefused("an endpoint is reached over TCP only")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class AsyncCheckingBackend(httpcore2.AsyncNetworkBackend):
    """The same for the async client: the lookup runs in a thread, as anyio's own does."""

    def __init__(self) -> None:
        self._sockets = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(checked_addresses, host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._sockets.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise EndpointRefused("an endpoint is reached over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)


def _pool_options(limits: httpx2.Limits) -> dict[str, Any]:
    return {
        "ssl_context": httpx2.create_ssl_context(),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class CheckingTransport(httpx2.HTTPTransport):
    def __init__(self, limits: httpx2.Limits) -> None:
        super().__init__(limits=limits)
        # httpx2 takes no network backend: its pool is replaced by the same pool with the checking
        # one (handle_request and close use self._pool and nothing else of it).
        self._pool = httpcore2.ConnectionPool(network_backend=CheckingBackend(), **_pool_options(limits))


class AsyncCheckingTransport(httpx2.AsyncHTTPTransport):
    def __init__(self, limits: httpx2.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore2.AsyncConnectionPool(
            network_backend=AsyncCheckingBackend(), **_pool_options(limits)
        )


LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)  # the openai client's own


def sync_client(base_url: str, allowed_base_urls: Sequence[str]) -> httpx2.Client:
    """The http_client for openai.OpenAI: an endpoint the operator listed is trusted as it resolves;
    any other is checked at every connection. Neither follows redirects."""
    transport = (
        httpx2.HTTPTransport(limits=LIMITS)
        if is_listed(base_url, allowed_base_urls)
        else CheckingTransport(LIMITS)
    )
    return httpx2.Client(transport=transport, follow_redirects=False)


def async_client(base_url: str, allowed_base_urls: Sequence[str]) -> httpx2.AsyncClient:
    """The http_client for openai.AsyncOpenAI (see sync_client)."""
    transport = (
        httpx2.AsyncHTTPTransport(limits=LIMITS)
        if is_listed(base_url, allowed_base_urls)
        else AsyncCheckingTransport(LIMITS)
    )
    return httpx2.AsyncClient(transport=transport, follow_redirects=False)
