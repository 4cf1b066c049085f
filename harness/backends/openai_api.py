"""OpenAI-compatible endpoint backend: `openai:MODEL@BASE_URL` becomes an lm-eval LM.

Loglikelihood requests go to the completions endpoint (echo + logprobs, scored with a Hugging Face
tokenizer) and generation to the chat completions endpoint, exactly as lm-eval's `local-completions`
and `local-chat-completions` models do (see `reproduce_model`); the HTTP goes through the openai
client. The reference grammar lives in benchmarks/references.py (the API validates references with it);
the client, lm-eval and transformers are imported by `openai_lm`, and only inside `load`.

The API key is never part of the reference or of the recorded arguments: the caller passes it to
`load` (evalboard reads it from EVALBOARD_OPENAI_API_KEY).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.references import PREFIX, check_base_url, check_model_name, parse_reference
from benchmarks.target import ModelLoadError, ModelTarget
from harness.backends.base import Backend, LoadedModel, LoadSettings, ReproduceCall
from harness.reproduce import reproduce_command

DEFAULT_API_KEY = "EMPTY"  # what local servers (vLLM, llama.cpp, SGLang) accept when they check none
LOGLIKELIHOOD_TYPES = ("loglikelihood", "loglikelihood_rolling", "multiple_choice")
GENERATION_TYPES = ("generate_until",)


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
    from harness.backends.openai_lm import build

    return build(args, api_key=api_key, allowed_base_urls=allowed_base_urls)


class OpenAIBackend:
    name: str = "openai"
    reference_prefix: str | None = PREFIX
    reference_form: str | None = "openai:MODEL@BASE_URL"
    auto_rank: int | None = None  # it serves its own references, never another model
    evaluates_in_memory: bool = False

    def runs_here(self) -> bool:
        return True

    def load(self, target: ModelTarget, settings: LoadSettings) -> LoadedModel:
        """settings.options: the API key, concurrency, retries, timeout and the allowed base URLs
        (checked only when settings.guarded: a queued job's endpoint, chosen by its submitter)."""
        from harness.backends.weights import materialize, source_of

        model, base_url = parse_reference(target.reference)
        tokenizer = target.tokenizer
        if tokenizer:  # bundled:NAME and local folders become the folder the tokenizer loads from
            tokenizer = materialize(tokenizer, source_of(tokenizer), "main", None, settings.cache_dir)[0]
        options = dict(settings.options)
        api_key = options.pop("api_key", DEFAULT_API_KEY)
        allowed = options.pop("allowed_base_urls", None) or []
        args = model_args(model, base_url, tokenizer=tokenizer, batch_size=settings.batch_size, **options)
        lm = load(args, api_key=api_key, allowed_base_urls=list(allowed) if settings.guarded else None)
        # The endpoint's weights are out of sight: the reference stands in for a commit in the cache key.
        return LoadedModel(self.name, args, lm, target.reference, "remote")

    def reproduce(self, loaded: LoadedModel, call: ReproduceCall) -> str:
        """Per benchmark: lm-eval has one API model per request type (local-completions for
        scoring, local-chat-completions for chat generation)."""
        request_type = "generate_until" if call.request_type == "generate" else "loglikelihood"
        name, model_args_text = reproduce_model(
            loaded.args, request_type, apply_chat_template=call.apply_chat_template
        )
        return reproduce_command(
            [call.task], call.num_fewshot, {"batch_size": loaded.args["batch_size"]},
            call.apply_chat_template, self.name, include_paths=call.include_paths, limit=call.limit,
            max_gen_toks=call.max_gen_toks, model_name=name, model_args_text=model_args_text,
        )  # fmt: skip


BACKEND: Backend = OpenAIBackend()
