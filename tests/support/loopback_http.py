"""A tiny OpenAI-shaped HTTP server on loopback (stdlib only, no model): GET /v1/models lists model
"m", POST answers every completion with " Paris", and it can answer everything with a redirect
instead. It records the paths it was asked for, so tests can tell whether anything reached it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.recorded():
            entry = {"id": "m", "object": "model", "created": 0, "owned_by": "tests"}
            self.answer({"object": "list", "data": [entry]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.recorded():
            choice = {"index": 0, "text": " Paris", "finish_reason": "stop", "logprobs": None}
            usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            completion = {"id": "c", "object": "text_completion", "created": 0, "model": "m"}
            self.answer({**completion, "choices": [choice], "usage": usage})

    def recorded(self) -> bool:
        """Records the path; False when the request was answered with the redirect instead."""
        server: LoopbackHTTP = self.server  # type: ignore[assignment]
        server.paths.append(self.path)
        if not server.redirect_to:
            return True
        self.send_response(302)
        self.send_header("Location", server.redirect_to + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def answer(self, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read `paths`


class LoopbackHTTP(ThreadingHTTPServer):
    paths: list[str]
    redirect_to: str | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextmanager
def loopback_server(redirect_to: str | None = None) -> Iterator[LoopbackHTTP]:
    server = LoopbackHTTP(("127.0.0.1", 0), Handler)
    server.paths, server.redirect_to = [], redirect_to
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
