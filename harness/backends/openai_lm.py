"""The lm-eval LM behind the `openai` backend (imported only by `openai_api.load`).

lm-eval's own LocalCompletionsAPI / LocalChatCompletion build every payload, batch, tokenize and
parse the responses, so the numbers equal `lm_eval --model local-completions` (loglikelihood) and
`local-chat-completions` (generation); the subclasses here only replace their HTTP (requests /
aiohttp) with the openai client, whose own retries and timeout apply. This module subclasses
lm-eval classes, so lm_eval and openai are imported at its top; nothing light imports it.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import openai
from lm_eval.api.model import LM, CacheHook
from lm_eval.models.api_models import LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER, JsonChatStr, TemplateAPI
from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI

from benchmarks.endpoint_guard import EndpointRefused, check_base_url_target
from benchmarks.target import ModelLoadError
from harness.backends import guarded_http

# Payload keys that are client options, not request fields, in create()'s signature.
CLIENT_OPTIONS = {"extra_headers", "extra_query", "extra_body", "timeout"}
# Answers that re-running the job cannot change (the client has already retried 408, 409, 429, 5xx).
REFUSALS = (
    openai.BadRequestError,
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
    openai.UnprocessableEntityError,
)


@contextmanager
def refusals_are_permanent(url: str) -> Iterator[None]:
    try:
        yield
    except REFUSALS as exc:
        raise ModelLoadError(f"{url} refused the request: {exc.message}") from exc
    except EndpointRefused as exc:  # the host now resolves to an address the guard refuses
        raise ModelLoadError(f"{url} is refused: {exc}") from exc


def client_arguments(create: Callable[..., Any], payload: dict[str, Any]) -> dict[str, Any]:
    """lm-eval's JSON payload as create() keywords: fields create() does not name (server-specific
    sampling options from a task's generation_kwargs, e.g. top_k) go in the body unchanged."""
    named = set(inspect.signature(create).parameters) - CLIENT_OPTIONS
    arguments = {key: value for key, value in payload.items() if key in named}
    extra = {key: value for key, value in payload.items() if key not in named}
    if extra:
        arguments["extra_body"] = extra
    return arguments


class ClientTransport(TemplateAPI):
    """TemplateAPI with model_call / amodel_call going through openai.OpenAI / AsyncOpenAI.

    The client retries (max_retries, with backoff and Retry-After); lm-eval's own tenacity retry
    around these calls is set to a single attempt so failures are not retried twice over.
    """

    def __init__(
        self,
        *,
        api_base: str,
        api_key: str,
        client_retries: int,
        allowed_base_urls: Sequence[str] | None,
        **kwargs: Any,
    ) -> None:
        self._api_base = api_base
        self._api_key = api_key
        self._client_retries = client_retries
        self._allowed_base_urls = allowed_base_urls  # None: connections are not checked (see build)
        self._sync_client: openai.OpenAI | None = None
        self._async_client: openai.AsyncOpenAI | None = None
        super().__init__(max_retries=1, **kwargs)

    @property  # lm-eval's is a cached_property reading OPENAI_API_KEY
    def api_key(self) -> str:
        return self._api_key

    def client_options(self, *, asynchronous: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {
            "base_url": self._api_base,
            "api_key": self._api_key,
            "max_retries": self._client_retries,
            "timeout": float(self.timeout),
        }
        if self._allowed_base_urls is not None:
            make = guarded_http.async_client if asynchronous else guarded_http.sync_client
            options["http_client"] = make(self._api_base, self._allowed_base_urls)
        return options

    def endpoint(self, client: Any) -> Any:
        """The client resource to call (client.completions or client.chat.completions)."""
        raise NotImplementedError

    def payload(self, messages: Any, generate: bool, gen_kwargs: dict[str, Any] | None, **kwargs: Any) -> Any:
        # A copy: lm-eval passes one gen_kwargs dict to every request and _create_payload pops from it.
        return self._create_payload(
            self.create_message(messages),
            generate=generate,
            gen_kwargs=copy.deepcopy(gen_kwargs),
            seed=self._seed,
            **kwargs,
        )

    def model_call(
        self, messages: Any, *, generate: bool = True, gen_kwargs: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        if self._sync_client is None:
            self._sync_client = openai.OpenAI(**self.client_options())
        body = self.payload(messages, generate, gen_kwargs, eos=self.eos_string, **kwargs)
        create = self.endpoint(self._sync_client).create
        with refusals_are_permanent(self.base_url):
            return dict(create(**client_arguments(create, body)).model_dump())

    async def get_batched_requests(self, *args: Any, **kwargs: Any) -> Any:
        # lm-eval runs each batch of concurrent requests in a fresh event loop (asyncio.run), and an
        # async HTTP pool is bound to its loop: one client per call.
        async with openai.AsyncOpenAI(**self.client_options(asynchronous=True)) as client:
            self._async_client = client
            try:
                return await super().get_batched_requests(*args, **kwargs)
            finally:
                self._async_client = None

    async def amodel_call(
        self,
        session: Any,  # lm-eval's aiohttp session, unused: the openai client does the HTTP
        sem: asyncio.Semaphore,
        messages: Any,
        *,
        generate: bool = True,
        cache_keys: list[Any] | None = None,
        ctxlens: list[int] | None = None,
        gen_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        assert self._async_client is not None, "amodel_call runs inside get_batched_requests"
        # No eos here, as in lm-eval's amodel_call (its sync path adds the EOS string to `stop`).
        body = self.payload(messages, generate, gen_kwargs, **kwargs)
        create = self.endpoint(self._async_client).create
        async with sem:
            with refusals_are_permanent(self.base_url):
                outputs = (await create(**client_arguments(create, body))).model_dump()
        answers = (
            self.parse_generations(outputs=outputs)
            if generate
            else self.parse_logprobs(outputs=outputs, tokens=messages, ctxlens=ctxlens)
        )
        answers = [LMEVAL_MODEL_NONE_ANSWER_PLACEHOLDER if a is None else a for a in answers]
        if cache_keys:
            method = "generate_until" if generate else "loglikelihood"
            for answer, key in zip(answers, cache_keys, strict=False):
                self.cache_hook.add_partial(method, key, answer)
        return answers


class CompletionsModel(ClientTransport, LocalCompletionsAPI):
    def endpoint(self, client: Any) -> Any:
        return client.completions


class ChatModel(ClientTransport, LocalChatCompletion):
    def endpoint(self, client: Any) -> Any:
        return client.chat.completions


class ChatPrompt(str):
    """A chat-templated context. As a string it is what local-completions scores (the tokenizer's
    chat template applied); `messages` is the JSON local-chat-completions sends instead."""

    messages: str
    error: str | None  # why the template could not be applied; scoring then refuses the prompt

    def __new__(cls, text: str, messages: str, error: str | None = None) -> ChatPrompt:
        prompt = super().__new__(cls, text)
        prompt.messages = messages
        prompt.error = error
        return prompt

    def __getnewargs__(self) -> tuple[str, str, str | None]:  # type: ignore[override]  # pickling (request cache)
        return str(self), self.messages, self.error


class OpenAIEndpointLM(LM):
    """Loglikelihood to the completions model, generation to the chat model (chat-templated
    contexts) or the completions model (plain text, which a chat endpoint cannot take)."""

    def __init__(self, completions: CompletionsModel, chat: ChatModel, info: dict[str, Any]) -> None:
        super().__init__()
        self.completions = completions
        self.chat = chat
        self.info = info

    @property
    def tokenizer(self) -> Any:  # read for the chat template hash recorded with results
        return self.completions.tokenizer

    @property
    def tokenizer_name(self) -> str:
        return self.completions.tokenizer_name

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self.completions.chat_template(chat_template)

    def get_model_info(self) -> dict[str, Any]:
        return dict(self.info)

    def set_cache_hook(self, cache_hook: CacheHook) -> None:
        super().set_cache_hook(cache_hook)
        self.completions.set_cache_hook(cache_hook)
        # The chat model sees rewritten contexts; its answers are recorded under the original
        # requests in generate_until, so a request cache finds them again.
        self.chat.set_cache_hook(CacheHook(None))

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        messages = self.chat.apply_chat_template(chat_history, add_generation_prompt)
        assert isinstance(messages, JsonChatStr)
        if self.completions.tokenizer is None:
            return ChatPrompt(messages.prompt, messages.prompt, "no tokenizer was given")
        try:
            text = self.completions.apply_chat_template(chat_history, add_generation_prompt)
        except Exception as exc:  # transformers raises ValueError, jinja2 TemplateError
            return ChatPrompt(messages.prompt, messages.prompt, f"{type(exc).__name__}: {exc}")
        return ChatPrompt(str(text), messages.prompt)

    def require_tokenizer(self, what: str) -> None:
        if self.completions.tokenizer is None:
            raise ModelLoadError(
                f"{what} needs a tokenizer for {self.info['model']}: give a Hugging Face tokenizer "
                "folder or repo id matching the served model"
            )

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        self.require_tokenizer("loglikelihood scoring")
        for request in requests:
            context = request.args[0]
            if isinstance(context, ChatPrompt) and context.error:
                raise ModelLoadError(f"cannot apply the tokenizer's chat template: {context.error}")
        return list(self.completions.loglikelihood(requests, disable_tqdm=disable_tqdm))

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        self.require_tokenizer("loglikelihood scoring")
        return list(self.completions.loglikelihood_rolling(requests, disable_tqdm=disable_tqdm))

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        chat = [i for i, request in enumerate(requests) if isinstance(request.args[0], ChatPrompt)]
        plain = [i for i, request in enumerate(requests) if not isinstance(request.args[0], ChatPrompt)]
        answers: list[str] = [""] * len(requests)
        if chat:
            rewritten = []
            for i in chat:
                request = copy.copy(requests[i])
                context, *rest = request.args
                request.arguments = (JsonChatStr(context.messages), *rest)
                rewritten.append(request)
            for i, answer in zip(
                chat, self.chat.generate_until(rewritten, disable_tqdm=disable_tqdm), strict=True
            ):
                answers[i] = answer
                self.cache_hook.add_partial("generate_until", requests[i].args, answer)
        if plain:
            done = self.completions.generate_until([requests[i] for i in plain], disable_tqdm=disable_tqdm)
            for i, answer in zip(plain, done, strict=True):
                answers[i] = answer
        return answers


def check_endpoint(client: openai.OpenAI, model: str, base_url: str) -> None:
    """Fail at load, with a message saying what to fix, when the endpoint refuses us or lacks the model."""
    try:
        served = [entry.id for entry in client.models.list()]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise ModelLoadError(
            f"{base_url} refused the API key ({exc.status_code}); set EVALBOARD_OPENAI_API_KEY on the worker"
        ) from exc
    except openai.NotFoundError:
        return  # the server does not list its models; the first request will tell
    except EndpointRefused as exc:  # the host now resolves to an address the guard refuses
        raise ModelLoadError(f"{base_url} is refused: {exc}") from exc
    except openai.APIConnectionError as exc:
        # Not a ModelLoadError: the endpoint may be starting, so the worker's retry can help.
        raise RuntimeError(f"could not reach {base_url}: {exc}") from exc
    except openai.APIStatusError as exc:
        if 300 <= exc.status_code < 400:  # redirects are not followed (see guarded_http)
            raise ModelLoadError(
                f"{base_url} answered with a redirect ({exc.status_code}), which evalboard does not "
                "follow: give the base URL the endpoint really serves"
            ) from exc
        raise
    if model not in served:
        listed = ", ".join(served[:10]) or "none"
        raise ModelLoadError(f"{base_url} does not serve model {model!r}; it lists: {listed}")


def check_target(base_url: str, allowed_base_urls: Sequence[str] | None) -> None:
    """The API checked the endpoint when it was submitted; checked again here, before any request,
    because the worker's settings or the host's addresses may have changed since."""
    if allowed_base_urls is None:
        return
    try:
        check_base_url_target(base_url, allowed_base_urls)
    except EndpointRefused as exc:
        raise ModelLoadError(f"{base_url} is refused: {exc}") from exc


def build(
    args: dict[str, Any], *, api_key: str, allowed_base_urls: Sequence[str] | None = None
) -> OpenAIEndpointLM:
    model, base_url, tokenizer = args["model"], args["base_url"], args.get("tokenizer")
    check_target(base_url, allowed_base_urls)
    transport = {
        "api_base": base_url,
        "api_key": api_key,
        "client_retries": args["max_retries"],
        "allowed_base_urls": allowed_base_urls,
    }
    options: dict[str, Any] = {"max_retries": args["max_retries"], "timeout": float(args["timeout"])}
    if allowed_base_urls is not None:
        options["http_client"] = guarded_http.sync_client(base_url, allowed_base_urls)
    with openai.OpenAI(base_url=base_url, api_key=api_key, **options) as client:
        check_endpoint(client, model, base_url)
    common = {"model": model, "num_concurrent": args["num_concurrent"], "timeout": args["timeout"]}
    tokenizer_args = (
        {"tokenizer_backend": "huggingface", "tokenizer": tokenizer, "tokenized_requests": True}
        if tokenizer
        else {"tokenizer_backend": None, "tokenized_requests": False}
    )
    try:
        completions = CompletionsModel(
            base_url=f"{base_url}/completions",
            batch_size=args["batch_size"],
            **tokenizer_args,
            **common,
            **transport,
        )
    except (OSError, ValueError) as exc:  # transformers' "can't find / load tokenizer"
        raise ModelLoadError(f"could not load tokenizer {tokenizer!r}: {exc}") from exc
    chat = ChatModel(
        base_url=f"{base_url}/chat/completions",
        tokenizer_backend=None,
        tokenized_requests=False,
        **common,
        **transport,
    )
    info = {"model": model, "base_url": base_url, "tokenizer": tokenizer}
    return OpenAIEndpointLM(completions, chat, info)
