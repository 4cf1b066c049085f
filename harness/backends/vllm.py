"""vLLM backend (GPU hosts): a ModelTarget becomes lm-eval `vllm` model arguments.

vLLM is an optional extra (`pip install -e ".[vllm]"`, CUDA only) and is imported only inside
`load`, so everything else here, argument building included, works and is tested without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks.target import ModelLoadError, ModelTarget
from harness.backends.base import Backend, LoadedModel, LoadSettings, ReproduceCall
from harness.backends.weights import Weights, locate
from harness.reproduce import call_command

DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}
# vLLM allocates LoRA slots for a fixed set of ranks; an adapter needs the smallest that fits.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


@dataclass(frozen=True)
class VllmOptions:
    gpus: int  # tensor_parallel_size: the worker's GPUs
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    enable_prefix_caching: bool = True  # few-shot prompts share long prefixes


def make_options(gpus: int = 0, **rest: Any) -> VllmOptions:
    """gpus 0 means every visible CUDA GPU (counted lazily: it imports torch)."""
    if not gpus:
        from harness.backends import cuda_gpu_count

        gpus = cuda_gpu_count()
    return VllmOptions(gpus=gpus, **rest)


def adapter_rank(folder: Path) -> int:
    try:
        rank = int(json.loads((folder / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read the LoRA rank from {folder}/adapter_config.json: {exc}") from exc
    for slot in LORA_RANKS:
        if rank <= slot:
            return slot
    raise ModelLoadError(f"LoRA rank {rank} is above vLLM's largest ({LORA_RANKS[-1]}); use the hf backend")


def model_args(target: ModelTarget, weights: Weights, *, options: VllmOptions) -> dict[str, Any]:
    """lm-eval VLLM keyword arguments (also what the reproduce command prints)."""
    if options.gpus < 1:
        raise ModelLoadError("the vllm backend needs at least one CUDA GPU; this worker has none")
    args: dict[str, Any] = {
        "tensor_parallel_size": options.gpus,
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "enable_prefix_caching": options.enable_prefix_caching,
        "batch_size": "auto",  # vLLM schedules its own batches
    }
    if target.precision in DTYPES:
        args["dtype"] = DTYPES[target.precision]
    elif target.precision == "gptq":
        args["quantization"] = "gptq"  # vLLM's GPTQ kernels; dtype follows the checkpoint
    elif target.precision == "4bit":
        args.update(dtype="bfloat16", quantization="bitsandbytes")  # vLLM's in-flight 4-bit
    else:
        raise ModelLoadError(
            f"the vllm backend cannot load precision {target.precision!r}; use the hf backend for 8bit"
        )
    if target.weight_type == "delta":
        raise ModelLoadError("delta weights are applied by the hf backend only; choose backend hf")
    args["pretrained"] = weights.pretrained
    if weights.revision:
        args["revision"] = weights.revision
    if weights.extra:  # adapter: served through vLLM's LoRA support, no merge needed
        args["lora_local_path"] = weights.extra
        args["max_lora_rank"] = adapter_rank(Path(weights.extra))
    if options.max_model_len:
        args["max_model_len"] = options.max_model_len
    return args


def load(args: dict[str, Any]) -> Any:
    if find_spec("vllm") is None:
        raise ModelLoadError(
            "the vllm backend was chosen but vLLM is not installed on this worker; install the extra "
            '(pip install -e ".[vllm]") on a CUDA host, or choose backend hf'
        )
    from lm_eval.models.vllm_causallms import VLLM

    try:
        return VLLM(**args)
    except Exception as exc:
        raise ModelLoadError(
            f"vLLM could not load {args.get('pretrained')}: {type(exc).__name__}: {exc}"
        ) from exc


class VllmBackend:
    name: str = "vllm"
    reference_prefix: str | None = None
    reference_form: str | None = None
    auto_rank: int | None = 2  # preferred where it runs
    evaluates_in_memory: bool = False  # it serves a saved adapter through its LoRA support instead

    def runs_here(self) -> bool:
        from harness.backends import cuda_gpu_count

        return find_spec("vllm") is not None and cuda_gpu_count() > 0

    def load(self, target: ModelTarget, settings: LoadSettings) -> LoadedModel:
        """settings.options: make_options' keywords (the worker's EVALBOARD_VLLM_* settings)."""
        weights = locate(target, settings.cache_dir)
        options = make_options(**settings.options)
        args = model_args(target, weights, options=options)
        return LoadedModel(self.name, args, load(args), weights.commit, f"cuda x{options.gpus}")

    def reproduce(self, loaded: LoadedModel, call: ReproduceCall) -> str:
        return call_command(self.name, loaded.args, call)


BACKEND: Backend = VllmBackend()
