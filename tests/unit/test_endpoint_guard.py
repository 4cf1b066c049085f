"""The endpoint guard: internal addresses in every spelling are refused without a connection (an
audit hook watches every socket.connect), listed base URLs pass, and the worker's HTTP clients
check each connection and follow no redirects, against real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from benchmarks.endpoint_guard import (
    EndpointRefused,
    check_address,
    check_base_url_target,
    is_public,
    resolve_host,
)
from benchmarks.target import ModelLoadError
from harness.backends import guarded_http, openai_api
from tests.support.loopback_http import loopback_server

# What the audit hook saw while `watching` was on: (event, address or host) pairs. The hook cannot
# be removed once added, so outside `watching` it records nothing.
SEEN: list[tuple[str, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if SEEN is not None and event in ("socket.connect", "socket.getaddrinfo"):
        SEEN.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)


@contextmanager
def watching() -> Iterator[list[tuple[str, Any]]]:
    global SEEN
    seen: list[tuple[str, Any]] = []
    SEEN = seen
    try:
        yield seen
    finally:
        SEEN = None


REFUSED = [
    "http://127.0.0.1:8000/v1",
    "http://2130706433/v1",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/v1",
    "http://017700000001/v1",  # octal
    "http://0177.0.0.1/v1",
    "http://0x7f.0.0.1/v1",
    "http://127.1/v1",
    "http://0/v1",
    "http://localhost:8000/v1",
    "http://localhost./v1",
    "http://LOCALHOST/v1",
    "http://api.localhost/v1",
    "http://[::1]:8000/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://[::ffff:7f00:1]/v1",
    "http://[::127.0.0.1]/v1",  # IPv4-compatible
    "http://[64:ff9b::a00:1]/v1",  # NAT64 of 10.0.0.1
    "http://[2002:a9fe:a9fe::]/v1",  # 6to4 of 169.254.169.254
    "http://169.254.169.254/latest",  # cloud metadata
    "http://[fe80::1]/v1",
    "http://[fec0::1]/v1",  # IPv6 site-local
    "http://10.0.0.1/v1",
    "http://192.168.1.1/v1",
    "http://172.16.0.1/v1",
    "http://100.64.0.1/v1",  # shared address space (CGNAT)
    "http://0.0.0.0/v1",
    "http://[::]/v1",
    "http://224.0.0.1/v1",
    "http://[ff02::1]/v1",
    "http://240.0.0.1/v1",
    "http://255.255.255.255/v1",
    "http://[fd00::1]/v1",
    "https://10.1.2.3:8443/v1",
]


@pytest.mark.parametrize("base_url", REFUSED)
def test_internal_addresses_are_refused_in_every_spelling_without_connecting(base_url: str) -> None:
    with watching() as seen, pytest.raises(EndpointRefused, match="not a public address"):
        check_base_url_target(base_url, [])
    # Not even a DNS query: every spelling above is recognized without one.
    assert seen == []


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("ftp://files.example/v1", "must be an http:// or https:// URL"),
        ("file:///etc/passwd", "must be an http:// or https:// URL"),
        ("http://no-such-host.invalid/v1", "cannot resolve"),
        ("http:///v1", "names no host"),
        ("http://127.0.0.1:99999/v1", "port is not a number"),
    ],
)
def test_other_refusals_say_what_is_wrong(base_url: str, message: str) -> None:
    with watching() as seen, pytest.raises(EndpointRefused, match=message):
        check_base_url_target(base_url, [])
    assert seen == []


def test_refusals_never_name_the_address_a_host_resolved_to() -> None:
    with pytest.raises(EndpointRefused) as refused:
        check_base_url_target("http://2130706433/v1", [])
    assert "127.0.0.1" not in str(refused.value)


def test_a_name_the_system_resolver_maps_to_loopback_is_refused() -> None:
    """Through getaddrinfo, offline: a name /etc/hosts maps to 127.0.0.1 (files come before DNS)."""
    hosts = Path("/etc/hosts").read_text().split("\n") if Path("/etc/hosts").exists() else []
    names = [
        name
        for line in hosts
        if line.split() and line.split()[0] == "127.0.0.1"
        for name in line.split()[1:]
        if "localhost" not in name
    ]
    if not names:
        pytest.skip("no name other than localhost maps to 127.0.0.1 in /etc/hosts")
    with watching() as seen, pytest.raises(EndpointRefused, match="not a public address"):
        check_base_url_target(f"http://{names[0]}:8000/v1", [])
    assert [event for event, _ in seen] == ["socket.getaddrinfo"]


def test_listed_base_urls_pass_exactly_as_listed() -> None:
    allowed = ["http://127.0.0.1:8000/v1/"]
    with watching() as seen:
        check_base_url_target("http://127.0.0.1:8000/v1", allowed)
        check_base_url_target("http://127.0.0.1:8000/v1/", allowed)
    assert seen == []
    for other in ("http://127.0.0.1:8000/v2", "http://127.0.0.1:8001/v1", "http://localhost:8000/v1"):
        with pytest.raises(EndpointRefused):
            check_base_url_target(other, allowed)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    check_address(address)
    assert resolve_host(address, 80) and all(is_public(ip) for ip in resolve_host(address, 80))


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:10.0.0.1", "169.254.169.254", "not-an-ip"])
def test_one_resolved_address_is_checked_as_the_worker_connects(address: str) -> None:
    with pytest.raises(EndpointRefused):
        check_address(address)


# --- the worker's clients, against real loopback servers -------------------------------------------


def test_the_checking_client_refuses_a_loopback_server_before_connecting() -> None:
    with loopback_server() as server, guarded_http.sync_client(server.base_url, []) as client:
        with watching() as seen, pytest.raises(EndpointRefused, match="not a public address"):
            client.get(f"{server.base_url}/models")
        assert [event for event, _ in seen if event == "socket.connect"] == []
        assert server.paths == []


def test_the_async_checking_client_refuses_it_too() -> None:
    async def fetch(base_url: str) -> None:
        async with guarded_http.async_client(base_url, []) as client:
            await client.get(f"{base_url}/models")

    with loopback_server() as server:
        with watching() as seen, pytest.raises(EndpointRefused):
            asyncio.run(fetch(server.base_url))
        assert [event for event, _ in seen if event == "socket.connect"] == []
        assert server.paths == []


def test_a_listed_loopback_server_is_reached_sync_and_async() -> None:
    async def fetch(base_url: str) -> int:
        async with guarded_http.async_client(base_url, [base_url]) as client:
            return (await client.get(f"{base_url}/models")).status_code

    with loopback_server() as server:
        with guarded_http.sync_client(server.base_url, [server.base_url]) as client:
            assert client.get(f"{server.base_url}/models").json()["data"][0]["id"] == "m"
        assert asyncio.run(fetch(server.base_url)) == 200
        assert server.paths == ["/v1/models", "/v1/models"]


def test_the_socket_goes_to_the_checked_address_not_to_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: whatever the name resolves to later, the connection uses the address the guard
    passed. Here the check 'passes' 127.0.0.1 for a name that resolves to nothing at all."""
    checked: list[tuple[str, int]] = []

    def passes_loopback(host: str, port: int) -> list[Any]:
        checked.append((host, port))
        return ["127.0.0.1"]

    monkeypatch.setattr(guarded_http, "checked_addresses", passes_loopback)
    with loopback_server() as server:
        port = server.server_address[1]
        base_url = f"http://rebinding.invalid:{port}/v1"
        with guarded_http.sync_client(base_url, []) as client:
            assert client.get(f"{base_url}/models").status_code == 200
        assert checked == [("rebinding.invalid", port)] and server.paths == ["/v1/models"]


def test_redirects_are_not_followed_even_from_a_listed_server() -> None:
    with loopback_server() as inner, loopback_server(redirect_to=inner.base_url.removesuffix("/v1")) as outer:
        with guarded_http.sync_client(outer.base_url, [outer.base_url]) as client:
            response = client.get(f"{outer.base_url}/models")
        assert response.status_code == 302 and outer.paths == ["/v1/models"]
        assert inner.paths == []
        # The worker's loader says so instead of following it.
        args = openai_api.model_args("m", outer.base_url, tokenizer=None)
        with pytest.raises(ModelLoadError, match="redirect"):
            openai_api.load(args, allowed_base_urls=[outer.base_url])
        assert inner.paths == []


def test_the_worker_loader_checks_only_when_guarded() -> None:
    """A queued job (allowed_base_urls given) may not reach an unlisted loopback endpoint; the
    operator's own `evalboard eval` (None) reaches it."""
    with loopback_server() as server:
        args = openai_api.model_args("m", server.base_url, tokenizer=None)
        with watching() as seen, pytest.raises(ModelLoadError, match="is refused"):
            openai_api.load(args, allowed_base_urls=["http://127.0.0.1:1/v1"])
        assert [event for event, _ in seen if event == "socket.connect"] == []
        assert server.paths == []
        assert openai_api.load(args, allowed_base_urls=[server.base_url]).info["model"] == "m"
        assert openai_api.load(args, allowed_base_urls=None).info["model"] == "m"
        assert server.paths == ["/v1/models", "/v1/models"]


def test_settings_cross_to_the_job_and_the_guard_flag_turns_the_check_on(tmp_path: Path) -> None:
    """Settings.harness_kwargs carries the allowed list to the job child, which runs guarded
    (app/worker/child.run_eval); load_model then checks, and unguarded does not."""
    from app.config import Settings
    from benchmarks.target import ModelTarget
    from harness.backends.base import LoadSettings
    from harness.runner import load_model

    with loopback_server() as server:
        settings = Settings(home=tmp_path, openai_allowed_base_urls=["http://127.0.0.1:1/v1"])
        crossed = json.loads(json.dumps(settings.harness_kwargs))  # as it crosses processes
        options = crossed["backend_options"]["openai"]
        assert options["allowed_base_urls"] == ["http://127.0.0.1:1/v1"] and "guard" not in options
        target = ModelTarget(f"openai:m@{server.base_url}", "openai", "endpoint", None, "float32")

        def load(guarded: bool) -> Any:
            return load_model(
                target,
                backend="auto",
                settings=LoadSettings(tmp_path, "cpu", 1, guarded=guarded),
                backend_options=crossed["backend_options"],
            )

        with pytest.raises(ModelLoadError, match="is refused"):
            load(guarded=True)
        assert server.paths == []
        loaded = load(guarded=False)  # the operator's `evalboard eval`: no check
        assert "allowed_base_urls" not in loaded.args and "guard" not in loaded.args  # never recorded
        assert server.paths == ["/v1/models"]


def test_a_guarded_job_runs_concurrent_requests_through_a_listed_endpoint() -> None:
    """num_concurrent > 1: lm-eval's async path, through the async client the guard builds."""
    from lm_eval.api.instance import Instance

    with loopback_server() as server:
        args = openai_api.model_args("m", server.base_url, tokenizer=None, num_concurrent=2)
        lm = openai_api.load(args, allowed_base_urls=[server.base_url])
        requests = [
            Instance("generate_until", {}, (f"Q{i}", {"until": ["."], "max_gen_toks": 2}), i, ("t", i, 1))
            for i in range(3)
        ]
        assert lm.generate_until(requests) == [" Paris"] * 3
        assert server.paths.count("/v1/completions") == 3


def test_tls_names_the_host_while_the_socket_goes_to_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate is asked for (SNI) and checked against the URL's host name, not the address."""
    import shutil
    import socket
    import ssl
    import subprocess

    import httpx2

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command for a throwaway certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t"]
    subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _context: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def handshake_once() -> None:
        connection, _ = listener.accept()
        connection.settimeout(5)
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client refuses the self-signed certificate, as it should
        finally:
            connection.close()

    thread = threading.Thread(target=handshake_once, daemon=True)
    thread.start()
    monkeypatch.setattr(guarded_http, "checked_addresses", lambda host, port: ["127.0.0.1"])
    base_url = f"https://model-host.invalid:{listener.getsockname()[1]}/v1"
    with (
        guarded_http.sync_client(base_url, []) as client,
        pytest.raises(httpx2.ConnectError, match="CERTIFICATE"),
    ):
        client.get(f"{base_url}/models")
    thread.join(timeout=5)
    listener.close()
    assert names == ["model-host.invalid"]
