"""The openai backend's reference parsing, recorded arguments and reproduce mapping (no server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.references import OpenAIReferenceError, parse_reference
from benchmarks.target import ModelLoadError
from harness.backends.openai_api import model_args, reproduce_model

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reference", "model", "base_url"),
    [
        ("openai:gpt-x@http://127.0.0.1:8000/v1", "gpt-x", "http://127.0.0.1:8000/v1"),
        (
            "openai:Qwen/Qwen2.5-7B-Instruct@https://gpu.lan/v1/",
            "Qwen/Qwen2.5-7B-Instruct",
            "https://gpu.lan/v1",
        ),
        # Some providers' model names start with or contain "@"; the URL starts at "@http".
        (
            "openai:@cf/meta/llama-3@https://api.example.com/openai/v1",
            "@cf/meta/llama-3",
            "https://api.example.com/openai/v1",
        ),
    ],
)
def test_references_split_into_model_and_base_url(reference: str, model: str, base_url: str) -> None:
    assert parse_reference(reference) == (model, base_url)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("gpt-x@http://127.0.0.1:8000/v1", "not an OpenAI endpoint reference; expected openai:MODEL@"),
        ("openai:gpt-x", "names no endpoint"),
        ("openai:@http://127.0.0.1:8000/v1", "names no endpoint"),
        ("openai:gpt-x@ftp://files.lan/v1", "names no endpoint"),
        ("openai:gpt-x@http:///v1", "is not an http\\(s\\) URL"),
        ("openai:gpt-x@http://user:sk-secret@gpu.lan/v1", "put the API key in EVALBOARD_OPENAI_API_KEY"),
        ("openai:gpt-x@http://gpu.lan/v1?key=sk-secret", "must not have a query string"),
        ("openai:gpt-x@http://gpu.lan/v1/chat/completions", "not an endpoint: 'http://gpu.lan/v1'"),
        ("openai:gpt-x@http://gpu.lan/v1/completions", "not an endpoint: 'http://gpu.lan/v1'"),
        ("openai:gpt x@http://gpu.lan/v1", "empty or contains whitespace"),
        ("openai:a,b@http://gpu.lan/v1", "must not contain commas"),
    ],
)
def test_malformed_references_say_what_to_change(reference: str, message: str) -> None:
    with pytest.raises(OpenAIReferenceError, match=message) as caught:
        parse_reference(reference)
    # Permanent for the worker (no retry) and a plain ValueError for validators.
    assert isinstance(caught.value, ModelLoadError) and isinstance(caught.value, ValueError)


def test_model_args_are_what_gets_recorded_and_hold_no_key() -> None:
    args = model_args(
        "gpt-x",
        "http://gpu.lan:8000/v1/",
        tokenizer="/models/tok",
        num_concurrent=4,
        max_retries=2,
        timeout=60,
    )
    assert args == {
        "model": "gpt-x",
        "base_url": "http://gpu.lan:8000/v1",
        "tokenizer": "/models/tok",
        "batch_size": 1,
        "num_concurrent": 4,
        "max_retries": 2,
        "timeout": 60,
    }
    assert "key" not in json.dumps(args)
    assert "tokenizer" not in model_args("gpt-x", "http://gpu.lan/v1", tokenizer=None)
    with pytest.raises(ModelLoadError, match="num_concurrent and batch_size must be at least 1"):
        model_args("gpt-x", "http://gpu.lan/v1", tokenizer=None, num_concurrent=0)


def test_reproduce_maps_loglikelihood_to_completions_and_generation_to_chat() -> None:
    from lm_eval.utils import simple_parse_args_string

    args = model_args(
        "gpt-x", "http://gpu.lan:8000/v1", tokenizer="/models/tok", num_concurrent=4, timeout=60
    )
    for request_type in ("loglikelihood", "multiple_choice", "loglikelihood_rolling"):
        assert reproduce_model(args, request_type) == (
            "local-completions",
            "model=gpt-x,base_url=http://gpu.lan:8000/v1/completions,tokenizer_backend=huggingface,"
            "tokenizer=/models/tok,tokenized_requests=True,num_concurrent=4,max_retries=4,timeout=60",
        )
    name, chat = reproduce_model(args, "generate_until")
    assert name == "local-chat-completions"
    assert chat == (
        "model=gpt-x,base_url=http://gpu.lan:8000/v1/chat/completions,num_concurrent=4,max_retries=4,timeout=60"
    )
    # lm-eval parses it back to the same values (URLs keep their colons and slashes).
    assert simple_parse_args_string(chat)["base_url"] == "http://gpu.lan:8000/v1/chat/completions"
    # Without a chat template a chat endpoint cannot take the prompt: completions, as the LM sends it.
    assert reproduce_model(args, "generate_until", apply_chat_template=False)[0] == "local-completions"
    untokenized = model_args("gpt-x", "http://gpu.lan/v1", tokenizer=None)
    assert (
        "tokenizer_backend=none,tokenized_requests=False" in reproduce_model(untokenized, "loglikelihood")[1]
    )
    with pytest.raises(ValueError, match="unknown request type"):
        reproduce_model(args, "rank")


def test_the_module_imports_no_client_lm_eval_or_torch() -> None:
    """The API process validates references with the grammar, and the backend module is as light:
    the heavy parts load only in `load`."""
    code = (
        "import sys, benchmarks.references, harness.backends.openai_api; "
        "print(sorted({'openai', 'lm_eval', 'torch', 'transformers'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
