"""A small OpenAI-compatible chat endpoint in front of a local transformers model: the judge of the
embedded default (the bundled SmolLM2) and of air-gapped set-ups without a vLLM server.

    evalboard judge-serve --model bundled:smollm2-135m-instruct --port 8001

Speaks the part of POST /v1/chat/completions the judge client uses: messages (through the model's
chat template), max_tokens, temperature, top_p, n, seed, logprobs and top_logprobs (from the model's
raw logits), and usage. Requests arriving together are generated as one left-padded batch (the
judge client sends up to its concurrency at once), grouped by sampling settings; greedy requests
are deterministic, so the judge cache stays truthful.

torch and transformers are imported inside: this module is worker-side only.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

MAX_BATCH = 16
MAX_TOP_LOGPROBS = 20  # OpenAI's limit
GATHER_S = 0.05


class AdapterRequestError(ValueError):
    """A request this adapter cannot serve (answered 400 with the reason)."""


@dataclass
class ChatJob:
    prompt: str
    max_tokens: int
    temperature: float
    top_p: float
    n: int
    seed: int | None
    top_logprobs: int | None  # None: no logprobs asked for
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] | None = None
    error: Exception | None = None

    @property
    def sampling(self) -> tuple[Any, ...]:
        """Jobs generated in one batch share these (max_tokens is the batch's largest)."""
        greedy = self.temperature == 0
        return (greedy, None if greedy else self.temperature, None if greedy else self.top_p, self.seed,
                self.top_logprobs is not None)  # fmt: skip


def parse_body(body: dict[str, Any], tokenizer: Any, default_max_tokens: int) -> ChatJob:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise AdapterRequestError("messages must be a non-empty list of {role, content}")
    try:
        chat = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    except (KeyError, TypeError) as exc:
        raise AdapterRequestError("each message needs a role and a string content") from exc
    wanted = body.get("top_logprobs")
    top_logprobs = min(int(wanted or 0), MAX_TOP_LOGPROBS) if body.get("logprobs") else None
    max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens)
    n = int(body.get("n") or 1)
    if max_tokens < 1 or n < 1:
        raise AdapterRequestError("max_tokens and n must be at least 1")
    temperature = float(body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0)
    prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    return ChatJob(prompt, max_tokens, temperature, float(body.get("top_p") or 1.0), n, body.get("seed"),
                   top_logprobs)  # fmt: skip


class LocalChatModel:
    """The model and the batching thread that runs it."""

    def __init__(self, folder: str, *, name: str, device: str = "cpu", max_batch: int = MAX_BATCH) -> None:
        from transformers import AutoTokenizer

        self.name = name
        self.folder = folder
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._model: Any = None  # the weights load on the first request: a fully cached run needs none
        self.max_batch = max_batch
        self.jobs: queue.Queue[ChatJob] = queue.Queue()
        self.generated_batches = 0
        self._thread = threading.Thread(target=self._loop, name="judge-adapter-model", daemon=True)
        self._thread.start()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=torch.float32)
            self._model = model.to(self.device).eval()  # type: ignore[arg-type]
        return self._model

    def submit(self, job: ChatJob) -> None:
        self.jobs.put(job)

    def _loop(self) -> None:
        while True:
            pending = [self.jobs.get()]
            # Requests sent together arrive a few ms apart: gather until none comes for GATHER_S
            # (a batch that misses one costs that one a whole generation round).
            while len(pending) < self.max_batch:
                try:
                    pending.append(self.jobs.get(timeout=GATHER_S))
                except queue.Empty:
                    break
            groups: dict[tuple[Any, ...], list[ChatJob]] = {}
            for job in pending:
                groups.setdefault(job.sampling, []).append(job)
            for jobs in groups.values():
                try:
                    self._generate(jobs)
                except Exception as exc:  # the requests fail, the adapter stays up
                    for job in jobs:
                        job.error = exc
                for job in jobs:
                    job.done.set()

    def _generate(self, jobs: list[ChatJob]) -> None:
        import torch

        prompts = [job.prompt for job in jobs for _ in range(job.n)]
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = encoded.to(self.device)
        first = jobs[0]
        options: dict[str, Any] = {"max_new_tokens": max(job.max_tokens for job in jobs)}
        if first.temperature == 0:
            options["do_sample"] = False
        else:
            options.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
            if first.seed is not None:
                torch.manual_seed(int(first.seed))
        with torch.inference_mode():
            out = self.model.generate(
                **encoded,
                **options,
                pad_token_id=self.tokenizer.pad_token_id,
                return_dict_in_generate=True,
                output_logits=first.top_logprobs is not None,
            )
        self.generated_batches += 1
        prompt_length = encoded["input_ids"].shape[1]
        row = 0
        for job in jobs:
            choices = []
            completion_tokens = 0
            for index in range(job.n):
                ids = out.sequences[row, prompt_length:][: job.max_tokens].tolist()
                finish = "length"
                if self.tokenizer.eos_token_id in ids:
                    ids = ids[: ids.index(self.tokenizer.eos_token_id)]
                    finish = "stop"
                completion_tokens += len(ids)
                choice: dict[str, Any] = {
                    "index": index,
                    "message": {
                        "role": "assistant",
                        "content": self.tokenizer.decode(ids, skip_special_tokens=True),
                    },
                    "finish_reason": finish,
                    "logprobs": None,
                }
                if job.top_logprobs is not None:
                    choice["logprobs"] = {"content": self._logprobs(out.logits, row, ids, job.top_logprobs)}
                choices.append(choice)
                row += 1
            prompt_tokens = int(encoded["attention_mask"][row - 1].sum())
            job.result = {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.name,
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }

    def _logprobs(self, logits: Any, row: int, ids: list[int], k: int) -> list[dict[str, Any]]:
        import torch

        content = []
        for step, token_id in enumerate(ids):
            logprobs = torch.log_softmax(logits[step][row].float(), dim=-1)
            top = torch.topk(logprobs, k) if k else None
            content.append(
                {
                    "token": self.tokenizer.decode([token_id]),
                    "logprob": float(logprobs[token_id]),
                    "bytes": None,
                    "top_logprobs": []
                    if top is None
                    else [
                        {"token": self.tokenizer.decode([int(i)]), "logprob": float(v), "bytes": None}
                        for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                    ],
                }
            )
        return content


def make_app(model: LocalChatModel, default_max_tokens: int = 512) -> FastAPI:
    app = FastAPI(title="evalboard local judge adapter")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model.name, "object": "model", "owned_by": "evalboard"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        try:
            body = await request.json()
            job = parse_body(body, model.tokenizer, default_max_tokens)
        except (AdapterRequestError, ValueError, TypeError) as exc:
            return JSONResponse({"error": {"message": str(exc), "type": "invalid_request_error"}}, 400)
        if body.get("model") not in (None, model.name):
            message = f"this adapter serves {model.name!r}, not {body.get('model')!r}"
            return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, 404)
        model.submit(job)
        await asyncio.get_running_loop().run_in_executor(None, job.done.wait)
        if job.error is not None:
            return JSONResponse({"error": {"message": str(job.error), "type": "server_error"}}, 500)
        return job.result

    return app


@contextmanager
def serve_in_thread(app: Any, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `app` with uvicorn on a loopback port in this process; yields its /v1 base URL."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the local judge adapter did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
