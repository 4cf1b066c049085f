"""The judge client: the openai async client against any OpenAI-compatible base URL (OpenAI, a
vLLM server, or the bundled model behind a local adapter), with

- a concurrency limit (a semaphore over all requests of a run),
- retries with exponential backoff and jitter on 429, 408/409, 5xx, timeouts, dropped
  connections and bodies that are not JSON (a 429's Retry-After is honoured); other 4xx are
  configuration errors and stop the run at once, with the endpoint's message,
- token usage per reply and in total, and the cost where prices are configured,
- the response cache (cache.py): a request seen before is answered without a call,
- a budget (USD, optional): once the recorded cost reaches it, no further call is made and the
  batch stops with JudgeBudgetExceeded; calls already in flight (at most `concurrency`) finish and
  are counted, so the overshoot is at most their cost.

The endpoint and key come from server configuration only (JudgeEndpoint is built from Settings);
nothing in a submission can point the judge elsewhere. The openai client's own retries are off,
so every attempt is counted here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from evaluators.judge.cache import CachedReply, ResponseCache, request_key

RETRYABLE_STATUS = frozenset({408, 409, 429})
# Replies are written to the cache this many at a time (one transaction each; a crash loses at
# most this many paid-for replies) and at the end of a batch.
CACHE_FLUSH_EVERY = 32


class JudgeConfigError(RuntimeError):
    """The judge endpoint refuses the request itself (bad key, unknown model, bad parameter)."""


class JudgeBudgetExceeded(RuntimeError):
    """The recorded cost reached the client's budget; no further call was made."""

    def __init__(self, spent_usd: float, budget_usd: float, calls: int) -> None:
        super().__init__(
            f"judge cost ${spent_usd:.4f} after {calls} calls reached the budget ${budget_usd:.4f}"
        )
        self.spent_usd = spent_usd
        self.budget_usd = budget_usd
        self.calls = calls


@dataclass(frozen=True)
class JudgeEndpoint:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    concurrency: int = 8
    max_retries: int = 5
    timeout_s: float = 60.0
    backoff_s: float = 0.5  # first retry waits about this long, then doubles
    backoff_max_s: float = 30.0
    price_input_per_mtok: float | None = None  # USD per million prompt tokens
    price_output_per_mtok: float | None = None
    max_tokens: int | None = None  # caps every request's reply length (part of the cache key)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.price_input_per_mtok is None or self.price_output_per_mtok is None:
            return None
        return (
            prompt_tokens * self.price_input_per_mtok + completion_tokens * self.price_output_per_mtok
        ) / 1e6


@dataclass(frozen=True)
class JudgeRequest:
    messages: Sequence[dict[str, str]]
    prompt_version: str  # e.g. "geval-coherence-ko@1": a prompt change is a new version
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, n, logprobs, ...

    def key(self, judge_model: str) -> str:
        return request_key(judge_model, self.prompt_version, list(self.messages), self.params)


@dataclass
class JudgeReply:
    texts: list[str]  # one per choice (n)
    top_logprobs: list[dict[str, float]] | None  # first choice: per token, {token: logprob}
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    attempts: int = 0  # calls made for this reply (0 when cached)
    error: str | None = None  # retries exhausted: the reply is missing and counted, the run goes on

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class JudgeStats:
    requests: int = 0
    cache_hits: int = 0
    calls: int = 0  # HTTP attempts, retries included
    retries: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_retryable(exc: Exception) -> bool:
    import json

    import openai

    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return True
    # A 200 whose body is not a chat completion (a proxy's error page): garbage, asked again.
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


def _reply_document(completion: Any) -> dict[str, Any]:
    """What is cached of a chat completion: the texts, the first choice's top log-probabilities
    and the usage (plain JSON)."""
    choices = list(completion.choices or [])
    top: list[dict[str, float]] | None = None
    first = choices[0] if choices else None
    content = getattr(getattr(first, "logprobs", None), "content", None) if first is not None else None
    if content:
        top = [
            {alt.token: float(alt.logprob) for alt in (item.top_logprobs or [])}
            or {item.token: float(item.logprob)}
            for item in content
        ]
    usage = completion.usage
    return {
        "texts": [(choice.message.content or "") for choice in choices],
        "top_logprobs": top,
        "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
        "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
    }


def _plain_http_client(base_url: str) -> Any:
    """For an http:// endpoint (a vLLM server, the local adapter): openai's default HTTP client
    without a TLS context, whose CA store load costs ~50 ms at the start of every batch and is never
    used on plain HTTP. https:// endpoints get openai's own client (None), certificates verified."""
    import openai

    if urlsplit(base_url).scheme != "http":
        return None
    return openai.DefaultAsyncHttpxClient(verify=False)


class JudgeClient:
    def __init__(
        self, endpoint: JudgeEndpoint, cache: ResponseCache | None = None, budget_usd: float | None = None
    ) -> None:
        self.endpoint = endpoint
        self.cache = cache
        self.budget_usd = budget_usd  # None: no limit; an unpriced endpoint never reaches one
        self.stats = JudgeStats()
        self._unsaved: list[CachedReply] = []

    def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeReply]:
        """Synchronous entry point (worker code): one event loop for the whole batch."""
        return asyncio.run(self.judge_many(requests))

    async def judge_many(self, requests: Sequence[JudgeRequest]) -> list[JudgeReply]:
        import openai

        requests = [self._capped(request) for request in requests]
        keys = [request.key(self.endpoint.model) for request in requests]
        cached = await asyncio.to_thread(self.cache.get_many, set(keys)) if self.cache else {}
        replies: list[JudgeReply | None] = [None] * len(requests)
        for index, key in enumerate(keys):
            if key in cached:
                replies[index] = JudgeReply(**cached[key], cached=True)
        self.stats.requests += len(requests)
        self.stats.cache_hits += sum(reply is not None for reply in replies)
        semaphore = asyncio.Semaphore(self.endpoint.concurrency)
        client = openai.AsyncOpenAI(
            base_url=self.endpoint.base_url,
            api_key=self.endpoint.api_key,
            max_retries=0,
            timeout=self.endpoint.timeout_s,
            http_client=_plain_http_client(self.endpoint.base_url),
        )
        pending = [i for i, reply in enumerate(replies) if reply is None]
        misses: dict[str, int] = {}  # the same request twice in one batch is asked once
        for index in pending:
            misses.setdefault(keys[index], index)
        tasks = [
            asyncio.ensure_future(self._ask(client, semaphore, requests[i], keys[i])) for i in misses.values()
        ]
        try:
            answered = await asyncio.gather(*tasks)
        except BaseException:
            # One request stopped the batch (a refused request, the budget): the rest stop too,
            # before they make calls nobody will read.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await client.close()
            await self._flush()
        by_key = dict(zip(misses, answered, strict=True))
        for index in pending:
            replies[index] = by_key[keys[index]]
        self._total_cost()
        return [reply for reply in replies if reply is not None]

    def _capped(self, request: JudgeRequest) -> JudgeRequest:
        """The request with the endpoint's reply-length cap applied (slow local judges)."""
        cap = self.endpoint.max_tokens
        asked = request.params.get("max_tokens")
        if cap is None or (isinstance(asked, int) and asked <= cap):
            return request
        return replace(request, params={**request.params, "max_tokens": cap})

    async def _ask(
        self, client: Any, semaphore: asyncio.Semaphore, request: JudgeRequest, key: str
    ) -> JudgeReply:
        import openai
        from openai.types.chat import ChatCompletion

        endpoint = self.endpoint
        attempts = 0
        last_error = ""
        while True:
            attempts += 1
            try:
                async with semaphore:
                    self._check_budget()  # here, not before waiting: replies that came meanwhile count
                    self.stats.calls += 1
                    # The client's own post, not chat.completions.create: that first runs a typed
                    # transform over the parameters (~1.5 ms of CPU a call, a no-op for text messages
                    # and scalar parameters), and 16 replies at once queue on this one event loop.
                    completion = await client.post(
                        "/chat/completions",
                        body={"model": endpoint.model, "messages": list(request.messages), **request.params},
                        cast_to=ChatCompletion,
                    )
                document = _reply_document(completion)
                break
            except Exception as exc:
                if isinstance(exc, openai.APIStatusError) and not _is_retryable(exc):
                    raise JudgeConfigError(
                        f"the judge endpoint {endpoint.base_url} refused the request ({exc.status_code}): "
                        f"{exc.message}"
                    ) from exc
                if not _is_retryable(exc):
                    raise
                last_error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
                if attempts > endpoint.max_retries:
                    self.stats.failed += 1
                    return JudgeReply([], None, attempts=attempts, error=last_error)
                self.stats.retries += 1
                delay = min(endpoint.backoff_s * 2 ** (attempts - 1), endpoint.backoff_max_s)
                delay = max(_retry_after(exc) or 0.0, delay * random.uniform(0.5, 1.0))
                await asyncio.sleep(delay)
        self.stats.prompt_tokens += document["prompt_tokens"]
        self.stats.completion_tokens += document["completion_tokens"]
        if self.cache is not None:
            request_document = {"messages": list(request.messages), "params": request.params}
            self._unsaved.append(
                CachedReply(key, endpoint.model, request.prompt_version, request_document, document)
            )
            if len(self._unsaved) >= CACHE_FLUSH_EVERY:
                await self._flush()
        return JudgeReply(**document, attempts=attempts)

    async def _flush(self) -> None:
        rows, self._unsaved = self._unsaved, []
        if rows and self.cache is not None:
            await asyncio.to_thread(self.cache.put_many, rows)

    def _total_cost(self) -> None:
        self.stats.cost_usd = self.endpoint.cost(self.stats.prompt_tokens, self.stats.completion_tokens)

    def _check_budget(self) -> None:
        if self.budget_usd is None:
            return
        spent = self.endpoint.cost(self.stats.prompt_tokens, self.stats.completion_tokens)
        if spent is not None and spent >= self.budget_usd:
            self.stats.cost_usd = spent
            raise JudgeBudgetExceeded(spent, self.budget_usd, self.stats.calls)
