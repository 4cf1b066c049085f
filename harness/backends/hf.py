"""Hugging Face transformers backend: a ModelTarget becomes lm-eval HFLM arguments, then an HFLM.

torch, transformers and lm_eval are imported inside functions. The one backend that evaluates a
fine-tune's model while it is still in memory (training/pipeline.py).
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from benchmarks.target import ModelLoadError, ModelTarget
from harness.backends.base import Backend, LoadedModel, LoadSettings, ReproduceCall
from harness.backends.weights import Weights, locate
from harness.reproduce import call_command

DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def pick_device(requested: str) -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_args(target: ModelTarget, weights: Weights, *, device: str, batch_size: int) -> dict[str, Any]:
    """lm-eval HFLM keyword arguments for the target (also what the reproduce command prints)."""
    args: dict[str, Any] = {"device": device, "batch_size": batch_size}
    if target.precision in DTYPES:
        args["dtype"] = DTYPES[target.precision]
    elif target.precision in ("8bit", "4bit"):
        if not device.startswith("cuda"):
            raise ModelLoadError(
                f"precision {target.precision} needs a CUDA GPU with bitsandbytes and this worker has none; "
                "submit float32, float16 or bfloat16 instead"
            )
        args[f"load_in_{target.precision[0]}bit"] = True
    elif target.precision == "gptq":
        # Already-quantized GPTQ weights: transformers reads quantization_config from the model and
        # needs CUDA kernels (optimum + gptqmodel); the dtype is the checkpoint's own.
        if not device.startswith("cuda"):
            raise ModelLoadError(
                "GPTQ weights need a CUDA GPU and this worker has none; submit the unquantized model"
            )
        missing = [name for name in ("optimum", "gptqmodel") if find_spec(name) is None]
        if missing:
            raise ModelLoadError(
                f"GPTQ weights need {' and '.join(missing)} on this worker (pip install optimum gptqmodel), "
                "or submit the unquantized model"
            )
    else:
        raise ModelLoadError(f"unknown precision {target.precision!r}")

    args["pretrained"] = weights.pretrained
    if weights.extra:
        args["peft" if target.weight_type == "adapter" else "delta"] = weights.extra
    if weights.revision:
        args["revision"] = weights.revision
    return args


def load(args: dict[str, Any]) -> Any:
    """Build the lm-eval HFLM. Any failure here is the model's, not the worker's: no retry."""
    from lm_eval.models.huggingface import HFLM

    try:
        return HFLM(**args)
    except Exception as exc:
        raise ModelLoadError(f"could not load {args.get('pretrained')}: {type(exc).__name__}: {exc}") from exc


def _deferred(args: dict[str, Any], weights: Weights, device: str) -> Any:
    """An LM that answers from the response cache and loads the weights on the first miss."""
    from harness.response_cache import DeferredLM, load_tokenizer

    try:
        tokenizer = load_tokenizer(weights.pretrained, weights.revision)
    except Exception:
        # Something in the folder is broken: load eagerly so the error is HFLM's own, naming
        # the model's real problem (a ModelLoadError, failing the job for good).
        return load(args)
    return DeferredLM(lambda: load(args), tokenizer, device)


class HfBackend:
    name: str = "hf"
    reference_prefix: str | None = None
    reference_form: str | None = None
    auto_rank: int | None = 1  # everywhere, after vLLM
    evaluates_in_memory: bool = True

    def runs_here(self) -> bool:
        return True

    def load(self, target: ModelTarget, settings: LoadSettings) -> LoadedModel:
        weights = locate(target, settings.cache_dir)
        device = pick_device(settings.device)
        args = model_args(target, weights, device=device, batch_size=settings.batch_size)
        if settings.deferred:
            return LoadedModel(
                self.name, args, _deferred(args, weights, device), weights.commit, device, True
            )
        return LoadedModel(self.name, args, load(args), weights.commit, device)

    def reproduce(self, loaded: LoadedModel, call: ReproduceCall) -> str:
        return call_command(self.name, loaded.args, call)


BACKEND: Backend = HfBackend()
