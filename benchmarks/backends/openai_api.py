"""OpenAI-compatible endpoint backend: `openai:MODEL@BASE_URL` becomes an lm-eval LM.

Loglikelihood requests go to the completions endpoint (echo + logprobs, scored with a Hugging Face
tokenizer) and generation to the chat completions endpoint, exactly as lm-eval's `local-completions`
and `local-chat-completions` models do (see `reproduce_model`); the HTTP goes through the openai
client. This module stays light (the API validates references with it): the client, lm-eval and
transformers are imported by `openai_lm`, and only inside `load`.

The API key is never part of the reference or of the recorded arguments: the caller passes it to
`load` (evalboard reads it from EVALBOARD_OPENAI_API_KEY).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from benchmarks.target import ModelLoadError

PREFIX = "openai:"
DEFAULT_API_KEY = "EMPTY"  # what local servers (vLLM, llama.cpp, SGLang) accept when they check none
LOGLIKELIHOOD_TYPES = ("loglikelihood", "loglikelihood_rolling", "multiple_choice")
GENERATION_TYPES = ("generate_until",)
# The model name is everything up to the first "@http(s)://" (names such as "@cf/meta/llama-3" exist).
REFERENCE = re.compile(r"(?P<model>.+?)@(?P<url>https?://.*)", re.DOTALL)
EXAMPLE = "openai:MODEL@http://127.0.0.1:8000/v1"


class OpenAIReferenceError(ModelLoadError, ValueError):
    """A malformed `openai:` reference: permanent for the worker, a ValueError for validators."""


def is_reference(reference: str) -> bool:
    return reference.startswith(PREFIX)


def check_base_url(url: str) -> str:
    """The endpoint's base URL (what the openai client takes, e.g. http://host:8000/v1), normalized."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OpenAIReferenceError(f"{url!r} is not an http(s) URL; expected something like {EXAMPLE}")
    if parts.username or parts.password:
        raise OpenAIReferenceError(
            "put the API key in EVALBOARD_OPENAI_API_KEY, not in the URL: the URL is recorded with results"
        )
    if parts.query or parts.fragment:
        raise OpenAIReferenceError(f"the base URL {url!r} must not have a query string or fragment")
    if any(ch.isspace() for ch in url) or "," in url:
        # lm-eval splits --model_args on commas, so such a URL could not be reproduced.
        raise OpenAIReferenceError(f"the base URL {url!r} must not contain spaces or commas")
    base = url.rstrip("/")
    for endpoint in ("/chat/completions", "/completions"):
        if base.endswith(endpoint):
            raise OpenAIReferenceError(
                f"give the API's base URL, not an endpoint: {base.removesuffix(endpoint)!r}, "
                f"not {url!r} (both the completions and chat endpoints are used)"
            )
    return base


def check_model_name(model: str) -> str:
    if not model or model != model.strip() or any(ch.isspace() for ch in model):
        raise OpenAIReferenceError(f"model name {model!r} is empty or contains whitespace")
    if "," in model:
        raise OpenAIReferenceError(f"model name {model!r} must not contain commas (lm-eval splits on them)")
    return model


def parse_reference(reference: str) -> tuple[str, str]:
    """`openai:MODEL@BASE_URL` -> (MODEL, BASE_URL without a trailing slash)."""
    if not is_reference(reference):
        raise OpenAIReferenceError(f"{reference!r} is not an OpenAI endpoint reference; expected {EXAMPLE}")
    match = REFERENCE.fullmatch(reference.removeprefix(PREFIX))
    if match is None:
        raise OpenAIReferenceError(
            f"{reference!r} names no endpoint: expected {EXAMPLE} (the model as the server lists it, "
            "then @ and the API's http(s) base URL)"
        )
    return check_model_name(match["model"]), check_base_url(match["url"])


def model_args(
    model: str,
    base_url: str,
    *,
    tokenizer: str | None,
    num_concurrent: int = 1,
    max_retries: int = 3,
    timeout: int = 300,
    batch_size: int = 1,
) -> dict[str, Any]:
    """Arguments recorded with every result and passed to `load` (never the API key).

    tokenizer: a Hugging Face tokenizer folder or repo id matching the served model; loglikelihood
    benchmarks need it (the prompt is sent as its token ids). None allows generation only.
    max_retries: the openai client's retries after a failed request (429, 5xx, connection errors).
    batch_size: prompts per completions request (lm-eval's batching; chat requests are one each).
    """
    if num_concurrent < 1 or batch_size < 1 or max_retries < 0 or timeout <= 0:
        raise ModelLoadError(
            "num_concurrent and batch_size must be at least 1, max_retries at least 0, timeout positive"
        )
    args: dict[str, Any] = {
        "model": check_model_name(model),
        "base_url": check_base_url(base_url),
        "batch_size": batch_size,
        "num_concurrent": num_concurrent,
        "max_retries": max_retries,
        "timeout": timeout,
    }
    if tokenizer:
        args["tokenizer"] = tokenizer
    return args


def reproduce_model(
    args: dict[str, Any], request_type: str, *, apply_chat_template: bool = True
) -> tuple[str, str]:
    """(--model, --model_args) of the `lm_eval` call giving the same numbers for this request type.

    Generation goes to chat completions only with a chat template (lm-eval's chat model needs
    messages); without one it is a completions request, as `load`'s LM sends it. The API key is
    lm-eval's OPENAI_API_KEY variable; --batch_size stays a separate flag (lm-eval refuses it twice).
    """
    if request_type in LOGLIKELIHOOD_TYPES or (request_type in GENERATION_TYPES and not apply_chat_template):
        name, endpoint = "local-completions", "completions"
    elif request_type in GENERATION_TYPES:
        name, endpoint = "local-chat-completions", "chat/completions"
    else:
        raise ValueError(f"unknown request type {request_type!r}")
    pairs: dict[str, Any] = {"model": args["model"], "base_url": f"{args['base_url']}/{endpoint}"}
    if name == "local-completions":
        tokenizer = args.get("tokenizer")
        pairs |= (
            {"tokenizer_backend": "huggingface", "tokenizer": tokenizer, "tokenized_requests": True}
            if tokenizer
            else {"tokenizer_backend": "none", "tokenized_requests": False}
        )
    # lm-eval's max_retries counts attempts (tenacity's stop_after_attempt); the client's counts retries.
    pairs |= {
        "num_concurrent": args["num_concurrent"],
        "max_retries": args["max_retries"] + 1,
        "timeout": args["timeout"],
    }
    return name, ",".join(f"{key}={value}" for key, value in pairs.items())


def load(
    args: dict[str, Any],
    *,
    api_key: str = DEFAULT_API_KEY,
    allowed_base_urls: Sequence[str] | None = None,
) -> Any:
    """Build the lm-eval LM; the endpoint is asked for its models first, so a wrong URL, key or
    model name fails here (ModelLoadError) rather than in the middle of a benchmark.

    allowed_base_urls: None for the operator's own runs (any endpoint, as they name it). For jobs
    from the queue, the server's EVALBOARD_OPENAI_ALLOWED_BASE_URLS: the endpoint must then resolve
    to public addresses only or be listed there, checked now and again at every connection (see
    benchmarks.endpoint_guard), and redirects are not followed.
    """
    from benchmarks.backends.openai_lm import build

    return build(args, api_key=api_key, allowed_base_urls=allowed_base_urls)
