"""Inference backends: each turns a ModelTarget and the worker's resources into an lm-eval LM.

`auto` picks vLLM where it is importable and a CUDA GPU is present, else Hugging Face
transformers. Imports of torch and vLLM stay inside functions.
"""

from __future__ import annotations

from importlib.util import find_spec

from benchmarks.target import ModelLoadError

BACKENDS = ("auto", "hf", "vllm", "openai")


def cuda_gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_backend(requested: str, reference: str = "") -> str:
    """An `openai:` reference is served by its endpoint whatever the worker's backend setting."""
    if requested not in BACKENDS:
        raise ModelLoadError(f"unknown backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if reference.startswith("openai:"):
        return "openai"
    if requested == "openai":
        raise ModelLoadError("the openai backend serves openai:MODEL@BASE_URL references only")
    if requested != "auto":
        return requested
    return "vllm" if find_spec("vllm") is not None and cuda_gpu_count() > 0 else "hf"
