"""A scripted OpenAI-compatible judge on loopback: POST /v1/chat/completions answers from a
script, so tests and the throughput bench drive the real openai client over real HTTP.

Each request takes the next step of the script (then the default step): a reply text with
optional top log-probabilities, an HTTP error status (429 with Retry-After, 500, ...), a delay
longer than the client's timeout, or a body that is not JSON. Every request is counted and kept.

Usage: 50 prompt and 5 completion tokens a reply, or with `count_tokens` the counts of the rule the
judge cost estimate documents (README, LLM judge): ASCII text 4 characters a token, any other
character one token, 4 more per message; a scripted judge has no tokenizer of its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response


@dataclass
class Step:
    text: str = "[[5]]"
    texts: list[str] | None = None  # one per choice when n > 1 (cycled); else `text` for every choice
    top_logprobs: list[dict[str, float]] | None = None  # first generated token's alternatives
    status: int = 200
    delay_s: float = 0.0
    garbage: bool = False  # a 200 whose body is not JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class JudgeScript:
    steps: list[Step] = field(default_factory=list)
    default: Step = field(default_factory=Step)
    received: list[dict[str, Any]] = field(default_factory=list)
    # Decides the reply from the request body instead (concurrent requests arrive in any order).
    responder: Callable[[dict[str, Any]], Step] | None = None
    count_tokens: bool = False  # usage by the documented rule instead of a fixed 50 + 5

    def next_step(self, body: dict[str, Any]) -> Step:
        if self.responder is not None:
            return self.responder(body)
        return self.steps.pop(0) if self.steps else self.default


def rule_tokens(text: str) -> int:
    """The documented counting rule, written here apart from the estimate's own code."""
    ascii_count = len(text.encode("ascii", "ignore"))
    return (ascii_count + 3) // 4 + len(text) - ascii_count


def _usage(body: dict[str, Any], choices: list[dict[str, Any]], counted: bool) -> dict[str, int]:
    if not counted:
        return {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55}
    prompt = sum(rule_tokens(str(m.get("content", ""))) + 4 for m in body.get("messages") or [])
    completion = sum(rule_tokens(c["message"]["content"]) for c in choices)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(step: Step, body: dict[str, Any], counted: bool = False) -> dict[str, Any]:
    logprobs = None
    if body.get("logprobs") and step.top_logprobs is not None:
        first = step.top_logprobs[0]
        token = max(first, key=lambda t: first[t])
        alternatives = [{"token": t, "logprob": lp, "bytes": None} for t, lp in first.items()]
        logprobs = {
            "content": [
                {"token": token, "logprob": first[token], "bytes": None, "top_logprobs": alternatives}
            ]
        }
    choices = [
        {"index": i, "message": {"role": "assistant", "content": step.texts[i % len(step.texts)] if step.texts
         else step.text}, "finish_reason": "stop",
         "logprobs": logprobs}
        for i in range(int(body.get("n") or 1))
    ]  # fmt: skip
    return {
        "id": "judge-1", "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
        "choices": choices, "usage": _usage(body, choices, counted),
    }  # fmt: skip


def make_app(script: JudgeScript) -> FastAPI:
    app = FastAPI()

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return {"chat_completions": len(script.received)}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        script.received.append(body)
        step = script.next_step(body)
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        if step.status != 200:
            error = {"error": {"message": f"scripted {step.status}", "type": "scripted", "code": step.status}}
            return JSONResponse(error, status_code=step.status, headers=step.headers)
        if step.garbage:
            return PlainTextResponse("<html>upstream hiccup</html>", media_type="application/json")
        reply = _completion(step, body, script.count_tokens)
        return Response(json.dumps(reply), media_type="application/json")

    return app


@contextmanager
def serve_judge(script: JudgeScript) -> Iterator[str]:
    """The server in a thread of this process (the local judge adapter's own runner); yields its
    base URL (".../v1")."""
    from evaluators.judge.local_adapter import serve_in_thread

    with serve_in_thread(make_app(script)) as url:
        yield url


def make_fixed_latency_app(delay_s: float, text: str = "[[8]]") -> Any:
    """A bare ASGI app (no routing or validation layer) answering every chat completion after
    `delay_s`, and GET /stats with its count: for the throughput bench, where the test server's
    own CPU per request would otherwise be measured as the client's overhead."""
    served = 0
    reply = _completion(Step(text=text), {"model": "judge"})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal served
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["path"] == "/stats":
            body = json.dumps({"chat_completions": served}).encode()
        else:
            served += 1
            await asyncio.sleep(delay_s)
            body = json.dumps(reply).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    """`python -m tests.support.judge_server --port P --delay 0.1`: every reply after a fixed
    latency, in its own process (bench/judge_throughput.py)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    uvicorn.run(make_fixed_latency_app(args.delay), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
