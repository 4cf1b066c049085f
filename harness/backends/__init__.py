"""Inference backends, registered by name: each module defines `BACKEND`, a harness.backends.base.Backend.

A new backend is one module and one line in REGISTRY. Modules are imported when first asked for,
and torch, vLLM and the HTTP clients stay inside their functions.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from benchmarks.target import ModelLoadError
from harness.backends.base import Backend

# name -> module defining BACKEND; this order is the order error messages list them in.
REGISTRY = {
    "hf": "harness.backends.hf",
    "vllm": "harness.backends.vllm",
    "openai": "harness.backends.openai_api",
}
AUTO = "auto"


def names() -> tuple[str, ...]:
    """What a worker's backend setting may be: auto or a registered name."""
    return (AUTO, *REGISTRY)


@cache
def get(name: str) -> Backend:
    if name not in REGISTRY:
        raise ModelLoadError(f"unknown backend {name!r}; choose one of {', '.join(names())}")
    backend: Backend = import_module(REGISTRY[name]).BACKEND
    return backend


def check_name(requested: str) -> None:
    """Refuse an unknown backend setting at once (the worker calls this before its first job)."""
    if requested != AUTO:
        get(requested)


def resolve_backend(requested: str, reference: str = "") -> str:
    """The backend that serves `reference` under the worker's setting `requested`: one that claims
    the reference's prefix (an `openai:` endpoint), else the named one, else auto's pick."""
    check_name(requested)
    for name in REGISTRY:
        prefix = get(name).reference_prefix
        if prefix and reference.startswith(prefix):
            return name
    if requested != AUTO:
        chosen = get(requested)
        if chosen.reference_prefix:
            raise ModelLoadError(f"the {requested} backend serves {chosen.reference_form} references only")
        return requested
    ranked = sorted((get(name) for name in REGISTRY), key=lambda b: -(b.auto_rank or 0))
    for backend in ranked:
        if backend.auto_rank is not None and backend.runs_here():
            return backend.name
    raise ModelLoadError("no backend can run on this worker")


def cuda_gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0
