"""The `openai:MODEL@BASE_URL` model-reference grammar, light so the API can validate submissions
with it; the backend that loads such a model is harness/backends/openai_api.py.

The API key is never part of a reference: a reference is recorded with every result.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from benchmarks.target import ModelLoadError

PREFIX = "openai:"
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
